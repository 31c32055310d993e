from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class JobState(StrEnum):
    QUEUED = "queued"  # waiting for its run_at
    RUNNING = "running"  # claimed by a worker until locked_until
    DONE = "done"
    DEAD = "dead"  # failed max_attempts times: the operator may retry it


class Job(Model):
    """One unit of work written in the transaction of the change that asks for it (a
    mail, a follow-up), run after commit by whichever worker claims it first. A periodic
    job has a `periodic` name and is put back in the queue for its next run."""

    id = fields.BigIntField(primary_key=True)
    kind = fields.CharField(max_length=48)
    payload = fields.JSONField(default=dict)
    state = fields.CharEnumField(JobState, max_length=16, default=JobState.QUEUED, db_default="queued")
    attempts = fields.IntField(default=0, db_default=0)
    max_attempts = fields.IntField(default=12, db_default=12)
    run_at = fields.DatetimeField()
    last_error = fields.TextField(null=True)
    locked_by = fields.CharField(max_length=64, null=True)
    locked_until = fields.DatetimeField(null=True)
    periodic = fields.CharField(max_length=48, null=True, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "jobs"
        ordering = ["run_at", "id"]
        indexes = (("state", "run_at"),)
