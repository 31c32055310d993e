"""Accounts: users, passwords and roles."""

from __future__ import annotations

import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError

from yatri.errors import ValidationError
from yatri.models import Role, User
from yatri.services.audit import record

MIN_PASSWORD_LENGTH = 10
_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, InvalidHashError):
        return False


def normalise_email(email: str) -> str:
    return email.strip().lower()


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(
            {"password": f"Use at least {MIN_PASSWORD_LENGTH} characters for the password."}
        )


async def create_admin(email: str, password: str, name: str | None = None) -> tuple[User, bool]:
    """Create an admin, or make an existing account an admin with this password.

    Returns the user and whether it was created.
    """
    email = normalise_email(email)
    if "@" not in email or email.startswith("@") or email.endswith("@"):
        raise ValidationError({"email": f"{email!r} is not an email address."})
    check_password(password)
    user = await User.get_or_none(email=email)
    created = user is None
    if created:
        user = await User.create(
            email=email,
            name=name or email.split("@")[0],
            password_hash=hash_password(password),
            role=Role.ADMIN,
            email_verified=True,
        )
    else:
        previous = user.role
        user.role = Role.ADMIN
        user.password_hash = hash_password(password)
        await user.save(update_fields=["role", "password_hash", "updated_at"])
        if previous != Role.ADMIN:
            await record("user", user.id, "role_changed", previous, Role.ADMIN)
    return user, created


LOGIN_FAILED = "That email and password do not match an account."


async def authenticate(email: str, password: str) -> User:
    """The active user with this email and password. Unknown email and wrong password
    get the same message, so the form does not tell who has an account."""
    user = await User.get_or_none(email=normalise_email(email), is_active=True)
    # Verify against a dummy hash for unknown emails too, so timing does not tell either.
    if not verify_password(user.password_hash if user else _dummy_hash(), password) or user is None:
        raise ValidationError({"__all__": LOGIN_FAILED})
    return user


@functools.cache
def _dummy_hash() -> str:
    return hash_password("not-a-real-password")
