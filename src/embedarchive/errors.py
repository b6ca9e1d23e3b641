"""One error tree. Every error a user can meet has a one-line message and says if retrying may help.

Mirrors yt-dlp's "expected" flag: a platform saying no is not a bug, so it never shows a traceback.
"""

from __future__ import annotations


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
