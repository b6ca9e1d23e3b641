"""One error tree. Every error a user can meet has a one-line message and says if retrying may help.

Mirrors yt-dlp's "expected" flag: a platform saying no is not a bug, so it never shows a traceback.
"""

from __future__ import annotations

import errno
import sqlite3


class EmbedArchiveError(Exception):
    """Base of every anticipated failure; the CLI prints ``str(err)`` on one line."""

    retryable: bool = False
    exit_code: int = 1

    def __init__(self, message: str, *, retryable: bool | None = None) -> None:
        super().__init__(message)
        if retryable is not None:
            self.retryable = retryable


class InputError(EmbedArchiveError):
    """The user gave something we cannot read as an article or a setting."""

    exit_code = 2


class ConfigError(InputError):
    """A setting has an invalid value."""


class FetchError(EmbedArchiveError):
    """A request failed in a way that may succeed later (network down, 5xx, timeout)."""

    retryable = True


class BlockedAddressError(FetchError):
    """The target resolves to a private, loopback or otherwise non-public address."""

    retryable = False


class TooLargeError(FetchError):
    """A body exceeded its configured size cap."""

    retryable = False


class UnexpectedResponseError(FetchError):
    """The platform answered, but not in a shape we understand (HTML instead of JSON, say)."""


class UnavailableError(EmbedArchiveError):
    """The platform says the post is gone, private, suspended or age-restricted: final, not a bug."""

    retryable = False


class StoreError(EmbedArchiveError):
    """The archive cannot be opened or written (missing, read-only, newer schema, disk full)."""

    exit_code = 2


class DiskFullError(StoreError):
    """The disk holding the archive is full (ENOSPC, SQLite's "database or disk is full").

    The run stops at once instead of going on with other items, which would fail the same
    way: what was committed before stays whole (``verify`` passes), the unit being written
    is rolled back and its temp files removed, and the same command continues once there is
    space again.
    """


_DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})


def is_disk_full(err: BaseException) -> bool:
    """Whether ``err`` says the disk (or the user's quota) is full."""
    if isinstance(err, OSError):
        return err.errno in _DISK_FULL_ERRNOS
    if isinstance(err, sqlite3.Error):
        code = getattr(err, "sqlite_errorcode", None)
        return code is not None and code & 0xFF == sqlite3.SQLITE_FULL
    return False


def write_error(err: OSError | sqlite3.Error, what: str) -> StoreError:
    """The ``StoreError`` for a failed write of ``what``: a ``DiskFullError`` when the disk
    is full, with the one line the user needs."""
    if is_disk_full(err):
        return DiskFullError(
            f"disk full: cannot write {what}; the run stopped, everything stored before is "
            "intact: free some space and run the same command again to continue"
        )
    reason = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
    return StoreError(f"cannot write {what}: {reason}")
