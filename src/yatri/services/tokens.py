"""JSON API tokens: short-lived access JWTs and rotating opaque refresh tokens.

Access tokens are HS256 JWTs (joserfc) signed with a key derived from SECRET_KEY, valid
15 minutes. Refresh tokens are random strings stored hashed, valid 30 days, used once:
each refresh gives a new one of the same family, and presenting a used one again (a
stolen copy) revokes the whole family.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import OctKey
from tortoise.transactions import in_transaction

from yatri.errors import Unauthorized
from yatri.models import RefreshToken, User
from yatri.services.locks import lock, rows
from yatri.settings import Settings

ACCESS_LIFETIME = timedelta(minutes=15)
REFRESH_LIFETIME = timedelta(days=30)
AUDIENCE = "yatri-api"
ALGORITHM = "HS256"


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int


def _signing_key(settings: Settings) -> OctKey:
    # A key of its own, so a JWT cannot be confused with anything else signed by SECRET_KEY.
    derived = hmac.new(settings.secret_key.encode(), b"yatri-api-jwt", hashlib.sha256).digest()
    return OctKey.import_key(derived)


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def access_token(user: User, settings: Settings, now: datetime) -> str:
    issued = int(now.timestamp())
    claims = {
        "iss": settings.base_url,
        "aud": AUDIENCE,
        "sub": str(user.id),
        "role": str(user.role),
        "iat": issued,
        "exp": issued + int(ACCESS_LIFETIME.total_seconds()),
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode({"alg": ALGORITHM}, claims, _signing_key(settings), algorithms=[ALGORITHM])


def verify_access_token(token: str, settings: Settings, now: datetime) -> int:
    """The user id of a valid access token; Unauthorized for anything else
    (`alg: none`, another key, another audience or issuer, expired, malformed)."""
    try:
        decoded = jwt.decode(token, _signing_key(settings), algorithms=[ALGORITHM])
        registry = jwt.JWTClaimsRegistry(
            now=int(now.timestamp()),
            iss={"essential": True, "value": settings.base_url},
            aud={"essential": True, "value": AUDIENCE},
            exp={"essential": True},
            sub={"essential": True},
        )
        registry.validate(decoded.claims)
        return int(decoded.claims["sub"])
    except JoseError as exc:
        expired = getattr(exc, "claim", None) == "exp" or "expired" in str(exc).lower()
        raise Unauthorized("The access token has expired." if expired else "The access token is not valid.") from None
    except (ValueError, TypeError):
        raise Unauthorized("The access token is not valid.") from None


async def _new_refresh(user_id: int, family: str, now: datetime, conn) -> str:
    raw = secrets.token_urlsafe(32)
    await RefreshToken.create(
        user_id=user_id, family=family, token_hash=_hash(raw), expires_at=now + REFRESH_LIFETIME, using_db=conn
    )
    return raw


async def issue_tokens(user: User, settings: Settings, now: datetime) -> TokenPair:
    async with in_transaction() as conn:
        refresh = await _new_refresh(user.id, uuid.uuid4().hex, now, conn)
    return TokenPair(access_token(user, settings, now), refresh, int(ACCESS_LIFETIME.total_seconds()))


async def refresh_tokens(raw: str, settings: Settings, now: datetime) -> TokenPair:
    """Trade a refresh token for a new pair. The old one stops working."""
    reused = False
    async with in_transaction() as conn:
        [found] = await lock(conn, rows(RefreshToken, token_hash=_hash(raw)))
        token = found[0] if found else None
        if token is None or token.revoked_at is not None or token.expires_at <= now:
            raise Unauthorized("The refresh token is not valid. Sign in again.")
        user = await User.get_or_none(id=token.user_id, is_active=True).using_db(conn)
        if token.used_at is not None:
            reused = True  # committed below, then refused
            await _revoke_family(token.family, now, conn)
        elif user is None:
            raise Unauthorized("This account is no longer active.")
        else:
            token.used_at = now
            await token.save(update_fields=["used_at"], using_db=conn)
            refresh = await _new_refresh(user.id, token.family, now, conn)
    if reused:
        raise Unauthorized("This refresh token was already used, so every token made from it is revoked. Sign in again.")
    return TokenPair(access_token(user, settings, now), refresh, int(ACCESS_LIFETIME.total_seconds()))


async def revoke(raw: str, now: datetime) -> None:
    """Log out: the token's whole family stops working. Unknown tokens are ignored."""
    async with in_transaction() as conn:
        token = await RefreshToken.get_or_none(token_hash=_hash(raw)).using_db(conn)
        if token is not None:
            await _revoke_family(token.family, now, conn)


async def _revoke_family(family: str, now: datetime, conn) -> None:
    await RefreshToken.filter(family=family, revoked_at__isnull=True).using_db(conn).update(revoked_at=now)
