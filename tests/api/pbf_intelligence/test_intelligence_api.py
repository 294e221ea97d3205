"""PBF intelligence end to end, on SQLite and PostgreSQL: train → registry and blob store →
approve → score → flagged values with reasons → sampling plan within budget."""

from __future__ import annotations

import hashlib
from fractions import Fraction
from typing import Any

import numpy as np
from sqlalchemy import func, select

from afiya.adapters.db.models.platform import JobRow
from tests.api.pbf.helpers import facility_user
from tests.api.pbf_intelligence.seeding import CODE, LAST, Seeded, seed_programme

BASE = "/api/v1/pbf/intelligence"
PROGRAMME = f"{BASE}/programmes/{CODE}"
FR = {"Accept-Language": "fr"}


async def _done(client: Any, container: Any, headers: dict[str, str], run: dict[str, Any]) -> Any:
    """Wait for the run's job, then read the run back."""
    await container.queue.join()
    response = await client.get(f"{BASE}/runs/{run['id']}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def _job_count(container: Any) -> int:
    async with container.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(JobRow))).scalar_one())


async def _trained(client: Any, container: Any, manager: dict[str, str]) -> Any:
    requested = await client.post(
        f"{PROGRAMME}/training",
        headers=manager,
        json={"first_period": "202301", "last_period": "202311"},
    )
    assert requested.status_code == 202, requested.text
    assert requested.json()["status"] == "pending"
    run = await _done(client, container, manager, requested.json())
    assert run["status"] == "done", run
    return run


