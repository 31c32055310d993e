"""Accounts: users, passwords, roles, email tokens, sign-up and login throttling.

Every function takes plain values (and `now` where time matters) and knows nothing of
requests, so the HTML pages and the JSON API share the same rules.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import math
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from tortoise.exceptions import IntegrityError
from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from yatri.errors import PermissionDenied, PreconditionFailed, TooManyRequests, ValidationError
from yatri.models import AccountToken, LoginAttempt, RefreshToken, Role, Session, TokenPurpose, User
from yatri.parsing import EMAIL_MAX_LENGTH, is_email, is_phone, phone_number, single_line
from yatri.services import google
from yatri.services.audit import record
from yatri.services.locks import lock, lock_keys, rows
from yatri.services.notify import Notifier, change, password_reset_mail, verification_mail

MIN_PASSWORD_LENGTH = 10
COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent.parent / "data" / "common-passwords.txt"
TOKEN_LIFETIMES = {TokenPurpose.VERIFY_EMAIL: timedelta(days=2), TokenPurpose.RESET_PASSWORD: timedelta(hours=1)}
LINK_INVALID = "This link has expired or was already used."
EMAIL_TAKEN = "There is already an account with this email. Log in, or reset the password."
# At most this many reset (or verification) emails an hour for one account: no mail bombing.
MAILS_PER_HOUR = 3
# Login throttling: this many failures within the window, per account or per address.
THROTTLE_FAILURES = 5
THROTTLE_WINDOW = timedelta(minutes=15)
_hasher = PasswordHasher()


# Argon2 is slow on purpose (tenths of a second): the async functions below run it with
# asyncio.to_thread, so one login does not stall every other request of the server.
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


def login_email(email: str) -> str:
    """The email an account is looked up by, normalised; a field error for what no account
    can have (longer than the column, control characters) before the database sees it."""
    email = normalise_email(email)
    if len(email) > EMAIL_MAX_LENGTH or not email.isprintable():
        raise ValidationError({"email": "Enter an email address like name@example.com."})
    return email


@functools.cache
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


def password_problem(password: str) -> str | None:
    """Why this password is refused, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Use at least {MIN_PASSWORD_LENGTH} characters for the password."
    if password.strip().lower() in common_passwords():
        return "This password is one of the most common ones, so it is easy to guess. Choose another."
    return None


def check_password(password: str) -> None:
    if problem := password_problem(password):
        raise ValidationError({"password": problem})


def _email_problem(email: str) -> str | None:
    if not email:
        return "Enter your email address."
    if not is_email(email):
        return "Enter an email address like name@example.com."
    return None


def clean_profile(name: str, phone: str) -> tuple[dict[str, str | None], dict[str, str]]:
    """The name and phone as stored (phone without spaces or dashes, None when empty),
    and the field errors."""
    name = single_line(name)
    phone = phone_number(phone)
    errors = {}
    if not name:
        errors["name"] = "Enter your name."
    elif len(name) > 120:
        errors["name"] = "Keep the name under 120 characters."
    if phone and not is_phone(phone):
        errors["phone"] = "Enter a phone number of 10 to 15 digits, for example +91 98765 43210."
    return {"name": name, "phone": phone or None}, errors


async def sign_up(name: str, email: str, password: str, phone: str = "") -> User:
    """A new traveller account with an unverified email; every field's problem at once."""
    profile, errors = clean_profile(name, phone)
    email = normalise_email(email)
    if problem := _email_problem(email):
        errors["email"] = problem
    elif await User.filter(email=email).exists():
        errors["email"] = EMAIL_TAKEN
    if problem := password_problem(password):
        errors["password"] = problem
    if errors:
        raise ValidationError(errors)
    try:
        return await User.create(email=email, password_hash=await asyncio.to_thread(hash_password, password), **profile)
    except IntegrityError:  # the same email signed up a moment ago
        raise ValidationError({"email": EMAIL_TAKEN}) from None


async def update_profile(user: User, name: str, phone: str = "", *, expected_version: int | None = None) -> User:
    """Save the user's own name and phone: the version goes up and an audit row says
    what changed (saving what is there writes nothing).

    `expected_version` is the `User.version` the change was based on (the API's If-Match):
    when the profile changed since, nothing is written and PreconditionFailed says so.
    """
    profile, errors = clean_profile(name, phone)
    if errors:
        raise ValidationError(errors)
    async with in_transaction() as conn:
        [[current]] = await lock(conn, rows(User, id=user.id))
        if expected_version is not None and current.version != expected_version:
            raise PreconditionFailed(
                f"The profile changed since you read it (it is now version {current.version}). "
                "Read it again and retry with its ETag."
            )
        before = {k: getattr(current, k) for k, v in profile.items() if getattr(current, k) != v}
        if before:
            await User.filter(id=user.id).using_db(conn).update(**profile, version=F("version") + 1)
            after = {k: profile[k] for k in before}
            await record("user", user.id, "profile_updated", actor=user, data={"before": before, "after": after})
    await user.refresh_from_db()
    return user


