"""Bearer-token checks exactly as Kling answers them: 1001 missing, 1002 invalid, 1003 nbf, 1004 exp."""

from __future__ import annotations

import hmac

import jwt

from ..core.kling import auth as _client_auth  # noqa: F401  (same PyJWT warning policy)


def check_authorization(header: str | None, keypairs: dict[str, str],
                        api_keys: tuple[str, ...]) -> tuple[int, str] | None:
    """None when accepted, else (code, message)."""
    if not header or not header.strip():
        return 1001, "Authorization is empty"
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return 1002, "Authorization is invalid: expected 'Bearer <token>'"
    if any(hmac.compare_digest(token, key) for key in api_keys):
        return None
    if token.count(".") != 2:
        return 1002, "Authorization is invalid: not a JWT"
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
        header_fields = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        return 1002, "Authorization is invalid: malformed token"
    if header_fields.get("alg") != "HS256":
        return 1002, "Authorization is invalid: algorithm must be HS256"
    secret = keypairs.get(str(claims.get("iss")))
    if secret is None:
        return 1002, "Authorization is invalid: unknown access key"
    try:
        jwt.decode(token, secret.encode("utf-8"), algorithms=["HS256"],
                   options={"require": ["iss", "exp", "nbf"]})
    except jwt.ImmatureSignatureError:
        return 1003, "Authorization is not yet valid"
    except jwt.ExpiredSignatureError:
        return 1004, "Authorization has expired"
    except jwt.InvalidSignatureError:
        return 1002, "Authorization is invalid: signature verification failed"
    except jwt.PyJWTError as exc:
        return 1002, f"Authorization is invalid: {type(exc).__name__}"
    return None
