from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0004_auto_20261202_0945')]

    initial = False

    operations = [
        ops.CreateModel(
            name='RateCounter',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('bucket', fields.CharField(max_length=16)),
                ('client', fields.CharField(max_length=45)),
                ('minute', fields.IntField(db_index=True)),
                ('hits', fields.IntField(default=0)),
            ],
            options={'table': 'rate_counters', 'app': 'models', 'unique_together': (('bucket', 'client', 'minute'),), 'pk_attr': 'id', 'table_description': 'Requests of one client in one bucket (api, forms) during one minute (counted in'},
            bases=['Model'],
        ),
        ops.AlterModelOptions(
            name='LoginAttempt',
            options={'table': 'login_attempts', 'app': 'models', 'pk_attr': 'id', 'table_description': 'Sign-in attempts, counted per account and per address for throttling. An attempt'},
        ),
        ops.AlterField(
            model_name='LoginAttempt',
            name='succeeded',
            field=fields.BooleanField(null=True),
        ),
        # Back down, `succeeded` is NOT NULL again: an attempt never checked counts as failed.
        ops.RunSQL("SELECT 1", reverse_sql="UPDATE login_attempts SET succeeded = false WHERE succeeded IS NULL"),
    ]
