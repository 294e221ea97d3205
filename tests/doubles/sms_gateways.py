"""Africa's Talking and Twilio SMS APIs, as one real HTTP server process for tests.

Run it with ``python -m tests.doubles.sms_gateways --port 0`` from the repository root;
it prints ``LISTENING <port>`` once ready. It speaks the documented shape of:

* Africa's Talking ``POST /version1/messaging`` (form; ``apiKey`` header;
  ``Accept: application/json``; ``username``, ``to``, ``message``, ``from``,
  ``bulkSMSMode``, ``enqueue``) answering ``201`` with ``SMSMessageData.Recipients``
  and per-recipient ``statusCode`` (101 Sent, 402 InvalidSenderId, 403
  InvalidPhoneNumber...), ``401`` with a text body for a wrong key or user name;
* Twilio ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json`` (form; HTTP basic
  auth; ``To``, ``From``/``MessagingServiceSid``, ``Body``, ``StatusCallback``)
  answering ``201`` with a message resource, or a JSON error ``{code, message,
  more_info, status}`` (20003 auth, 21211 invalid To, 21602/21603/21604 missing field,
  21606 unknown From, 21617 body too long).

Admin routes, JSON:

* ``GET /_admin/messages``: every request received, with headers, form and answer;
* ``DELETE /_admin/messages`` and ``POST /_admin/reset`` (also clears failures);
* ``POST /_admin/failures``: queue a failure for the next requests of a vendor, e.g.
  ``{"vendor": "twilio", "kind": "http", "status": 429, "times": 1, "retry_after": 7}``,
  ``{"vendor": "africastalking", "kind": "recipient", "statusCode": 405}``,
  ``{"vendor": "twilio", "kind": "error", "status": 400, "code": 21610}``,
  ``{"vendor": "africastalking", "kind": "delay", "seconds": 2}`` or ``"kind": "garbage"``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import re
import signal
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType
from typing import Any
from urllib.parse import parse_qs

E164 = re.compile(r"\+[1-9]\d{6,14}")
AT_PATH = "/version1/messaging"
TWILIO_PATH = re.compile(r"/2010-04-01/Accounts/(?P<sid>[^/]+)/Messages\.json")
AT_STATUS_WORDS = {
    100: "Processed",
    101: "Success",
    102: "Queued",
    401: "RiskHold",
    402: "InvalidSenderId",
    403: "InvalidPhoneNumber",
    404: "UnsupportedNumberType",
    405: "InsufficientBalance",
    406: "UserInBlacklist",
    407: "CouldNotRoute",
    409: "DoNotDisturbRejection",
    500: "InternalServerError",
    501: "GatewayError",
    502: "RejectedByGateway",
}


def parts_of(text: str) -> int:
    """Segments as the vendors bill them (an independent, simple count)."""
    if all(ord(ch) < 0x80 or ch in "éèùìòàÉÇ" for ch in text):
        return 1 if len(text) <= 160 else -(-len(text) // 153)
    units = len(text.encode("utf-16-le")) // 2
    return 1 if units <= 70 else -(-units // 67)


@dataclass
class Failure:
    vendor: str
    kind: str
    times: int = 1
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class DoubleState:
    at_username: str
    at_api_key: str
    at_senders: frozenset[str]
    twilio_sid: str
    twilio_token: str
    twilio_numbers: frozenset[str]
    lock: threading.Lock = field(default_factory=threading.Lock)
    log: list[dict[str, Any]] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)

    def take_failure(self, vendor: str) -> Failure | None:
        with self.lock:
            for failure in self.failures:
                if failure.vendor == vendor:
                    if failure.times > 0:
                        failure.times -= 1
                        if failure.times == 0:
                            self.failures.remove(failure)
                    return failure  # times < 0: forever
        return None


@dataclass
class Answer:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, payload: Any, **headers: str) -> Answer:
        return cls(status, json.dumps(payload).encode(), headers=headers)

    @classmethod
    def text(cls, status: int, text: str) -> Answer:
        return cls(status, text.encode(), "text/plain; charset=utf-8")


def africastalking(state: DoubleState, headers: dict[str, str], form: dict[str, str]) -> Answer:
    if headers.get("apikey") != state.at_api_key or form.get("username") != state.at_username:
        return Answer.text(401, "The supplied authentication is invalid")
    if "application/json" not in headers.get("accept", ""):
        return Answer.text(406, "This double answers JSON only: send Accept: application/json")
    if not form.get("to") or not form.get("message"):
        return Answer.text(400, "Request is missing required form field 'to' or 'message'")
    failure = state.take_failure("africastalking")
    recipients, total = [], Decimal(0)
    sender = form.get("from")
    for number in form["to"].split(","):
        number = number.strip()
        parts = parts_of(form["message"])
        if not E164.fullmatch(number):
            code = 403
        elif sender and sender not in state.at_senders:
            code = 402
        elif failure is not None and failure.kind == "recipient":
            code = int(failure.options.get("statusCode", 405))
        else:
            code = 101
        cost = Decimal("2.0000") * parts if code in (100, 101, 102) else Decimal(0)
        total += cost
        recipients.append(
            {
                "statusCode": code,
                "number": number,
                "status": AT_STATUS_WORDS.get(code, "Failed"),
                "cost": f"MRU {cost:.4f}" if cost else "0",
                "messageId": f"ATXid_{uuid.uuid4().hex}" if cost else "None",
                **({"messageParts": parts} if cost else {}),
            }
        )
    sent = sum(1 for r in recipients if r["statusCode"] in (100, 101, 102))
    summary = f"Sent to {sent}/{len(recipients)} Total Cost: MRU {total:.4f}"
    return Answer.json(201, {"SMSMessageData": {"Message": summary, "Recipients": recipients}})


def twilio_error(status: int, code: int, message: str) -> Answer:
    return Answer.json(
        status,
        {
            "code": code,
            "message": message,
            "status": status,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
        },
    )


def twilio(state: DoubleState, sid: str, headers: dict[str, str], form: dict[str, str]) -> Answer:
    expected = (
        "Basic " + base64.b64encode(f"{state.twilio_sid}:{state.twilio_token}".encode()).decode()
    )
    if headers.get("authorization") != expected:
        return twilio_error(401, 20003, "Authenticate")
    if sid != state.twilio_sid:
        return twilio_error(404, 20404, f"The requested resource /Accounts/{sid} was not found")
    to, body = form.get("To", ""), form.get("Body", "")
    sender, service = form.get("From"), form.get("MessagingServiceSid")
    if not to:
        return twilio_error(400, 21604, "A 'To' phone number is required.")
    if not body:
        return twilio_error(400, 21602, "Message body is required.")
    if not sender and not service:
        return twilio_error(400, 21603, "A 'From' phone number is required.")
    if not E164.fullmatch(to):
        return twilio_error(400, 21211, f"Invalid 'To' Phone Number: {to}")
    if sender and sender not in state.twilio_numbers:
        return twilio_error(400, 21606, f"The From phone number {sender} is not valid.")
    if len(body) > 1600:
        return twilio_error(400, 21617, "The concatenated message body exceeds the 1600 limit.")
    failure = state.take_failure("twilio")
    if failure is not None and failure.kind == "error":
        options = failure.options
        return twilio_error(int(options.get("status", 400)), int(options["code"]), "Injected")
    message_sid = "SM" + uuid.uuid4().hex
    now = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime())
    return Answer.json(
        201,
        {
            "account_sid": sid,
            "api_version": "2010-04-01",
            "body": body,
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": sender,
            "messaging_service_sid": service,
            "num_media": "0",
            "num_segments": str(parts_of(body)),
            "price": None,
            "price_unit": "USD",
            "sid": message_sid,
            "status": "accepted" if service and not sender else "queued",
            "to": to,
            "uri": f"/2010-04-01/Accounts/{sid}/Messages/{message_sid}.json",
        },
    )


def handle_get(state: DoubleState, path: str) -> Answer:
    if path == "/_admin/messages":
        with state.lock:
            return Answer.json(200, {"messages": list(state.log)})
    if path == "/_admin/health":
        return Answer.json(200, {"ok": True})
    return Answer.text(404, "not found")


def handle_delete(state: DoubleState, path: str) -> Answer:
    if path == "/_admin/messages":
        with state.lock:
            state.log.clear()
        return Answer.json(200, {"ok": True})
    return Answer.text(404, "not found")


def handle_post(state: DoubleState, path: str, headers: dict[str, str], raw: bytes) -> Answer:
    """One POST, whichever server carries it (``headers`` with lower-case names)."""
    if path.startswith("/_admin/"):
        return _admin(state, path, raw)
    form = {k: v[-1] for k, v in parse_qs(raw.decode("utf-8"), keep_blank_values=True).items()}
    match = TWILIO_PATH.fullmatch(path)
    vendor = "africastalking" if path == AT_PATH else "twilio" if match else None
    if vendor is None:
        return Answer.text(404, "not found")
    answer = _injected(state, vendor)
    if answer is None:
        if vendor == "africastalking":
            answer = africastalking(state, headers, form)
        else:
            assert match is not None
            answer = twilio(state, match["sid"], headers, form)
    with state.lock:
        state.log.append(
            {
                "vendor": vendor,
                "path": path,
                "headers": headers,
                "form": form,
                "status": answer.status,
                "response": answer.body.decode("utf-8", "replace"),
                "received_at": time.time(),
            }
        )
    return answer


def _injected(state: DoubleState, vendor: str) -> Answer | None:
    """Transport-level failures that replace the vendor's normal answer."""
    with state.lock:
        pending = [f for f in state.failures if f.vendor == vendor]
    if not pending or pending[0].kind not in ("http", "delay", "garbage"):
        return None
    failure = state.take_failure(vendor)
    assert failure is not None
    if failure.kind == "delay":
        time.sleep(float(failure.options.get("seconds", 1)))
        return None
    if failure.kind == "garbage":
        return Answer(201, b"<html>proxy error</html>", "text/html")
    status = int(failure.options.get("status", 503))
    headers = {}
    if "retry_after" in failure.options:
        headers["Retry-After"] = str(failure.options["retry_after"])
    if vendor == "twilio":
        code = 20429 if status == 429 else 20500
        answer = twilio_error(status, code, "Too Many Requests" if status == 429 else "Error")
        answer.headers.update(headers)
        return answer
    return Answer(status, b"Service unavailable", "text/plain", headers)