async def end_sessions(user: User, keep_key_hash: str | None = None) -> int:
    """End the user's sessions everywhere, but for the one whose key hash is kept."""
    sessions = Session.filter(user_id=user.id)
    if keep_key_hash:
        sessions = sessions.exclude(key_hash=keep_key_hash)
    return await sessions.delete()


async def _revoke_api_tokens(user: User, now: datetime) -> None:
    await RefreshToken.filter(user_id=user.id, revoked_at=None).update(revoked_at=now)


async def change_password(user: User, current: str, new: str, now: datetime, keep_key_hash: str | None = None) -> User:
    """Set a new password (the current one is asked for when the account has one), end the
    user's other sessions and revoke their JSON API refresh tokens."""
    errors = {}
    if user.password_hash and not await asyncio.to_thread(verify_password, user.password_hash, current):
        errors["current_password"] = "That is not your current password."
    if problem := password_problem(new):
        errors["new_password"] = problem
    if errors:
        raise ValidationError(errors)
    async with in_transaction():
        await _set_password(user, new)
        await end_sessions(user, keep_key_hash)
        await _revoke_api_tokens(user, now)
        await record("user", user.id, "password_changed", actor=user)
    return user


async def _set_password(user: User, password: str) -> None:
    user.password_hash = await asyncio.to_thread(hash_password, password)
    await user.save(update_fields=["password_hash", "updated_at"])


def _token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


async def issue_token(user: User, purpose: TokenPurpose, now: datetime) -> str:
    """A single-use token for an email link; only its hash is stored."""
    raw = secrets.token_urlsafe(32)
    await AccountToken.create(
        user=user, purpose=purpose, token_hash=_token_hash(raw), expires_at=now + TOKEN_LIFETIMES[purpose], created_at=now
    )
    return raw


async def token_user(raw: str, purpose: TokenPurpose, now: datetime) -> User:
    """The user of a valid unused token, without using it (to show the form it opens)."""
    token = await AccountToken.get_or_none(
        token_hash=_token_hash(raw), purpose=purpose, used_at=None, expires_at__gt=now
    ).prefetch_related("user")
    if token is None or not token.user.is_active:
        raise ValidationError({"token": LINK_INVALID}, LINK_INVALID)
    return token.user


async def _use_token(raw: str, purpose: TokenPurpose, now: datetime) -> User:
    """Mark the token used (once, even with two clicks at the same moment) and return its user."""
    user = await token_user(raw, purpose, now)
    used = await AccountToken.filter(token_hash=_token_hash(raw), used_at=None).update(used_at=now)
    if not used:
        raise ValidationError({"token": LINK_INVALID}, LINK_INVALID)
    return user


async def verify_email(raw: str, now: datetime) -> User:
    async with in_transaction():
        user = await _use_token(raw, TokenPurpose.VERIFY_EMAIL, now)
        if not user.email_verified:
            user.email_verified = True
            await user.save(update_fields=["email_verified", "updated_at"])
    return user


async def request_password_reset(email: str, now: datetime) -> tuple[User, str] | None:
    """The user and a reset token, or None when no active account has this email or it
    was sent MAILS_PER_HOUR links within the hour (the caller must answer the same either way)."""
    user = await User.get_or_none(email=login_email(email), is_active=True)
    if user is None:
        return None
    token = await _issue_limited(user, TokenPurpose.RESET_PASSWORD, now)
    return (user, token) if token else None


async def issue_verification(user: User, now: datetime) -> str | None:
    """A new email-verification token, or None when the address is confirmed already or
    was sent MAILS_PER_HOUR links within the hour."""
    return None if user.email_verified else await _issue_limited(user, TokenPurpose.VERIFY_EMAIL, now)


async def mail_password_reset(email: str, now: datetime, notifier: Notifier) -> None:
    """Mail a reset link to the active account with this email, if there is one and it
    was not sent MAILS_PER_HOUR links within the hour; the caller answers the same either way."""
    async with change(notifier) as outgoing:
        found = await request_password_reset(email, now)
        if found is not None:
            outgoing.add(password_reset_mail(*found))


