"""Prescribing: products, orders and the medication-safety engine (``safety``)."""
