from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields


def _drop_left_column(table: str, column: str):
    """Undoing AddField of a foreign key on SQLite copies the table without the relation
    but keeps its column (Tortoise 1.1); drop that column too, so that applying again works."""

    async def reverse(apps, schema_editor) -> None:
        if schema_editor.DIALECT != "sqlite":
            return
        _, columns = await schema_editor.client.execute_query(f'PRAGMA table_info("{table}")')
        if any(row["name"] == column for row in columns):
            await schema_editor.client.execute_query(f'ALTER TABLE "{table}" DROP COLUMN "{column}"')

    return ops.RunPython(ops.RunPython.noop, reverse_code=reverse)


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
            field=fields.BooleanField(default=False, db_default=False),
        ),
        _drop_left_column('destinations', 'updated_by_id'),
        ops.AddField(
            model_name='Destination',
            name='updated_by',
            field=fields.ForeignKeyField('models.User', source_field='updated_by_id', null=True, db_constraint=True, to_field='id', related_name='destinations_updated', on_delete=OnDelete.SET_NULL),
        ),
        ops.AddField(
            model_name='Destination',
            name='version',
            field=fields.IntField(default=1, db_default=1),
        ),
        _drop_left_column('trips', 'updated_by_id'),
        ops.AddField(
            model_name='Trip',
            name='updated_by',
            field=fields.ForeignKeyField('models.User', source_field='updated_by_id', null=True, db_constraint=True, to_field='id', related_name='trips_updated', on_delete=OnDelete.SET_NULL),
        ),
        ops.AddField(
            model_name='Trip',
            name='version',
            field=fields.IntField(default=1, db_default=1),
        ),
        ops.AddField(
            model_name='User',
            name='version',
            field=fields.IntField(default=1, db_default=1),
        ),
        # The database defaults above fill the rows already there; the models set both
        # values themselves, so the columns are left without one (as the models declare).
        ops.AlterField(
            model_name='Departure',
            name='sales_closed',
            field=fields.BooleanField(default=False),
        ),
        ops.AlterField(
            model_name='Destination',
            name='version',
            field=fields.IntField(default=1),
        ),
        ops.AlterField(
            model_name='Trip',
            name='version',
            field=fields.IntField(default=1),
        ),
        ops.AlterField(
            model_name='User',
            name='version',
            field=fields.IntField(default=1),
        ),
    ]