def _admin(state: DoubleState, path: str, raw: bytes) -> Answer:
    if path == "/_admin/reset":
        with state.lock:
            state.log.clear()
            state.failures.clear()
        return Answer.json(200, {"ok": True})
    if path == "/_admin/failures":
        try:
            spec = json.loads(raw or b"{}")
            failure = Failure(
                vendor=spec.pop("vendor"),
                kind=spec.pop("kind"),
                times=int(spec.pop("times", 1)),
                options=spec,
            )
        except (ValueError, KeyError, TypeError) as exc:
            return Answer.json(400, {"error": f"bad failure spec: {exc}"})
        with state.lock:
            state.failures.append(failure)
        return Answer.json(201, {"queued": failure.kind})
    return Answer.text(404, "not found")


class Handler(BaseHTTPRequestHandler):
    server: DoubleServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)

    def _send(self, answer: Answer) -> None:
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(len(answer.body)))
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(answer.body)

    def do_GET(self) -> None:
        self._send(handle_get(self.server.state, self.path))

    def do_DELETE(self) -> None:
        self._send(handle_delete(self.server.state, self.path))

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k.lower(): v for k, v in self.headers.items()}
        self._send(handle_post(self.server.state, self.path, headers, raw))


class DoubleServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], state: DoubleState, verbose: bool) -> None:
        super().__init__(address, Handler)
        self.state = state
        self.verbose = verbose


