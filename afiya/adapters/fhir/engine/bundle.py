"""Bundle ``transaction`` (all or nothing) and ``batch`` (each entry on its own).

A transaction runs its entries in the FHIR order (DELETE, POST, PUT, GET) inside the
request's unit of work; ``urn:uuid:`` full URLs of created resources are replaced by
``Type/id`` in the entries that follow. The first failing entry fails the whole
transaction (the unit of work rolls back): the OperationOutcome names the entry. A batch
runs each entry in a savepoint, so one failure rolls back that entry only.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from afiya.adapters.fhir.common import InvalidResource
from afiya.adapters.fhir.engine import interactions as act
from afiya.adapters.fhir.engine.context import FhirContext
from afiya.adapters.fhir.engine.errors import FhirError, domain_issues, invalid_resource_issues
from afiya.domain.fhir.search import query_of
from afiya.domain.shared.errors import DomainError
from afiya.domain.shared.i18n import N_, Message

_ORDER = {"DELETE": 0, "POST": 1, "PUT": 2, "PATCH": 2, "GET": 3, "HEAD": 3}
MAX_ENTRIES = 1000


def _rewrite(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, dict):
        out = {k: _rewrite(v, ids) for k, v in value.items()}
        ref = out.get("reference")
        if isinstance(ref, str) and ref in ids:
            out["reference"] = ids[ref]
        return out
    if isinstance(value, list):
        return [_rewrite(v, ids) for v in value]
    return value


def _bad(index: int, msgid: str, **params: Any) -> FhirError:
    return FhirError(
        400, "invalid", Message(msgid, params), expression=[f"Bundle.entry[{index}].request"]
    )


async def _entry(
    ctx: FhirContext, index: int, entry: dict[str, Any], ids: dict[str, str]
) -> act.Answer:
    request = entry.get("request") or {}
    method = str(request.get("method") or "").upper()
    url = str(request.get("url") or "")
    parts = urlsplit(url)
    path = [p for p in parts.path.split("/") if p]
    if not path:
        raise _bad(index, N_("Each entry needs request.method and request.url."))
    name = path[0]
    resource = _rewrite(entry.get("resource"), ids)
    if method == "POST" and len(path) == 1:
        answer = await act.create(ctx, name, resource, if_none_exist=request.get("ifNoneExist"))
        full_url = entry.get("fullUrl")
        if full_url and isinstance(answer.body, dict) and "id" in answer.body:
            ids[str(full_url)] = f"{name}/{answer.body['id']}"
        return answer
    if method == "PUT" and len(path) == 2:
        return await act.update(ctx, name, path[1], resource, if_match=request.get("ifMatch"))
    if method == "DELETE" and len(path) == 2:
        return await act.delete(ctx, name, path[1])
    if method == "GET":
        if len(path) == 1:
            return await act.search(ctx, name, query_of(parts.query))
        if len(path) == 2:
            return await act.read(ctx, name, path[1])
        if len(path) == 4 and path[2] == "_history":
            return await act.vread(ctx, name, path[1], int(path[3]))
    raise _bad(index, N_("Unsupported entry: {method} {url}."), method=method, url=url)


def _response_entry(answer: act.Answer) -> dict[str, Any]:
    response: dict[str, Any] = {"status": str(answer.status)}
    if "Location" in answer.headers:
        response["location"] = answer.headers["Location"]
    if "ETag" in answer.headers:
        response["etag"] = answer.headers["ETag"]
    if "Last-Modified" in answer.headers:
        response["lastModified"] = answer.headers["Last-Modified"]
    entry: dict[str, Any] = {"response": response}
    if isinstance(answer.body, dict):
        entry["resource"] = answer.body
    return entry


def _failure(exc: Exception, translate: Any, index: int) -> tuple[int, list[dict[str, Any]]]:
    if isinstance(exc, InvalidResource):
        issues = invalid_resource_issues(exc)
        status = 400
    elif isinstance(exc, DomainError):
        status, issues = domain_issues(exc, translate)
    else:
        raise exc
    for item in issues:
        item["expression"] = [f"Bundle.entry[{index}]", *item.get("expression", [])]
    return status, issues


async def process(ctx: FhirContext, bundle: Any) -> act.Answer:
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise FhirError(400, "invalid", Message(N_("POST to the base takes a Bundle.")))
    kind = bundle.get("type")
    entries = bundle.get("entry") or []
    if kind not in ("transaction", "batch"):
        raise FhirError(
            400,
            "not-supported",
            Message(N_("Only transaction and batch Bundles are processed.")),
            expression=["Bundle.type"],
        )
    if len(entries) > MAX_ENTRIES:
        raise FhirError(
            413,
            "too-costly",
            Message(N_("At most {max} entries per Bundle."), {"max": MAX_ENTRIES}),
        )
    responses: list[dict[str, Any] | None] = [None] * len(entries)
    ids: dict[str, str] = {}
    if kind == "transaction":
        order = sorted(
            range(len(entries)),
            key=lambda i: _ORDER.get(
                str((entries[i].get("request") or {}).get("method", "")).upper(), 9
            ),
        )
        for index in order:
            try:
                answer = await _entry(ctx, index, entries[index], ids)
            except (DomainError, InvalidResource) as exc:
                status, issues = _failure(exc, ctx.translate, index)
                raise TransactionFailed(status, issues) from exc
            responses[index] = _response_entry(answer)
        result_type = "transaction-response"
    else:
        for index, entry in enumerate(entries):
            try:
                async with ctx.uow.session.begin_nested():
                    answer = await _entry(ctx, index, entry, ids)
                responses[index] = _response_entry(answer)
            except (DomainError, InvalidResource) as exc:
                status, issues = _failure(exc, ctx.translate, index)
                responses[index] = {
                    "response": {
                        "status": str(status),
                        "outcome": {"resourceType": "OperationOutcome", "issue": issues},
                    }
                }
        result_type = "batch-response"
    return act.Answer(200, {"resourceType": "Bundle", "type": result_type, "entry": responses})


class TransactionFailed(DomainError):
    """A transaction entry failed: nothing of the Bundle is kept."""

    code = "fhir_transaction_failed"

    def __init__(self, status: int, issues: list[dict[str, Any]]) -> None:
        super().__init__(Message(N_("The transaction failed; nothing was stored.")))
        self.status = status
        self.issues = issues
