"""Staff accounts: who may create and change whom, and what a change does to sessions."""

from __future__ import annotations

PASSWORD = "Long-enough-pass-1"


async def _facility(client, headers, code):
    units = (
        await client.get("/api/v1/org-units/", params={"q": code, "limit": 200}, headers=headers)
    ).json()["items"]
    return next(u for u in units if u["code"] == code)


async def _create(client, headers, facility_id, username="agent.new", roles=("nurse",)):
    return await client.post(
        "/api/v1/users/",
        headers=headers,
        json={
            "username": username,
            "full_name": "Agent",
            "password": PASSWORD,
            "roles": list(roles),
            "unit_ids": [facility_id],
        },
    )


async def test_facility_admin_staffs_her_hospital_but_makes_no_system_admin(client, auth):
    admin = await auth("demo.facility_admin")
    facility = await _facility(client, admin, "CH-TZ")
    nurse = await _create(client, admin, facility["id"])
    assert nurse.status_code == 201 and nurse.json()["roles"] == ["nurse"]
    escalation = await _create(
        client, admin, facility["id"], "agent.root", ("system_admin", "nurse")
    )
    assert escalation.status_code == 422
    assert escalation.json()["errors"] == [
        {
            "field": "roles",
            "code": "not_assignable",
            "message": escalation.json()["errors"][0]["message"],
        }
    ]
    assert "system_admin" in escalation.json()["errors"][0]["message"]


async def test_deactivating_a_user_ends_her_sessions(client, auth):
    admin = await auth("demo.facility_admin")
    facility = await _facility(client, admin, "CH-TZ")
    user = (await _create(client, admin, facility["id"])).json()
    tokens = (
        await client.post(
            "/api/v1/auth/login", json={"username": "agent.new", "password": PASSWORD}
        )
    ).json()
    off = await client.patch(f"/api/v1/users/{user['id']}", headers=admin, json={"active": False})
    assert off.status_code == 200 and off.json()["active"] is False
    refresh = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert refresh.status_code == 401
    login = await client.post(
        "/api/v1/auth/login", json={"username": "agent.new", "password": PASSWORD}
    )
    assert login.status_code == 401


async def test_password_reset_revokes_sessions_and_the_new_password_works(client, auth):
    admin = await auth("demo.facility_admin")
    facility = await _facility(client, admin, "CH-TZ")
    user = (await _create(client, admin, facility["id"])).json()
    tokens = (
        await client.post(
            "/api/v1/auth/login", json={"username": "agent.new", "password": PASSWORD}
        )
    ).json()
    reset = await client.patch(
        f"/api/v1/users/{user['id']}", headers=admin, json={"new_password": "Nouveau-secret-2026"}
    )
    assert reset.status_code == 200
    assert (
        await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    ).status_code == 401
    assert (
        await client.post(
            "/api/v1/auth/login", json={"username": "agent.new", "password": "Nouveau-secret-2026"}
        )
    ).status_code == 200


async def test_units_roles_and_self_changes_are_checked(client, auth):
    admin = await auth("demo.facility_admin")
    me = (await client.get("/api/v1/auth/me", headers=admin)).json()
    system = await auth("demo.system_admin")
    facility_a = await _facility(client, admin, "CH-TZ")
    facility_b = await _facility(client, system, "CH-NEMA")
    user = (await _create(client, admin, facility_a["id"])).json()
    moved = await client.patch(
        f"/api/v1/users/{user['id']}",
        headers=admin,
        json={"unit_ids": [facility_b["id"]], "roles": ["auditor"]},
    )
    assert moved.status_code == 422
    assert {e["code"] for e in moved.json()["errors"]} == {"out_of_scope", "not_assignable"}
    self_change = await client.patch(
        f"/api/v1/users/{me['user_id']}", headers=admin, json={"roles": ["nurse"]}
    )
    assert self_change.status_code == 422 and self_change.json()["errors"][0]["code"] == "self"
    renamed = await client.patch(
        f"/api/v1/users/{user['id']}",
        headers=admin,
        json={"full_name": "Awa Diallo", "language": "ar", "roles": ["midwife", "nurse"]},
    )
    assert renamed.json()["full_name"] == "Awa Diallo" and renamed.json()["language"] == "ar"
    assert renamed.json()["roles"] == ["midwife", "nurse"]


async def test_users_of_another_hospital_are_not_found(client, auth):
    system = await auth("demo.system_admin")
    users_b = (await client.get("/api/v1/users/", params={"limit": 200}, headers=system)).json()[
        "items"
    ]
    nurse_b = next(u for u in users_b if u["username"] == "demo.nurse.b")
    admin_a = await auth("demo.facility_admin")
    assert (await client.get(f"/api/v1/users/{nurse_b['id']}", headers=admin_a)).status_code == 404
    change = await client.patch(
        f"/api/v1/users/{nurse_b['id']}", headers=admin_a, json={"active": False}
    )
    assert change.status_code == 404