def asgi_app(state: DoubleState) -> Any:
    """The same protocol as an ASGI app, for throughput runs under uvicorn (one event
    loop instead of a thread per connection); requests run in a worker thread so that
    an injected delay does not stall the other connections."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        path, method = scope["path"], scope["method"]
        if method == "POST":
            answer = await asyncio.to_thread(handle_post, state, path, headers, body)
        elif method == "GET":
            answer = handle_get(state, path)
        elif method == "DELETE":
            answer = handle_delete(state, path)
        else:
            answer = Answer.text(405, "method not allowed")
        out = [(b"content-type", answer.content_type.encode())]
        out += [(k.lower().encode(), v.encode()) for k, v in answer.headers.items()]
        await send({"type": "http.response.start", "status": answer.status, "headers": out})
        await send({"type": "http.response.body", "body": answer.body})

    return app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--at-username", default="sandbox")
    parser.add_argument("--at-api-key", default="at-test-key")
    parser.add_argument("--at-sender", action="append", default=["AFIYA"])
    parser.add_argument("--twilio-sid", default="AC" + "0" * 30 + "42")
    parser.add_argument("--twilio-token", default="twilio-test-token")
    parser.add_argument("--twilio-number", action="append", default=["+15005550006"])
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument(
        "--server",
        choices=["threads", "asyncio"],
        default="threads",
        help="asyncio: uvicorn on one event loop, for throughput benchmarks",
    )
    args = parser.parse_args(argv)
    state = DoubleState(
        at_username=args.at_username,
        at_api_key=args.at_api_key,
        at_senders=frozenset(args.at_sender),
        twilio_sid=args.twilio_sid,
        twilio_token=args.twilio_token,
        twilio_numbers=frozenset(args.twilio_number),
    )
    if args.server == "asyncio":
        return _serve_asyncio(state, args.host, args.port)
    server = DoubleServer((args.host, args.port), state, args.verbose)

    def stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    print(f"LISTENING {server.server_address[1]}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def _serve_asyncio(state: DoubleState, host: str, port: int) -> int:
    import socket

    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)  # accepting (queued) before uvicorn's loop runs: ready when printed
    print(f"LISTENING {sock.getsockname()[1]}", flush=True)
    config = uvicorn.Config(asgi_app(state), log_level="warning", access_log=False)
    uvicorn.Server(config).run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main())
