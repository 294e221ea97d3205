"""PBF intelligence jobs against the real adapters (database, blob store, child processes):
idempotency by data hash, re-delivery of a finished job, a damaged model refused."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import func, select

from afiya.adapters.db.models.pbf_intelligence import PbfIntelligenceRunRow, PbfModelRow
from afiya.adapters.queue.runner import JobContext
from afiya.adapters.seed.demo import SYSTEM_CONTEXT
from afiya.jobs import pbf_intelligence as jobs
from tests.api.pbf_intelligence.seeding import CODE, LAST, seed_programme

BASE = "/api/v1/pbf/intelligence"
PROGRAMME = f"{BASE}/programmes/{CODE}"


async def _count(container: Any, model: Any) -> int:
    async with container.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(model))).scalar_one())


async def _run_job(container: Any, handler: Any, run_id: str) -> None:
    """Run ``handler`` as the runner would, in a unit of work of its own."""
    async with container.uow(SYSTEM_CONTEXT) as uow:
        await handler(JobContext(uow, UUID(int=1), 1, container), run_id=run_id)
        await uow.commit()


async def _train(client: Any, container: Any, manager: dict[str, str]) -> Any:
    requested = await client.post(
        f"{PROGRAMME}/training",
        headers=manager,
        json={"first_period": "202301", "last_period": "202311"},
    )
    await container.queue.join()
    return (await client.get(f"{BASE}/runs/{requested.json()['id']}", headers=manager)).json()


class TestIdempotency:
    async def test_training_the_same_data_again_registers_no_new_model(
        self, client: Any, container: Any, auth: Any
    ) -> None:
        manager = await auth("demo.pbf_manager")
        await seed_programme(container, client, manager)
        first = await _train(client, container, manager)
        assert first["status"] == "done"
        assert await _count(container, PbfModelRow) == 2

        # the same request on unchanged data is the same run
        again = await client.post(
            f"{PROGRAMME}/training",
            headers=manager,
            json={"first_period": "202301", "last_period": "202311"},
        )
        assert again.json()["id"] == first["id"]

        # a new run over the same data (another key) finds the models by their data hash
        async with container.uow(SYSTEM_CONTEXT) as uow:
            original = await uow.pbf_intelligence.run(UUID(first["id"]))
            assert original is not None
            copy = await uow.pbf_intelligence.add_run(
                PbfIntelligenceRunRow(
                    programme_id=original.programme_id,
                    kind="train",
                    key="another-request",
                    status="pending",
                    first_period="202301",
                    last_period="202311",
                    scope_paths=list(original.scope_paths),
                    parameters=dict(original.parameters),
                    summary={},
                )
            )
            copy_id = str(copy.id)
            await uow.commit()
        await _run_job(container, jobs.train, copy_id)
        assert await _count(container, PbfModelRow) == 2
        async with container.uow(SYSTEM_CONTEXT) as uow:
            rerun = await uow.pbf_intelligence.run(UUID(copy_id))
            assert rerun is not None
            assert rerun.status == "done"
            assert sorted(rerun.summary["models"]) == sorted(first["summary"]["models"])
            assert rerun.summary["data_hash"] == first["summary"]["data_hash"]

        # a second delivery of a finished run changes nothing
        await _run_job(container, jobs.train, first["id"])
        assert await _count(container, PbfModelRow) == 2

    async def test_scoring_refuses_a_damaged_model_file(
        self, client: Any, container: Any, auth: Any
    ) -> None:
        manager = await auth("demo.pbf_manager")
        await seed_programme(container, client, manager)
        await _train(client, container, manager)
        models = (await client.get(f"{PROGRAMME}/models", headers=manager)).json()
        anomaly = next(m for m in models if m["kind"] == "pbf_anomaly_expected_value")
        await client.post(f"{BASE}/models/{anomaly['id']}/approve", headers=manager)
        stored = (await client.get(f"{BASE}/models/{anomaly['id']}", headers=manager)).json()
        blob = await container.blobs.get(stored["blob_key"])
        await container.blobs.put(stored["blob_key"], blob[:-10] + b"0123456789", "x")

        requested = await client.post(f"{PROGRAMME}/periods/{LAST}/scoring", headers=manager)
        await container.queue.join()
        english = {**manager, "Accept-Language": "en"}
        run = (await client.get(f"{BASE}/runs/{requested.json()['id']}", headers=english)).json()
        assert run["status"] == "failed"
        assert run["message"] == "The stored model is damaged or in an unknown format."
