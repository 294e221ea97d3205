"""A user acts only inside the org-unit sub-trees assigned to them."""

from __future__ import annotations

from sqlalchemy import select

from afiya.adapters.db.models import AuditEventRow


async def _facility(client, headers, code):
    response = await client.get(
        "/api/v1/org-units/", params={"kind": "facility", "limit": 200}, headers=headers
    )
    return next(u for u in response.json()["items"] if u["code"] == code)


async def test_nurse_of_facility_a_cannot_read_facility_b_and_the_denial_is_audited(
    client, auth, container
):
    admin = await auth("demo.system_admin")
    facility_b = await _facility(client, admin, "CH-NEMA")
    nurse_a = await auth("demo.nurse")

    response = await client.get(f"/api/v1/org-units/{facility_b['id']}", headers=nurse_a)

    assert response.status_code == 403
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "out_of_scope"
    async with container.sessions() as session:
        denials = (
            (
                await session.execute(
                    select(AuditEventRow).where(
                        AuditEventRow.action == "access.denied",
                        AuditEventRow.username == "demo.nurse",
                    )
                )
            )
            .scalars()
            .all()
        )
    assert [d.resource_id for d in denials] == [facility_b["id"]]
    assert denials[0].outcome == "denied"


async def test_nurse_reads_units_of_her_own_facility(client, auth):
    admin = await auth("demo.system_admin")
    facility_a = await _facility(client, admin, "CH-TZ")
    nurse_a = await auth("demo.nurse")
    response = await client.get(f"/api/v1/org-units/{facility_a['id']}", headers=nurse_a)
    assert response.status_code == 200
    assert response.json()["code"] == "CH-TZ"


async def test_lists_only_show_the_callers_sub_tree(client, auth):
    nurse_a = await auth("demo.nurse")
    response = await client.get("/api/v1/org-units/", params={"limit": 200}, headers=nurse_a)
    codes = {u["code"] for u in response.json()["items"]}
    assert "CH-TZ" in codes and "CH-TZ-S1-W1" in codes
    assert not any(code.startswith("CH-NEMA") for code in codes)
    assert "MR" not in codes  # the country lies above her facility


async def test_requests_without_a_token_are_refused(client):
    response = await client.get("/api/v1/org-units/")
    assert response.status_code == 401
    assert response.json()["code"] == "token_missing"


async def test_a_forged_token_is_refused(client, auth):
    headers = await auth("demo.nurse")
    token = headers["Authorization"][:-4] + "AAAA"
    response = await client.get("/api/v1/org-units/", headers={"Authorization": token})
    assert response.status_code == 401
    assert response.json()["code"] == "token_invalid"


async def test_a_role_without_the_permission_is_refused(client, auth):
    cashier = await auth("demo.cashier")
    response = await client.get("/api/v1/audit-events/", headers=cashier)
    assert response.status_code == 403
    assert response.json()["code"] == "permission_missing"
