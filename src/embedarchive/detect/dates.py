"""Dates as embeds show them, in the embedding page's language, turned into ISO ``YYYY-MM-DD``.

An official blockquote prints its date in the ``lang`` of the embed code ("November 14, 2025",
"25. September 2018", "14 novembre 2025", "2025年11月14日", "14 ноября 2025 г."), so month names
cannot be a fixed English table; ``dateparser`` knows some 200 locales. It is slow on strings
that are not dates (it tries every language) and takes milliseconds on the ones that are, so
the dates embed codes print most ("November 14, 2025", "Nov 14, 2025 at 9:06 AM",
"14. November 2025") are read here first, and it is only called on another short candidate
that already has a year and a day: the shape is checked here, the language is left to it.
"""

from __future__ import annotations

import re
from datetime import datetime

import dateparser

_YEAR_RE = re.compile(r"(?<!\d)\d{4}(?!\d)")
_CJK_AFTER_YEAR_RE = re.compile(r"\s*[年년]\s*\d{1,2}\s*[月월]\s*\d{1,2}\s*[日일]?")
_NUMERIC_AFTER_YEAR_RE = re.compile(r"[./-]\s*\d{1,2}\s*[./-]\s*\d{1,2}(?!\d)")
_WORD_AFTER_YEAR_RE = re.compile(r"\.?\s+[^\W\d_]{3,15}\.?\s+\d{1,2}(?!\d)\.?")
_DIGITS_RE = re.compile(r"\d+")
_EN_MONTHS = (
    "january february march april may june july august september october november december"
).split()
_DE_MONTHS = "januar februar märz april mai juni juli august september oktober november dezember"
#: Month names (English in full or as three letters, German in full) to their numbers.
_MONTHS = {name: i for i, name in enumerate(_EN_MONTHS, 1)}
_MONTHS.update({name[:3]: i for i, name in enumerate(_EN_MONTHS, 1)})
_MONTHS.update({name: i for i, name in enumerate(_DE_MONTHS.split(), 1)})
_COMMON_DATE = re.compile(
    r"(?:(?P<month>[A-Za-zä]{3,9})\.? (?P<day>\d{1,2}), (?P<year>\d{4})"
    r"(?: at (?:1[0-2]|0?[1-9]):[0-5]\d (?:AM|PM))?"
    r"|(?P<day2>\d{1,2})\. (?P<month2>[A-Za-zä]{3,9}) (?P<year2>\d{4}))"
)

#: How far after the author the date may start, and how long its text may be.
_MAX_LEAD = 25
_MAX_DATE_LEN = 40
#: How much of the line after an attribution ``find_date`` reads: callers need not cut more
#: (on a line of a million characters, cutting all of it for each of its attributions is
#: quadratic).
DATE_WINDOW = _MAX_LEAD + 2 * _MAX_DATE_LEN

_SETTINGS = {
    "REQUIRE_PARTS": ["day", "month", "year"],
    "RETURN_AS_TIMEZONE_AWARE": False,
    "PREFER_DATES_FROM": "past",
}


def find_date(rest: str) -> tuple[str, int] | None:
    """The date text at the start of ``rest`` (the line after an attribution) and where it ends.

    Returns None when no year is close enough: an attribution without a date is not the
    textified embed form. The end lets callers tell the date from article text that follows it
    on the same line ("… November 14, 2025. The ministry said …").
    """
    year = _YEAR_RE.search(rest, 0, _MAX_LEAD + _MAX_DATE_LEN)
    if year is None:
        return None
    lead = rest[: year.start()]
    if lead.strip():
        start = len(lead) - len(lead.lstrip())
        if start > _MAX_LEAD or year.end() - start > _MAX_DATE_LEN or not _DIGITS_RE.search(lead):
            # Month-first or day-first dates need the day before the year ("14 Nov 2025").
            return None
        return rest[start : year.end()], year.end()
    # Year first: 2025年11月14日, 2025-11-14, "2025. november 14."
    for follow in (_CJK_AFTER_YEAR_RE, _NUMERIC_AFTER_YEAR_RE, _WORD_AFTER_YEAR_RE):
        m = follow.match(rest, year.end(), DATE_WINDOW)
        if m:
            return rest[year.start() : m.end()], m.end()
    return None


def iso_date(text: str) -> str | None:
    """``YYYY-MM-DD`` for a date written in any language, or None when it is not a full date."""
    text = " ".join(text.replace("\u00b7", " ").split())
    common = _common_date(text)
    if common is not None:
        return common
    if len(_DIGITS_RE.findall(text)) < 2 and not any(c in text for c in "年년月월"):
        return None
    try:
        parsed: datetime | None = dateparser.parse(text, settings=_SETTINGS)
    except (ValueError, OverflowError):
        return None
    return parsed.date().isoformat() if parsed else None


def _common_date(text: str) -> str | None:
    """The ISO date of an English "Month D, YYYY" or German "D. Monat YYYY", as dateparser
    reads them (tests compare the two), or None for anything else."""
    m = _COMMON_DATE.fullmatch(text)
    if m is None:
        return None
    month = _MONTHS.get((m.group("month") or m.group("month2")).lower())
    if month is None:
        return None
    try:
        day = datetime(int(m.group("year") or m.group("year2")), month, 1).replace(
            day=int(m.group("day") or m.group("day2"))
        )
    except ValueError:
        return None
    return day.date().isoformat() if day.year >= 1900 else None
