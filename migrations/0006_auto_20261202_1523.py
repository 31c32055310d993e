from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0005_auto_20261202_0954')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='Booking',
            index=Index(fields=['departure_id', 'status']),
        ),
        ops.AddIndex(
            model_name='Booking',
            index=Index(fields=['user_id']),
        ),
        ops.AddIndex(
            model_name='Payment',
            index=Index(fields=['booking_id']),
        ),
    ]
