"""Clinical jobs: deliver a critical result to the responsible clinician."""

from __future__ import annotations

import logging
from typing import Any

from afiya.adapters.queue.runner import Handler, JobContext
from afiya.domain.clinical.use_cases import CRITICAL_RESULT_JOB, deliver_critical_result

log = logging.getLogger("afiya.jobs")


async def notify_critical_result(ctx: JobContext, **event: Any) -> None:
    """Record the staff notification of a critical lab value or urgent imaging finding.

    Scheduled through the outbox in the transaction that stored the result, with the
    event's dedup key as idempotency key; the notification itself is unique on that key,
    so a second delivery (a retry, a sweep after a restart) adds nothing. The staff
    notification row is syncable: the change log carries it to the real-time stream.
    Effects commit with the job.
    """
    stored = await deliver_critical_result(event, clinical=ctx.uow.clinical)
    log.info(
        "critical result notification",
        extra={"result_id": event.get("result_id"), "stored": stored},
    )


HANDLERS: dict[str, Handler] = {CRITICAL_RESULT_JOB: notify_critical_result}
