"""Establish who sent a request, only from verified sources: a trusted proxy, a signed JWT, or dev mode."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import jwt

from runreg.kernel.actors import SERVICES_EGROUP, Actor, ActorKind
from runreg.kernel.errors import Unauthenticated
from runreg.settings import Settings

PROXY_SECRET_HEADER = "x-runreg-proxy-secret"


#: Development mode only: the identity a browser chose on /dev/sign-in, as "email|egroup,egroup".
DEV_IDENTITY_COOKIE = "runreg_dev_identity"


def identify(
    headers: Mapping[str, str], settings: Settings, cookies: Mapping[str, str] | None = None
) -> Actor | None:
    """The actor behind a request, or None when it brings no identity at all.

    Headers claiming an identity are believed only from the proxy (shared secret) or in dev mode; a bearer
    token is believed only if its signature, issuer, audience and expiry verify. Anything presented but not
    verifiable is refused, never ignored.
    """
    authorization = headers.get("authorization", "")
    if authorization.lower().startswith("bearer ") and settings.jwt_jwks_url:
        return _from_jwt(authorization[7:].strip(), settings)
    presented = headers.get(PROXY_SECRET_HEADER)
    if presented is not None:
        if not settings.proxy_secret or not hmac.compare_digest(presented, settings.proxy_secret):
            raise Unauthenticated("the proxy secret is wrong")
        return _from_headers(headers, settings, default_egroups=())
    if settings.dev_identity and headers.get("email"):
        return _from_headers(headers, settings, default_egroups=settings.dev_egroups)
    if settings.dev_identity and cookies and cookies.get(DEV_IDENTITY_COOKIE):
        email, _, egroups = cookies[DEV_IDENTITY_COOKIE].partition("|")
        return _from_headers({"email": email, "egroups": egroups}, settings, default_egroups=())
    return None


def _from_headers(headers: Mapping[str, str], settings: Settings, *, default_egroups: Any) -> Actor | None:
    email = headers.get("email", "").strip()
    if not email:
        return None
    raw = headers.get("egroups")
    egroups = {g.strip() for g in raw.split(",") if g.strip()} if raw is not None else set(default_egroups)
    return _actor(email, egroups, settings)


def _from_jwt(token: str, settings: Settings) -> Actor:
    try:
        key = _jwks(settings.jwt_jwks_url).get_signing_key_from_jwt(token).key
        claims = jwt.decode(
            token,
            key,
            algorithms=["RS256", "RS384", "RS512", "ES256", "ES384"],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={"require": ["exp", "iat"], "verify_aud": settings.jwt_audience is not None},
        )
    except jwt.PyJWTError as exc:
        raise Unauthenticated(f"the bearer token is not valid: {exc}") from None
    email = claims.get(settings.jwt_email_claim) or claims.get("sub")
    if not email:
        raise Unauthenticated(f"the bearer token has no {settings.jwt_email_claim!r} or 'sub' claim")
    groups = claims.get(settings.jwt_egroups_claim) or []
    if isinstance(groups, str):
        groups = [groups]
    return _actor(str(email), {str(g) for g in groups}, settings)


def _actor(name: str, egroups: set[str], settings: Settings) -> Actor:
    """A person, or an ML agent when one of its e-groups is an agents' e-group (a service account)."""
    kept = _external(egroups)
    kind = ActorKind.AGENT if kept & set(settings.agent_egroups) else ActorKind.HUMAN
    return Actor(name, kind, kept)


def _external(egroups: Any) -> frozenset[str]:
    """E-groups an outside identity may carry: never the one of runreg's own workers."""
    return frozenset(egroups) - {SERVICES_EGROUP}


@lru_cache(maxsize=4)
def _jwks(url: str | None) -> jwt.PyJWKClient:
    # PyJWKClient caches the key set and refetches on an unknown key id (key rotation).
    return jwt.PyJWKClient(url or "", cache_keys=True, lifespan=300)