async def mail_verification(user: User, now: datetime, notifier: Notifier) -> str:
    """Mail a new confirmation link: "sent" (queued: services/jobs.py delivers it, retrying
    while the mail server is down) or "limited" (confirmed already, or enough links this hour)."""
    async with change(notifier) as outgoing:
        token = await issue_verification(user, now)
        if token is None:
            return "limited"
        outgoing.add(verification_mail(user, token))
    return "sent"


async def _issue_limited(user: User, purpose: TokenPurpose, now: datetime) -> str | None:
    """A token, unless MAILS_PER_HOUR were issued for this purpose within the hour: counted
    and issued under a lock on the account, so requests at the same moment cannot all pass."""
    async with in_transaction() as conn:
        await lock_keys(conn, f"mail {purpose} {user.id}")
        issued = await AccountToken.filter(user_id=user.id, purpose=purpose, created_at__gt=now - timedelta(hours=1)).count()
        return await issue_token(user, purpose, now) if issued < MAILS_PER_HOUR else None


async def reset_password(raw: str, password: str, now: datetime) -> User:
    """Set a new password with a reset token, end every session of the account and revoke
    its JSON API refresh tokens. Reading the link proves the email too."""
    check_password(password)
    async with in_transaction():
        user = await _use_token(raw, TokenPurpose.RESET_PASSWORD, now)
        user.email_verified = True
        user.password_hash = await asyncio.to_thread(hash_password, password)
        await user.save(update_fields=["password_hash", "email_verified", "updated_at"])
        await end_sessions(user)
        await _revoke_api_tokens(user, now)
        await record("user", user.id, "password_reset", actor=user)
    return user


async def create_admin(email: str, password: str, name: str | None = None) -> tuple[User, bool]:
    """Create an admin, or make an existing account an admin with this password.

    Returns the user and whether it was created.
    """
    email = login_email(email)
    if "@" not in email or email.startswith("@") or email.endswith("@"):
        raise ValidationError({"email": f"{email!r} is not an email address."})
    check_password(password)
    profile, errors = clean_profile(name or email.split("@")[0][:120], "")
    if errors:
        raise ValidationError(errors)
    user = await User.get_or_none(email=email)
    created = user is None
    if created:
        user = await User.create(
            email=email,
            name=profile["name"],
            password_hash=await asyncio.to_thread(hash_password, password),
            role=Role.ADMIN,
            email_verified=True,
        )
    else:
        previous = user.role
        user.role = Role.ADMIN
        user.password_hash = await asyncio.to_thread(hash_password, password)
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
    if not await asyncio.to_thread(verify_password, user.password_hash if user else _dummy_hash(), password) or user is None:
        raise ValidationError({"__all__": LOGIN_FAILED})
    return user


@functools.cache
def _dummy_hash() -> str:
    return hash_password("not-a-real-password")


def _retry_after(attempts: list[datetime], now: datetime) -> int | None:
    """Seconds until fewer than THROTTLE_FAILURES of these (newest first) are in the window."""
    if len(attempts) < THROTTLE_FAILURES:
        return None
    lifted = attempts[THROTTLE_FAILURES - 1] + THROTTLE_WINDOW
    return max(1, math.ceil((lifted - now).total_seconds()))


async def _counted_attempts(since: datetime, **where) -> list[datetime]:
    """When the newest failed or still unchecked attempts were made, newest first."""
    counted = Q(succeeded=False) | Q(succeeded__isnull=True)
    rows = (
        await LoginAttempt.filter(counted, created_at__gt=since, **where)
        .order_by("-created_at")
        .limit(THROTTLE_FAILURES)
        .values_list("created_at", flat=True)
    )
    return list(rows)


async def _account_wait(email: str, window_start: datetime, now: datetime) -> int | None:
    """The account's count starts after its last success."""
    success = await LoginAttempt.filter(email=email, succeeded=True, created_at__gt=window_start).order_by("-id").first()
    return _retry_after(await _counted_attempts(window_start, email=email, id__gt=success.id if success else 0), now)


