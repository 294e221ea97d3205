"""Sampling plans after the job drew them, on SQLite and PostgreSQL: review (exclude,
replace, with reasons) and approval that freezes the plan; counter-verification outcomes
recorded through the PBF module and read by the next training."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import numpy as np
from sqlalchemy import select

from afiya.adapters.db.models.pbf import PbfCounterVerificationRow
from afiya.adapters.ml.tasks import records_hash
from afiya.adapters.seed.demo import SYSTEM_CONTEXT
from afiya.domain.access.policy import Scope
from tests.api.pbf.helpers import audit_actions, facility_user
from tests.api.pbf_intelligence.seeding import (
    CODE,
    DISTRICTS,
    LAST,
    Seeded,
    contract,
    seed_programme,
)

BASE = "/api/v1/pbf/intelligence"
PROGRAMME = f"{BASE}/programmes/{CODE}"
PLANS = f"{BASE}/sampling-plans"
FR = {"Accept-Language": "fr"}


async def _finished(client: Any, container: Any, headers: dict[str, str], run_id: str) -> Any:
    await container.queue.join()
    run = (await client.get(f"{BASE}/runs/{run_id}", headers=headers)).json()
    assert run["status"] == "done", run
    return run


async def _plan(client: Any, container: Any, manager: dict[str, str], budget: int = 5) -> Any:
    """A plan drawn by the fixed rules (no model approved): quick, and just as reviewable."""
    requested = await client.post(
        f"{PROGRAMME}/periods/{LAST}/sampling-plans", headers=manager, json={"budget": budget}
    )
    assert requested.status_code == 202, requested.text
    run = await _finished(client, container, manager, requested.json()["id"])
    plan = (await client.get(f"{PLANS}/{run['id']}", headers=manager)).json()
    return plan


def _district_code(seeded: Seeded, org_unit_id: str) -> str:
    path = seeded.unit_paths[org_unit_id]
    return next(
        DISTRICTS[d] for d, prefix in seeded.district_paths.items() if path.startswith(prefix)
    )


def _cell(seeded: Seeded, target: dict[str, Any]) -> tuple[int, int | None, int | None]:
    """The target's declared, verified and validated values as seeded."""
    cube = seeded.programme.cube
    f = seeded.facility_of(target["org_unit_id"])
    i = cube.indicator_codes.index(target["indicator"].split(".", 1)[1])
    t = cube.periods.index(LAST)

    def value(array: Any) -> int | None:
        return None if np.isnan(array[f, i, t]) else int(array[f, i, t])

    declared = value(cube.declared)
    assert declared is not None
    return declared, value(cube.verified), value(cube.validated)


