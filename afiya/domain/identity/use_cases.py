"""Use cases of the identity module: sign in, refresh, sign out, manage users."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from uuid import UUID

from afiya.domain.access.permissions import Permission, Role, assignable_by
from afiya.domain.access.policy import Principal, authorize, in_scope, scope_of
from afiya.domain.audit.model import AuditRecord, Outcome
from afiya.domain.audit.ports import AuditLog
from afiya.domain.identity.model import NewUser, RefreshToken, TokenPair, User, UserChanges
from afiya.domain.identity.ports import (
    AccessTokens,
    PasswordHasher,
    RefreshTokenStore,
    UserRepository,
)
from afiya.domain.identity.rules import (
    LoginPolicy,
    lock_until_after_failure,
    next_attempt_allowed_at,
    validate_password,
    validate_username,
)
from afiya.domain.orgunits.ports import OrgUnitRepository
from afiya.domain.shared.clock import Clock
from afiya.domain.shared.errors import (
    AuthenticationFailed,
    FieldError,
    NotFound,
    RateLimited,
    ValidationFailed,
)
from afiya.domain.shared.i18n import N_, Message
from afiya.domain.shared.ids import uuid7


def hash_refresh_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class LoginOutcome:
    """A sign-in either yields tokens or an error to raise *after* the failure is saved."""

    tokens: TokenPair | None = None
    error: AuthenticationFailed | RateLimited | None = None


def _principal(user: User) -> Principal:
    return Principal(
        user_id=user.id, username=user.username, roles=user.roles, unit_paths=user.unit_paths
    )


async def _issue(
    user: User,
    family_id: UUID,
    *,
    tokens: AccessTokens,
    refresh: RefreshTokenStore,
    now: datetime,
    refresh_lifetime: timedelta,
) -> TokenPair:
    access, lifetime = tokens.issue(_principal(user), now)
    raw = secrets.token_urlsafe(32)
    await refresh.add(
        RefreshToken(
            id=uuid7(),
            user_id=user.id,
            family_id=family_id,
            token_hash=hash_refresh_token(raw),
            issued_at=now,
            expires_at=now + refresh_lifetime,
        )
    )
    return TokenPair(
        access_token=access,
        refresh_token=raw,
        expires_in=lifetime,
        user_id=user.id,
        roles=tuple(sorted(user.roles)),
    )


async def login(
    username: str,
    password: str,
    *,
    users: UserRepository,
    hasher: PasswordHasher,
    tokens: AccessTokens,
    refresh: RefreshTokenStore,
    audit: AuditLog,
    clock: Clock,
    policy: LoginPolicy,
    refresh_lifetime: timedelta,
) -> LoginOutcome:
    """Check a password and open a session.

    Rules: unknown users cost the same time as known ones; after a few failures each new
    attempt must wait longer (1, 2, 4 … s); after ``policy.max_failures`` the account is
    locked for ``policy.lockout``; a disabled account cannot sign in; every attempt is
    audited. The caller commits the outcome before raising ``outcome.error``.
    """
    now = clock.now()
    user = await users.get_by_username(username.strip().lower())
    denied = AuthenticationFailed(
        Message(N_("Wrong username or password.")), code="invalid_credentials"
    )
    if user is None or not user.active:
        await hasher.dummy_verify()
        await audit.record(
            AuditRecord(
                "auth.login",
                "user",
                None,
                outcome=Outcome.DENIED,
                details={"username": username, "reason": "unknown"},
            )
        )
        return LoginOutcome(error=denied)
    if user.locked_until and user.locked_until > now:
        seconds = int((user.locked_until - now).total_seconds()) + 1
        await audit.record(
            AuditRecord(
                "auth.login",
                "user",
                str(user.id),
                outcome=Outcome.DENIED,
                details={"reason": "locked"},
            )
        )
        return LoginOutcome(
            error=RateLimited(
                Message(
                    N_(
                        "The account is locked after too many failed attempts. "
                        "Try again in {minutes} minutes."
                    ),
                    {"minutes": seconds // 60 + 1},
                ),
                code="account_locked",
                details={"retry_after": seconds},
            )
        )
    allowed_at = next_attempt_allowed_at(user.failed_attempts, user.last_failed_at, policy)
    if allowed_at and allowed_at > now:
        seconds = int((allowed_at - now).total_seconds()) + 1
        await audit.record(
            AuditRecord(
                "auth.login",
                "user",
                str(user.id),
                outcome=Outcome.DENIED,
                details={"reason": "throttled"},
            )
        )
        return LoginOutcome(
            error=RateLimited(
                Message(N_("Too many attempts. Wait {seconds} seconds."), {"seconds": seconds}),
                code="login_throttled",
                details={"retry_after": seconds},
            )
        )
    if not await hasher.verify(user.password_hash, password):
        attempts = user.failed_attempts + 1
        await users.record_failure(
            user.id, attempts, now, lock_until_after_failure(attempts, now, policy)
        )
        await audit.record(
            AuditRecord(
                "auth.login",
                "user",
                str(user.id),
                outcome=Outcome.DENIED,
                details={"reason": "password", "attempts": attempts},
            )
        )
        return LoginOutcome(error=denied)
    new_hash = await hasher.hash(password) if hasher.needs_rehash(user.password_hash) else None
    await users.record_success(user.id, new_hash)
    pair = await _issue(
        user, uuid7(), tokens=tokens, refresh=refresh, now=now, refresh_lifetime=refresh_lifetime
    )
    await audit.record(AuditRecord("auth.login", "user", str(user.id)))
    return LoginOutcome(tokens=pair)


async def refresh_session(
    raw_token: str,
    *,
    users: UserRepository,
    tokens: AccessTokens,
    refresh: RefreshTokenStore,
    audit: AuditLog,
    clock: Clock,
    refresh_lifetime: timedelta,
) -> LoginOutcome:
    """Swap a refresh token for a new pair (rotation).

    Rules: each refresh token works once; presenting a used one again means it was stolen
    or replayed, so the whole family (the login session) is revoked; expired or revoked
    tokens are refused; the user's current roles and units go into the new access token.
    """
    now = clock.now()
    stored = await refresh.get_by_hash(hash_refresh_token(raw_token))
    invalid = AuthenticationFailed(
        Message(N_("The session has expired; sign in again.")), code="invalid_refresh_token"
    )
    if stored is None or stored.revoked_at is not None or stored.expires_at <= now:
        return LoginOutcome(error=invalid)
    if stored.used_at is not None or not await refresh.mark_used(stored.id, now):
        await refresh.revoke_family(stored.family_id, now)
        await audit.record(
            AuditRecord("auth.refresh_reuse", "user", str(stored.user_id), outcome=Outcome.DENIED)
        )
        return LoginOutcome(error=invalid)
    user = await users.get(stored.user_id)
    if user is None or not user.active:
        await refresh.revoke_family(stored.family_id, now)
        return LoginOutcome(error=invalid)
    pair = await _issue(
        user,
        stored.family_id,
        tokens=tokens,
        refresh=refresh,
        now=now,
        refresh_lifetime=refresh_lifetime,
    )
    return LoginOutcome(tokens=pair)


async def logout(
    raw_token: str, *, refresh: RefreshTokenStore, audit: AuditLog, clock: Clock
) -> None:
    """Revoke the session (the refresh-token family); unknown tokens are ignored."""
    stored = await refresh.get_by_hash(hash_refresh_token(raw_token))
    if stored is not None:
        await refresh.revoke_family(stored.family_id, clock.now())
        await audit.record(AuditRecord("auth.logout", "user", str(stored.user_id)))


def _check_roles(roles: frozenset[str], principal: Principal | None) -> list[FieldError]:
    errors: list[FieldError] = []
    if not roles:
        errors.append(FieldError("roles", Message(N_("Give at least one role.")), "required"))
    for role in sorted(roles - {r.value for r in Role}):
        errors.append(
            FieldError("roles", Message(N_("Unknown role: {role}."), {"role": role}), "unknown")
        )
    if principal is not None:
        allowed = assignable_by(principal.roles)
        for role in sorted(roles & {r.value for r in Role} - allowed):
            errors.append(
                FieldError(
                    "roles",
                    Message(N_("Your role cannot give the role {role}."), {"role": role}),
                    "not_assignable",
                )
            )
    return errors


async def _check_units(
    unit_ids: tuple[UUID, ...], principal: Principal | None, units: OrgUnitRepository
) -> list[FieldError]:
    errors: list[FieldError] = []
    if not unit_ids:
        errors.append(
            FieldError(
                "unit_ids",
                Message(N_("Assign the user to at least one organisation unit.")),
                "required",
            )
        )
    for index, unit_id in enumerate(unit_ids):
        unit = await units.get(unit_id)
        if unit is None:
            errors.append(
                FieldError(
                    f"unit_ids.{index}", Message(N_("Organisation unit not found.")), "not_found"
                )
            )
        elif principal is not None and not in_scope(principal, unit.path):
            errors.append(
                FieldError(
                    f"unit_ids.{index}",
                    Message(N_("This unit is outside your assignment.")),
                    "out_of_scope",
                )
            )
    return errors


async def create_user(
    new: NewUser,
    *,
    principal: Principal | None,
    users: UserRepository,
    units: OrgUnitRepository,
    hasher: PasswordHasher,
    audit: AuditLog,
) -> User:
    """Create a staff account.

    Rules: usernames are unique and lowercase; passwords pass the strength rules; roles
    exist and the creator's role may give them (a facility admin staffs the hospital but
    makes no system administrator); at least one assigned unit, each inside the creator's
    own sub-trees (a facility admin cannot create a user for another hospital).
    ``principal`` is None only for the command line run by the system operator.
    """
    if principal is not None:
        authorize(principal, Permission.USERS_WRITE)
    errors = validate_username(new.username) + validate_password(new.password, new.username)
    errors += _check_roles(new.roles, principal)
    errors += await _check_units(new.unit_ids, principal, units)
    if await users.get_by_username(new.username):
        errors.append(FieldError("username", Message(N_("This username is taken.")), "unique"))
    if errors:
        raise ValidationFailed(errors)
    user = User(
        id=uuid7(),
        username=new.username,
        full_name=new.full_name.strip(),
        password_hash=await hasher.hash(new.password),
        roles=frozenset(new.roles),
        unit_ids=tuple(new.unit_ids),
        language=new.language,
    )
    await users.add(user, phone=new.phone)
    await audit.record(
        AuditRecord("user.create", "user", str(user.id), details={"roles": sorted(user.roles)})
    )
    return replace(user, unit_paths=await users.unit_paths(user.unit_ids))


async def list_users(
    *, principal: Principal, users: UserRepository, after: str | None, limit: int
) -> list[User]:
    """Users assigned to units inside the caller's sub-trees."""
    authorize(principal, Permission.USERS_READ)
    return await users.list(scope_of(principal), after=after, limit=limit)


