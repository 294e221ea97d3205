"""Afiya: hospital information system backend for the Sahel."""

__version__ = "0.1.0"
