"""Writes on the outbox: enqueue, send, retry; the shopper notifications; inbound email replies."""
