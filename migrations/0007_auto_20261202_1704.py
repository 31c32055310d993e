from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0006_auto_20261202_1523')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='Departure',
            index=Index(fields=['trip_id', 'starts_on']),
        ),
    ]
