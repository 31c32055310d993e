"""A small local OpenID provider standing in for Google: discovery, JWKS, an authorize
endpoint that consents at once as `user`, a token endpoint that checks the client's
secret, the single-use code, the redirect URI and PKCE, and signs real RS256 ID tokens
with joserfc, and a userinfo endpoint (OpenID Connect Core §5.3: GET with the access token
as Bearer, the user's claims as JSON, 401 with WWW-Authenticate for a bad token).

Tests change `user`, `claims` (merged into the next ID tokens), `userinfo` (merged into
userinfo answers), `email_in_id_token` (False: the email claims come only from userinfo,
as §5.4 allows), `lists_userinfo` (False: discovery names no userinfo endpoint) or
`signing_key` (a key the JWKS does not list) to make it misbehave."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time

from aiohttp import web
from joserfc import jwt
from joserfc.jwk import RSAKey
from yarl import URL

CLIENT_ID = "yatri-test.apps.example"
CLIENT_SECRET = "local-provider-secret"


def new_key(kid: str) -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig", "alg": "RS256"})


class LocalOpenIdProvider:
    def __init__(self) -> None:
        self.url = ""  # set once the server listens
        self.key = new_key("key-1")
        self.signing_key: RSAKey | None = None
        self.user = {"sub": "109876543210", "email": "Meera.Nair@Gmail.com", "email_verified": True, "name": "Meera Nair"}
        self.claims: dict = {}
        self.userinfo: dict = {}
        self.email_in_id_token = True
        self.lists_userinfo = True  # False: the discovery document names no userinfo_endpoint
        self.codes: dict[str, dict] = {}
        self.access_tokens: dict[str, dict] = {}  # access token -> the user it was issued for
        self.userinfo_requests = 0
        self.app = web.Application()
        self.app.router.add_get("/.well-known/openid-configuration", self.discovery)
        self.app.router.add_get("/jwks", self.jwks)
        self.app.router.add_get("/authorize", self.authorize)
        self.app.router.add_post("/token", self.token)
        self.app.router.add_get("/userinfo", self.userinfo_endpoint)

    @property
    def metadata_url(self) -> str:
        return f"{self.url}/.well-known/openid-configuration"

    async def discovery(self, request: web.Request) -> web.Response:
        metadata = {
            "issuer": self.url,
            "authorization_endpoint": f"{self.url}/authorize",
            "token_endpoint": f"{self.url}/token",
            "jwks_uri": f"{self.url}/jwks",
            "userinfo_endpoint": f"{self.url}/userinfo",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
        }  # fmt: skip
        if not self.lists_userinfo:
            del metadata["userinfo_endpoint"]
        return web.json_response(metadata)

    async def jwks(self, request: web.Request) -> web.Response:
        return web.json_response({"keys": [self.key.as_dict(private=False)]})

    async def authorize(self, request: web.Request) -> web.Response:
        q = request.query
        if q.get("client_id") != CLIENT_ID or q.get("response_type") != "code" or "openid" not in q.get("scope", "").split():
            return web.Response(status=400, text="bad authorization request")
        if q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
            return web.Response(status=400, text="PKCE required")
        code = secrets.token_urlsafe(16)
        self.codes[code] = {"redirect_uri": q["redirect_uri"], "nonce": q.get("nonce"), "challenge": q["code_challenge"]}
        raise web.HTTPFound(URL(q["redirect_uri"]).update_query(code=code, state=q.get("state", "")))

    async def token(self, request: web.Request) -> web.Response:
        form = await request.post()
        scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
        if scheme != "Basic" or base64.b64decode(credentials).decode() != f"{CLIENT_ID}:{CLIENT_SECRET}":
            return web.json_response({"error": "invalid_client"}, status=401)
        grant = self.codes.pop(form.get("code", ""), None)
        if form.get("grant_type") != "authorization_code" or grant is None or form.get("redirect_uri") != grant["redirect_uri"]:
            return web.json_response({"error": "invalid_grant"}, status=400)
        digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
        if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != grant["challenge"]:
            return web.json_response({"error": "invalid_grant", "error_description": "PKCE"}, status=400)
        access_token = secrets.token_urlsafe(16)
        self.access_tokens[access_token] = dict(self.user)
        return web.json_response({
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": 3600,
            "scope": "openid email profile",
            "id_token": self.id_token(nonce=grant["nonce"]),
        })  # fmt: skip

    async def userinfo_endpoint(self, request: web.Request) -> web.Response:
        self.userinfo_requests += 1
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        user = self.access_tokens.get(token) if scheme == "Bearer" else None
        if user is None:
            challenge = 'Bearer error="invalid_token", error_description="The access token is not valid"'
            return web.Response(status=401, headers={"WWW-Authenticate": challenge})
        return web.json_response({**user, **self.userinfo})

    def id_token(self, **extra) -> str:
        now = int(time.time())
        user = {k: v for k, v in self.user.items() if self.email_in_id_token or k not in ("email", "email_verified")}
        claims = {"iss": self.url, "aud": CLIENT_ID, "iat": now, "exp": now + 3600, **user, **extra, **self.claims}
        key = self.signing_key or self.key
        return jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)


def main() -> None:
    """Serve the provider alone, to try Google sign-in by hand with `make run`:
    `.venv/bin/python -m tests.oidc_provider [--port 8090]` prints the settings to use."""
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8090)
    port = parser.parse_args().port
    provider = LocalOpenIdProvider()
    provider.url = f"http://127.0.0.1:{port}"
    print(f"GOOGLE_CLIENT_ID={CLIENT_ID} GOOGLE_CLIENT_SECRET={CLIENT_SECRET} OIDC_METADATA_URL={provider.metadata_url}")
    print(f"Every sign-in is {provider.user['name']} <{provider.user['email']}>.")
    web.run_app(provider.app, host="127.0.0.1", port=port, print=None)


if __name__ == "__main__":
    main()
