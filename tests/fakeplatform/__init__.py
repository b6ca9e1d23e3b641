"""Fake platforms for the test-suite (X/Twitter, Telegram, Bluesky, Mastodon): real HTTP on
127.0.0.1, fixture data in data/."""

from .data import (
    CASES,
    DATA_DIR,
    MEDIA_DIR,
    SEED_ID,
    SEED_PIC_CODE,
    SYNDICATION_CASES,
    TCO_LOOP,
    TCO_TWO_HOP,
    TOKENS,
    TWEETS,
)
from .server import FakePlatform, RecordedRequest

__all__ = [
    "CASES",
    "DATA_DIR",
    "MEDIA_DIR",
    "SEED_ID",
    "SEED_PIC_CODE",
    "SYNDICATION_CASES",
    "TCO_LOOP",
    "TCO_TWO_HOP",
    "TOKENS",
    "TWEETS",
    "FakePlatform",
    "RecordedRequest",
]
