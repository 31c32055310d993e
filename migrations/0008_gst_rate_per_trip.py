from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class AddColumn(ops.AddField):
    """AddField whose undo on SQLite drops the column in place (ALTER TABLE DROP COLUMN,
    SQLite 3.35+): Tortoise 1.1 copies the table instead, which loses its indexes, and
    undoing migration 0006 then fails on the missing index."""

    async def database_backward(self, app_label, old_state, new_state, state_editor=None) -> None:
        if state_editor is None or state_editor.DIALECT != "sqlite":
            return await super().database_backward(app_label, old_state, new_state, state_editor)
        model = old_state.apps.get_model(f"{app_label}.{self.model_name}")
        await state_editor.client.execute_script(f'ALTER TABLE "{model._meta.db_table}" DROP COLUMN "{self.name}"')


class Migration(migrations.Migration):
    dependencies = [('models', '0007_auto_20261202_1704')]

    initial = False

    operations = [
        AddColumn(
            model_name='Booking',
            name='gst_percent',
            field=fields.SmallIntField(null=True),
        ),
        AddColumn(
            model_name='Trip',
            name='gst_percent',
            field=fields.SmallIntField(default=5, db_default=5),
        ),
    ]
