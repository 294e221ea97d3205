"""Pure rules for organisation units: DHIS2 uids, paths, hierarchy, settings per facility."""

from __future__ import annotations

import re
import secrets
import zoneinfo

from afiya.domain.orgunits.model import CURRENCIES, LEVEL_OF_KIND, NewOrgUnit, OrgUnit, UnitKind
from afiya.domain.shared.errors import FieldError
from afiya.domain.shared.i18n import N_, Message

_UID_ALPHABET_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_UID_ALPHABET = _UID_ALPHABET_LETTERS + "0123456789"
_UID_RE = re.compile(r"^[A-Za-z][A-Za-z0-9]{10}$")
_CODE_RE = re.compile(r"^[A-Za-z0-9_.\-]{1,50}$")


def generate_uid() -> str:
    """A DHIS2 uid: a letter followed by ten letters or digits (CodeGenerator rules)."""
    first = secrets.choice(_UID_ALPHABET_LETTERS)
    return first + "".join(secrets.choice(_UID_ALPHABET) for _ in range(10))


def is_valid_uid(uid: str) -> bool:
    return bool(_UID_RE.match(uid))


def child_path(parent: OrgUnit | None, uid: str) -> str:
    return (parent.path if parent else "/") + uid + "/"


def validate_new_unit(unit: NewOrgUnit, parent: OrgUnit | None) -> list[FieldError]:
    """Every problem with a new unit, not only the first."""
    errors: list[FieldError] = []
    if not unit.name.strip():
        errors.append(FieldError("name", Message(N_("The name is required.")), "required"))
    if unit.uid is not None and not is_valid_uid(unit.uid):
        errors.append(
            FieldError(
                "uid",
                Message(
                    N_("A uid is one letter followed by ten letters or digits (DHIS2 format).")
                ),
                "format",
            )
        )
    if unit.code is not None and not _CODE_RE.match(unit.code):
        errors.append(
            FieldError(
                "code",
                Message(N_("A code holds 1 to 50 letters, digits, dots, dashes or underscores.")),
                "format",
            )
        )
    errors.extend(_validate_settings(unit.timezone, unit.currency))
    if unit.kind is UnitKind.COUNTRY:
        if parent is not None:
            errors.append(
                FieldError(
                    "parent_id", Message(N_("A country cannot have a parent unit.")), "hierarchy"
                )
            )
    elif parent is None:
        errors.append(
            FieldError(
                "parent_id", Message(N_("This kind of unit needs a parent unit.")), "required"
            )
        )
    elif LEVEL_OF_KIND[unit.kind] != parent.level + 1:
        errors.append(
            FieldError(
                "kind",
                Message(
                    N_("A {kind} cannot be placed directly under a {parent_kind}."),
                    {"kind": unit.kind.value, "parent_kind": parent.kind.value},
                ),
                "hierarchy",
            )
        )
    if (
        unit.kind is UnitKind.FACILITY
        and unit.currency is None
        and (parent is None or parent.currency is None)
    ):
        errors.append(
            FieldError(
                "currency", Message(N_("A facility needs a currency (MRU or XOF).")), "required"
            )
        )
    return errors


def _validate_settings(timezone: str | None, currency: str | None) -> list[FieldError]:
    errors: list[FieldError] = []
    if timezone is not None:
        try:
            zoneinfo.ZoneInfo(timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            errors.append(
                FieldError(
                    "timezone",
                    Message(N_("Unknown time zone: {value}."), {"value": timezone}),
                    "format",
                )
            )
    if currency is not None and currency not in CURRENCIES:
        errors.append(
            FieldError(
                "currency",
                Message(N_("Unsupported currency: {value}. Use MRU or XOF."), {"value": currency}),
                "format",
            )
        )
    return errors


def validate_settings(timezone: str | None, currency: str | None) -> list[FieldError]:
    return _validate_settings(timezone, currency)


def kind_for_dhis2_level(level: int, mapping: dict[int, UnitKind] | None = None) -> UnitKind:
    """Map a DHIS2 hierarchy level to a unit kind (default: 1 country … 6 ward)."""
    table = mapping or {lvl: kind for kind, lvl in LEVEL_OF_KIND.items()}
    if level not in table:
        raise ValueError(f"no unit kind for DHIS2 level {level}")
    return table[level]
