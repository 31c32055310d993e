from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise import fields


class AddColumn(ops.AddField):
    """AddField whose undo on SQLite drops the column in place (as in 0008): Tortoise's
    copy of the table would lose its indexes."""

    async def database_backward(self, app_label, old_state, new_state, state_editor=None) -> None:
        if state_editor is None or state_editor.DIALECT != "sqlite":
            return await super().database_backward(app_label, old_state, new_state, state_editor)
        model = old_state.apps.get_model(f"{app_label}.{self.model_name}")
        await state_editor.client.execute_script(f'ALTER TABLE "{model._meta.db_table}" DROP COLUMN "{self.name}"')


class Migration(migrations.Migration):
    dependencies = [('models', '0008_gst_rate_per_trip')]

    initial = False

    operations = [
        AddColumn(
            model_name='Booking',
            name='discount_paise',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        AddColumn(
            model_name='Booking',
            name='discount_percent',
            field=fields.SmallIntField(default=0, db_default=0),
        ),
        AddColumn(
            model_name='Trip',
            name='group_discounts',
            field=fields.JSONField(default=list, db_default='[]', encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
    ]
