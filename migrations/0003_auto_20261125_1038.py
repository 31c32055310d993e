from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0002_auto_20261125_0945')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Booking',
            name='cancelled_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Departure',
            name='cancelled_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Departure',
            name='sales_closed',
            field=fields.BooleanField(default=False),
        ),
        ops.AddField(
            model_name='Destination',
            name='updated_by',
            field=fields.ForeignKeyField('models.User', source_field='updated_by_id', null=True, db_constraint=True, to_field='id', related_name='destinations_updated', on_delete=OnDelete.SET_NULL),
        ),
        ops.AddField(
            model_name='Destination',
            name='version',
            field=fields.IntField(default=1),
        ),
        ops.AddField(
            model_name='Trip',
            name='updated_by',
            field=fields.ForeignKeyField('models.User', source_field='updated_by_id', null=True, db_constraint=True, to_field='id', related_name='trips_updated', on_delete=OnDelete.SET_NULL),
        ),
        ops.AddField(
            model_name='Trip',
            name='version',
            field=fields.IntField(default=1),
        ),
        ops.AddField(
            model_name='User',
            name='version',
            field=fields.IntField(default=1),
        ),
    ]
