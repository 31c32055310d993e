"""Accounts: users, passwords and roles."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from tortoise.transactions import in_transaction

from yatri.errors import NotFound, PreconditionFailed, ValidationError
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


# ---------------------------------------------------------------- profile

MAX_NAME_LENGTH = 120
_PHONE = re.compile(r"^\+?[0-9]{10,15}$")


def clean_profile(raw: Mapping[str, str | None]) -> dict[str, str | None]:
    """The profile fields present in `raw` (name, phone) as they are stored, or a
    ValidationError naming each bad field. An empty phone clears it."""
    values, errors = {}, {}
    if "name" in raw:
        name = " ".join("".join(ch if ch.isprintable() else " " for ch in raw["name"] or "").split())
        if not name:
            errors["name"] = "Enter your name."
        elif len(name) > MAX_NAME_LENGTH:
            errors["name"] = f"Use at most {MAX_NAME_LENGTH} characters for the name (this is {len(name)})."
        else:
            values["name"] = name
    if "phone" in raw:
        phone = re.sub(r"[\s().-]", "", raw["phone"] or "")
        if phone and not _PHONE.match(phone):
            errors["phone"] = "Enter a phone number of 10 to 15 digits, like +91 98765 43210."
        else:
            values["phone"] = phone or None
    if errors:
        raise ValidationError(errors)
    return values


async def update_profile(user_id: int, raw: Mapping[str, str | None], *, expected_version: int | None = None) -> User:
    """Save the user's own name and phone (the fields present in `raw`).

    `expected_version` is the `User.version` the change was based on (the API's If-Match):
    when the profile changed since, nothing is written and PreconditionFailed says so.
    A real change bumps the version and leaves an audit row; saving what is there writes nothing.
    """
    values = clean_profile(raw)
    async with in_transaction() as conn:
        if conn.capabilities.dialect == "sqlite":  # take the write lock first, as booking.locked_departure
            await conn.execute_query("UPDATE users SET version = version WHERE id = ?", [user_id])
            user = await User.get_or_none(id=user_id, is_active=True).using_db(conn)
        else:
            user = await User.select_for_update().get_or_none(id=user_id, is_active=True).using_db(conn)
        if user is None:
            raise NotFound("This account does not exist.")
        if expected_version is not None and user.version != expected_version:
            raise PreconditionFailed(
                f"The profile changed since you read it (it is now version {user.version}). "
                "Read it again and retry with its ETag."
            )
        before = {name: getattr(user, name) for name in values if getattr(user, name) != values[name]}
        if before:
            for name in before:
                setattr(user, name, values[name])
            user.version += 1
            await user.save(update_fields=[*before, "version", "updated_at"], using_db=conn)
            after = {name: values[name] for name in before}
            await record("user", user.id, "profile_updated", actor=user, data={"before": before, "after": after})
    return user
