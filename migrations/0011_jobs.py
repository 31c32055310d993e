from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from yatri.models.jobs import JobState
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0010_waitlist')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Job',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('kind', fields.CharField(max_length=48)),
                ('payload', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('state', fields.CharEnumField(default=JobState.QUEUED, description='QUEUED: queued\nRUNNING: running\nDONE: done\nDEAD: dead', db_default='queued', enum_type=JobState, max_length=16)),
                ('attempts', fields.IntField(default=0, db_default=0)),
                ('max_attempts', fields.IntField(default=12, db_default=12)),
                ('run_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('last_error', fields.TextField(null=True, unique=False)),
                ('locked_by', fields.CharField(null=True, max_length=64)),
                ('locked_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('periodic', fields.CharField(null=True, unique=True, max_length=48)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'jobs', 'app': 'models', 'indexes': [Index(fields=['state', 'run_at'])], 'pk_attr': 'id', 'table_description': 'One unit of work written in the transaction of the change that asks for it (a'},
            bases=['Model'],
        ),
    ]
