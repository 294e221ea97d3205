"""One-line timeline summaries of prescriptions and dispensings (translated by the caller)."""

from __future__ import annotations

from afiya.domain.shared.i18n import N_, Message


def prescription(status: str | None, version: int) -> Message:
    if version > 1:
        return Message(N_("Prescription amended (version {version})"), {"version": version})
    if status == "draft":
        return Message(N_("Draft prescription"))
    return Message(N_("Prescription written"))


def dispensing(status: str | None, product: str | None, overridden: bool) -> Message:
    params = {"product": product or "?"}
    if status == "refused":
        return Message(N_("Dispensing refused, contraindicated: {product}"), params)
    if status == "rejected":
        return Message(N_("Dispensing rejected by the pharmacist: {product}"), params)
    if overridden:
        return Message(N_("Dispensed despite a contraindication (override): {product}"), params)
    return Message(N_("Dispensed: {product}"), params)
