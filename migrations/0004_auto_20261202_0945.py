from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.migrations.constraints import UniqueConstraint

class Migration(migrations.Migration):
    dependencies = [('models', '0003_auto_20261125_1038')]

    initial = False

    operations = [
        ops.AlterField(
            model_name='User',
            name='google_sub',
            field=fields.CharField(null=True, max_length=255),
        ),
        ops.AddField(
            model_name='User',
            name='oidc_issuer',
            field=fields.CharField(null=True, max_length=255),
        ),
        # Every identity linked so far came from Google (the only provider until now).
        # Back down, the subject alone is unique again and means Google's: other
        # providers' links are dropped (those users sign in with a password or Google).
        ops.RunSQL(
            "UPDATE users SET oidc_issuer = 'https://accounts.google.com' WHERE google_sub IS NOT NULL",
            reverse_sql="UPDATE users SET google_sub = NULL WHERE oidc_issuer IS NULL OR oidc_issuer <> 'https://accounts.google.com'",
        ),
        ops.AddConstraint(
            model_name='User',
            constraint=UniqueConstraint(fields=('oidc_issuer', 'google_sub'), name=None),
        ),
    ]
