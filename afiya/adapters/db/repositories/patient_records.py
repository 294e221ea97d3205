"""One query for all the sub-records (phones, contacts, identifiers, payers) of patients."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import (
    Boolean,
    Date,
    Integer,
    Numeric,
    String,
    cast,
    literal,
    null,
    select,
    union_all,
)

from afiya.adapters.db.models.patients import (
    PatientContactRow,
    PatientIdentifierRow,
    PatientPayerRow,
    PatientPhoneRow,
)


def children_union(ids: Sequence[UUID]) -> Any:
    """Live phones, contacts, identifiers and payers of ``ids`` as one result, in display
    order, on a common row shape (``kind``, ``id``, ``patient_id``, ``rank``, texts...)."""
    none_text, none_flag = cast(null(), String), cast(null(), Boolean)
    none_num, none_date = cast(null(), Numeric(5, 2)), cast(null(), Date)
    zero = cast(literal(0), Integer)

    def part(model: Any, kind: str, rank: Any, enc: Any, *rest: Any) -> Any:
        return select(
            cast(literal(kind), String).label("kind"),
            model.id.label("id"),
            model.patient_id.label("patient_id"),
            rank.label("rank"),
            enc.label("enc"),
            *rest,
        ).where(model.patient_id.in_(ids), model.deleted_at.is_(None))

    ph, co, ide, pa = PatientPhoneRow, PatientContactRow, PatientIdentifierRow, PatientPayerRow
    return union_all(
        part(
            ph,
            "ph",
            ph.rank,
            ph.number_enc,
            ph.label.label("t1"),
            none_text.label("t2"),
            ph.shared.label("flag"),
            none_num.label("num"),
            none_date.label("d1"),
            none_date.label("d2"),
        ),
        part(
            co,
            "co",
            co.rank,
            co.phone_enc,
            co.name,
            co.relationship,
            none_flag,
            none_num,
            none_date,
            none_date,
        ),
        part(
            ide,
            "id",
            zero,
            ide.value_enc,
            ide.type,
            ide.issuer,
            none_flag,
            none_num,
            none_date,
            none_date,
        ),
        part(
            pa,
            "pa",
            zero,
            pa.policy_number_enc,
            pa.kind,
            pa.name,
            none_flag,
            pa.coverage_rate,
            pa.valid_from,
            pa.valid_to,
        ),
    ).order_by("kind", "patient_id", "rank", "id")
