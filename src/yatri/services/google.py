"""Google sign-in (OpenID Connect): the provider's discovery document and keys, the
authorization-code exchange, and ID-token verification.

`OIDC_METADATA_URL` names the provider (Google's discovery document by default; tests run
a local one). `OidcProvider` fetches that document and its JWKS with one shared httpx2
client, keeps them an hour, and fetches them again early when a token is signed by a key
it has not seen (the provider rotated its keys). `verify_id_token` is pure: it takes the
raw token and returns the verified claims, so the HTML flow and the JSON API share it.

A provider need not put `email` and `email_verified` in the ID token: OpenID Connect Core
§5.4 returns the `email` scope's claims from the userinfo endpoint when an access token is
issued. `OidcProvider.email_claims` reads them there (§5.3, the access token as Bearer) and
refuses an answer about another `sub` (§5.3.2).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx2
from authlib.common.security import generate_token
from authlib.integrations.base_client import OAuthError
from authlib.integrations.httpx_client import AsyncOAuth2Client
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

from yatri.errors import Unauthorized, ValidationError, YatriError

log = logging.getLogger("yatri.google")

CACHE_FOR = timedelta(hours=1)
# Clocks differ a little between Google and us.
LEEWAY_SECONDS = 60
ALGORITHMS = ["RS256"]
SCOPE = "openid email profile"
# Google's ID tokens name their issuer with or without the scheme.
ISSUER_ALIASES = {"https://accounts.google.com": ("https://accounts.google.com", "accounts.google.com")}
EMAIL_CLAIMS = ("email", "email_verified")
NO_EMAIL = "Google did not tell us your email address, so we cannot sign you in with it. Log in with your password."


def issuer_of(claims: dict) -> str:
    """The ID token's issuer as the provider's metadata names it (an identity is issuer + sub)."""
    iss = str(claims["iss"])
    return next((canonical for canonical, aliases in ISSUER_ALIASES.items() if iss in aliases), iss)


class GoogleSignInFailed(Unauthorized):
    """The provider's answer could not be trusted; `reason` says why, for the log."""

    title = "Google sign-in failed"
    problem = "google-sign-in-failed"

    def __init__(self, reason: str, detail: str = "We could not confirm your Google sign-in. Please try again.") -> None:
        super().__init__(detail)
        self.reason = reason


class ProviderUnavailable(YatriError):
    status = 503
    title = "Google sign-in is unavailable"
    problem = "google-unavailable"


@dataclass(frozen=True)
class Provider:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    userinfo_endpoint: str | None
    keys: KeySet
    fetched_at: datetime


@dataclass(frozen=True)
class Tokens:
    """What the token endpoint answered: the raw ID token and the access token."""

    id_token: str
    access_token: str | None


def verify_id_token(id_token: str, *, provider: Provider, client_id: str, now: datetime, nonce: str | None = None) -> dict:
    """The claims of an ID token signed by one of the provider's keys (RS256), issued by it
    for `client_id`, not expired, and carrying `nonce` when one is given.
    Raises GoogleSignInFailed (with a `reason`) otherwise; InvalidKeyIdError for an unknown key."""
    if not isinstance(id_token, str) or not id_token:
        raise GoogleSignInFailed("missing_id_token")
    try:
        claims = jwt.decode(id_token, provider.keys, algorithms=ALGORITHMS).claims
    except InvalidKeyIdError:
        raise
    except JoseError as exc:
        raise GoogleSignInFailed(exc.error) from None
    except (ValueError, TypeError):
        raise GoogleSignInFailed("malformed") from None
    options = {
        "iss": {"essential": True, "values": list(ISSUER_ALIASES.get(provider.issuer, (provider.issuer,)))},
        "aud": {"essential": True, "value": client_id},
        "exp": {"essential": True},
        "sub": {"essential": True},
    }
    if nonce is not None:
        options["nonce"] = {"essential": True, "value": nonce}
    try:
        jwt.JWTClaimsRegistry(now=int(now.timestamp()), leeway=LEEWAY_SECONDS, **options).validate(claims)
    except JoseError as exc:
        raise GoogleSignInFailed(getattr(exc, "claim", None) or exc.error) from None
    # With several audiences, the token must have been issued to us (OpenID Connect Core 3.1.3.7).
    if isinstance(claims["aud"], list) and len(claims["aud"]) > 1 and claims.get("azp") != client_id:
        raise GoogleSignInFailed("azp")
    return claims


