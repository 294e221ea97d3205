"""Patient jobs: the registry scan that lists probable duplicate pairs for review."""

from __future__ import annotations

import logging

from afiya.adapters.queue.runner import Handler, JobContext
from afiya.domain.patients.merge import SCAN_JOB, scan_duplicates

log = logging.getLogger("afiya.jobs")


async def scan_registry_for_duplicates(ctx: JobContext, batch: int = 500) -> None:
    """Score every patient against its blocking-key candidates; store probable pairs.

    Idempotent: pairs are upserted on (patient_a, patient_b), reviewed pairs keep their
    status, so a second delivery only refreshes scores. Effects commit with the job.
    """
    report = await scan_duplicates(
        patients=ctx.uow.patients, pairs=ctx.uow.patients.pairs, batch=batch
    )
    log.info(
        "patient duplicate scan",
        extra={"scanned": report.scanned, "pairs": report.pairs_found},
    )


HANDLERS: dict[str, Handler] = {SCAN_JOB: scan_registry_for_duplicates}
