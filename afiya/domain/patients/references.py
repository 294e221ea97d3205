"""One registry of every column that points at a patient.

Modules register ``(table, column)`` once, at import (``register_reference("visit",
"patient_id", module="visits")``). A merge re-points every registered column from the
duplicate to the survivor and records which rows moved; an unmerge moves exactly those
rows back. A module added later is followed by merges without touching this module.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PatientReference:
    table: str
    column: str
    module: str

    @property
    def key(self) -> str:
        return f"{self.table}.{self.column}"


_REGISTRY: dict[str, PatientReference] = {}


def register_reference(table: str, column: str, *, module: str) -> PatientReference:
    """Declare that ``table.column`` holds a patient id (idempotent)."""
    reference = PatientReference(table, column, module)
    existing = _REGISTRY.get(reference.key)
    if existing is not None and existing != reference:
        raise ValueError(f"{reference.key} is already registered by {existing.module}")
    _REGISTRY[reference.key] = reference
    return reference


def unregister_reference(table: str, column: str) -> None:
    """Remove a reference (tests; a module that is switched off)."""
    _REGISTRY.pop(f"{table}.{column}", None)


def registered_references() -> tuple[PatientReference, ...]:
    """Every registered reference, in a stable order."""
    return tuple(_REGISTRY[key] for key in sorted(_REGISTRY))


# The patient module's own sub-records follow the survivor like any other module's rows.
for _table in ("patient_phone", "patient_identifier", "patient_contact", "patient_payer"):
    register_reference(_table, "patient_id", module="patients")
