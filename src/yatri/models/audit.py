from tortoise import fields
from tortoise.models import Model


class AuditLog(Model):
    """One row per state change: who did what to which record, from and to which state."""

    id = fields.BigIntField(primary_key=True)
    actor = fields.ForeignKeyField(
        "models.User", related_name="audit_entries", null=True, on_delete=fields.SET_NULL
    )
    entity = fields.CharField(max_length=32)
    entity_id = fields.CharField(max_length=64)
    action = fields.CharField(max_length=48)
    from_state = fields.CharField(max_length=32, null=True)
    to_state = fields.CharField(max_length=32, null=True)
    data = fields.JSONField(default=dict)
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)

    class Meta:
        table = "audit_log"
        ordering = ["created_at", "id"]
        indexes = (("entity", "entity_id"),)
