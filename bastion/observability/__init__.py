"""Observability: structured logging (metrics, tracing and audit arrive with their issues)."""