async def find_user_by_phone(
    phone: str, *, principal: Principal, users: UserRepository
) -> User | None:
    """Exact phone lookup; a user outside the caller's sub-trees is not returned."""
    authorize(principal, Permission.USERS_READ)
    user = await users.find_by_phone(phone)
    if user is None or not any(in_scope(principal, p) for p in user.unit_paths):
        return None
    return user


async def update_user(
    user_id: UUID,
    changes: UserChanges,
    *,
    principal: Principal,
    users: UserRepository,
    units: OrgUnitRepository,
    hasher: PasswordHasher,
    refresh: RefreshTokenStore,
    audit: AuditLog,
    clock: Clock,
) -> User:
    """Change a staff account: name, roles, units, language, active state, password reset.

    Rules: the caller manages only users assigned inside its sub-trees and gives only
    roles and units it may give (as at creation); nobody deactivates or demotes
    themselves by accident (their own roles and state are refused); deactivating a user
    or resetting the password revokes every session of that user at once.
    """
    authorize(principal, Permission.USERS_WRITE)
    user = await users.get(user_id)
    if user is None or not any(in_scope(principal, p) for p in user.unit_paths):
        raise NotFound(Message(N_("User not found.")))
    errors: list[FieldError] = []
    if user.id == principal.user_id and (changes.roles is not None or changes.active is False):
        errors.append(
            FieldError(
                "roles" if changes.roles is not None else "active",
                Message(N_("You cannot change your own roles or deactivate yourself.")),
                "self",
            )
        )
    if changes.roles is not None:
        errors += _check_roles(changes.roles, principal)
    if changes.unit_ids is not None:
        errors += await _check_units(changes.unit_ids, principal, units)
    if changes.new_password is not None:
        errors += validate_password(changes.new_password, user.username)
    if changes.full_name is not None and not changes.full_name.strip():
        errors.append(FieldError("full_name", Message(N_("The name is required.")), "required"))
    if errors:
        raise ValidationFailed(errors)
    updated = replace(
        user,
        full_name=(changes.full_name or user.full_name).strip(),
        roles=changes.roles if changes.roles is not None else user.roles,
        unit_ids=changes.unit_ids if changes.unit_ids is not None else user.unit_ids,
        active=changes.active if changes.active is not None else user.active,
        language=changes.language or user.language,
        password_hash=(
            await hasher.hash(changes.new_password) if changes.new_password else user.password_hash
        ),
        failed_attempts=0 if changes.new_password else user.failed_attempts,
        locked_until=None if changes.new_password else user.locked_until,
    )
    stored = await users.update(updated)
    if changes.active is False or changes.new_password:
        await refresh.revoke_user(user.id, clock.now())
    changed = sorted(
        k
        for k, v in (
            ("full_name", changes.full_name),
            ("roles", changes.roles),
            ("unit_ids", changes.unit_ids),
            ("active", changes.active),
            ("language", changes.language),
            ("password", changes.new_password),
        )
        if v is not None
    )
    await audit.record(
        AuditRecord(
            "user.update",
            "user",
            str(user.id),
            details={"fields": changed, "roles": sorted(stored.roles)},
        )
    )
    return stored


async def get_user(user_id: UUID, *, principal: Principal, users: UserRepository) -> User:
    authorize(principal, Permission.USERS_READ)
    user = await users.get(user_id)
    if user is None or not any(in_scope(principal, p) for p in user.unit_paths):
        raise NotFound(Message(N_("User not found.")))
    return user
