"""Tampering with the audit trail is detected by `afiya audit verify`."""

from __future__ import annotations

import os
import subprocess
import sys

from sqlalchemy import delete, select, text, update

from afiya.adapters.db.models import AuditEventRow
from afiya.adapters.db.repositories.audit import verify_stored_chain
from afiya.domain.audit.model import AuditRecord


def _verify_cli(settings) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "AFIYA_DATABASE_URL": settings.database_url,
        "AFIYA_VAR_DIR": str(settings.var_dir),
    }
    return subprocess.run(
        [sys.executable, "-m", "afiya.cli", "audit", "verify"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def _write_events(container, count=5):
    from afiya.adapters.seed.demo import SYSTEM_CONTEXT

    async with container.uow(SYSTEM_CONTEXT) as uow:
        for index in range(count):
            await uow.audit.record(AuditRecord("test.event", "thing", str(index)))
        await uow.commit()


async def test_an_untouched_chain_verifies(container, settings):
    await _write_events(container)
    result = _verify_cli(settings)
    assert result.returncode == 0, result.stderr
    assert "audit chain intact" in result.stdout


async def test_editing_one_row_by_sql_names_that_event(container, settings):
    await _write_events(container)
    async with container.sessions() as session:
        victim = (
            await session.execute(
                select(AuditEventRow).where(
                    AuditEventRow.action == "test.event", AuditEventRow.resource_id == "2"
                )
            )
        ).scalar_one()
        await session.execute(
            update(AuditEventRow)
            .where(AuditEventRow.seq == victim.seq)
            .values(username="someone-else")
        )
        await session.commit()
    result = _verify_cli(settings)
    assert result.returncode == 1
    assert f"seq={victim.seq}" in result.stderr
    assert str(victim.id) in result.stderr


async def test_deleting_a_row_or_the_newest_rows_is_detected(container):
    await _write_events(container)
    async with container.sessions() as session:
        last = (await session.execute(text("SELECT max(seq) FROM audit_event"))).scalar_one()
        await session.execute(delete(AuditEventRow).where(AuditEventRow.seq == last - 2))
        await session.commit()
        _, broken = await verify_stored_chain(session)
    assert broken is not None and broken.seq == last - 1
    assert "gap" in broken.reason

    async with container.sessions() as session:
        await session.execute(delete(AuditEventRow).where(AuditEventRow.seq >= last - 2))
        await session.commit()
        _, truncated = await verify_stored_chain(session)
    assert truncated is not None and "missing" in truncated.reason
