"""The verification workflow through the API: declared -> verified -> validated, who and
when, audit, permissions and org-unit scope, locked periods and reopening."""

from __future__ import annotations

from tests.api.pbf.helpers import (
    audit_actions,
    entry,
    facility_user,
    programme,
    step,
)

URL = "/api/v1/pbf/programmes/FBR-MR"


async def _rows(client, headers, period="201601"):
    response = await client.get(f"{URL}/declarations", params={"period": period}, headers=headers)
    assert response.status_code == 200, response.text
    return {(d["activity"], d["period"]): d for d in response.json()}


class TestSteps:
    async def test_each_step_keeps_its_value_who_and_when_and_is_audited(
        self, client, auth, container
    ):
        manager, verifier = await auth("demo.pbf_manager"), await auth("demo.pbf_verifier")
        ou = (await programme(client, manager))["CH-TZ"]
        assert (
            await step(client, manager, "declare", entry(ou, "201601", "act1", 40))
        ).status_code == 200
        assert (
            await step(client, verifier, "verify", entry(ou, "201601", "act1", 38))
        ).status_code == 200
        assert (
            await step(client, manager, "validate", entry(ou, "201601", "act1", 38))
        ).status_code == 200
        row = (await _rows(client, manager))[("act1", "201601")]
        assert row["status"] == "validated"
        assert (row["claimed"], row["verified"], row["validated"]) == ("40", "38", "38") or (
            float(row["claimed"]),
            float(row["verified"]),
            float(row["validated"]),
        ) == (40, 38, 38)
        assert row["declared_by"] and row["verified_by"] and row["validated_by"]
        assert row["declared_by"] != row["verified_by"]
        assert row["declared_at"] and row["verified_at"] and row["validated_at"]
        actions = await audit_actions(container, "pbf.declaration")
        assert actions == [
            ("pbf.declaration.declare", "demo.pbf_manager"),
            ("pbf.declaration.verify", "demo.pbf_verifier"),
            ("pbf.declaration.validate", "demo.pbf_manager"),
        ]

    async def test_steps_must_follow_the_order(self, client, auth):
        manager, verifier = await auth("demo.pbf_manager"), await auth("demo.pbf_verifier")
        ou = (await programme(client, manager))["CH-TZ"]
        early = await step(client, verifier, "verify", entry(ou, "201601", "act1", 3))
        assert early.status_code == 422
        assert early.json()["errors"][0]["field"] == "rows.0.status"
        await step(client, manager, "declare", entry(ou, "201601", "act1", 4))
        unverified = await step(client, manager, "validate", entry(ou, "201601", "act1", 4))
        assert unverified.status_code == 422
        await step(client, verifier, "verify", entry(ou, "201601", "act1", 4))
        redeclared = await step(client, manager, "declare", entry(ou, "201601", "act1", 9))
        assert redeclared.status_code == 422
        assert float((await _rows(client, manager))[("act1", "201601")]["claimed"]) == 4

    async def test_resending_a_declaration_updates_it_instead_of_duplicating(self, client, auth):
        manager = await auth("demo.pbf_manager")
        ou = (await programme(client, manager))["CH-TZ"]
        first = await step(client, manager, "declare", entry(ou, "201601", "act1", 4))
        again = await step(client, manager, "declare", entry(ou, "201601", "act1", 5))
        assert first.json() == {"created": 1, "updated": 0}
        assert again.json() == {"created": 0, "updated": 1}
        rows = await _rows(client, manager)
        assert len(rows) == 1 and float(rows[("act1", "201601")]["claimed"]) == 5

    async def test_every_invalid_entry_is_listed_and_nothing_is_recorded(self, client, auth):
        manager = await auth("demo.pbf_manager")
        ou = (await programme(client, manager))["CH-TZ"]
        response = await step(
            client,
            manager,
            "declare",
            entry(ou, "201601", "act1", 4),
            entry(ou, "201601", "nope", 4),
            entry(ou, "2016Q1", "act2", -1),
            entry(ou, "201601", "act1", 6),
            entry(ou, "199001", "act2", 1),
        )
        assert response.status_code == 422
        fields = {e["field"] for e in response.json()["errors"]}
        assert fields == {
            "rows.1.activity",
            "rows.2.period",
            "rows.2.value",
            "rows.3.activity",
            "rows.4.period",
        }
        assert await _rows(client, manager) == {}


class TestAccess:
    async def test_a_verifier_cannot_declare_and_a_nurse_cannot_read(self, client, auth):
        manager, verifier = await auth("demo.pbf_manager"), await auth("demo.pbf_verifier")
        ou = (await programme(client, manager))["CH-TZ"]
        assert (
            await step(client, verifier, "declare", entry(ou, "201601", "act1", 1))
        ).status_code == 403
        nurse = await auth("demo.nurse")
        listing = await client.get(
            f"{URL}/declarations", params={"period": "201601"}, headers=nurse
        )
        assert listing.status_code == 403

    async def test_a_facility_verifier_works_only_on_her_facility(self, client, auth):
        manager = await auth("demo.pbf_manager")
        units = await programme(client, manager, facilities=("CH-TZ", "CH-NEMA"))
        tz, nema = units["CH-TZ"], units["CH-NEMA"]
        await step(
            client,
            manager,
            "declare",
            entry(tz, "201601", "act1", 4),
            entry(nema, "201601", "act1", 7),
        )
        acv_tz = await facility_user(client, auth, "acv.tz", "pbf_verifier", "CH-TZ")
        outside = await step(client, acv_tz, "verify", entry(nema, "201601", "act1", 7))
        assert outside.status_code == 422
        assert outside.json()["errors"][0]["field"] == "rows.0.org_unit"
        inside = await step(client, acv_tz, "verify", entry(tz, "201601", "act1", 4))
        assert inside.status_code == 200
        seen = await client.get(f"{URL}/declarations", params={"period": "201601"}, headers=acv_tz)
        assert {d["org_unit_id"] for d in seen.json()} == {tz["id"]}


class TestLocks:
    async def test_a_locked_period_cannot_change_until_a_manager_reopens_it(
        self, client, auth, container
    ):
        manager, verifier = await auth("demo.pbf_manager"), await auth("demo.pbf_verifier")
        ou = (await programme(client, manager))["CH-TZ"]
        await step(client, manager, "declare", entry(ou, "201601", "act1", 4))
        locked = await client.post(f"{URL}/periods/2016Q1/lock", headers=manager, json={})
        assert locked.status_code == 200 and locked.json()["locked"] is True
        refused = await step(client, verifier, "verify", entry(ou, "201601", "act1", 4))
        assert (
            refused.status_code == 422 and refused.json()["errors"][0]["field"] == "rows.0.period"
        )
        compute = await client.post(f"{URL}/periods/2016Q1/compute", headers=manager)
        assert compute.status_code == 409
        not_manager = await client.post(
            f"{URL}/periods/2016Q1/reopen", headers=verifier, json={"reason": "x"}
        )
        assert not_manager.status_code == 403
        no_reason = await client.post(f"{URL}/periods/2016Q1/reopen", headers=manager, json={})
        assert no_reason.status_code == 422
        reopened = await client.post(
            f"{URL}/periods/2016Q1/reopen", headers=manager, json={"reason": "Erreur de saisie ACV"}
        )
        assert reopened.status_code == 200 and reopened.json()["reopened_by"]
        assert (
            await step(client, verifier, "verify", entry(ou, "201601", "act1", 4))
        ).status_code == 200
        assert [a for a, _ in await audit_actions(container, "pbf.period")] == [
            "pbf.period.lock",
            "pbf.period.reopen",
        ]
