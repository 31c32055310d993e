from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class Role(StrEnum):
    TRAVELLER = "traveller"
    ADMIN = "admin"


class User(Model):
    id = fields.IntField(primary_key=True)
    email = fields.CharField(max_length=254, unique=True)
    name = fields.CharField(max_length=120)
    phone = fields.CharField(max_length=20, null=True)
    # Null for accounts that only ever signed in with Google.
    password_hash = fields.CharField(max_length=255, null=True)
    role = fields.CharEnumField(Role, max_length=16, default=Role.TRAVELLER)
    email_verified = fields.BooleanField(default=False)
    # An OpenID identity is its issuer and subject together (OpenID Connect Core §2, §5.7):
    # `sub` is unique only within its issuer. Both null for accounts that never used it.
    oidc_issuer = fields.CharField(max_length=255, null=True)
    google_sub = fields.CharField(max_length=255, null=True)
    is_active = fields.BooleanField(default=True)
    # Bumped on every profile change: the JSON API's ETag for If-Match.
    version = fields.IntField(default=1)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "users"
        unique_together = (("oidc_issuer", "google_sub"),)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN


class Session(Model):
    """A server-side session. The cookie carries only a random id, stored here hashed."""

    key_hash = fields.CharField(max_length=64, primary_key=True)
    user = fields.ForeignKeyField(
        "models.User", related_name="sessions", null=True, on_delete=fields.CASCADE
    )
    data = fields.JSONField(default=dict)
    created_at = fields.DatetimeField(auto_now_add=True)
    last_seen_at = fields.DatetimeField()
    expires_at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "sessions"


class TokenPurpose(StrEnum):
    VERIFY_EMAIL = "verify_email"
    RESET_PASSWORD = "reset_password"


class AccountToken(Model):
    """A single-use token sent by email. Only its hash is stored."""

    id = fields.IntField(primary_key=True)
    user = fields.ForeignKeyField("models.User", related_name="tokens", on_delete=fields.CASCADE)
    purpose = fields.CharEnumField(TokenPurpose, max_length=20)
    token_hash = fields.CharField(max_length=64, unique=True)
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "account_tokens"


class LoginAttempt(Model):
    """Sign-in attempts, counted per account and per address for throttling. An attempt
    is reserved (succeeded null) before its password or token is checked, then marked."""

    id = fields.BigIntField(primary_key=True)
    email = fields.CharField(max_length=254, db_index=True)
    ip = fields.CharField(max_length=45, db_index=True)
    succeeded = fields.BooleanField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)

    class Meta:
        table = "login_attempts"


class RefreshToken(Model):
    """An opaque JSON API refresh token, stored hashed. Each refresh replaces it with a
    new one of the same family. Presenting a used one revokes the whole family."""

    id = fields.IntField(primary_key=True)
    user = fields.ForeignKeyField("models.User", related_name="refresh_tokens", on_delete=fields.CASCADE)
    family = fields.CharField(max_length=32, db_index=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "refresh_tokens"
