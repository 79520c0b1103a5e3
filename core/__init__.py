"""Shared infrastructure below every app: it imports no app and no project module."""
