"""Test doubles: real servers standing in for external systems."""