class TestReview:
    async def test_a_proposed_plan_is_reviewed_with_reasons_then_frozen_by_approval(
        self, client: Any, container: Any, auth: Any
    ) -> None:
        manager = {**await auth("demo.pbf_manager"), **FR}
        await seed_programme(container, client, manager)
        plan = await _plan(client, container, manager)
        run_id = plan["run"]["id"]
        assert plan["state"] == "proposed"
        assert plan["approved_at"] is None
        targets = plan["targets"]
        # one target per indicator to check at each selected facility, for the period
        expected = {(s["org_unit_id"], i) for s in plan["selections"] for i in s["indicators"]}
        assert {(t["org_unit_id"], t["indicator"]) for t in targets} == expected
        assert len(targets) >= 3
        assert all(t["state"] == "proposed" and t["origin"] == "plan" for t in targets)
        assert all(t["period"] == LAST for t in targets)
        listed = (await client.get(f"{PLANS}/{run_id}/targets", headers=manager)).json()
        assert [t["id"] for t in listed] == [t["id"] for t in targets]

        first, second = targets[0], targets[1]
        excluded = await client.post(
            f"{PLANS}/{run_id}/targets/{first['id']}/exclusion",
            headers=manager,
            json={"reason": "Insecurity on the road"},
        )
        assert excluded.status_code == 200, excluded.text
        body = excluded.json()
        assert body["state"] == "excluded"
        assert body["review_reason"] == "Insecurity on the road"
        assert body["reviewed_by"] and body["reviewed_at"]
        again = await client.post(
            f"{PLANS}/{run_id}/targets/{first['id']}/exclusion",
            headers=manager,
            json={"reason": "twice"},
        )
        assert again.status_code == 409
        assert again.json()["code"] == "target_excluded"

        # a reason is required, and must say something
        for bad in ({"reason": "   "}, {}, {"reason": "x", "extra": 1}):
            refused = await client.post(
                f"{PLANS}/{run_id}/targets/{second['id']}/exclusion", headers=manager, json=bad
            )
            assert refused.status_code == 422, (bad, refused.text)
        blank = await client.post(
            f"{PLANS}/{run_id}/targets/{second['id']}/exclusion",
            headers=manager,
            json={"reason": "  "},
        )
        assert "raison" in blank.text, blank.text  # in French

        # replace by a facility of the frame that was not selected, same indicator
        unselected = next(u for u in plan["frame"] if not u["selected"])
        replaced = await client.post(
            f"{PLANS}/{run_id}/targets/{second['id']}/replacement",
            headers=manager,
            json={"reason": "Visited last month", "org_unit_id": unselected["org_unit_id"]},
        )
        assert replaced.status_code == 201, replaced.text
        new = replaced.json()
        assert new["origin"] == "replacement" and new["state"] == "proposed"
        assert new["replaces_id"] == second["id"]
        assert (new["org_unit_id"], new["indicator"], new["period"]) == (
            unselected["org_unit_id"],
            second["indicator"],
            LAST,
        )
        states = {
            t["id"]: t["state"]
            for t in (await client.get(f"{PLANS}/{run_id}/targets", headers=manager)).json()
        }
        assert states[second["id"]] == "excluded"
        assert states[new["id"]] == "proposed"

        # the replacement must be a declared value of a facility in the frame, not a duplicate
        third = targets[2]
        outside = await client.post(
            f"{PLANS}/{run_id}/targets/{third['id']}/replacement",
            headers=manager,
            json={"reason": "r", "org_unit_id": str(uuid4())},
        )
        assert outside.status_code == 422, outside.text
        undeclared = await client.post(
            f"{PLANS}/{run_id}/targets/{third['id']}/replacement",
            headers=manager,
            json={"reason": "r", "indicator": "quantity.NOPE"},
        )
        assert undeclared.status_code == 422, undeclared.text
        assert "quantity.NOPE" in undeclared.text
        duplicate = await client.post(
            f"{PLANS}/{run_id}/targets/{third['id']}/replacement",
            headers=manager,
            json={
                "reason": "r",
                "org_unit_id": unselected["org_unit_id"],
                "indicator": second["indicator"],
            },
        )
        assert duplicate.status_code == 409
        assert duplicate.json()["code"] == "target_exists"
        states_after = (await client.get(f"{PLANS}/{run_id}/targets", headers=manager)).json()
        assert {t["id"]: t["state"] for t in states_after}[third["id"]] == "proposed"

        # unknown plan or target
        missing = await client.post(
            f"{PLANS}/{uuid4()}/targets/{third['id']}/exclusion",
            headers=manager,
            json={"reason": "r"},
        )
        assert missing.status_code == 404
        missing = await client.post(
            f"{PLANS}/{run_id}/targets/{uuid4()}/exclusion", headers=manager, json={"reason": "r"}
        )
        assert missing.status_code == 404

        # a verifier reads the plan but neither reviews nor approves it
        verifier = await facility_user(client, auth, "verif.rv", "pbf_verifier", "MR-R1-D1")
        assert (await client.get(f"{PLANS}/{run_id}/targets", headers=verifier)).status_code == 200
        denied = await client.post(
            f"{PLANS}/{run_id}/targets/{third['id']}/exclusion",
            headers=verifier,
            json={"reason": "r"},
        )
        assert denied.status_code == 403
        assert (await client.post(f"{PLANS}/{run_id}/approve", headers=verifier)).status_code == 403
        # a district manager has no rights over the whole plan (drawn for the country)
        district_manager = await facility_user(
            client, auth, "manager.d1", "pbf_manager", "MR-R1-D1"
        )
        denied = await client.post(f"{PLANS}/{run_id}/approve", headers=district_manager)
        assert denied.status_code == 403

        # outcomes wait for the approval
        early = await client.put(
            f"{PLANS}/{run_id}/targets/{third['id']}/outcome",
            headers=await auth("demo.pbf_verifier"),
            json={"verified_value": 1, "sampled": 1, "found": 1, "confirmed": 1},
        )
        assert early.status_code == 409, early.text
        assert early.json()["code"] == "plan_not_approved"

        approved = await client.post(f"{PLANS}/{run_id}/approve", headers=manager)
        assert approved.status_code == 200, approved.text
        assert approved.json()["state"] == "approved"
        read = (await client.get(f"{PLANS}/{run_id}", headers=manager)).json()
        assert read["state"] == "approved"
        assert read["approved_by"] and read["approved_at"]

        # frozen
        for path, body in (
            (f"targets/{third['id']}/exclusion", {"reason": "late"}),
            (f"targets/{third['id']}/replacement", {"reason": "late", "indicator": "quantity.X"}),
            ("approve", None),
        ):
            frozen = await client.post(f"{PLANS}/{run_id}/{path}", headers=manager, json=body)
            assert frozen.status_code == 409, (path, frozen.text)
            assert frozen.json()["code"] == "plan_approved"

        reviews = [
            (a, u)
            for a, u in await audit_actions(container, "pbf_intelligence.plan.")
            if a != "pbf_intelligence.plan.request"
        ]
        assert reviews == [
            ("pbf_intelligence.plan.exclude", "demo.pbf_manager"),
            ("pbf_intelligence.plan.replace", "demo.pbf_manager"),
            ("pbf_intelligence.plan.approve", "demo.pbf_manager"),
        ]

    async def test_a_plan_that_was_not_drawn_cannot_be_reviewed(
        self, client: Any, container: Any, auth: Any
    ) -> None:
        manager = await auth("demo.pbf_manager")
        await seed_programme(container, client, manager)
        requested = await client.post(
            f"{PROGRAMME}/periods/202412/sampling-plans", headers=manager, json={"budget": 3}
        )
        run_id = requested.json()["id"]
        await container.queue.join()
        run = (await client.get(f"{BASE}/runs/{run_id}", headers=manager)).json()
        assert run["status"] == "failed"  # nothing was declared for that month
        plan = (await client.get(f"{PLANS}/{run_id}", headers=manager)).json()
        assert plan["state"] is None and plan["targets"] == []
        refused = await client.post(f"{PLANS}/{run_id}/approve", headers=manager)
        assert refused.status_code == 409, refused.text
        assert refused.json()["code"] == "plan_not_ready"
        # a scoring or training run is not a plan
        scoring_like = await client.post(f"{PLANS}/{uuid4()}/approve", headers=manager)
        assert scoring_like.status_code == 404


