"""The FHIR interactions, shared by the routes and by Bundle entries.

Each function checks the type's permission itself (a Bundle entry is not a route, so
the app-wide guard has not checked it), calls the registry's implementation, and
answers ``(status, body, headers)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from afiya.adapters.fhir.common import instant, validate
from afiya.adapters.fhir.engine import includes
from afiya.adapters.fhir.engine.context import FhirContext
from afiya.adapters.fhir.engine.errors import FhirError, issue, operation_outcome
from afiya.adapters.fhir.engine.registry import REGISTRY, Resource, ResourceType, WriteResult
from afiya.domain.access.policy import authorize
from afiya.domain.fhir.search import SearchError, SearchRequest, parse_search, query_of
from afiya.domain.shared.i18n import N_, Message


@dataclass
class Answer:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


def resource_type(name: str) -> ResourceType:
    found = REGISTRY.get(name)
    if found is None:
        raise FhirError(
            404,
            "not-supported",
            Message(N_("Afiya does not serve the resource type {type}."), {"type": name}),
        )
    return found


def _not_supported(name: str, interaction: str) -> FhirError:
    return FhirError(
        405,
        "not-supported",
        Message(
            N_("{interaction} is not supported on {type}."),
            {"interaction": interaction, "type": name},
        ),
    )


def version_headers(resource: Resource) -> dict[str, str]:
    meta = resource.get("meta") or {}
    headers = {}
    if "versionId" in meta:
        headers["ETag"] = f'W/"{meta["versionId"]}"'
    if "lastUpdated" in meta:
        headers["Last-Modified"] = meta["lastUpdated"]
    return headers


def parse_etag(value: str | None) -> int | None:
    """``W/"3"``, ``"3"`` or ``3`` → 3; anything else is a 412 (it cannot match)."""
    if value is None or not value.strip():
        return None
    text = value.strip().removeprefix("W/").strip('"')
    try:
        return int(text)
    except ValueError:
        raise FhirError(
            412, "conflict", Message(N_('If-Match must carry a version: W/"3".')), code="bad_etag"
        ) from None


async def read(ctx: FhirContext, name: str, ident: str) -> Answer:
    kind = resource_type(name)
    if kind.read is None:
        raise _not_supported(name, "read")
    authorize(ctx.principal, kind.read_permission)
    resource = await kind.read(ctx, ident)
    return Answer(200, resource, version_headers(resource))


async def vread(ctx: FhirContext, name: str, ident: str, version: int) -> Answer:
    kind = resource_type(name)
    if kind.vread is None:
        raise _not_supported(name, "vread")
    authorize(ctx.principal, kind.read_permission)
    resource = await kind.vread(ctx, ident, version)
    return Answer(200, resource, version_headers(resource))


async def history(ctx: FhirContext, name: str, ident: str) -> Answer:
    kind = resource_type(name)
    if kind.history is None:
        raise _not_supported(name, "history")
    authorize(ctx.principal, kind.read_permission)
    entries = await kind.history(ctx, ident)
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "history",
        "total": len(entries),
        "link": [{"relation": "self", "url": ctx.url(name, ident) + "/_history"}],
        "entry": [],
    }
    for e in entries:
        method = {"insert": "POST", "update": "PUT", "delete": "DELETE"}[e.operation]
        entry: dict[str, Any] = {
            "fullUrl": ctx.url(name, ident),
            "request": {"method": method, "url": name if method == "POST" else f"{name}/{ident}"},
            "response": {
                "status": {"POST": "201", "PUT": "200", "DELETE": "204"}[method],
                "etag": f'W/"{e.version}"',
                "lastModified": instant(e.recorded_at),
            },
        }
        if e.resource is not None:
            entry["resource"] = e.resource
        bundle["entry"].append(entry)
    return Answer(200, bundle)


def _parse(
    kind: ResourceType, items: Sequence[tuple[str, str]], *, lenient: bool = False
) -> SearchRequest:
    """The type's search parameters (and the include pairs of the table), checked; a bad
    one answers 400 with the parameter as the issue's ``expression``."""
    try:
        return parse_search(kind.name, items, includes.search_spec(kind), lenient=lenient)
    except SearchError as exc:
        parameter = str(exc.details.get("parameter") or "")
        raise FhirError(
            400, "invalid", exc.message, expression=[parameter] if parameter else [], code=exc.code
        ) from exc


