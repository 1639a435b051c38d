"""The OpenID Connect relying party: discovery, the authorization request, the code exchange
and ID-token validation, with authlib (PKCE, claims) and joserfc (signatures).

The provider's discovery document says where everything is and which keys sign the ID
tokens (its JWKS); both are fetched once and kept, and the keys are fetched again when a
token names a key we have not seen (the provider rotated its keys). Nothing here logs a
code, a token or a claim: errors name only what kind of step failed.
"""

from __future__ import annotations

import base64
import time
from typing import Any, Final
from urllib.parse import quote

import aiohttp
from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

from common.settings import Secret

SCOPES: Final = "openid profile"
METADATA_TTL_SECONDS: Final = 3600.0
TIMEOUT: Final = aiohttp.ClientTimeout(total=10)
LEEWAY_SECONDS: Final = 60  # clock difference between us and the provider
SIGNING_ALGORITHMS: Final = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"}
)


class OidcError(Exception):
    """A sign-in step failed; ``reason`` is a short code for the audit log and the answer."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class OpenIdProvider:
    """One configured provider, as a confidential (or, without a secret, public) client."""

    def __init__(self, issuer: str, client_id: str, client_secret: Secret | None) -> None:
        self.issuer = issuer
        self.client_id = client_id
        self._secret = client_secret
        self._session: aiohttp.ClientSession | None = None
        self._metadata: dict[str, Any] = {}
        self._metadata_at = 0.0
        self._keys: KeySet | None = None

    async def close(self) -> None:
        """Close the HTTP connections to the provider."""
        if self._session is not None:
            await self._session.close()

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=TIMEOUT)
        return self._session

    async def _get_json(self, url: str) -> dict[str, Any]:
        try:
            async with self._http().get(url) as response:
                response.raise_for_status()
                body = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError):
            raise OidcError(
                "provider_unreachable", "the identity provider cannot be reached"
            ) from None
        if not isinstance(body, dict):
            raise OidcError("provider_unreachable", "the identity provider answered nonsense")
        return body

    async def metadata(self) -> dict[str, Any]:
        """The discovery document (cached for an hour); its issuer must be ours exactly."""
        if self._metadata and time.monotonic() - self._metadata_at < METADATA_TTL_SECONDS:
            return self._metadata
        found = await self._get_json(self.issuer.rstrip("/") + "/.well-known/openid-configuration")
        if found.get("issuer") != self.issuer:
            raise OidcError(
                "provider_misconfigured",
                "the provider's discovery document names another issuer than CALLREC_OIDC_ISSUER",
            )
        self._metadata, self._metadata_at, self._keys = found, time.monotonic(), None
        return found

    async def authorization_url(
        self, redirect_uri: str, state: str, nonce: str, code_verifier: str, roles_claim: str
    ) -> str:
        """Where to send the browser: the code flow with PKCE (S256), state and nonce. The
        scope also names the roles claim when the provider offers a scope of that name
        (``groups`` at several providers); others put the claim in the token by their own
        configuration."""
        metadata = await self.metadata()
        endpoint = metadata["authorization_endpoint"]
        offered = metadata.get("scopes_supported") or []
        params = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": redirect_uri,
            "scope": f"{SCOPES} {roles_claim}" if roles_claim in offered else SCOPES,
            "state": state,
            "nonce": nonce,
            "code_challenge": create_s256_code_challenge(code_verifier),
            "code_challenge_method": "S256",
        }
        return str(add_params_to_uri(endpoint, params))

    async def exchange(self, code: str, redirect_uri: str, code_verifier: str) -> dict[str, Any]:
        """Trade the authorization code (and the PKCE verifier) for the tokens."""
        endpoint = (await self.metadata())["token_endpoint"]
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": code_verifier,
        }
        headers = {"Accept": "application/json"}
        if self._secret is None:  # a public client: PKCE alone binds the code to us
            form["client_id"] = self.client_id
        else:  # client_secret_basic, each part form-encoded first (RFC 6749 section 2.3.1)
            pair = f"{quote(self.client_id, safe='')}:{quote(self._secret.reveal(), safe='')}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        try:
            async with self._http().post(endpoint, data=form, headers=headers) as response:
                body = await response.json(content_type=None)
                status = response.status
        except (aiohttp.ClientError, TimeoutError, ValueError):
            raise OidcError(
                "provider_unreachable", "the identity provider cannot be reached"
            ) from None
        if status != 200 or not isinstance(body, dict) or "id_token" not in body:
            error = body.get("error") if isinstance(body, dict) else None
            raise OidcError(
                "code_refused",
                f"the identity provider refused the sign-in code ({_code(error)}); sign in again",
            )
        return body

    async def _key_set(self, refresh: bool) -> KeySet:
        if self._keys is None or refresh:
            found = await self._get_json((await self.metadata())["jwks_uri"])
            try:
                self._keys = KeySet.import_key_set(found)  # type: ignore[arg-type]
            except (JoseError, ValueError, KeyError, TypeError):
                raise OidcError(
                    "provider_misconfigured", "the provider's keys are unreadable"
                ) from None
        return self._keys

    async def id_token_claims(self, tokens: dict[str, Any], nonce: str) -> dict[str, Any]:
        """The validated claims of the ID token: signature by the provider's keys, issuer,
        audience, expiry, issue time, nonce and, when present, the access-token hash."""
        allowed = set(
            (await self.metadata()).get("id_token_signing_alg_values_supported", ["RS256"])
        )
        algorithms = sorted(allowed & SIGNING_ALGORITHMS)
        try:
            try:
                token = jwt.decode(tokens["id_token"], await self._key_set(False), algorithms)
            except InvalidKeyIdError:  # the provider rotated its keys since we fetched them
                token = jwt.decode(tokens["id_token"], await self._key_set(True), algorithms)
            claims = CodeIDToken(
                token.claims,
                token.header,
                {"iss": {"essential": True, "values": [self.issuer]}},
                {
                    "nonce": nonce,
                    "client_id": self.client_id,
                    "access_token": tokens.get("access_token"),
                },
            )
            claims.validate(leeway=LEEWAY_SECONDS)
        except (JoseError, ValueError, TypeError) as exc:
            raise OidcError(
                "invalid_id_token",
                f"the identity token did not pass validation ({type(exc).__name__}); sign in again",
            ) from None
        if not isinstance(claims.get("sub"), str) or not claims["sub"]:
            raise OidcError("invalid_id_token", "the identity token names no subject")
        return dict(claims)


def _code(error: object) -> str:
    """An OAuth error code fit to repeat (RFC 6749 allows only these characters)."""
    text = str(error or "no error code")
    return text if text.replace("_", "").isalnum() and len(text) <= 64 else "unreadable error"


def provider_error(error: str) -> OidcError:
    """The provider sent the browser back with ``error`` instead of a code."""
    return OidcError(
        "provider_error", f"the identity provider did not sign you in ({_code(error)})"
    )
