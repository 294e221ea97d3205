"""Short-lived JWT access tokens (HS256) that carry the caller's roles and sub-trees."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

import jwt

from afiya.domain.access.policy import Principal
from afiya.domain.shared.errors import AuthenticationFailed
from afiya.domain.shared.i18n import N_, Message
from afiya.domain.shared.ids import uuid7

_ISSUER = "afiya"


class JwtAccessTokens:
    def __init__(self, secret: str, lifetime: timedelta, cache_size: int = 4096) -> None:
        if len(secret) < 32:
            raise ValueError("the JWT secret must hold at least 32 characters")
        self._secret = secret
        self._lifetime = lifetime
        self._cache: dict[str, tuple[Principal, float]] = {}
        self._cache_size = cache_size

    def issue(self, principal: Principal, now: datetime) -> tuple[str, int]:
        claims = {
            "iss": _ISSUER,
            "sub": str(principal.user_id),
            "usr": principal.username,
            "rol": sorted(principal.roles),
            "ou": list(principal.unit_paths),
            "jti": str(uuid7()),
            "iat": int(now.timestamp()),
            "exp": int((now + self._lifetime).timestamp()),
        }
        if principal.session_id:
            claims["sid"] = str(principal.session_id)
        return jwt.encode(claims, self._secret, algorithm="HS256"), int(
            self._lifetime.total_seconds()
        )

    def read(self, token: str, now: datetime) -> Principal:
        """Verify ``token``. A verified token is remembered until it expires: a phone
        polling the ward list does not pay the HMAC and JSON parsing on every request."""
        cached = self._cache.get(token)
        if cached is not None:
            principal, expires_at = cached
            if expires_at > now.timestamp():
                return principal
            del self._cache[token]
        principal, expires_at = self._verify(token)
        if len(self._cache) >= self._cache_size:
            self._cache.pop(next(iter(self._cache)))  # oldest first (insertion order)
        self._cache[token] = (principal, expires_at)
        return principal

    def _verify(self, token: str) -> tuple[Principal, float]:
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=["HS256"],
                issuer=_ISSUER,
                leeway=30,
                options={"require": ["exp", "iat", "sub", "iss"], "verify_iat": False},
            )
        except jwt.ExpiredSignatureError as exc:
            raise AuthenticationFailed(
                Message(N_("The access token has expired.")), code="token_expired"
            ) from exc
        except jwt.PyJWTError as exc:
            raise AuthenticationFailed(
                Message(N_("The access token is invalid.")), code="token_invalid"
            ) from exc
        principal = Principal(
            user_id=UUID(claims["sub"]),
            username=str(claims.get("usr", "")),
            roles=frozenset(claims.get("rol", [])),
            unit_paths=tuple(claims.get("ou", [])),
            session_id=UUID(claims["sid"]) if claims.get("sid") else None,
        )
        return principal, float(claims["exp"])
