"""One exception hierarchy: callers branch on the class, never on message text."""

from __future__ import annotations

__all__ = [
    "FatalSourceError",
    "LeadlensError",
    "SourceError",
    "StoreDamagedError",
    "StoreError",
    "StoreLockedError",
    "StoreSchemaError",
    "TransientSourceError",
    "UserError",
]


class LeadlensError(Exception):
    """Base of every error leadlens raises on purpose."""


class UserError(LeadlensError):
    """Bad input the user can fix; the CLI prints the message on one line and exits 2."""


class StoreError(UserError):
    """The store cannot be opened or written as asked."""


class StoreLockedError(StoreError):
    """Another process holds the store's write lock."""


class StoreDamagedError(StoreError):
    """The store file is not a whole DuckDB file: truncated, overwritten, or another kind of file."""


class StoreSchemaError(StoreError):
    """The store was written by a newer leadlens, or is not a leadlens store."""


class SourceError(LeadlensError):
    """A source could not deliver its data."""


class TransientSourceError(SourceError):
    """Worth retrying later: a timeout, a rate limit, a process that was interrupted."""


class FatalSourceError(SourceError, UserError):
    """Retrying will not help: not a repository, bad credentials, corrupt history."""
