"""What the Telegram, Bluesky and Mastodon fetchers share: reading answers, dates, plain text.

Kept apart from any one platform so the rules are the same everywhere: a non-200 answer is
retryable only for 5xx and 429, a body that is not the promised type is an
``UnexpectedResponseError``, dates are stored as UTC ``…Z``, and archived text is plain text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from bs4 import BeautifulSoup, Tag

from ..capture.http import Fetched
from ..errors import FetchError, UnexpectedResponseError
from ..untrusted import load_json

_BLOCKS = ("p", "div", "li", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6")
_TAGS_WITHOUT_TEXT = ("script", "style", "template", "noscript")


def fail_unless_ok(got: Fetched, what: str) -> None:
    """Any answer but 200 that the caller did not already read as "gone" is a failure."""
    if got.status != 200:
        error = json_error(got)
        raise FetchError(
            f"{what} answered HTTP {got.status}" + (f" ({error})" if error else ""),
            retryable=got.status >= 500 or got.status == 429,
        )


def json_body(got: Fetched, what: str) -> Any:
    """The parsed JSON of an answer, refusing bodies that are not JSON at all."""
    if "json" not in got.content_type.lower():
        raise UnexpectedResponseError(
            f"{what} answered {got.content_type or 'no content type'}, not JSON"
        )
    try:
        return load_json(got.body)
    except ValueError:
        raise UnexpectedResponseError(f"{what} answered malformed JSON") from None


@contextmanager
def reading(what: str) -> Iterator[None]:
    """Reading an answer's fields: a value of the wrong type anywhere (a list where an object
    was promised, a string for a number, a timestamp out of range) is the platform answering in
    a shape we do not understand, so an ``UnexpectedResponseError``, never a traceback.
    """
    try:
        yield
    except (AttributeError, TypeError, KeyError, IndexError, ValueError, OverflowError) as err:
        raise UnexpectedResponseError(
            f"{what} answered JSON of an unexpected shape ({type(err).__name__})"
        ) from None


def json_error(got: Fetched) -> str | None:
    """The ``error`` field of a JSON error body (xrpc and Mastodon both use it), if any."""
    if "json" not in got.content_type.lower():
        return None
    try:
        data = load_json(got.body)
    except ValueError:
        return None
    error = data.get("error") if isinstance(data, dict) else None
    return str(error) if error else None


def iso_utc(value: object) -> str | None:
    """An ISO 8601 time with any offset as UTC ``YYYY-MM-DDTHH:MM:SS[.fff[fff]]Z``, no digit lost.

    A value that does not parse is kept as the platform wrote it: it is evidence, not ours to drop.
    """
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return value
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    micro = parsed.microsecond
    spec = "seconds" if not micro else "milliseconds" if micro % 1000 == 0 else "microseconds"
    try:
        utc = parsed.astimezone(UTC)
    except OverflowError:  # year 1 ahead of UTC, year 9999 behind it: a client's made-up time
        return value
    return utc.isoformat(timespec=spec).replace("+00:00", "Z")


def html_to_text(fragment: str | Tag) -> str:
    """Plain text of an HTML fragment as a reader sees it: ``<br>`` a line, a paragraph a blank line.

    Parsed by BeautifulSoup (never stripped with regexes), so entities are decoded and
    scripts or styles never leak into the archived text.
    """
    soup = BeautifulSoup(str(fragment), "lxml")
    for tag in soup.find_all(_TAGS_WITHOUT_TEXT):
        tag.decompose()
    for br in soup.find_all("br"):
        br.replace_with("\n")
    for block in soup.find_all(_BLOCKS):
        block.insert_after("\n\n")
    text = soup.get_text()
    text = re.sub(r"[ \t\u00a0]*\n[ \t\u00a0]*", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