class OidcProvider:
    """The provider's metadata and keys, fetched with a shared httpx2 client and cached."""

    def __init__(self, http: httpx2.AsyncClient, metadata_url: str) -> None:
        self._http = http
        self._metadata_url = metadata_url
        self._cached: Provider | None = None
        self._lock = asyncio.Lock()

    async def get(self, now: datetime, *, refresh: bool = False) -> Provider:
        async with self._lock:
            cached = self._cached
            if cached is None or refresh or now - cached.fetched_at >= CACHE_FOR:
                self._cached = await self._fetch(now)
            return self._cached

    async def _fetch(self, now: datetime) -> Provider:
        try:
            metadata = await self._json(self._metadata_url)
            keys = KeySet.import_key_set(await self._json(metadata["jwks_uri"]))
            return Provider(
                issuer=metadata["issuer"],
                authorization_endpoint=metadata["authorization_endpoint"],
                token_endpoint=metadata["token_endpoint"],
                userinfo_endpoint=metadata.get("userinfo_endpoint"),
                keys=keys,
                fetched_at=now,
            )
        except (httpx2.HTTPError, KeyError, TypeError, ValueError, JoseError) as exc:
            log.warning("could not load the OpenID provider from %s: %r", self._metadata_url, exc)
            raise ProviderUnavailable(
                "Google sign-in cannot be reached right now. Try again in a minute, or log in with your password."
            ) from None

    async def _json(self, url: str) -> dict:
        response = await self._http.get(url)
        response.raise_for_status()
        return response.json()

    async def verify(self, id_token: str, *, client_id: str, now: datetime, nonce: str | None = None) -> dict:
        """`verify_id_token` with the cached keys, fetched again once for an unknown key id."""
        provider = await self.get(now)
        try:
            return verify_id_token(id_token, provider=provider, client_id=client_id, now=now, nonce=nonce)
        except InvalidKeyIdError:
            provider = await self.get(now, refresh=True)
        try:
            return verify_id_token(id_token, provider=provider, client_id=client_id, now=now, nonce=nonce)
        except InvalidKeyIdError:
            raise GoogleSignInFailed("unknown_key") from None

    async def email_claims(self, claims: dict, access_token: str | None, *, now: datetime) -> dict:
        """`claims` with `email` and `email_verified`, read from the userinfo endpoint when
        the ID token lacks them. Without an access token (an ID token handed to the JSON API)
        there is no userinfo to ask, and the token is refused (MissingEmailClaims)."""
        missing = [name for name in EMAIL_CLAIMS if name not in claims]
        if not missing:
            return claims
        named = " or ".join(missing)
        if not access_token:
            log.warning("the ID token has no %s claim and there is no access token to ask userinfo", named)
            raise MissingEmailClaims(missing)
        provider = await self.get(now)
        if not provider.userinfo_endpoint:
            log.warning("the ID token has no %s claim and the provider lists no userinfo_endpoint", named)
            raise GoogleSignInFailed(f"missing_claim:{','.join(missing)}", NO_EMAIL)
        log.info("the ID token has no %s claim: reading the userinfo endpoint", named)
        info = await self._userinfo(provider.userinfo_endpoint, access_token)
        if info.get("sub") != claims["sub"]:  # §5.3.2: MUST match, else the answer is not about this user
            raise GoogleSignInFailed("userinfo_sub")
        return {**claims, **{name: info[name] for name in missing if name in info}}

    async def _userinfo(self, url: str, access_token: str) -> dict:
        try:
            response = await self._http.get(url, headers={"Authorization": f"Bearer {access_token}"})
        except httpx2.HTTPError as exc:
            log.warning("userinfo request to %s failed: %r", url, exc)
            raise ProviderUnavailable("Google sign-in cannot be reached right now. Try again in a minute.") from None
        if response.status_code != 200:
            raise GoogleSignInFailed(f"userinfo:{response.status_code}")
        try:
            info = response.json()
        except ValueError:
            info = None
        if not isinstance(info, dict):
            raise GoogleSignInFailed("userinfo_unreadable")
        return info


class MissingEmailClaims(ValidationError):
    """An ID token without `email`/`email_verified` and no access token to read them with."""

    def __init__(self, missing: list[str]) -> None:
        super().__init__({
            "id_token": f"This ID token has no {' or '.join(missing)} claim, and without an access token "
            "there is no userinfo to read it from. Ask Google for the 'email' scope so the ID token carries it."
        })  # fmt: skip
        self.missing = missing


@dataclass(frozen=True)
class Authorization:
    """Where to send the browser, and what to keep in its session until it comes back."""

    url: str
    state: str
    nonce: str
    code_verifier: str


def _client(client_id: str, client_secret: str, redirect_uri: str) -> AsyncOAuth2Client:
    return AsyncOAuth2Client(
        client_id=client_id,
        client_secret=client_secret,
        scope=SCOPE,
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        timeout=10,
    )


async def authorization(provider: Provider, *, client_id: str, client_secret: str, redirect_uri: str) -> Authorization:
    """The authorization request: a random state, nonce and PKCE verifier."""
    nonce, verifier = generate_token(32), generate_token(48)
    async with _client(client_id, client_secret, redirect_uri) as client:
        url, state = client.create_authorization_url(provider.authorization_endpoint, code_verifier=verifier, nonce=nonce)
    return Authorization(url=url, state=state, nonce=nonce, code_verifier=verifier)


async def exchange_code(
    provider: Provider, *, client_id: str, client_secret: str, redirect_uri: str, code: str, code_verifier: str
) -> Tokens:
    """Trade the authorization code for the provider's tokens."""
    async with _client(client_id, client_secret, redirect_uri) as client:
        try:
            token = await client.fetch_token(provider.token_endpoint, code=code, code_verifier=code_verifier)
        except OAuthError as exc:
            raise GoogleSignInFailed(f"token_endpoint:{exc.error}") from None
        except (httpx2.HTTPError, ValueError) as exc:
            log.warning("token request to %s failed: %r", provider.token_endpoint, exc)
            raise ProviderUnavailable("Google sign-in cannot be reached right now. Try again in a minute.") from None
    id_token = token.get("id_token")
    if not id_token:
        raise GoogleSignInFailed("no_id_token")
    return Tokens(id_token, token.get("access_token"))
