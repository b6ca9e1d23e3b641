"""Article scans (store/scans.py): a re-run over an unchanged, settled article reuses what is
stored; a changed detector, a changed article or an unsettled embed goes the whole way."""

from __future__ import annotations

from pathlib import Path

from sqlite_utils import Database

from embedarchive.capture.context import FetchContext
from embedarchive.pipeline import ArticleResult, archive_article
from embedarchive.platforms import REGISTRY
from embedarchive.platforms.base import Platform
from embedarchive.session import fetching_run
from embedarchive.settings import load_settings
from embedarchive.store.scans import detector_fingerprint

from .helpers import SEED, counts

ALL = REGISTRY
WITHOUT_YOUTUBE = tuple(p for p in REGISTRY if p.name != "youtube")
WITHOUT_TWITTER = tuple(p for p in REGISTRY if p.name != "twitter")


def _archive(
    fake, archive_dir: Path, source: Path, registry: tuple[Platform, ...] = ALL
) -> ArticleResult:
    overrides = {
        **fake.settings_overrides(),
        "archive_dir": archive_dir,
        "twitter_methods": "syndication,oembed",
    }
    loaded = load_settings(overrides, environ={})
    with fetching_run(loaded, "archive") as (store, files, http, run_id):
        ctx = FetchContext(settings=loaded.settings, http=http, files=files)
        return archive_article(str(source), store=store, ctx=ctx, run_id=run_id, registry=registry)


def _scans(archive_dir: Path) -> list[tuple[int, str, int]]:
    db = Database(archive_dir / "archive.db")
    return [(r["article_id"], r["detector"], r["found"]) for r in db["article_scans"].rows]


def test_rerun_of_a_settled_article_reuses_the_stored_embeds(
    fake_platform, archive_dir: Path
) -> None:
    first = _archive(fake_platform, archive_dir, SEED)
    assert first.archived == 1 and first.new_article
    [(article_id, detector, found)] = _scans(archive_dir)
    before, requests = counts(archive_dir), len(fake_platform.requests)

    again = _archive(fake_platform, archive_dir, SEED)

    assert (again.article_id, again.new_article, again.found, again.already) == (
        article_id,
        False,
        1,
        1,
    )
    [item] = again.items
    assert item["status"] == "already archived"
    assert item["handle"] == "trhaber_com"
    assert item["url"] == first.items[0]["url"]
    assert _scans(archive_dir) == [(article_id, detector, found)]
    assert counts(archive_dir) == before
    assert len(fake_platform.requests) == requests


def test_a_changed_detector_reads_the_article_again(fake_platform, archive_dir: Path) -> None:
    _archive(fake_platform, archive_dir, SEED)
    again = _archive(fake_platform, archive_dir, SEED, WITHOUT_YOUTUBE)
    scans = _scans(archive_dir)
    assert len(scans) == 2 and scans[0][1] != scans[1][1]
    assert again.already == 1 and again.items[0]["status"] == "already archived"


def test_an_unsettled_embed_is_fetched_again(fake_platform, archive_dir: Path) -> None:
    fake_platform.outage = True
    first = _archive(fake_platform, archive_dir, SEED)
    assert first.failed == 1 and len(_scans(archive_dir)) == 1
    fake_platform.outage = False

    again = _archive(fake_platform, archive_dir, SEED)

    assert again.archived == 1
    assert Database(archive_dir / "archive.db").execute("select status from posts").fetchone() == (
        "archived",
    )


def test_a_changed_article_is_a_new_article(
    fake_platform, archive_dir: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "article.txt"
    copy.write_bytes(SEED.read_bytes())
    _archive(fake_platform, archive_dir, copy)
    copy.write_bytes(SEED.read_bytes() + "\nFrissítve.\n".encode())
    again = _archive(fake_platform, archive_dir, copy)
    assert again.new_article and again.found == 1 and again.already == 1
    assert [s[0] for s in _scans(archive_dir)] == [1, 2]


def test_a_recorded_scan_is_trusted_instead_of_detecting_again(
    fake_platform, archive_dir: Path
) -> None:
    """Shown with a detector that could not find the post: the stored scan answers for it."""
    _archive(fake_platform, archive_dir, SEED)
    blind = detector_fingerprint(tuple(p.name for p in WITHOUT_TWITTER))
    db = Database(archive_dir / "archive.db")
    db.execute(
        "insert into article_scans (article_id, detector, found, scanned_at, run_id)"
        " values (1, ?, 1, '2026-01-01T00:00:00Z', 1)",
        [blind],
    )
    db.conn.commit()
    assert _archive(fake_platform, archive_dir, SEED, WITHOUT_TWITTER).found == 1
    unscanned = tuple(p for p in WITHOUT_TWITTER if p.name != "youtube")
    assert _archive(fake_platform, archive_dir, SEED, unscanned).found == 0