class TestOutcomes:
    async def test_outcomes_go_through_pbf_counter_verification_and_feed_the_next_training(
        self, client: Any, container: Any, auth: Any
    ) -> None:
        manager = await auth("demo.pbf_manager")
        seeded = await seed_programme(container, client, manager)
        plan = await _plan(client, container, manager)
        run_id = plan["run"]["id"]
        target, other = plan["targets"][0], plan["targets"][1]
        excluded = await client.post(
            f"{PLANS}/{run_id}/targets/{other['id']}/exclusion",
            headers=manager,
            json={"reason": "Road cut by the rains"},
        )
        assert excluded.status_code == 200
        assert (await client.post(f"{PLANS}/{run_id}/approve", headers=manager)).status_code == 200
        await contract(client, manager, target["org_unit_id"])

        window = ("202301", LAST)
        requested = await client.post(
            f"{PROGRAMME}/training",
            headers=manager,
            json={"first_period": window[0], "last_period": window[1]},
        )
        before = await _finished(client, container, manager, requested.json()["id"])

        verifier = await facility_user(
            client, auth, "verif.out", "pbf_verifier", _district_code(seeded, target["org_unit_id"])
        )
        url = f"{PLANS}/{run_id}/targets/{target['id']}/outcome"
        # counts are checked by the PBF module's rules
        wrong = await client.put(
            url,
            headers=verifier,
            json={"verified_value": 3, "sampled": 2, "found": 5, "confirmed": 1},
        )
        assert wrong.status_code == 422, wrong.text
        negative = await client.put(
            url,
            headers=verifier,
            json={"verified_value": -1, "sampled": 2, "found": 1, "confirmed": 1},
        )
        assert negative.status_code == 422
        # an excluded target has no outcome; another district's verifier has no say
        refused = await client.put(
            f"{PLANS}/{run_id}/targets/{other['id']}/outcome",
            headers=await auth("demo.pbf_verifier"),
            json={"verified_value": 3, "sampled": 2, "found": 1, "confirmed": 1},
        )
        assert refused.status_code == 409, refused.text
        assert refused.json()["code"] == "target_excluded"
        outsider_code = next(
            c for c in DISTRICTS.values() if c != _district_code(seeded, target["org_unit_id"])
        )
        outsider = await facility_user(client, auth, "verif.far", "pbf_verifier", outsider_code)
        far = await client.put(
            url,
            headers=outsider,
            json={"verified_value": 3, "sampled": 2, "found": 1, "confirmed": 1},
        )
        assert far.status_code == 403

        declared, verified_before, validated_before = _cell(seeded, target)
        found_value = declared // 2
        final = found_value + 1 if found_value + 1 != validated_before else found_value + 2
        recorded = await client.put(
            url,
            headers=verifier,
            json={"verified_value": found_value, "sampled": 10, "found": 8, "confirmed": 6},
        )
        assert recorded.status_code == 200, recorded.text
        outcome = recorded.json()
        assert Decimal(str(outcome["verified_value"])) == found_value
        assert outcome["outcome_by"] and outcome["outcome_at"]
        # the patients traced are the PBF module's counter-verification, linked, not copied
        async with container.engine.connect() as conn:
            cv = (
                await conn.execute(
                    select(PbfCounterVerificationRow).where(
                        PbfCounterVerificationRow.org_unit_id == UUID(target["org_unit_id"]),
                        PbfCounterVerificationRow.period == LAST,
                    )
                )
            ).one()
        assert str(cv.id) == outcome["counter_verification_id"]
        assert (cv.sampled, cv.found, cv.confirmed) == (10, 8, 6)
        assert cv.activity == target["indicator"].split(".", 1)[1]
        # correcting the outcome updates the same counter-verification
        corrected = await client.put(
            url,
            headers=verifier,
            json={"verified_value": final, "sampled": 10, "found": 9, "confirmed": 7},
        )
        assert corrected.status_code == 200
        assert corrected.json()["counter_verification_id"] == outcome["counter_verification_id"]
        actions = [a for a, _ in await audit_actions(container, "pbf")]
        assert "pbf.counter_verification.record" in actions
        assert actions.count("pbf_intelligence.plan.outcome") == 2

        # the training data now carry the counter-verified value as the validated one
        async with container.uow(SYSTEM_CONTEXT) as uow:
            run = await uow.pbf_intelligence.run(UUID(run_id))
            assert run is not None
            data = await uow.pbf_intelligence.training_data(
                run.programme_id, *window, Scope(tuple(run.scope_paths))
            )
        cell = next(
            r
            for r in data.records
            if (r.facility_id, r.indicator_code, r.period)
            == (target["org_unit_id"], target["indicator"], LAST)
        )
        assert cell.validated == final
        assert cell.declared == declared
        assert records_hash(data.records) != before["summary"]["data_hash"]
        # ... and only that cell differs from what the first training read
        assert validated_before != cell.validated
        restored = [
            replace(r, validated=validated_before, verified=verified_before) if r is cell else r
            for r in data.records
        ]
        assert records_hash(restored) == before["summary"]["data_hash"]

        # so the next training request is a new run, trained on the new data
        requested = await client.post(
            f"{PROGRAMME}/training",
            headers=manager,
            json={"first_period": window[0], "last_period": window[1]},
        )
        after = await _finished(client, container, manager, requested.json()["id"])
        assert after["id"] != before["id"]
        assert after["summary"]["data_hash"] == records_hash(data.records)
        assert after["summary"]["data_hash"] != before["summary"]["data_hash"]
        assert after["summary"]["records"] == before["summary"]["records"]
