"""As shown vs as captured: the comparison rules, and ``embedarchive check`` on a real archive run.

``fixtures/articles/four-findings.html`` (synthesised) embeds four posts of the fake platform as
official blockquotes: the photo post as published (handle in other case, links in their display
form) → match; the seed post under another name and date → author-mismatch + date-mismatch; the
text post with other words → edited; the deleted post → deleted.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from sqlite_utils import Database

from embedarchive.findings import compare, date_window, normalise_text, similarity

from .helpers import ARTICLES, cli_env, run

ARTICLE = ARTICLES / "four-findings.html"
PHOTO, SEED, TEXT, DELETED = (
    "1641086480675225601",
    "1989257861291196183",
    "2023357708301455483",
    "1899153799872901283",
)
CAPTURED = {
    "status": "archived",
    "uploader": "TRHaber",
    "uploader_id": "trhaber_com",
    "created_at": "2025-11-14T09:03:27.412Z",
    "text": "Füzeler düştü.\n\n▪️Olayın ardından &amp; sonra. pic.twitter.com/sto5JNQDWw",
}
SHOWN = {
    "author": "TRHaber",
    "handle": "TRHaber_com",
    "date": "2025-11-14",
    "text": "Füzeler düştü. ▪Olayın ardından & sonra.",
}


def test_normalising_ignores_links_emoji_entities_and_whitespace() -> None:
    shown = (
        "Let me know  what you think!\u200d 👍🏽 github.com/reactwg/react-… pic.twitter.com/rQd6"
    )
    captured = (
        "Let me know what you think! https://github.com/reactwg/x/110 https://t.co/rQd6FIwZ0U"
    )
    assert normalise_text(shown) == normalise_text(captured) == "Let me know what you think!"
    assert normalise_text("“quoted” – it’s &amp;") == '"quoted" - it\'s &'
    assert similarity("abc", None) == 0.0
    assert similarity("same words", "same  words\n") == 1.0


@pytest.mark.parametrize(
    ("shown", "captured"),
    [
        # X shows a link to a home page as its bare domain; the API stores it expanded.
        ("Full report at example.org", "Full report at https://t.co/DomOnly123"),
        ("Full report at example.org", "Full report at https://example.org"),
        # A keycap emoji is a digit, a variation selector and U+20E3: a copy loses all three.
        ("Steps to follow", "Steps 1️⃣ to follow"),
    ],
)
def test_a_copy_that_shows_links_and_emoji_its_own_way_matches(shown: str, captured: str) -> None:
    assert normalise_text(shown) == normalise_text(captured)


def test_words_that_only_look_like_domains_are_kept() -> None:
    text = "the U.S. and e.g. this, 3.14 and me@example.org"
    assert normalise_text(text) == text


def test_date_window_allows_every_time_zone_and_no_more() -> None:
    lo, hi = date_window("2023-03-29T14:34:41.000Z")  # type: ignore[misc]
    assert (lo.isoformat(), hi.isoformat()) == ("2023-03-29", "2023-03-30")
    lo, hi = date_window("2025-11-14T09:03:27.412Z")  # type: ignore[misc]
    assert (lo.isoformat(), hi.isoformat()) == ("2025-11-13", "2025-11-14")
    lo, hi = date_window("2025-11-14")  # type: ignore[misc]  # oEmbed gives the date only
    assert (lo.isoformat(), hi.isoformat()) == ("2025-11-13", "2025-11-15")
    assert date_window("not a date") is None


def test_compare_match() -> None:
    assert [kind for kind, _ in compare(SHOWN, CAPTURED)] == ["match"]


@pytest.mark.parametrize(
    ("change", "kinds"),
    [
        ({"text": "Füzeler düşmedi."}, ["edited"]),
        ({"handle": "trhaber_tv"}, ["author-mismatch"]),
        ({"author": "TR Haber Official"}, ["author-mismatch"]),
        ({"date": "2025-11-16"}, ["date-mismatch"]),
        ({"date": "2025-11-12", "author": "X"}, ["author-mismatch", "date-mismatch"]),
    ],
)
def test_compare_each_difference(change: dict[str, str], kinds: list[str]) -> None:
    assert [kind for kind, _ in compare({**SHOWN, **change}, CAPTURED)] == kinds


def test_compare_deleted_and_nothing_to_compare() -> None:
    gone = {"status": "unavailable", "error": "syndication: This Post was deleted"}
    assert compare(SHOWN, gone) == [("deleted", {"reason": "syndication: This Post was deleted"})]
    assert compare({"text": None}, CAPTURED) == []


def test_archive_run_stores_findings_and_check_lists_them(fake_platform, archive_dir: Path) -> None:
    env = cli_env(fake_platform, archive_dir)
    archived = run(["archive", str(ARTICLE)], env)
    assert archived.exit_code == 0, archived.output
    db = Database(archive_dir / "archive.db")
    stored = {(r["post_id"], r["kind"]) for r in db.query(
        "select p.post_id, f.kind from findings f join posts p on p.id = f.post_pk"
    )}  # fmt: skip
    assert stored == {
        (PHOTO, "match"),
        (SEED, "author-mismatch"),
        (SEED, "date-mismatch"),
        (TEXT, "edited"),
        (DELETED, "deleted"),
    }
    count = db["findings"].count

    checked = run(["check", "--json"], env)
    assert checked.exit_code == 0, checked.output
    rows = __import__("json").loads(checked.stdout)
    assert {(r["post_id"], r["kind"]) for r in rows} == stored
    assert db["findings"].count == count  # computed once per embed and capture
    mismatch = next(r for r in rows if r["kind"] == "author-mismatch")
    assert mismatch["details"]["fields"] == ["handle", "author"]
    assert mismatch["details"]["captured"] == {"author": "TRHaber", "handle": "trhaber_com"}
    edited = next(r for r in rows if r["kind"] == "edited")
    assert 0 < edited["details"]["similarity"] < 0.9
    assert "deleted" in next(r for r in rows if r["kind"] == "deleted")["details"]["reason"]

    table = run(["check", str(ARTICLE)], {**env, "COLUMNS": "250"})
    assert table.exit_code == 0
    for word in ("match", "author-mismatch", "date-mismatch", "edited", "deleted"):
        assert word in table.stdout
    assert run(["check", "1", "--json"], env).stdout == checked.stdout


def test_check_on_an_unknown_article_is_one_line(fake_platform, archive_dir: Path) -> None:
    env = cli_env(fake_platform, archive_dir)
    assert run(["archive", str(ARTICLE)], env).exit_code == 0
    result = run(["check", "no-such-article"], env)
    assert result.exit_code == 2 and "no article" in result.stderr


def test_findings_are_append_only(fake_platform, archive_dir: Path) -> None:
    assert run(["archive", str(ARTICLE)], cli_env(fake_platform, archive_dir)).exit_code == 0
    conn = sqlite3.connect(archive_dir / "archive.db")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("update findings set kind = 'match'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("delete from findings")


def test_check_says_when_the_embeds_showed_nothing_to_compare(
    fake_platform, archive_dir: Path, tmp_path: Path
) -> None:
    """A Telegram post linked on a line of its own: captured, the article showed no words."""
    article = tmp_path / "bare.txt"
    article.write_text("Story.\n\nhttps://t.me/durov/68\n")
    env = cli_env(fake_platform, archive_dir)
    assert run(["archive", str(article)], env).exit_code == 0
    out = run(["check"], env).stdout
    assert out.startswith("No findings: the 1 embed(s) with a capture showed nothing to compare")


def test_check_of_one_article_judges_only_its_embeds(
    fake_platform, archive_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """'check ARTICLE' after a rule change judges that article's embeds again, not every embed
    of the archive (it read all of them: 8 s on a year's archive for one article)."""
    from embedarchive import findings
    from tests.helpers import SEED as SEED_ARTICLE

    env = cli_env(fake_platform, archive_dir)
    assert run(["archive", str(ARTICLE)], env).exit_code == 0
    assert run(["archive", str(SEED_ARTICLE)], env).exit_code == 0
    monkeypatch.setattr(findings, "RULE", "findings-next")  # the release after this one
    assert run(["check", "2", "--json"], env).exit_code == 0
    db = Database(archive_dir / "archive.db")
    judged = {r["article_id"] for r in db.query(
        "select d.article_id from findings f join detections d on d.id = f.detection_id "
        "where f.rule = 'findings-next'"
    )}  # fmt: skip
    assert judged == {2}
    assert run(["check", "--json"], env).exit_code == 0  # the whole archive: every article
    judged = {r["article_id"] for r in db.query(
        "select d.article_id from findings f join detections d on d.id = f.detection_id "
        "where f.rule = 'findings-next'"
    )}  # fmt: skip
    assert judged == {1, 2}


def test_similarity_of_megabytes_reads_a_bounded_start() -> None:
    """A 45 MB snapshot page compared with the article's copy took 2.3 GB and 37 s."""
    import tracemalloc

    from embedarchive.findings import SIMILARITY_CHARS, similarity

    long = "word " * 400_000
    tracemalloc.start()
    score = similarity(long, long[: SIMILARITY_CHARS // 2])
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert 0 < score < 1
    assert peak < 100 * 1024 * 1024


def test_a_post_read_through_oembed_keeps_its_line_breaks(fake_platform, archive_dir: Path) -> None:
    """With syndication down, oEmbed's <br><br> was dropped ("düştü.▪️Olayın"): the seed was
    'edited', and when syndication answered again the history had a text edit that never was."""
    from .helpers import SEED as SEED_ARTICLE

    env = cli_env(fake_platform, archive_dir)
    fake_platform.fail("/syndication/", 503)
    run(["archive", str(SEED_ARTICLE)], env)  # exit 1: syndication's 503 is retried later
    db = Database(archive_dir / "archive.db")
    [capture] = db["captures"].rows
    assert capture["method"] == "oembed"
    assert "düştü.\n\n▪️Olayın" in json.loads(capture["data"])["text"]
    checked = json.loads(run(["check", "--json"], env).stdout)
    assert {f["kind"] for f in checked} == {"match"}
    fake_platform.reset()
    assert run(["recheck"], env).exit_code == 0
    assert db["post_changes"].count == 0