async def _reserve_attempt(email: str, ip: str, now: datetime) -> int:
    """Count and record one attempt in one step, under a lock on the account and the
    address: raise TooManyRequests when THROTTLE_FAILURES failed or unchecked attempts
    are within THROTTLE_WINDOW, for this account (since its last success) or this address."""
    email, ip = email[:254], ip[:45]
    window_start = now - THROTTLE_WINDOW
    async with in_transaction() as conn:
        await lock_keys(conn, f"sign-in address {ip}", *([f"sign-in account {email}"] if email else []))
        waits = [_retry_after(await _counted_attempts(window_start, ip=ip), now)]
        if email:
            waits.append(await _account_wait(email, window_start, now))
        _refuse_while_waiting(waits)
        attempt = await LoginAttempt.create(email=email, ip=ip, succeeded=None, created_at=now)
    return attempt.id


def _refuse_while_waiting(waits: list[int | None]) -> None:
    waits = [wait for wait in waits if wait is not None]
    if waits:
        wait = max(waits)
        minutes = math.ceil(wait / 60)
        raise TooManyRequests(
            f"Too many failed sign-ins. Try again in {minutes} minute{'s' if minutes != 1 else ''}.",
            retry_after=wait,
        )


@asynccontextmanager
async def sign_in_attempt(email: str, ip: str, now: datetime) -> AsyncIterator[None]:
    """The login throttle, for every way of signing in: THROTTLE_FAILURES failures within
    THROTTLE_WINDOW lock the account (`email`, from any address; "" for refresh and ID
    tokens, which name none) and the client address `ip` (for any account).

    The attempt is reserved first (TooManyRequests when throttled), so however many
    arrive at once, on however many processes, at most THROTTLE_FAILURES are checked.
    The body then checks the password or token, outside the lock: ending normally marks
    the attempt succeeded (which clears the account's count, not the address's), any
    exception marks it failed."""
    attempt_id = await _reserve_attempt(normalise_email(email), ip, now)
    try:
        yield
    except BaseException:
        await LoginAttempt.filter(id=attempt_id).update(succeeded=False)
        raise
    await LoginAttempt.filter(id=attempt_id).update(succeeded=True)


async def attempt_login(email: str, password: str, *, ip: str, now: datetime) -> User:
    """Throttled `authenticate`: TooManyRequests when throttled, ValidationError for a
    wrong email or password (counted)."""
    email = login_email(email)
    async with sign_in_attempt(email, ip, now):
        return await authenticate(email, password)


async def delete_expired_sessions(idle: timedelta, now: datetime) -> int:
    """Sessions past their end or idle for `idle`; the periodic clean-up drops them."""
    return await Session.filter(expires_at__lte=now).delete() + await Session.filter(last_seen_at__lte=now - idle).delete()


async def delete_old_login_attempts(now: datetime) -> int:
    """Attempts older than the window no longer count; the periodic clean-up drops them."""
    return await LoginAttempt.filter(created_at__lte=now - THROTTLE_WINDOW).delete()


UNVERIFIED_GOOGLE_EMAIL = (
    "Your Google account's email address is not verified, so we cannot sign you in with it. "
    "Verify it with Google first, or sign up with an email and password."
)


async def sign_in_with_google(claims: dict) -> User:
    """The account for verified ID-token claims: matched by the identity (issuer and `sub`
    together), then by the email (linking the two), or created. An unverified email is refused."""
    email = normalise_email(str(claims.get("email") or ""))
    if not email or claims.get("email_verified") not in (True, "true"):
        raise PermissionDenied(UNVERIFIED_GOOGLE_EMAIL)
    issuer, sub = google.issuer_of(claims), str(claims["sub"])
    async with in_transaction():
        user = await User.get_or_none(oidc_issuer=issuer, google_sub=sub) or await User.get_or_none(email=email)
        if user is None:
            name = single_line(claims.get("name"))[:120] or email.split("@")[0]
            user = await User.create(email=email, name=name, oidc_issuer=issuer, google_sub=sub, email_verified=True)
            await record("user", user.id, "google_signup", actor=user, data={"issuer": issuer})
        elif (user.oidc_issuer, user.google_sub) != (issuer, sub):
            await _link_google(user, issuer, sub)
    if not user.is_active:
        raise PermissionDenied("This account is disabled.")
    return user


async def _link_google(user: User, issuer: str, sub: str) -> None:
    if not user.email_verified:
        # Nobody proved the address when this account was made, so whoever chose its
        # password may not own the mailbox: Google now proves it, and the password goes.
        user.password_hash = None
    user.oidc_issuer, user.google_sub = issuer, sub
    user.email_verified = True
    await user.save(update_fields=["oidc_issuer", "google_sub", "email_verified", "password_hash", "updated_at"])
    await record("user", user.id, "google_linked", actor=user, data={"issuer": issuer})
