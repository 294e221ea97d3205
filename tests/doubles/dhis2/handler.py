"""HTTP routes of the DHIS2 double: the Web API subset Afiya uses, plus ``/__admin``."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.doubles.dhis2 import admin
from tests.doubles.dhis2.export import IllegalQuery, select_values, write_csv, write_json
from tests.doubles.dhis2.importer import Importer, ImportOptions
from tests.doubles.dhis2.query import (
    QueryError,
    make_filter,
    order_objects,
    page,
    parse_fields,
    select,
)
from tests.doubles.dhis2.store import Job, Store, User, new_uid, timestamp

_VERSIONED = re.compile(r"^/api/\d+/")
_TASK = re.compile(r"^/api/system/(tasks|taskSummaries)/([A-Z_]+)/(\w+)$")
_METADATA = re.compile(r"^/api/(\w+?)(?:\.json)?(?:/(\w+?)(?:\.json)?)?$")
_HTTP_STATUS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    409: "Conflict",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class Dhis2DoubleServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], store: Store, verbose: bool = False) -> None:
        super().__init__(address, Dhis2Handler)
        self.store = store
        self.verbose = verbose


def web_message(
    status_code: int, message: str, status: str = "ERROR", **extra: Any
) -> dict[str, Any]:
    return {
        "httpStatus": _HTTP_STATUS.get(status_code, "Error"),
        "httpStatusCode": status_code,
        "status": status,
        "message": message,
        **extra,
    }


class Dhis2Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Dhis2DoubleServer

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)

    # -- plumbing -------------------------------------------------------------------
    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send_json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _send_stream(self, content_type: str, chunks: Iterable[bytes], cut: bool = False) -> None:
        """Chunked answer; ``cut`` drops the connection after two chunks (a lost link)."""
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        sent = 0
        for chunk in chunks:
            if not chunk:
                continue
            self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            sent += 1
            if cut and sent == 2:
                self.wfile.flush()
                self.close_connection = True
                return
        self.wfile.write(b"0\r\n\r\n")

    def _dispatch(self, method: str) -> None:
        store = self.server.store
        url = urlsplit(self.path)
        path = _VERSIONED.sub("/api/", url.path)
        params = parse_qs(url.query, keep_blank_values=True)
        store.count(method, path)
        fault = None if path.startswith("/__admin") else store.take_fault(method, path)
        if fault is not None and fault.action == "reset":
            self.close_connection = True
            return
        body = self._read_body() if method == "POST" else b""
        if fault is not None and fault.action == "close":
            self.close_connection = True
            return
        if fault is not None and fault.action == "status":
            self._send_json(fault.status, web_message(fault.status, "Injected failure"))
            return
        try:
            if path.startswith("/__admin/"):
                status, answer = admin.handle(store, method, path, params, body)
                self._send_json(status, answer)
                return
            user = store.authenticate(self.headers.get("Authorization"))
            if user is None:
                self._send_json(
                    401,
                    web_message(401, "Unauthorized"),
                    {"WWW-Authenticate": 'Basic realm="DHIS2"'},
                )
                return
            self._api(method, path, params, body, user, truncate=fault is not None)
        except (QueryError, IllegalQuery) as exc:
            code = exc.code if isinstance(exc, IllegalQuery) else "E2014"
            status = 409 if isinstance(exc, IllegalQuery) else 400
            self._send_json(status, web_message(status, str(exc), errorCode=code))
        except (ValueError, KeyError) as exc:
            self._send_json(400, web_message(400, f"Bad request: {exc}"))

    # -- API ------------------------------------------------------------------------
    def _api(
        self,
        method: str,
        path: str,
        params: dict[str, list[str]],
        body: bytes,
        user: User,
        truncate: bool,
    ) -> None:
        store = self.server.store
        if path in ("/api/dataValueSets", "/api/dataValueSets.json", "/api/dataValueSets.csv"):
            if method == "POST":
                self._import(params, body, user)
                return
            rows = select_values(store, params, user)
            with_deleted = params.get("includeDeleted", ["false"])[0] == "true"
            wants_csv = path.endswith(".csv") or "csv" in self.headers.get("Accept", "")
            if wants_csv:
                self._send_stream("application/csv;charset=UTF-8", write_csv(rows), truncate)
            else:
                self._send_stream(
                    "application/json;charset=UTF-8", write_json(rows, with_deleted), truncate
                )
            return
        if method != "GET":
            self._send_json(405, web_message(405, "Method not allowed"))
            return
        if path in ("/api/system/info", "/api/system/info.json"):
            self._send_json(200, self._system_info())
            return
        if path in ("/api/me", "/api/me.json"):
            me = {
                "id": user.id,
                "username": user.username,
                "name": user.name,
                "displayName": user.name,
                "userCredentials": {"username": user.username},
                "organisationUnits": [{"id": ou} for ou in user.organisation_units],
                "authorities": user.authorities,
            }
            fields = params.get("fields", ["*"])[0]
            self._send_json(200, select(me, parse_fields(fields)))
            return
        task = _TASK.match(path)
        if task is not None:
            self._task(task.group(1), task.group(3))
            return
        match = _METADATA.match(path)
        if match is None or match.group(1) not in store.metadata:
            self._send_json(404, web_message(404, f"Not found: {path}"))
            return
        self._metadata(match.group(1), match.group(2), params)

    def _system_info(self) -> dict[str, Any]:
        store = self.server.store
        host, port = self.server.server_address[:2]
        return {
            "contextPath": f"http://{host}:{port}",
            "version": store.version,
            "revision": "afiya-double",
            "serverDate": timestamp(),
            "serverTimeZoneId": "Etc/UTC",
            "systemId": store.system_id,
            "systemName": "Afiya DHIS2 test double",
            "calendar": "iso8601",
            "dateFormat": "yyyy-mm-dd",
        }

    def _metadata(self, resource: str, uid: str | None, params: dict[str, list[str]]) -> None:
        store = self.server.store
        default = "id,displayName" if uid is None else "*"
        fields = parse_fields(params.get("fields", [default])[0])
        with store.lock:
            objects = list(store.metadata[resource].values())
        if uid is not None:
            found = next((o for o in objects if o["id"] == uid), None)
            if found is None:
                self._send_json(404, web_message(404, f"Object not found: {uid}"))
            else:
                self._send_json(200, select(found, fields, store.find))
            return
        for expression in params.get("filter", []):
            keep = make_filter(expression)
            objects = [o for o in objects if keep(o)]
        objects = order_objects(objects, params.get("order", [None])[0])
        answer: dict[str, Any] = {}
        if params.get("paging", ["true"])[0].lower() != "false":
            size = int(params.get("pageSize", ["50"])[0])
            number = int(params.get("page", ["1"])[0])
            host, port = self.server.server_address[:2]
            objects, answer["pager"] = page(
                objects, number, size, f"http://{host}:{port}/api/{resource}"
            )
        answer[resource] = [select(o, fields, store.find) for o in objects]
        self._send_json(200, answer)

    def _import(self, params: dict[str, list[str]], body: bytes, user: User) -> None:
        store = self.server.store
        payload = json.loads(body or b"{}")

        def flag(name: str) -> bool:
            return params.get(name, ["false"])[0].lower() == "true"

        def scheme(name: str) -> str | None:
            return params.get(name, [None])[0]

        options = ImportOptions(
            strategy=(
                payload.get("importStrategy")
                or params.get("importStrategy", ["CREATE_AND_UPDATE"])[0]
            ).upper(),
            dry_run=flag("dryRun") or payload.get("dryRun") is True,
            async_=flag("async"),
            id_scheme=scheme("idScheme") or payload.get("idScheme") or "UID",
            data_element_id_scheme=scheme("dataElementIdScheme")
            or payload.get("dataElementIdScheme"),
            org_unit_id_scheme=scheme("orgUnitIdScheme") or payload.get("orgUnitIdScheme"),
            category_option_combo_id_scheme=scheme("categoryOptionComboIdScheme"),
            data_set_id_scheme=scheme("dataSetIdScheme"),
            strict_data_elements=flag("strictDataElements"),
        )
        if options.async_:
            self._send_json(200, self._start_job(payload, user, options))
            return
        summary = Importer(store, user, options).run(payload)
        store.count("IMPORT", "dataValueSets")
        if store.legacy:
            self._send_json(200, summary)
            return
        if summary["status"] == "SUCCESS":
            self._send_json(200, web_message(200, "Import was successful.", "OK", response=summary))
        else:
            message = "An error occurred, please check import summary."
            self._send_json(409, web_message(409, message, summary["status"], response=summary))

    def _start_job(
        self, payload: dict[str, Any], user: User, options: ImportOptions
    ) -> dict[str, Any]:
        store = self.server.store
        job = Job(
            id=new_uid(),
            job_type="DATAVALUE_IMPORT",
            notifications=[_notification("Import process started", completed=False)],
        )
        with store.lock:
            store.jobs[job.id] = job

        def work() -> None:
            time.sleep(store.async_delay)
            summary = Importer(store, user, options).run(payload)
            with store.lock:
                job.summary = summary
                job.notifications.insert(0, _notification("Import done", completed=True))

        threading.Thread(target=work, name=f"import-{job.id}", daemon=True).start()
        return web_message(
            200,
            "Initiated DATAVALUE_IMPORT",
            "OK",
            response={
                "name": "",
                "id": job.id,
                "created": timestamp(),
                "jobType": job.job_type,
                "relativeNotifierEndpoint": f"/api/system/tasks/{job.job_type}/{job.id}",
            },
        )

    def _task(self, kind: str, job_id: str) -> None:
        store = self.server.store
        with store.lock:
            job = store.jobs.get(job_id)
            notifications = list(job.notifications) if job else []
            summary = job.summary if job else None
        if kind == "tasks":
            self._send_json(200, notifications)
        else:
            self._send_json(200, summary or {})


def _notification(message: str, completed: bool) -> dict[str, Any]:
    return {
        "uid": new_uid(),
        "level": "INFO",
        "category": "DATAVALUE_IMPORT",
        "time": timestamp(),
        "message": message,
        "completed": completed,
    }
