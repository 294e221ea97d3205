"""FHIR R4 interface rules that need no I/O: search-parameter parsing and criteria."""
