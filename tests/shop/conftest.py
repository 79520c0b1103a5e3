"""The shopper page's tests use the shared personas, intake fixture and browser rig (tests/conftest.py)."""
