"""Use cases of the formulary and the local safety rules (``formulary:write``): what a
hospital's pharmacists add to the national formulary and to the knowledge base."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from afiya.domain.access.permissions import Permission
from afiya.domain.access.policy import Principal, authorize
from afiya.domain.audit.model import AuditRecord
from afiya.domain.audit.ports import AuditLog
from afiya.domain.prescribing.ports import (
    FormularyEntry,
    KnowledgeBuilder,
    LocalRule,
    PrescribingRepository,
)
from afiya.domain.prescribing.safety.knowledge_base import KnowledgeBase
from afiya.domain.shared.clock import Clock
from afiya.domain.shared.errors import Conflict, FieldError, ValidationFailed
from afiya.domain.shared.i18n import N_, Message
from afiya.domain.shared.ids import uuid7


async def add_formulary_product(
    entry: FormularyEntry,
    *,
    principal: Principal,
    prescribing: PrescribingRepository,
    audit: AuditLog,
) -> FormularyEntry:
    """A pharmacist adds a product (``formulary:write``); its code must be new."""
    authorize(principal, Permission.FORMULARY_WRITE)
    if await prescribing.product_exists(entry.product.code):
        raise Conflict(
            Message(N_("A product with the code {code} exists."), {"code": entry.product.code}),
            code="product_exists",
        )
    stored = replace(entry, source="local", active=True)
    await prescribing.add_product(stored)
    await audit.record(
        AuditRecord("prescribing.formulary.create", "formulary_product", entry.product.code, None)
    )
    return stored


async def add_local_rule(
    *,
    rule_type: str,
    document: Mapping[str, Any],
    principal: Principal,
    prescribing: PrescribingRepository,
    knowledge: KnowledgeBuilder,
    audit: AuditLog,
    clock: Clock,
) -> tuple[LocalRule, KnowledgeBase]:
    """A pharmacist adds a local rule, or a new version of one (``formulary:write``).

    Business rules: the rule is written in the knowledge base's format with its test
    cases; it is accepted only when the knowledge base merged with it validates and
    its firing and silent test cases pass (the loader's rules for local rules). Its
    version is the next one for its id; the previous version is kept, no longer in
    force. Audited with the rule id and version.
    """
    authorize(principal, Permission.FORMULARY_WRITE)
    rule = document.get("rules", [{}])[0] if isinstance(document.get("rules"), list) else {}
    rule_id = rule.get("id") if isinstance(rule, Mapping) else None
    if not isinstance(rule_id, str) or not rule_id.strip():
        raise ValidationFailed(
            [FieldError("rule.id", Message(N_("The rule needs an id.")), "required")]
        )
    current = await prescribing.local_rules()
    previous = next((r for r in current if r.rule_id == rule_id), None)
    version = (previous.version + 1) if previous else 1
    body = dict(document)
    body["rules"] = [{**rule, "version": version}]
    candidate = LocalRule(
        id=uuid7(),
        rule_id=rule_id,
        version=version,
        rule_type=rule_type,
        document=body,
        author_id=principal.user_id,
        at=clock.now(),
    )
    kb = knowledge.build([*(r for r in current if r.rule_id != rule_id), candidate])
    await prescribing.add_local_rule(candidate)
    await audit.record(
        AuditRecord(
            "prescribing.local_rule.create",
            "local_rule",
            str(candidate.id),
            None,
            details={"rule_id": rule_id, "version": version},
        )
    )
    return candidate, kb
