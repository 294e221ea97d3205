"""The safety check: one pure function over an order, a patient and a knowledge base."""

from __future__ import annotations

from afiya.domain.prescribing.model import MedicationOrderDraft, PatientContext
from afiya.domain.prescribing.safety.alerts import Alert, AlertKind
from afiya.domain.prescribing.safety.checks import (
    check_allergies,
    check_contraindications,
    check_duplicates,
    check_interactions,
)
from afiya.domain.prescribing.safety.dosing import check_dose
from afiya.domain.prescribing.safety.knowledge_base import KnowledgeBase
from afiya.domain.prescribing.safety.patient_view import PatientView

_KIND_ORDER = {kind: n for n, kind in enumerate(AlertKind)}


def check(order: MedicationOrderDraft, context: PatientContext, kb: KnowledgeBase) -> list[Alert]:
    """Check one medication order against the patient and the knowledge base.

    Runs at prescription time and again at dispensing, offline. Business rules:

    - allergies: a recorded allergy to an ingredient or to its ATC class, and
      cross-reactivity between classes; refuted allergies raise nothing, and an
      unconfirmed one still does (see ``checks.allergy_severity``);
    - contraindications and cautions by condition, age, pregnancy or breastfeeding,
      renal function (measured or estimated eGFR) and recent laboratory results;
    - interactions with every active medication, symmetric in the order of entry;
    - duplicate therapy: the same ingredient, the same ATC level-4 group, or a
      configured class such as NSAIDs;
    - dose ranges for the patient's age, weight and the route.

    The same inputs always give the same alerts in the same order: severity first
    (contraindicated, warning, info), then kind and rule id. An order with a
    ``contraindicated`` alert must not be dispensed unless someone accountable
    overrides it; recording that is the caller's job.

    Args:
        order: the order being written or dispensed.
        context: what is known of the patient at ``context.as_of``.
        kb: the knowledge base, whose release identifies the rules applied.

    Returns:
        The alerts, most severe first; empty when nothing was found.
    """
    profile = kb.profile(order.product)
    view = PatientView(context, kb)
    alerts = [
        *check_allergies(order, profile, view),
        *check_contraindications(order, profile, view),
        *check_interactions(order, profile, view),
        *check_duplicates(order, profile, view),
        *check_dose(order, profile, view),
    ]
    alerts.sort(
        key=lambda a: (
            -a.severity.rank,
            _KIND_ORDER[a.kind],
            a.rule_id,
            tuple(e.code for e in a.evidence),
        )
    )
    return alerts
