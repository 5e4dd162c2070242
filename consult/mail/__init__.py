"""Email through an outbox: rows written in the act's own transaction, sent by the worker."""
