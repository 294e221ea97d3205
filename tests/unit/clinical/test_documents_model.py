"""Document content: what the discharge letter and hospitalisation report say."""

from __future__ import annotations

import pytest

from afiya.domain.clinical.diagnoses import DiagnosisRank
from afiya.domain.clinical.documents import (
    DocumentKind,
    build_discharge_letter,
    build_hospitalisation_report,
)
from afiya.domain.clinical.errors import DocumentNotReady, EncounterStateError
from afiya.domain.shared.i18n import Message
from tests.unit.clinical.factories import (
    CATALOGUE,
    admission,
    diagnoses_for,
    died_after_transfer,
    discharged_home,
    document_input,
    outpatient,
)


def _lines(document) -> dict[str, str]:  # type: ignore[no-untyped-def]
    out: dict[str, str] = {}
    for section in document.sections:
        for line in section.lines:
            if line.label is not None:
                value = line.value.render() if isinstance(line.value, Message) else line.value
                out[line.label.render()] = value
    return out


def test_report_of_a_death_after_transfer() -> None:
    stay = died_after_transfer()
    document = build_hospitalisation_report(
        document_input(stay, diagnoses_for(stay)), CATALOGUE, "fr"
    )
    lines = _lines(document)
    assert document.kind is DocumentKind.HOSPITALISATION_REPORT
    assert lines["Name in Arabic"] == "فاطمة بنت أحمد"
    assert lines["Medical record number"] == "NKC-2026-000123"
    assert lines["Department"] == "Médecine interne, Salle A, 12"
    assert lines["Transferred on 04/03/2026 12:30 to"] == "Réanimation, R2"
    assert lines["Discharge mode"] == "Death"
    assert lines["Date and time of death"] == "06/03/2026 15:10"
    assert lines["Underlying cause of death"] == "A41.9 — Sepsis, unspecified"
    assert lines["Length of stay"] == "4 days"
    assert [(d.code, d.primary) for d in document.diagnoses] == [("E11.9", True), ("I10", False)]
    assert lines["Primary diagnosis"] == "E11.9 — Type 2 diabetes mellitus without complications"
    # the fake catalogue has English titles only: the document says so
    [note] = document.notes
    assert note.msgid.startswith("ICD-10 titles are given in English")
    assert document.signature.params["at"] == "20/03/2026 12:00"


def test_arabic_letter_puts_the_arabic_name_first() -> None:
    stay = discharged_home()
    letter = build_discharge_letter(document_input(stay, diagnoses_for(stay)), CATALOGUE, "ar")
    patient = next(s for s in letter.sections if s.heading.msgid == "Patient")
    assert [line.label.msgid for line in patient.lines[:2] if line.label] == [
        "Name in Arabic",
        "Name",
    ]
    assert letter.rtl and letter.sections[0].heading.msgid == "Addressed to"
    headings = [s.heading.msgid for s in letter.sections]
    assert "Treatment at discharge" in headings and "Follow-up" in headings


def test_documents_need_a_closed_encounter_with_one_primary_diagnosis() -> None:
    open_stay = admission()
    with pytest.raises(DocumentNotReady):
        build_discharge_letter(document_input(open_stay, diagnoses_for(open_stay)), CATALOGUE, "fr")
    stay = discharged_home()
    secondary_only = [d for d in diagnoses_for(stay) if d.rank is DiagnosisRank.SECONDARY]
    with pytest.raises(EncounterStateError):
        build_discharge_letter(document_input(stay, secondary_only), CATALOGUE, "fr")


def test_hospitalisation_report_is_for_admissions_only() -> None:
    from afiya.domain.clinical.encounters import DischargeMode, discharge
    from tests.unit.clinical.factories import NOW, T0

    visit = discharge(
        outpatient(), at=T0.replace(hour=11), mode=DischargeMode.HOME, now=NOW, catalogue=CATALOGUE
    )
    with pytest.raises(DocumentNotReady):
        build_hospitalisation_report(document_input(visit, diagnoses_for(visit)), CATALOGUE, "fr")
    assert build_discharge_letter(
        document_input(visit, diagnoses_for(visit)), CATALOGUE, "fr"
    ).diagnoses
