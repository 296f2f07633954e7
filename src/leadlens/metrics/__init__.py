"""Metrics: Ibis expressions over the store's tables (DuckDB by default)."""
