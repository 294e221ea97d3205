"""Every resource type Afiya serves over FHIR: importing this module registers them all.

The routes, the CapabilityStatement, Bundle entries and the subscription matcher import
the registry from here, so they all see the same, complete set.
"""

from __future__ import annotations

from afiya.adapters.fhir.engine import (
    agenda,
    clinical,
    directory,
    documents,
    patient,
    prescribing,
    subscriptions,
)
from afiya.adapters.fhir.engine.registry import REGISTRY

MODULES = (patient, directory, agenda, subscriptions, prescribing, clinical, documents)

__all__ = ["MODULES", "REGISTRY"]
