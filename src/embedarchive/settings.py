"""One Settings object, built from defaults < TOML file < EMBEDARCHIVE_* env vars < CLI flags.

It is passed explicitly to every stage (no globals), and remembers where each value came
from so ``embedarchive config`` can show it. Every remote endpoint is a setting, so tests
and users with mirrors or alternative front-ends can point the tool elsewhere.
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .errors import ConfigError

ENV_PREFIX = "EMBEDARCHIVE_"
CONFIG_FILE_NAME = "embedarchive.toml"


def _doc(text: str) -> dict[str, str]:
    return {"doc": text}


@dataclass(frozen=True)
class Settings:
    archive_dir: Path = field(
        default=Path("archive"), metadata=_doc("Archive folder: database and media.")
    )
    user_agent: str = field(
        default="embedarchive/0.1 (+archiving embedded posts of news articles)",
        metadata=_doc(
            "User-Agent of every request; a non-browser UA makes t.co answer with a plain redirect."
        ),
    )
    connect_timeout: float = field(default=10.0, metadata=_doc("Seconds to connect."))
    read_timeout: float = field(default=30.0, metadata=_doc("Seconds between bytes of a response."))
    total_timeout: float = field(
        default=600.0,
        metadata=_doc(
            "Seconds one whole response (article, API answer, media file) may take; a server "
            "that trickles bytes slower than the read timeout is cut off here."
        ),
    )
    max_redirects: int = field(default=10, metadata=_doc("Redirect hops followed per request."))
    max_article_bytes: int = field(default=50_000_000, metadata=_doc("Size cap of an article."))
    max_json_bytes: int = field(default=20_000_000, metadata=_doc("Size cap of an API response."))
    max_media_bytes: int = field(
        default=2_000_000_000, metadata=_doc("Size cap of one media file.")
    )
    allow_private_network: bool = field(
        default=False,
        metadata=_doc("Allow requests to loopback/private addresses (tests, intranet mirrors)."),
    )
    operator: str | None = field(
        default=None, metadata=_doc("Name recorded as operator of each run (opt-in).")
    )
    record_host: bool = field(
        default=False, metadata=_doc("Record this machine's host name with each run (opt-in).")
    )
    twitter_methods: tuple[str, ...] = field(
        default=("syndication", "oembed", "ytdlp"),
        metadata=_doc("Order of X/Twitter fetch methods; add 'fxtwitter' to opt in to FxTwitter."),
    )
    twitter_syndication_url: str = field(
        default="https://cdn.syndication.twimg.com/tweet-result",
        metadata=_doc("X syndication tweet-result endpoint."),
    )
    twitter_oembed_url: str = field(
        default="https://publish.twitter.com/oembed", metadata=_doc("X oEmbed endpoint.")
    )
    fxtwitter_url: str = field(
        default="https://api.fxtwitter.com", metadata=_doc("FxTwitter API base (opt-in method).")
    )
    twitter_pic_url: str = field(
        default="https://pic.twitter.com",
        metadata=_doc("Where pic.twitter.com/<code> links are expanded."),
    )
    twitter_tco_url: str = field(
        default="https://t.co", metadata=_doc("Where t.co/<code> links are expanded.")
    )
    telegram_url: str = field(
        default="https://t.me",
        metadata=_doc("Telegram public post pages (<url>/<channel>/<id>?embed=1)."),
    )
    bluesky_appview_url: str = field(
        default="https://public.api.bsky.app", metadata=_doc("Bluesky AppView (xrpc) base.")
    )
    bluesky_plc_url: str = field(
        default="https://plc.directory",
        metadata=_doc("PLC directory for did:plc documents (finds the author's PDS)."),
    )
    mastodon_api_url: str | None = field(
        default=None,
        metadata=_doc(
            "Send Mastodon API calls here instead of the post's own instance (mirrors, tests)."
        ),
    )
    youtube_oembed_url: str = field(
        default="https://www.youtube.com/oembed",
        metadata=_doc("YouTube oEmbed endpoint (metadata)."),
    )
    vimeo_oembed_url: str = field(
        default="https://vimeo.com/api/oembed.json",
        metadata=_doc("Vimeo oEmbed endpoint (metadata)."),
    )
    tiktok_oembed_url: str = field(
        default="https://www.tiktok.com/oembed", metadata=_doc("TikTok oEmbed endpoint (metadata).")
    )
    ytdlp_mirrors: tuple[str, ...] = field(
        default=(),
        metadata=_doc(
            "PREFIX|REPLACEMENT pairs (comma-separated): yt-dlp fetches a post URL starting with "
            "PREFIX from REPLACEMENT instead (alternative front-ends, mirrors, tests)."
        ),
    )
    cookies_file: Path | None = field(
        default=None,
        metadata=_doc("Netscape cookies file handed to yt-dlp (your own logged-in session)."),
    )
    ytdlp_max_duration: float = field(
        default=4 * 3600.0,
        metadata=_doc("Longest video (seconds) yt-dlp downloads; longer is refused."),
    )
    ytdlp_timeout: float = field(
        default=600.0, metadata=_doc("Seconds one yt-dlp download may take.")
    )
    ffmpeg_location: str | None = field(
        default=None,
        metadata=_doc("ffmpeg binary for yt-dlp; default: the machine's, else imageio-ffmpeg's."),
    )
    durable_commits: bool = field(
        default=False,
        metadata=_doc(
            "Sync the database to disk at every commit (SQLite synchronous=FULL). Off: WAL "
            "with synchronous=NORMAL, which survives a killed process whole and never "
            "corrupts, but may lose the last commits to a power cut (their work is redone by "
            "the next run); on, each commit waits for the disk."
        ),
    )
    warc_max_bytes: int = field(
        default=1_000_000_000,
        metadata=_doc(
            "A WARC file is closed (and named by its sha256) once it reaches this size; one "
            "capture's records always stay in one file."
        ),
    )
    tsa_url: str = field(
        default="https://freetsa.org/tsr",
        metadata=_doc("RFC 3161 Time-Stamping Authority that 'embedarchive seal' asks."),
    )
    tsa_ca_file: Path | None = field(
        default=None,
        metadata=_doc(
            "PEM certificate(s) of the TSA's CA: 'verify' then requires timestamp tokens to chain "
            "to them (otherwise it checks them against the certificate inside the token)."
        ),
    )
    wayback_cdx_url: str = field(
        default="https://web.archive.org/cdx/search/cdx",
        metadata=_doc("Wayback Machine CDX API: where 'recover' looks up snapshots."),
    )
    wayback_url: str = field(
        default="https://web.archive.org/web",
        metadata=_doc(
            "Wayback Machine replay: snapshots are fetched as <url>/<timestamp>id_/<original>."
        ),
    )
    recover_min_similarity: float = field(
        default=0.9,
        metadata=_doc(
            "Lowest text similarity (difflib ratio of normalised texts, 0-1) at which 'recover' "
            "takes a candidate post as the one an article showed without a link."
        ),
    )
    recover_max_candidates: int = field(
        default=100,
        metadata=_doc("Most candidate posts 'recover' fetches for one embed without a link."),
    )

    retry_base_delay: float = field(
        default=60.0,
        metadata=_doc(
            "Seconds before a transiently failed queue item may be retried ('embedarchive "
            "retry'); doubles with each attempt, with random jitter."
        ),
    )
    retry_max_delay: float = field(
        default=6 * 3600.0,
        metadata=_doc("Longest wait (seconds) between two retries of one queue item."),
    )

    jobs: int = field(
        default=4,
        metadata=_doc(
            "Articles and posts fetched at the same time by 'archive' and 'retry' (--jobs)."
        ),
    )
    per_host_connections: int = field(
        default=4,
        metadata=_doc("Most requests open at the same time to one host."),
    )
    per_host_rate: float = field(
        default=10.0,
        metadata=_doc("Most requests started per second to one host (0: no limit)."),
    )
    http_retries: int = field(
        default=3,
        metadata=_doc(
            "Times a request answered 429/503 is sent again (after its Retry-After, else "
            "exponential backoff with jitter from http_backoff_base)."
        ),
    )
    http_backoff_base: float = field(
        default=1.0,
        metadata=_doc("First wait (seconds) before re-sending a 429/503 request."),
    )
    http_backoff_max: float = field(
        default=60.0,
        metadata=_doc("Longest wait (seconds) for one Retry-After or backoff; longer is failed."),
    )
    host_failure_threshold: int = field(
        default=5,
        metadata=_doc(
            "After this many failures in a row (429, 5xx, no connection) a host is paused "
            "with exponential backoff before its next request."
        ),
    )

    @property
    def db_path(self) -> Path:
        return self.archive_dir / "archive.db"

    @property
    def media_dir(self) -> Path:
        return self.archive_dir / "media"

    def env_name(self, name: str) -> str:
        return ENV_PREFIX + name.upper()


@dataclass(frozen=True)
class LoadedSettings:
    settings: Settings
    sources: Mapping[str, str]


def _convert(name: str, annotation: Any, raw: Any) -> Any:
    kind = str(annotation)
    if "None" in kind and (raw is None or raw == ""):
        return None
    try:
        if "tuple" in kind:
            items = raw if isinstance(raw, list | tuple) else str(raw).split(",")
            return tuple(str(i).strip() for i in items if str(i).strip())
        if kind == "bool":
            if isinstance(raw, bool):
                return raw
            value = str(raw).strip().lower()
            if value in {"1", "true", "yes", "on"}:
                return True
            if value in {"0", "false", "no", "off", ""}:
                return False
            raise ValueError(raw)
        # A TOML file hands over typed values: 4.5 jobs or a timeout of true is a mistake,
        # not 4 jobs or 1 s (an environment variable is text, and "4.5" fails int() anyway).
        if kind == "int":
            if isinstance(raw, bool | float):
                raise ValueError(raw)
            return int(raw)
        if kind == "float":
            if isinstance(raw, bool):
                raise ValueError(raw)
            return float(raw)
        if kind.startswith("Path"):
            return Path(str(raw)).expanduser()
        return str(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"setting {name} has an invalid value: {raw!r}") from None


def load_settings(
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    config_file: Path | None = None,
) -> LoadedSettings:
    """Merge defaults, the TOML file, the environment and explicit overrides (highest wins)."""
    env = os.environ if environ is None else environ
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    values: dict[str, Any] = {}
    sources: dict[str, str] = {f.name: "default" for f in fields(Settings)}
    by_name = {f.name: f for f in fields(Settings)}

    archive_dir = overrides.get("archive_dir") or env.get(ENV_PREFIX + "ARCHIVE_DIR") or "archive"
    path = config_file or (
        Path(env[ENV_PREFIX + "CONFIG"]) if env.get(ENV_PREFIX + "CONFIG") else None
    )
    if path is None:
        candidate = Path(str(archive_dir)) / CONFIG_FILE_NAME
        path = candidate if candidate.is_file() else None
    if path is not None:
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
            raise ConfigError(f"cannot read config file {path}: {err}") from None
        for key, raw in data.items():
            if key not in by_name:
                raise ConfigError(f"unknown setting {key!r} in {path}")
            values[key] = _convert(key, by_name[key].type, raw)
            sources[key] = f"file {path}"
    for name, f in by_name.items():
        env_key = ENV_PREFIX + name.upper()
        if env_key in env:
            values[name] = _convert(name, f.type, env[env_key])
            sources[name] = f"env {env_key}"
    for name, raw in overrides.items():
        if name not in by_name:
            raise ConfigError(f"unknown setting {name!r}")
        values[name] = _convert(name, by_name[name].type, raw)
        sources[name] = "command line"
    settings = Settings(**values)
    _validate(settings)
    return LoadedSettings(settings, sources)


#: Numeric settings where 0 means something (no redirect, no limit, no wait, any similarity);
#: every other one must be above 0 (a cap of 0 bytes, 0 jobs or a 0 s timeout would fail or
#: stall every item).
_ZERO_ALLOWED = frozenset(
    {
        "max_redirects",
        "per_host_rate",
        "http_retries",
        "http_backoff_base",
        "http_backoff_max",
        "retry_base_delay",
        "retry_max_delay",
        "recover_min_similarity",
    }
)


#: Counts of threads and connections: past these a run would try to start more threads than
#: a machine has (100,000 jobs: "can't start new thread"; a 23-digit count filled 24 GB).
MAXIMA = {"jobs": 1024, "per_host_connections": 1024}


def _validate(settings: Settings) -> None:
    for f in fields(settings):
        value = getattr(settings, f.name)
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        zero = f.name in _ZERO_ALLOWED
        if not math.isfinite(value) or value < 0 or (value == 0 and not zero):
            least = "0 or more" if zero else "more than 0"
            raise ConfigError(f"setting {f.name} must be a number {least}, got {value!r}")
        if f.name in MAXIMA and value > MAXIMA[f.name]:
            raise ConfigError(f"setting {f.name} must be at most {MAXIMA[f.name]}, got {value!r}")
    if not settings.twitter_methods:
        raise ConfigError("setting twitter_methods names no method: X posts could not be fetched")
    if settings.recover_min_similarity > 1:
        raise ConfigError("setting recover_min_similarity is a ratio: at most 1")
    known = {"syndication", "oembed", "fxtwitter", "ytdlp"}
    unknown = [m for m in settings.twitter_methods if m not in known]
    if unknown:
        raise ConfigError(
            f"unknown X/Twitter method(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    for pair in settings.ytdlp_mirrors:
        prefix, sep, replacement = pair.partition("|")
        if not sep or not prefix or not replacement.startswith(("http://", "https://")):
            raise ConfigError(f"ytdlp_mirrors entry {pair!r} must be PREFIX|http(s)://REPLACEMENT")
    for f in fields(settings):
        if f.name.endswith("_url"):
            value = getattr(settings, f.name)
            if value is not None and not (
                str(value).startswith(("http://", "https://")) and urlsplit(str(value)).hostname
            ):
                raise ConfigError(f"setting {f.name} must be an http(s) URL, got {value!r}")


def describe(loaded: LoadedSettings) -> list[dict[str, Any]]:
    """Every setting with its value, env var, source and doc, for ``embedarchive config``."""
    rows = []
    for f in fields(Settings):
        value = getattr(loaded.settings, f.name)
        if isinstance(value, tuple):
            value = ",".join(value)
        elif isinstance(value, Path):
            value = str(value)
        rows.append(
            {
                "name": f.name,
                "env": ENV_PREFIX + f.name.upper(),
                "value": value,
                "source": loaded.sources[f.name],
                "doc": f.metadata.get("doc", ""),
            }
        )
    return rows
