"""Sign in with Google: `/auth/google` sends the browser to the provider with a fresh
state, nonce and PKCE verifier kept in the session; `/auth/google/callback` checks the
state, trades the code for an ID token, verifies it and signs the matching user in."""

from __future__ import annotations

import hmac
import logging

from aiohttp import web
from aiohttp_session import get_session

from yatri.errors import NotFound, PermissionDenied, YatriError
from yatri.keys import OidcKey, SettingsKey
from yatri.services import accounts, google
from yatri.web.accounts import auth_context
from yatri.web.auth import flash, login_user, safe_next
from yatri.web.clock import now
from yatri.web.render import render

log = logging.getLogger("yatri.google")

FLOW_KEY = "google_flow"
STALE_STATE = "This sign-in did not start here, or was already used. Please start again."


def _credentials(request: web.Request) -> dict:
    settings = request.app[SettingsKey]
    if not settings.google_client_id:
        raise NotFound("Google sign-in is not set up on this site.")
    return {
        "client_id": settings.google_client_id,
        "client_secret": settings.google_client_secret,
        "redirect_uri": f"{settings.base_url}/auth/google/callback",
    }


async def start(request: web.Request) -> web.Response:
    credentials = _credentials(request)
    provider = await request.app[OidcKey].get(now(request))
    auth = await google.authorization(provider, **credentials)
    session = await get_session(request)
    session[FLOW_KEY] = {
        "state": auth.state,
        "nonce": auth.nonce,
        "code_verifier": auth.code_verifier,
        "next": safe_next(request.query.get("next")),
    }
    raise web.HTTPFound(auth.url)


async def callback(request: web.Request) -> web.Response:
    credentials = _credentials(request)
    flow = (await get_session(request)).pop(FLOW_KEY, None)
    try:
        user = await _signed_in_user(request, flow, credentials)
    except (google.GoogleSignInFailed, PermissionDenied) as exc:
        log.warning("Google sign-in refused: %s", getattr(exc, "reason", exc.detail))
        return _refused(request, exc, flow)
    await login_user(request, user)
    await flash(request, f"Welcome, {user.name}.")
    raise web.HTTPSeeOther(flow["next"])


async def _signed_in_user(request: web.Request, flow: dict | None, credentials: dict):
    query = request.query
    if "error" in query:
        raise google.GoogleSignInFailed(f"provider:{query['error']}", "Google sign-in was cancelled.")
    sent = query.get("state", "")
    if not flow or not hmac.compare_digest(sent.encode(), flow["state"].encode()):
        raise google.GoogleSignInFailed("state", STALE_STATE)
    at = now(request)
    oidc = request.app[OidcKey]
    tokens = await google.exchange_code(
        await oidc.get(at), code=query.get("code", ""), code_verifier=flow["code_verifier"], **credentials
    )
    claims = await oidc.verify(tokens.id_token, client_id=credentials["client_id"], nonce=flow["nonce"], now=at)
    return await accounts.sign_in_with_google(await oidc.email_claims(claims, tokens.access_token, now=at))


def _refused(request: web.Request, exc: YatriError, flow: dict | None) -> web.Response:
    context = auth_context(request, form={"email": ""}, errors={"__all__": exc.detail}, next=flow["next"] if flow else "/")
    return render(request, "pages/login.html", context, status=exc.status)