class TestModelLifecycle:
    async def test_training_scoring_and_plan_end_to_end(
        self, client: Any, container: Any, auth: Any
    ) -> None:
        manager = {**await auth("demo.pbf_manager"), **FR}
        seeded = await seed_programme(container, client, manager)
        run = await _trained(client, container, manager)
        assert run["summary"]["facilities"] == 30
        assert len(run["summary"]["models"]) == 2

        # the registry: two trained models, bytes in the blob store, checksummed
        listed = (await client.get(f"{PROGRAMME}/models", headers=manager)).json()
        assert sorted(m["kind"] for m in listed) == [
            "pbf_anomaly_expected_value",
            "pbf_audit_target",
        ]
        assert {m["state"] for m in listed} == {"trained"}
        models = {}
        for item in listed:
            model = (await client.get(f"{BASE}/models/{item['id']}", headers=manager)).json()
            blob = await container.blobs.get(model["blob_key"])
            assert blob.startswith(b"AFIYA-ML")
            assert hashlib.sha256(blob).hexdigest() == model["blob_sha256"]
            assert model["size"] == len(blob)
            assert (model["training_first_period"], model["training_last_period"]) == (
                "202301",
                "202311",
            )
            assert model["features"] and model["metrics"]
            assert len(model["data_hash"]) == 64
            models[model["kind"]] = model

        # scoring needs an approved model
        refused = await client.post(f"{PROGRAMME}/periods/{LAST}/scoring", headers=manager)
        assert refused.status_code == 409, refused.text
        assert refused.json()["code"] == "no_approved_model"
        for model in models.values():
            approved = await client.post(f"{BASE}/models/{model['id']}/approve", headers=manager)
            assert approved.status_code == 200, approved.text
            assert approved.json()["state"] == "approved"
            assert approved.json()["approved_at"] is not None
        again = await client.post(
            f"{BASE}/models/{models['pbf_audit_target']['id']}/approve", headers=manager
        )
        assert again.status_code == 409

        # scoring the held-out month: flagged values with reasons in French
        requested = await client.post(f"{PROGRAMME}/periods/{LAST}/scoring", headers=manager)
        assert requested.status_code == 202, requested.text
        scored = await _done(client, container, manager, requested.json())
        assert scored["status"] == "done", scored
        assert scored["model_id"] == models["pbf_anomaly_expected_value"]["id"]
        page = await client.get(
            f"{PROGRAMME}/periods/{LAST}/flags", params={"limit": 200}, headers=manager
        )
        assert page.status_code == 200, page.text
        flags = page.json()["items"]
        assert len(flags) == scored["summary"]["flagged"] > 0
        assert [f["score"] for f in flags] == sorted((f["score"] for f in flags), reverse=True)
        truth = seeded.programme.truth.over_declared[:, :, -1]
        indicators = seeded.programme.cube.indicator_codes
        true_flags = sum(
            bool(
                truth[
                    seeded.facility_of(f["org_unit_id"]),
                    indicators.index(f["indicator"].split(".", 1)[1]),
                ]
            )
            for f in flags
        )
        precision = true_flags / len(flags)
        print(f"flags {len(flags)}, of which over-declared {true_flags} ({precision:.2f})")
        assert precision >= 0.5
        for flag in flags:
            assert flag["reasons"], flag
            assert flag["declared"] > flag["expected"]
            texts = " ".join(r["text"] for r in flag["reasons"])
            assert "{" not in texts
        codes = {r["code"] for f in flags for r in f["reasons"]}
        assert "residual" in codes
        residual = next(r for f in flags for r in f["reasons"] if r["code"] == "residual")
        assert residual["text"].startswith("Déclaré"), residual["text"]

        # the same request again is the same run: no second job
        jobs = await _job_count(container)
        repeated = await client.post(f"{PROGRAMME}/periods/{LAST}/scoring", headers=manager)
        assert repeated.json()["id"] == scored["id"]
        assert await _job_count(container) == jobs

        # a sampling plan within the budget, 20 % drawn at random, every facility drawable
        requested = await client.post(
            f"{PROGRAMME}/periods/{LAST}/sampling-plans", headers=manager, json={"budget": 10}
        )
        assert requested.status_code == 202, requested.text
        planned = await _done(client, container, manager, requested.json())
        assert planned["status"] == "done", planned
        assert planned["method"] == "model"
        assert planned["message"] is None
        plan = (await client.get(f"{BASE}/sampling-plans/{planned['id']}", headers=manager)).json()
        selections, frame = plan["selections"], plan["frame"]
        assert len(selections) == 10
        assert len(frame) == 30
        assert sum(s["basis"] == "random_draw" for s in selections) == 2
        assert sum(s["basis"] == "ranked" for s in selections) == 8
        probabilities = [Fraction(u["inclusion_probability"]) for u in frame]
        assert all(p > 0 for p in probabilities)
        assert sum(probabilities) == 10  # expected sample size = the budget, exactly
        assert [u["rank"] for u in frame] == list(range(1, 31))
        for selection in selections:
            assert selection["reason"] and "{" not in selection["reason"]
            assert selection["indicators"]
        ranked = [s for s in selections if s["basis"] == "ranked"]
        assert all(s["reason"].startswith("Rang") for s in ranked), ranked[0]["reason"]
        # the model's ranking finds more over-declared money than the facilities left out
        money = seeded.programme.over_declared_money(len(seeded.programme.cube.periods) - 1)
        top = np.mean([money[seeded.facility_of(s["org_unit_id"])] for s in ranked])
        print(f"over-declared money per ranked facility {top:,.0f}, overall {money.mean():,.0f}")
        assert top > money.mean()

    async def test_a_district_reader_sees_only_its_district(
        self, client: Any, container: Any, auth: Any
    ) -> None:
        manager = await auth("demo.pbf_manager")
        seeded: Seeded = await seed_programme(container, client, manager)
        await _trained(client, container, manager)
        for model in (await client.get(f"{PROGRAMME}/models", headers=manager)).json():
            await client.post(f"{BASE}/models/{model['id']}/approve", headers=manager)
        scoring = await client.post(f"{PROGRAMME}/periods/{LAST}/scoring", headers=manager)
        await _done(client, container, manager, scoring.json())
        requested = await client.post(
            f"{PROGRAMME}/periods/{LAST}/sampling-plans", headers=manager, json={"budget": 6}
        )
        plan_run = await _done(client, container, manager, requested.json())

        verifier = await facility_user(client, auth, "verif.tz", "pbf_verifier", "MR-R1-D1")
        district = seeded.district_paths["D01"]
        everything = (
            await client.get(
                f"{PROGRAMME}/periods/{LAST}/flags", params={"limit": 200}, headers=manager
            )
        ).json()["items"]
        mine = (
            await client.get(
                f"{PROGRAMME}/periods/{LAST}/flags", params={"limit": 200}, headers=verifier
            )
        ).json()["items"]
        inside = [f for f in everything if seeded.unit_paths[f["org_unit_id"]].startswith(district)]
        assert {f["org_unit_id"] for f in mine} == {f["org_unit_id"] for f in inside}
        assert len(mine) < len(everything)
        plan = (
            await client.get(f"{BASE}/sampling-plans/{plan_run['id']}", headers=verifier)
        ).json()
        assert plan["frame"]
        assert all(seeded.unit_paths[u["org_unit_id"]].startswith(district) for u in plan["frame"])

        # a verifier reads but neither trains nor approves
        model = (await client.get(f"{PROGRAMME}/models", headers=verifier)).json()[0]
        denied = await client.post(f"{BASE}/models/{model['id']}/retire", headers=verifier)
        assert denied.status_code == 403
        denied = await client.post(
            f"{PROGRAMME}/training",
            headers=verifier,
            json={"first_period": "202301", "last_period": "202311"},
        )
        assert denied.status_code == 403