async def search(
    ctx: FhirContext, name: str, items: Sequence[tuple[str, str]], *, lenient: bool = False
) -> Answer:
    """A searchset: the type's search, then ``_include`` / ``_revinclude`` (every type
    alike, :mod:`.includes`); ``_summary=count`` answers the total alone."""
    kind = resource_type(name)
    authorize(ctx.principal, kind.read_permission)
    request = _parse(kind, items, lenient=lenient)
    if request.summary_count:
        request = type(request)(name, request.criteria, count=0, offset=0, summary_count=True)
    result = await kind.search(ctx, request)
    extra = await includes.gather(ctx, request, result.resources)
    kept = [(k, v) for k, v in items if k not in ("_offset",)]
    self_url = ctx.url(name) + ("?" + urlencode(items) if items else "")
    links = [{"relation": "self", "url": self_url}]
    if not request.summary_count and request.offset + request.count < result.total:
        following = [*kept, ("_offset", str(request.offset + request.count))]
        if not any(k == "_count" for k, _ in kept):
            following.append(("_count", str(request.count)))
        links.append({"relation": "next", "url": ctx.url(name) + "?" + urlencode(following)})
    if request.offset > 0:
        previous = max(request.offset - request.count, 0)
        links.append(
            {
                "relation": "previous",
                "url": ctx.url(name) + "?" + urlencode([*kept, ("_offset", str(previous))]),
            }
        )
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": result.total,
        "link": links,
    }
    entries = [
        {
            "fullUrl": ctx.url(r["resourceType"], r["id"]),
            "resource": r,
            "search": {"mode": "match"},
        }
        for r in result.resources
    ]
    entries += [
        {
            "fullUrl": ctx.url(r["resourceType"], r["id"]),
            "resource": r,
            "search": {"mode": "include"},
        }
        for r in [*result.included, *extra.resources]
    ]
    notes = [issue("information", "informational", m.render(ctx.translate)) for m in extra.notes]
    if request.ignored:
        text = ", ".join(request.ignored)
        notes.append(issue("warning", "not-supported", f"ignored parameters: {text}"))
    if notes:
        entries.append({"resource": operation_outcome(notes), "search": {"mode": "outcome"}})
    if entries and not request.summary_count:
        bundle["entry"] = entries
    return Answer(200, bundle)


def _written(ctx: FhirContext, name: str, result: WriteResult, prefer: str | None) -> Answer:
    resource = result.resource
    headers = version_headers(resource)
    version = (resource.get("meta") or {}).get("versionId")
    headers["Location"] = ctx.url(name, resource["id"]) + (
        f"/_history/{version}" if version else ""
    )
    if result.not_stored:
        headers["X-Afiya-Not-Stored"] = ",".join(result.not_stored)
    status = 201 if result.created else 200
    prefer = (prefer or "").replace(" ", "")
    if "return=minimal" in prefer:
        return Answer(status, None, headers)
    if "return=OperationOutcome" in prefer:
        issues = [
            issue("information", "informational", f"not stored: {path}")
            for path in result.not_stored
        ] or [issue("information", "informational", "stored")]
        return Answer(status, operation_outcome(issues), headers)
    return Answer(status, resource, headers)


def _body(name: str, body: Any) -> Resource:
    resource = validate(body, name)
    return resource


async def create(
    ctx: FhirContext,
    name: str,
    body: Any,
    *,
    if_none_exist: str | None = None,
    prefer: str | None = None,
) -> Answer:
    kind = resource_type(name)
    if kind.create is None or kind.write_permission is None:
        raise _not_supported(name, "create")
    authorize(ctx.principal, kind.write_permission)
    resource = _body(name, body)
    if if_none_exist:
        if not kind.conditional_create:
            raise _not_supported(name, "conditional create")
        items = query_of(if_none_exist.split("?", 1)[-1])
        request = _parse(kind, items)
        request = type(request)(name, request.criteria, count=2)
        found = await kind.search(ctx, request)
        if found.total == 1:
            existing = found.resources[0]
            answer = _written(ctx, name, WriteResult(existing, False), prefer)
            return answer
        if found.total > 1:
            raise FhirError(
                412,
                "multiple-matches",
                Message(N_("If-None-Exist matches more than one resource.")),
            )
    return _written(ctx, name, await kind.create(ctx, resource), prefer)


async def update(
    ctx: FhirContext,
    name: str,
    ident: str,
    body: Any,
    *,
    if_match: str | None = None,
    prefer: str | None = None,
) -> Answer:
    kind = resource_type(name)
    if kind.update is None or kind.write_permission is None:
        raise _not_supported(name, "update")
    authorize(ctx.principal, kind.write_permission)
    resource = _body(name, body)
    result = await kind.update(ctx, ident, resource, parse_etag(if_match))
    return _written(ctx, name, result, prefer)


async def delete(ctx: FhirContext, name: str, ident: str) -> Answer:
    kind = resource_type(name)
    if kind.delete is None or kind.write_permission is None:
        raise _not_supported(name, "delete")
    authorize(ctx.principal, kind.write_permission)
    await kind.delete(ctx, ident)
    return Answer(204, None)


async def operation(ctx: FhirContext, name: str, ident: str, op: str) -> Answer:
    kind = resource_type(name)
    implementation = kind.operations.get(op)
    if implementation is None:
        raise _not_supported(name, f"${op}")
    authorize(ctx.principal, kind.read_permission)
    return Answer(200, await implementation(ctx, ident))
