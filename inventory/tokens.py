"""API tokens: created once in plain text, stored only as a hash."""

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select

from . import audit
from .db import db, utcnow
from .devices import school_by_code
from .enums import Role
from .errors import Conflict, InvalidInput, NotFound
from .models import ApiToken

PREFIX = "sft_"
USE_RESOLUTION = timedelta(minutes=5)


def _hash(plain: str) -> str:
    # Tokens are 256 random bits, so a fast hash is enough; there is nothing to brute-force.
    return hashlib.sha256(plain.encode()).hexdigest()


def create_token(role: str, schools: list[str] | None = None, name: str | None = None) -> tuple[ApiToken, str]:
    """A new token; returns the row and the plain token, which is never shown again."""
    if role not in set(Role):
        raise InvalidInput(f"unknown role '{role}' (choose from {', '.join(Role)})", {"role": ["unknown role"]})
    schools = schools or []
    if role == Role.AGENT and len(schools) != 1:
        raise InvalidInput("an agent token needs exactly one school (--school CODE)", {"school": ["required"]})
    name = name or f"{role}-{utcnow():%Y%m%d%H%M%S%f}"
    if db.session.scalar(select(ApiToken).where(ApiToken.name == name)) is not None:
        raise Conflict(f"a token named '{name}' already exists; names identify tokens", {"name": ["already taken"]})
    plain = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(name=name, prefix=plain[:12],
                     token_hash=_hash(plain), role=role,
                     schools=[school_by_code(code) for code in schools])
    db.session.add(token)
    db.session.flush()
    audit.record("create", "api_token", token.id, token.name,
                 {"role": [None, role], "schools": [None, schools]})
    db.session.commit()
    return token, plain


def authenticate(plain: str) -> ApiToken | None:
    """The live token matching plain, or None."""
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash(plain)))
    if token is None or token.revoked_at is not None:
        return None
    return token


def note_use(token: ApiToken) -> None:
    """Remember when a token was last used, at most every few minutes so reads stay cheap."""
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at > USE_RESOLUTION:
        token.last_used_at = now
        db.session.commit()


def find_token(ident: str) -> ApiToken:
    """A token by id, by name, or by the prefix shown when it was created; ambiguity is an error."""
    for column, value in ((ApiToken.id, int(ident) if ident.isdigit() else None), (ApiToken.name, ident),
                          (ApiToken.prefix, ident[:12] if ident.startswith(PREFIX) else None)):
        if value is None:
            continue
        found = list(db.session.scalars(select(ApiToken).where(column == value)))
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            ids = ", ".join(str(token.id) for token in found)
            raise Conflict(f"'{ident}' names tokens {ids}; give the id")
    raise NotFound(f"no token '{ident}' (give its id, name or the prefix shown by `fleet tokens list`)")


def revoke_token(ident: str) -> ApiToken:
    """Revoke by id, name or shown prefix; revoking twice changes nothing."""
    token = find_token(ident)
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit.record("revoke", "api_token", token.id, token.name, {"revoked": [False, True]})
        db.session.commit()
    return token


def list_tokens() -> list[ApiToken]:
    """Every token, newest first."""
    return list(db.session.scalars(select(ApiToken).order_by(ApiToken.id.desc())))