class TestFallback:
    async def test_too_little_history_fails_clearly_and_plans_fall_back_to_rules(
        self, client: Any, container: Any, auth: Any
    ) -> None:
        manager = {**await auth("demo.pbf_manager"), **FR}
        await seed_programme(container, client, manager)
        requested = await client.post(
            f"{PROGRAMME}/training",
            headers=manager,
            json={"first_period": "202301", "last_period": "202303"},
        )
        run = await _done(client, container, manager, requested.json())
        assert run["status"] == "failed"
        assert "3" in run["message"] and "6" in run["message"], run["message"]
        assert run["message"].startswith("Historique"), run["message"]
        assert (await client.get(f"{PROGRAMME}/models", headers=manager)).json() == []

        requested = await client.post(
            f"{PROGRAMME}/periods/{LAST}/sampling-plans",
            headers=manager,
            json={"budget": 7, "random_share": "1/3"},
        )
        planned = await _done(client, container, manager, requested.json())
        assert planned["status"] == "done", planned
        assert planned["method"] == "rules"
        assert planned["message"]  # why the rules ranked the facilities
        plan = (await client.get(f"{BASE}/sampling-plans/{planned['id']}", headers=manager)).json()
        assert len(plan["selections"]) == 7
        # round(7 / 3) = 2 visits drawn at random
        assert sum(s["basis"] == "random_draw" for s in plan["selections"]) == 2
        assert all(Fraction(u["inclusion_probability"]) > 0 for u in plan["frame"])

    async def test_bad_requests_are_refused_with_the_field(self, client: Any, auth: Any) -> None:
        manager = await auth("demo.pbf_manager")
        created = await client.post(
            "/api/v1/pbf/programmes",
            headers=manager,
            json={"code": CODE, "name": "FBR", "currency": "XOF"},
        )
        assert created.status_code == 201
        backwards = await client.post(
            f"{PROGRAMME}/training",
            headers=manager,
            json={"first_period": "202305", "last_period": "202301"},
        )
        assert backwards.status_code == 422
        share = await client.post(
            f"{PROGRAMME}/periods/{LAST}/sampling-plans",
            headers=manager,
            json={"budget": 5, "random_share": "3/2"},
        )
        assert share.status_code == 422
        unknown = await client.get(f"{PROGRAMME}/periods/{LAST}/flags", headers=manager)
        assert unknown.status_code == 404
