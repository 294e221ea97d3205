"""PBF intelligence routes."""
