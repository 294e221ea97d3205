"""Generated files are in step with the code: OpenAPI, security and configuration docs."""

from __future__ import annotations

from pathlib import Path

from afiya.api.schema_export import configuration_markdown, openapi_document, security_markdown

REPO = Path(__file__).resolve().parents[3]
REGENERATE = "run `make generate` (afiya openapi export && afiya docs generate) and commit"


def test_committed_openapi_document_is_current():
    committed = (REPO / "openapi/openapi.json").read_text()
    assert committed.strip() == openapi_document().strip(), REGENERATE


def test_mobile_contracts_are_current_and_valid_json_schema():
    import json

    from jsonschema import Draft202012Validator

    from afiya.api.contracts import json_schemas, typescript_types

    document = json.loads(openapi_document())
    committed = (REPO / "mobile_contracts/afiya-api.schema.json").read_text()
    assert committed == json_schemas(document), REGENERATE
    assert (REPO / "mobile_contracts/afiya-api.d.ts").read_text() == typescript_types(document)
    schema = json.loads(committed)
    Draft202012Validator.check_schema(schema)
    login = {"$ref": "#/$defs/LoginRequest", "$defs": schema["$defs"]}
    validator = Draft202012Validator(login)
    assert validator.is_valid({"username": "demo.nurse", "password": "x"})
    assert not validator.is_valid({"username": "demo.nurse"})


def test_security_table_is_current():
    assert (REPO / "docs/security.md").read_text() == security_markdown(), REGENERATE


def test_configuration_table_is_current():
    assert (REPO / "docs/configuration.md").read_text() == configuration_markdown(), REGENERATE


def test_openapi_lists_the_permission_of_every_operation_in_its_description():
    import json

    document = json.loads(openapi_document())
    assert document["openapi"].startswith("3.1")
    operations = [op for path in document["paths"].values() for op in path.values()]
    assert all(op.get("operationId") for op in operations)
