"""The one policy module: decides whether a principal may use a permission somewhere.

Organisation units form a tree (country → region → district → facility → department →
ward). A user is assigned to sub-trees, stored as materialised paths of DHIS2 uids such as
``/MR000000001/NKC00000001/``. A resource placed at unit path ``p`` is in a user's scope
when ``p`` starts with one of the user's paths. Handlers and repositories never compare
paths themselves: they ask :func:`authorize` or pass :func:`scope_of` to a query.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from afiya.domain.access.permissions import Permission, permissions_of
from afiya.domain.shared.errors import PermissionDenied
from afiya.domain.shared.i18n import N_, Message


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller, as the access token describes it."""

    user_id: UUID
    username: str
    roles: frozenset[str]
    unit_paths: tuple[str, ...]
    session_id: UUID | None = None
    permissions: frozenset[Permission] = field(default=frozenset())

    def __post_init__(self) -> None:
        if not self.permissions:
            object.__setattr__(self, "permissions", permissions_of(self.roles))

    @property
    def role_label(self) -> str:
        return ",".join(sorted(self.roles))


@dataclass(frozen=True, slots=True)
class Scope:
    """The org-unit sub-trees a query may see. ``unit_paths`` empty means nothing."""

    unit_paths: tuple[str, ...]

    def contains(self, unit_path: str) -> bool:
        return any(unit_path.startswith(prefix) for prefix in self.unit_paths)


def has_permission(principal: Principal, permission: Permission) -> bool:
    return permission in principal.permissions


def in_scope(principal: Principal, unit_path: str) -> bool:
    """True when ``unit_path`` lies in one of the principal's assigned sub-trees."""
    return Scope(principal.unit_paths).contains(unit_path)


def authorize(principal: Principal, permission: Permission, unit_path: str | None = None) -> None:
    """Raise :class:`PermissionDenied` unless the principal holds ``permission`` at ``unit_path``.

    Business rules:
    - the permission must come from one of the principal's roles;
    - a resource attached to an org unit is reachable only inside the principal's
      assigned sub-trees, whatever the role (a nurse of hospital A never reads hospital B).
    """
    if not has_permission(principal, permission):
        raise PermissionDenied(
            Message(
                N_("Your role does not allow this action ({permission})."),
                {"permission": permission.value},
            ),
            code="permission_missing",
            details={"permission": permission.value},
        )
    if unit_path is not None and not in_scope(principal, unit_path):
        raise PermissionDenied(
            Message(N_("This record belongs to a facility outside your assignment.")),
            code="out_of_scope",
            details={"permission": permission.value},
        )


def scope_of(principal: Principal) -> Scope:
    """The sub-trees the principal's list and search queries are limited to."""
    return Scope(principal.unit_paths)
