"""Clinical notes are append-only: amendments are new versions; who may amend."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from afiya.domain.clinical.errors import NoteAmendmentRefused, StaleNoteVersion
from afiya.domain.clinical.notes import (
    Amender,
    NoteKind,
    NoteSections,
    amend_note,
    current,
    history,
    write_note,
)
from afiya.domain.shared.errors import ValidationFailed
from afiya.domain.shared.ids import uuid7
from tests.unit.clinical.factories import DOCTOR, NOW, PATIENT, T0

FIRST = NoteSections(
    anamnesis="Fièvre depuis 3 jours", examination="T 39,2 °C", plan="Goutte épaisse"
)


def _note():  # type: ignore[no-untyped-def]
    return write_note(
        id=uuid7(),
        patient_id=PATIENT,
        encounter_id=uuid7(),
        kind=NoteKind.ADMISSION,
        sections=FIRST,
        author_id=DOCTOR,
        written_at=T0,
        now=NOW,
    )


def _amend(
    latest,
    amender=Amender(DOCTOR),
    *,
    reason="Résultat du TDR",
    version=None,
    at=None,
    sections=None,
):  # type: ignore[no-untyped-def]
    return amend_note(
        latest,
        id=uuid7(),
        based_on_version=latest.version if version is None else version,
        sections=sections
        or NoteSections(FIRST.anamnesis, FIRST.examination, plan=f"Plan v{latest.version + 1}"),
        amender=amender,
        reason=reason,
        written_at=at or latest.written_at + timedelta(hours=2),
        now=NOW,
    )


def test_amendment_is_a_new_version_and_the_old_one_stays_readable() -> None:
    first = _note()
    second = _amend(first)
    assert (second.version, second.previous_id, second.series_id) == (2, first.id, first.id)
    assert second.amendment_reason == "Résultat du TDR"
    chain = history([second, first])
    assert chain == [first, second]
    assert chain[0].sections.plan == "Goutte épaisse"
    assert current([first, second]) == second


def test_other_clinicians_need_the_right_to_amend_others_notes() -> None:
    first = _note()
    with pytest.raises(NoteAmendmentRefused):
        _amend(first, Amender(uuid7()))
    head = uuid7()
    second = _amend(first, Amender(head, may_amend_others=True))
    assert second.author_id == head
    # the original author may still amend after someone else did
    assert _amend(second, Amender(DOCTOR)).version == 3


def test_amending_an_old_version_is_refused() -> None:
    first = _note()
    _amend(first)
    with pytest.raises(StaleNoteVersion):
        _amend(first, version=0)


def test_amendment_needs_a_reason_a_change_and_a_later_time() -> None:
    first = _note()
    with pytest.raises(ValidationFailed) as caught:
        _amend(first, reason=" ", sections=FIRST, at=T0 - timedelta(minutes=1))
    assert {(e.field, e.code) for e in caught.value.errors} == {
        ("reason", "required"),
        ("sections", "unchanged"),
        ("written_at", "before_previous"),
    }


def test_empty_note_is_refused() -> None:
    with pytest.raises(ValidationFailed):
        write_note(
            id=uuid7(),
            patient_id=PATIENT,
            encounter_id=None,
            kind=NoteKind.PROGRESS,
            sections=NoteSections(anamnesis="  "),
            author_id=DOCTOR,
            written_at=T0,
            now=NOW,
        )


def test_broken_history_is_detected() -> None:
    first = _note()
    second = _amend(first)
    third = _amend(second)
    with pytest.raises(ValueError, match="version 2 missing"):
        history([first, third])
    forked = replace(third, previous_id=first.id)  # a third version that skips the second
    with pytest.raises(ValueError, match="does not follow"):
        history([first, second, forked])
