"""The FHIR server engine: resource registry, interactions, Bundles (no HTTP framework)."""
