"""``/__admin`` endpoints: how tests set the double up and look inside it (no auth).

=============================================  =============================================
``GET  /__admin/health``                        200 once the server answers
``GET  /__admin/counters``                      requests per ``METHOD path``, stored values
``GET  /__admin/dataValue?de=&pe=&ou=&co=&ao=``  one stored record (404 if none)
``POST /__admin/reset``                         ``{"seed": "demo" | "empty"}``
``POST /__admin/metadata``                      ``{"dataElements": [...], ...}`` upserted
``POST /__admin/users``                         ``{"username", "password", "tokens", ...}``
``POST /__admin/config``                        ``{"today", "asyncDelaySeconds", "version",
                                                "legacy"}``
``POST /__admin/faults``                        ``{"failRequest": n, "path", "method",
                                                "action": close|reset|status|truncate,
                                                "status"}``: the n-th matching request fails
``POST /__admin/approvals``                     ``[{"dataSet", "period", "orgUnit",
                                                "attributeOptionCombo"}]``
``POST /__admin/lockExceptions``                ``[{"dataSet", "period", "orgUnit"}]``
``POST /__admin/dataValues/generate``           ``{"count", "dataElements", "orgUnits",
                                                "periods"}``: synthetic bulk values
=============================================  =============================================
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from tests.doubles.dhis2.seed import seed_demo
from tests.doubles.dhis2.store import (
    COMMENT,
    CREATED,
    DEFAULT_COC,
    DELETED,
    FOLLOWUP,
    LAST_UPDATED,
    STORED_BY,
    VALUE,
    Fault,
    Store,
    User,
    new_uid,
)


def handle(
    store: Store, method: str, path: str, params: dict[str, list[str]], body: bytes
) -> tuple[int, Any]:
    """Serve one admin request; returns HTTP status and JSON answer."""
    data = json.loads(body) if body else {}
    route = path.removeprefix("/__admin/")
    if method == "GET":
        if route == "health":
            return 200, {"status": "ok"}
        if route == "counters":
            with store.lock:
                deleted = sum(1 for r in store.values.values() if r[DELETED])
                return 200, {
                    "requests": store.requests,
                    "byEndpoint": dict(store.counters),
                    "storedValues": len(store.values) - deleted,
                    "deletedValues": deleted,
                    "faultsTriggered": store.faults_triggered,
                    "jobs": len(store.jobs),
                }
        if route == "dataValue":
            return _data_value(store, params)
        return 404, {"message": f"unknown admin route {route}"}
    if route == "reset":
        if data.get("seed", "demo") == "demo":
            seed_demo(store)
        else:
            store.reset()
        return 200, {"status": "reset"}
    if route == "metadata":
        return 200, {"upserted": {k: store.upsert(k, v) for k, v in data.items()}}
    if route == "users":
        user = User(
            id=data.get("id") or new_uid(),
            username=data["username"],
            password=data.get("password", ""),
            name=data.get("name", data["username"]),
            organisation_units=list(data.get("organisationUnits", [])),
            authorities=list(data.get("authorities", [])),
            tokens=list(data.get("tokens", [])),
        )
        with store.lock:
            store.users[user.username] = user
        return 200, {"id": user.id}
    if route == "config":
        with store.lock:
            if "today" in data:
                store.today = date.fromisoformat(data["today"]) if data["today"] else None
            store.async_delay = float(data.get("asyncDelaySeconds", store.async_delay))
            store.version = str(data.get("version", store.version))
            store.legacy = bool(data.get("legacy", store.legacy))
        return 200, {"status": "configured"}
    if route == "faults":
        fault = Fault(
            countdown=int(data.get("failRequest", 1)),
            path=data.get("path", "/api/"),
            method=data.get("method"),
            action=data.get("action", "close"),
            status=int(data.get("status", 503)),
        )
        with store.lock:
            store.faults.append(fault)
        return 200, {"status": "armed"}
    if route == "approvals":
        with store.lock:
            for item in data:
                store.approvals.add(
                    (
                        item["dataSet"],
                        item["period"],
                        item["orgUnit"],
                        item.get("attributeOptionCombo", DEFAULT_COC),
                    )
                )
        return 200, {"approvals": len(store.approvals)}
    if route == "lockExceptions":
        with store.lock:
            for item in data:
                store.lock_exceptions.add((item["dataSet"], item["period"], item["orgUnit"]))
        return 200, {"lockExceptions": len(store.lock_exceptions)}
    if route == "dataValues/generate":
        made = store.generate(
            int(data["count"]), data["dataElements"], data["orgUnits"], data["periods"]
        )
        return 200, {"generated": made}
    return 404, {"message": f"unknown admin route {route}"}


def _data_value(store: Store, params: dict[str, list[str]]) -> tuple[int, Any]:
    def one(name: str, default: str | None = None) -> str:
        value = params.get(name, [default])[0]
        if value is None:
            raise KeyError(name)
        return value

    key = (one("de"), one("pe"), one("ou"), one("co", DEFAULT_COC), one("ao", DEFAULT_COC))
    with store.lock:
        record = store.values.get(key)
    if record is None:
        return 404, {"message": "no such data value"}
    return 200, {
        "value": record[VALUE],
        "comment": record[COMMENT],
        "followup": record[FOLLOWUP],
        "storedBy": record[STORED_BY],
        "created": record[CREATED],
        "lastUpdated": record[LAST_UPDATED],
        "deleted": record[DELETED],
    }
