"""The one-line summaries of timeline items, from the few values each source keeps.

A timeline item is light: its type, time, link and this summary, in the reader's language
(the message is translated by the outer ring; parameters that are messages too, such as
an encounter kind or a measurement name, are translated with it).
"""

from __future__ import annotations

from afiya.domain.clinical.documents import KIND_NAMES, MODE_NAMES
from afiya.domain.clinical.encounters import DischargeMode, EncounterKind
from afiya.domain.clinical.observations import definition
from afiya.domain.shared.i18n import N_, Message

DOCUMENT_NAMES = {
    "discharge_letter": N_("Discharge letter"),
    "hospitalisation_report": N_("Hospitalisation report"),
}


def number(text: str | None) -> str:
    """A stored number as a person writes it (``38.5000`` → ``38.5``, ``120.0`` → ``120``)."""
    if text is None:
        return ""
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def encounter_step(step: str, detail: str | None) -> Message:
    """``start`` (detail: the encounter kind), ``transfer``, ``discharge`` (detail: the
    mode) or ``cancel``."""
    if step == "start" and detail in {k.value for k in EncounterKind}:
        return Message(N_("Start: {kind}"), {"kind": Message(KIND_NAMES[EncounterKind(detail)])})
    if step == "transfer":
        return Message(N_("Transfer to another department, ward or bed"))
    if step == "discharge" and detail in {m.value for m in DischargeMode}:
        return Message(
            N_("Discharge: {mode}"), {"mode": Message(MODE_NAMES[DischargeMode(detail)])}
        )
    return Message(N_("Encounter cancelled"))


def observation(code: str, value: str | None, unit: str | None) -> Message:
    spec = definition(code)
    name: Message | str = Message(spec.name) if spec else code
    return Message(
        N_("Measurement: {name} {value} {unit}"),
        {"name": name, "value": number(value), "unit": unit or ""},
    )


def diagnosis(code: str, rank: str | None, certainty: str | None) -> Message:
    if certainty == "entered_in_error":
        return Message(N_("Diagnosis entered in error: {code}"), {"code": code})
    if rank == "primary":
        return Message(N_("Primary diagnosis: {code}"), {"code": code})
    return Message(N_("Secondary diagnosis: {code}"), {"code": code})


def problem(code: str) -> Message:
    return Message(N_("Added to the problem list: {code}"), {"code": code})


def allergy(substance: str) -> Message:
    return Message(N_("Allergy or intolerance: {substance}"), {"substance": substance})


def no_known_allergies() -> Message:
    return Message(N_("No known allergies"))


def note(version: int) -> Message:
    if version <= 1:
        return Message(N_("Clinical note"))
    return Message(N_("Clinical note, amended (version {version})"), {"version": version})


def lab_result(name: str, value: str | None, unit: str | None, flag: str | None) -> Message:
    params = {"name": name, "value": number(value), "unit": unit or ""}
    if flag in ("LL", "HH"):
        return Message(N_("Critical lab result: {name} {value} {unit}"), params)
    if value is None:
        return Message(N_("Lab result: {name}"), {"name": name})
    return Message(N_("Lab result: {name} {value} {unit}"), params)


def imaging(modality: str, site: str, urgent: bool) -> Message:
    msgid = (
        N_("Imaging report with an urgent finding: {modality}, {site}")
        if urgent
        else N_("Imaging report: {modality}, {site}")
    )
    return Message(msgid, {"modality": modality, "site": site})


def document(kind: str, language: str) -> Message:
    name: Message | str = Message(DOCUMENT_NAMES[kind]) if kind in DOCUMENT_NAMES else kind
    return Message(N_("Document: {kind} ({language})"), {"kind": name, "language": language})
