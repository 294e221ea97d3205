"""PBF jobs: computing a period's invoices in the background (national runs)."""

from __future__ import annotations

import logging
from uuid import UUID

from afiya.adapters.compute import NumpyEquationEvaluator
from afiya.adapters.queue.runner import Handler, JobContext
from afiya.domain.access.policy import Principal
from afiya.domain.pbf.computing import compute_period

log = logging.getLogger("afiya.jobs")


async def compute(
    ctx: JobContext,
    programme: str,
    period: str,
    user_id: str,
    roles: list[str],
    unit_paths: list[str],
) -> None:
    """Compute and store a period's invoices with the requester's rights and scope.

    Idempotent: a second run replaces the first computation by an identical one (same data,
    same rules, same invoices), and the run commits with the job's ``done`` mark.
    """
    principal = Principal(UUID(user_id), "system:jobs", frozenset(roles), tuple(unit_paths))
    result = await compute_period(
        programme,
        period,
        principal=principal,
        store=ctx.uow.pbf,
        audit=ctx.uow.audit,
        evaluator=NumpyEquationEvaluator(),
    )
    log.info(
        "pbf computation stored",
        extra={"period": period, "invoices": len(result.invoices)},
    )


HANDLERS: dict[str, Handler] = {"pbf.compute": compute}
