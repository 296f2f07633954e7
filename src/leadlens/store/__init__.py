"""The embedded DuckDB store: migrations, the single writer, and read access for analyses."""

from leadlens.store.db import DEFAULT_STORE, SCHEMA_VERSION, Store, open_store

__all__ = ["DEFAULT_STORE", "SCHEMA_VERSION", "Store", "open_store"]
