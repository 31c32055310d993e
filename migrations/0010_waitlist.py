from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from yatri.models.waitlist import WaitlistStatus
from tortoise import fields
from tortoise.indexes import Index

async def _keep_departure_index(apps, schema_editor) -> None:
    """Undoing AddField on SQLite copies the departures table without its indexes (Tortoise
    1.1); put back the (trip_id, starts_on) index of 0007, so that undoing 0007 works."""
    if schema_editor.DIALECT == "sqlite":
        await schema_editor.client.execute_query(
            'CREATE INDEX IF NOT EXISTS "idx_departures_trip_id_7d3a20" ON "departures" ("trip_id", "starts_on")'
        )


class Migration(migrations.Migration):
    dependencies = [('models', '0009_group_rates')]

    initial = False

    operations = [
        ops.RunPython(ops.RunPython.noop, reverse_code=_keep_departure_index),
        ops.CreateModel(
            name='WaitlistEntry',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('departure', fields.ForeignKeyField('models.Departure', source_field='departure_id', db_constraint=True, to_field='id', related_name='waitlist', on_delete=OnDelete.CASCADE)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='waitlist_entries', on_delete=OnDelete.CASCADE)),
                ('party_size', fields.SmallIntField()),
                ('status', fields.CharEnumField(description='WAITING: waiting\nOFFERED: offered\nBOOKED: booked\nLEFT: left\nLAPSED: lapsed\nCLOSED: closed', enum_type=WaitlistStatus, max_length=12)),
                ('offered_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('offer_expires_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('booking', fields.ForeignKeyField('models.Booking', source_field='booking_id', null=True, db_constraint=True, to_field='id', related_name='waitlist_entry', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'waitlist_entries', 'app': 'models', 'indexes': [Index(fields=['departure_id', 'status'])], 'pk_attr': 'id', 'table_description': 'A traveller waiting for seats on a sold-out departure, with the size of their party.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Departure',
            name='offer_hours',
            field=fields.SmallIntField(default=12, db_default=12),
        ),
    ]
