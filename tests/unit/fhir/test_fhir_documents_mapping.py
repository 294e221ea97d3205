"""Documents from other systems: the content rules (pure) and the DocumentReference mapper.

The official example maps in with its codes and back out valid; everything it carries
that Afiya does not keep is listed, nothing else.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import replace
from datetime import UTC, datetime
from uuid import uuid4

import pytest

from afiya.adapters.fhir import documents as maps
from afiya.domain.clinical.external_documents import (
    DocumentTooLarge,
    StoredBinary,
    UnsupportedContentType,
    Upload,
    check_content_type,
    check_size,
    content_errors,
    sha1_base64,
)
from afiya.domain.shared.errors import ValidationFailed
from tests.api.fhir.helpers import example, valid

BASE = "https://his.example.org/fhir/R4"


class TestContentRules:
    def test_sha1_is_base64_of_the_digest_as_fhir_defines_it(self) -> None:
        assert sha1_base64(b"") == "2jmj7l5rSw0yVb/vlWAYkK/YBwk="  # the official example's
        digest = hashlib.sha1(b"abc", usedforsecurity=False).digest()
        assert sha1_base64(b"abc") == base64.b64encode(digest).decode()

    @pytest.mark.parametrize(
        "kind",
        ["application/pdf", "image/jpeg", "image/png", "image/tiff", "text/plain; charset=utf-8"],
    )
    def test_allowed_types_pass(self, kind: str) -> None:
        check_content_type(kind)

    @pytest.mark.parametrize("kind", ["application/zip", "image/gif", "text/html", ""])
    def test_other_types_are_refused(self, kind: str) -> None:
        with pytest.raises(UnsupportedContentType):
            check_content_type(kind)

    def test_size_limit(self) -> None:
        check_size(10, 10)
        with pytest.raises(DocumentTooLarge) as raised:
            check_size(11, 10)
        assert raised.value.details == {"size": 11, "limit": 10}

    def test_bytes_must_be_of_the_declared_type_and_match_declared_size_and_hash(self) -> None:
        pdf = b"%PDF-1.7 ..."
        assert content_errors(Upload("application/pdf", pdf, len(pdf), sha1_base64(pdf))) == []
        assert content_errors(Upload("image/tiff", b"MM\x00*rest")) == []
        codes = {e.code for e in content_errors(Upload("image/png", pdf, 3, "xxx"))}
        assert codes == {"content_mismatch", "size_mismatch", "hash_mismatch"}
        assert [e.code for e in content_errors(Upload("text/plain", b"\xff\xfe\xfa"))] == [
            "content_mismatch"
        ]
        assert [e.code for e in content_errors(Upload("application/pdf", b""))] == ["empty"]


def _example_with_patient(patient: str) -> dict:
    body = example("DocumentReference-example")
    body["subject"] = {"reference": f"Patient/{patient}"}
    body["context"]["encounter"] = [{"reference": f"Encounter/{uuid4()}"}]
    body["content"][0]["attachment"].pop("url")
    body["content"][0]["attachment"]["data"] = base64.b64encode(b"").decode()
    return body


class TestMapping:
    def test_official_example_maps_in_with_its_codes_and_lists_what_is_not_kept(self) -> None:
        patient = uuid4()
        body = _example_with_patient(str(patient))
        incoming = maps.from_fhir(body, BASE)
        document = incoming.document
        assert document.patient_id == patient
        assert document.codes.type is not None
        assert document.codes.type.codings[0].code == "34108-1"
        assert document.codes.categories[0].codings[0].code == "History and Physical"
        assert document.codes.format is not None
        assert document.codes.format.code == "urn:ihe:pcc:handp:2008"
        assert document.date == datetime(2005, 12, 23, 22, 43, 41, tzinfo=UTC)
        assert [i.master for i in document.identifiers] == [True, False]
        assert set(incoming.not_stored) == {
            "DocumentReference.text",
            "DocumentReference.contained",
            "DocumentReference.author",
            "DocumentReference.authenticator",
            "DocumentReference.custodian",
            "DocumentReference.relatesTo",
            "DocumentReference.securityLabel",
            "DocumentReference.context.sourcePatientInfo",
            "DocumentReference.context.related",
        }

        binary = StoredBinary(uuid4(), "text/plain", 3, "hash", "sha256", "k", None, patient)
        stored = replace(document, binary_id=binary.id)
        out = valid(maps.external(stored, binary, BASE))
        for key in ("status", "docStatus", "type", "category", "masterIdentifier", "identifier"):
            assert out[key] == body[key], key
        for key in ("event", "facilityType", "practiceSetting"):
            assert out["context"][key] == body["context"][key], key
        assert out["content"][0]["attachment"]["url"] == f"{BASE}/Binary/{binary.id}"

    @pytest.mark.parametrize(
        ("url", "found"),
        [
            ("Binary/abc", "abc"),
            (f"{BASE}/Binary/abc", "abc"),
            ("http://example.org/xds/mhd/Binary/abc", None),
            ("Binary/abc/_history/1", None),
            ("DocumentReference/abc", None),
        ],
    )
    def test_only_binaries_of_this_server_are_content(self, url: str, found: str | None) -> None:
        assert maps.binary_id_of(url, BASE) == found

    def test_a_foreign_subject_or_a_foreign_url_is_refused_with_its_path(self) -> None:
        body = _example_with_patient("xcda")
        with pytest.raises(ValidationFailed) as raised:
            maps.from_fhir(body, BASE)
        assert [e.field for e in raised.value.errors] == ["DocumentReference.subject"]
        body = example("DocumentReference-example")
        body["subject"] = {"reference": f"Patient/{uuid4()}"}
        body["context"].pop("encounter")
        with pytest.raises(ValidationFailed) as raised:
            maps.from_fhir(body, BASE)
        assert [e.field for e in raised.value.errors] == [
            "DocumentReference.content[0].attachment.url"
        ]

    def test_partial_dates_are_read_as_their_start(self) -> None:
        assert maps.moment("2005") == datetime(2005, 1, 1, tzinfo=UTC)
        assert maps.moment("2005-12") == datetime(2005, 12, 1, tzinfo=UTC)
        assert maps.moment("2005-12-24") == datetime(2005, 12, 24, tzinfo=UTC)
        assert maps.moment(None) is None
