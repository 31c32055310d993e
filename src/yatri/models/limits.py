from tortoise import fields
from tortoise.models import Model


class RateCounter(Model):
    """Requests of one client in one bucket (api, forms) during one minute (counted in
    minutes since 1970 UTC), shared by every server process through the database."""

    id = fields.BigIntField(primary_key=True)
    bucket = fields.CharField(max_length=16)
    client = fields.CharField(max_length=45)
    minute = fields.IntField(db_index=True)
    hits = fields.IntField(default=0)

    class Meta:
        table = "rate_counters"
        unique_together = (("bucket", "client", "minute"),)
