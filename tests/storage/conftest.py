"""Fixtures of the storage tests: the PostgreSQL server and the engines are in tests/conftest.py."""
