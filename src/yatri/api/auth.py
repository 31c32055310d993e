"""Tokens: sign in, refresh, log out."""

from __future__ import annotations

from aiohttp import web

from yatri.api import models as m
from yatri.api.common import NO_STORE, now
from yatri.api.contract import Reply
from yatri.errors import NotFound, Unauthorized, ValidationError
from yatri.keys import OidcKey, SettingsKey
from yatri.services import accounts, tokens
from yatri.web.clients import client_address


def _pair(pair: tokens.TokenPair) -> Reply:
    return Reply(m.TokenPair.model_validate(pair), NO_STORE)


async def token(request: web.Request, body: m.Credentials) -> Reply:
    try:
        # The same throttle as the login form: per account and per client address.
        user = await accounts.attempt_login(body.email, body.password, ip=client_address(request), now=now(request))
    except ValidationError as exc:
        if "__all__" not in exc.errors:  # an email no account can have: a field error
            raise
        raise Unauthorized(exc.errors["__all__"]) from None
    return _pair(await tokens.issue_tokens(user, request.app[SettingsKey], now(request)))


async def google(request: web.Request, body: m.GoogleIdToken) -> Reply:
    """An ID token from Google Sign-In on the client, verified like the web sign-in's."""
    settings = request.app[SettingsKey]
    if not settings.google_client_id:
        raise NotFound("Google sign-in is not set up on this site.")
    async with _throttled_by_address(request):
        claims = await request.app[OidcKey].verify(body.id_token, client_id=settings.google_client_id, now=now(request))
    # No access token here, so no userinfo: an ID token without the email claims is a 422.
    claims = await request.app[OidcKey].email_claims(claims, None, now=now(request))
    user = await accounts.sign_in_with_google(claims)
    return _pair(await tokens.issue_tokens(user, settings, now(request)))


async def refresh(request: web.Request, body: m.RefreshRequest) -> Reply:
    async with _throttled_by_address(request):
        pair = await tokens.refresh_tokens(body.refresh_token, request.app[SettingsKey], now(request))
    return _pair(pair)


def _throttled_by_address(request: web.Request):
    """Refresh tokens and ID tokens name no account, so their attempts count against the
    client's address, in the same budget as logins."""
    return accounts.sign_in_attempt("", client_address(request), now(request))


async def logout(request: web.Request, body: m.RefreshRequest) -> None:
    await tokens.revoke(body.refresh_token, now(request))
