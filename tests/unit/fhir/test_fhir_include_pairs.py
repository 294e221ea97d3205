"""``_include`` / ``_revinclude``: the parser, and the one table of pairs against the
registry (every pair names registered types, and a ``_revinclude`` pair only a
reference parameter the source type's search really takes)."""

from __future__ import annotations

import pytest

from afiya.adapters.fhir.engine import catalog
from afiya.adapters.fhir.engine.includes import PAIRS, includes_of, revincludes_of, search_spec
from afiya.domain.fhir.search import ParamType, SearchError, SearchSpec, parse_search

SPEC = SearchSpec(
    params={"identifier": ParamType.TOKEN},
    includes=frozenset({"Patient:organization", "Patient:organization:Organization"}),
    revincludes=frozenset({"Observation:patient", "Observation:patient:Patient"}),
)


class TestParser:
    def test_revincludes_are_kept_once_in_the_type_param_form(self):
        request = parse_search(
            "Patient",
            [
                ("_revinclude", "Observation:patient"),
                ("_revinclude", "Observation:patient:Patient"),
                ("_include", "Patient:organization:Organization"),
            ],
            SPEC,
        )

        assert request.revincludes == ("Observation:patient",)
        assert request.includes == ("Patient:organization",)
        assert request.criteria == ()

    @pytest.mark.parametrize(
        ("key", "value"),
        [
            ("_revinclude", "Encounter:patient"),
            ("_revinclude", "Observation:patient:Practitioner"),
            ("_revinclude", "Observation:subject"),
            ("_revinclude", "*"),
            ("_revinclude", ""),
            ("_include", "Observation:patient"),  # an include of another type
            ("_revinclude:iterate", "Observation:patient"),
            ("_include:iterate", "Patient:organization"),
        ],
    )
    def test_what_the_type_does_not_take_is_refused_naming_the_parameter(self, key, value):
        with pytest.raises(SearchError) as raised:
            parse_search("Patient", [(key, value)], SPEC)
        assert raised.value.details["parameter"] == key.partition(":")[0]

    def test_lenient_handling_does_not_relax_includes(self):
        with pytest.raises(SearchError):
            parse_search("Patient", [("_revinclude", "Encounter:patient")], SPEC, lenient=True)


class TestTable:
    def test_pairs_name_registered_types_with_reads(self):
        for pair in PAIRS:
            assert pair.source in catalog.REGISTRY, pair
            assert catalog.REGISTRY[pair.target].read is not None, pair

    def test_a_revinclude_pair_is_a_reference_search_of_its_source(self):
        for pair in PAIRS:
            params = catalog.REGISTRY[pair.source].search_spec.params
            served = params.get(pair.param) is ParamType.REFERENCE
            assert pair.revinclude == served, pair

    def test_pairs_are_unique_and_the_spec_of_a_type_carries_its_own(self):
        assert len({p.name for p in PAIRS}) == len(PAIRS)
        spec = search_spec(catalog.REGISTRY["Patient"])
        assert "Observation:patient" in spec.revincludes
        assert "Observation:patient:Patient" in spec.revincludes
        assert spec.includes == frozenset()
        assert {p.name for p in includes_of("Appointment")} == {"Appointment:patient"}
        assert "MedicationDispense:prescription" in {
            p.name for p in revincludes_of("MedicationRequest")
        }
