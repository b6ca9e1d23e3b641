"""Recovering what is gone or unlinked, against a local Wayback Machine (``fakewayback.py``) and
the fake X platform.

The seed article with its ``pic.twitter.com`` link removed shows only handle, date and text.
The fake CDX lists status URLs of @trhaber_com around 2025-11-14: the seed, decoys with other
text, a copy of its text by another account (archived under the seed's handle), and a post with
the same text from 2025-11-10 — outside the id range, so never fetched.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlite_utils import Database

from embedarchive.recover import id_range
from embedarchive.wayback import snowflake_time

from .fakeplatform import DATA_DIR, MEDIA_DIR, SEED_ID
from .fakewayback import FakeWayback
from .helpers import SEED, cli_env, run

SEED_JSON = json.loads((DATA_DIR / "syndication" / f"{SEED_ID}.json").read_text("utf-8"))
SEED_TEXT = SEED_JSON["text"].rsplit(" https://t.co/", 1)[0]
NEAR_MISS = "1989071055758606623"  # 2025-11-13 20:41 UTC, the same story in other words
OTHER = "1989229833716081331"  # 2025-11-14 07:12 UTC
COPY = "1989299147353682160"  # 2025-11-14 11:47 UTC, the seed's text by another account
LATER = "1989581815102450177"  # 2025-11-15 06:30 UTC, archived under x.com
OUT_OF_RANGE = "1987852739408887809"  # 2025-11-10, the seed's text: too early to be it
DELETED = "1899153799872901283"  # the fake's deleted post (tombstone)
PHOTO = (MEDIA_DIR / "photo-small.jpg").read_bytes()


def tweet(post_id: str, text: str, screen_name: str = "trhaber_com", **extra: object) -> dict:
    when = snowflake_time(int(post_id)).isoformat(timespec="milliseconds")
    return {
        "__typename": "Tweet",
        "id_str": post_id,
        "text": text,
        "created_at": when.replace("+00:00", "Z"),
        "user": {"id_str": "1", "name": screen_name.title(), "screen_name": screen_name},
        "entities": {},
        **extra,
    }


@pytest.fixture(scope="module")
def wayback_server() -> Iterator[FakeWayback]:
    with FakeWayback() as server:
        yield server


@pytest.fixture
def wayback(wayback_server: FakeWayback) -> FakeWayback:
    wayback_server.reset()
    return wayback_server


def seed_without_link(tmp_path: Path) -> Path:
    article = tmp_path / "seed-without-link.txt"
    article.write_text(SEED.read_text("utf-8").replace(" pic.twitter.com/sto5JNQDWw", ""), "utf-8")
    return article


def trhaber_timeline(fake_platform, wayback: FakeWayback) -> None:
    """Posts the fake X serves, and the status URLs the fake Wayback has archived."""
    posts = {
        NEAR_MISS: tweet(NEAR_MISS, "Rus füzeleri Kiev'de bir büyükelçiliğe isabet etti, hasar büyük."),
        OTHER: tweet(OTHER, "Cumhurbaşkanı Erdoğan, Macaristan Başbakanı Orbán ile telefonda görüştü."),
        COPY: tweet(COPY, SEED_TEXT, screen_name="haber_kopya"),
        LATER: tweet(LATER, "Hava durumu: İstanbul'da yağmur bekleniyor."),
        OUT_OF_RANGE: tweet(OUT_OF_RANGE, SEED_TEXT),
    }  # fmt: skip
    for post_id, body in posts.items():
        fake_platform.tweets[post_id] = json.dumps(body, ensure_ascii=False)
    page = b"<html><title>X</title></html>"
    for post_id, ts in [
        (SEED_ID, "20251114093000"),
        (f"{SEED_ID}/video/1", "20251114100000"),
        (NEAR_MISS, "20251113210000"),
        (OTHER, "20251114080000"),
        (COPY, "20251114120000"),
        (OUT_OF_RANGE, "20251110130000"),
    ]:
        wayback.add(f"https://twitter.com/trhaber_com/status/{post_id}", ts, page, "text/html")
    wayback.add(f"https://x.com/trhaber_com/status/{LATER}", "20251115070000", page, "text/html")
    wayback.add("https://twitter.com/trhaber_com", "20251114000000", page, "text/html")


def test_id_range_is_the_shown_day_with_a_day_either_side() -> None:
    lo, hi = id_range(date(2025, 11, 14))
    assert snowflake_time(lo) == datetime(2025, 11, 13, tzinfo=UTC)
    assert snowflake_time(hi + 1) == datetime(2025, 11, 16, tzinfo=UTC)
    assert lo <= int(SEED_ID) <= hi and not lo <= int(OUT_OF_RANGE) <= hi
    assert snowflake_time(int(SEED_ID)).isoformat() == "2025-11-14T09:03:27.412000+00:00"


def test_seed_post_resolved_from_handle_date_and_text(
    fake_platform, wayback: FakeWayback, archive_dir: Path, tmp_path: Path
) -> None:
    trhaber_timeline(fake_platform, wayback)
    env = {**cli_env(fake_platform, archive_dir), **wayback.env()}
    article = seed_without_link(tmp_path)
    assert run(["archive", str(article)], env).exit_code == 0
    db = Database(archive_dir / "archive.db")
    assert next(db["detections"].rows)["resolution"] == "unresolved"
    assert db["posts"].count == 0

    result = run(["recover", "--json"], env)
    assert result.exit_code == 0, result.output
    [found] = json.loads(result.stdout)
    assert (found["kind"], found["outcome"], found["post_id"]) == (
        "snowflake",
        "recovered",
        SEED_ID,
    )
    assert found["score"] == 1.0 and found["candidates"] == 5

    detection = next(db["detections"].rows)
    assert (detection["resolution"], detection["resolved_post_id"]) == ("recovered", SEED_ID)
    hops = json.loads(detection["resolution_hops"])
    assert hops[-1] == f"https://twitter.com/trhaber_com/status/{SEED_ID}"
    assert all("matchType=prefix" in hop for hop in hops[:-1])
    post = next(db["posts"].rows)
    assert (post["post_id"], post["status"]) == (SEED_ID, "archived")
    assert detection["post_pk"] == post["id"] and db["posts"].count == 1  # decoys are not posts
    capture = next(db["captures"].rows)
    assert capture["method"] == "syndication"
    assert db["media"].count_where("capture_id = ?", [capture["id"]]) == 2

    recovery = next(db["recoveries"].rows)
    assert (recovery["kind"], recovery["outcome"], recovery["threshold"]) == (
        "snowflake",
        "recovered",
        0.9,
    )
    scores = {c["id"]: (c["score"], c["same_handle"]) for c in json.loads(recovery["candidates"])}
    assert list(scores) == [NEAR_MISS, OTHER, SEED_ID, COPY, LATER]
    assert scores[SEED_ID] == (1.0, True) and scores[COPY] == (1.0, False)
    assert max(s for i, (s, _) in scores.items() if i not in (SEED_ID, COPY)) < 0.9
    query = json.loads(recovery["query"])
    assert query["created_between"][0].startswith("2025-11-13T00:00:00")
    assert not [r for r in fake_platform.requests if OUT_OF_RANGE in r["path"]]
    probes = db["http_exchanges"].count_where("detection_id = ?", [detection["id"]])
    assert probes >= 2 + 5  # two CDX queries, one fetch per candidate
    assert {q["url"] for q in wayback.cdx_requests()} == {
        "twitter.com/trhaber_com/status/",
        "x.com/trhaber_com/status/",
    }

    checked = json.loads(run(["check", "--json"], env).stdout)
    assert [(f["post_id"], f["kind"]) for f in checked] == [(SEED_ID, "match")]
    again = run(["archive", str(article)], env)
    assert again.exit_code == 0 and db["captures"].count == 1  # stays recovered, nothing refetched
    assert json.loads(run(["recover", "--json"], env).stdout) == []


@pytest.mark.parametrize(
    ("text", "threshold", "outcome"),
    [
        ("Kiev'de Azerbaycan elçiliği füze saldırısında hasar gördü, bakanlık açıkladı.", None,
         "below-threshold"),
        (SEED_TEXT, "0.0", "ambiguous"),
    ],
)  # fmt: skip
def test_never_guesses(
    fake_platform,
    wayback: FakeWayback,
    archive_dir: Path,
    tmp_path: Path,
    text: str,
    threshold: str | None,
    outcome: str,
) -> None:
    trhaber_timeline(fake_platform, wayback)
    env = {**cli_env(fake_platform, archive_dir), **wayback.env()}
    if threshold is not None:
        env["EMBEDARCHIVE_RECOVER_MIN_SIMILARITY"] = threshold
    article = tmp_path / "article.txt"
    article.write_text(f"Intro.\n\n{text} — TRHaber (@trhaber_com) November 14, 2025\n\nMore.\n")
    assert run(["archive", str(article)], env).exit_code == 0
    [found] = json.loads(run(["recover", "--json"], env).stdout)
    assert found["outcome"] == outcome and found["post_id"] is None
    db = Database(archive_dir / "archive.db")
    detection = next(db["detections"].rows)
    assert detection["resolution"] == "unresolved" and detection["post_pk"] is None
    assert detection["resolution_error"].startswith("recover: ")
    assert db["posts"].count == 0
    assert next(db["recoveries"].rows)["outcome"] == outcome


GONE_ARTICLE = f"""<html><body><article><p>Before.</p>
<blockquote class="twitter-tweet"><p lang="en">Words nobody can read any more.</p>&mdash; Someone
(@someone) <a href="https://twitter.com/someone/status/{DELETED}">March 10, 2025</a></blockquote>
</article></body></html>"""
LEGACY_PAGE = """<html><head><title>Someone on Twitter: "Words nobody can read any more."</title>
<meta property="og:title" content="Someone on Twitter"></head><body><div class="permalink-tweet">
<strong class="fullname">Someone</strong><span class="username"><s>@</s><b>someone</b></span>
<p class="TweetTextSize js-tweet-text tweet-text">Words nobody can read any more.</p></div></body></html>"""


def gone_snapshots(wayback: FakeWayback) -> None:
    photo = "https://pbs.twimg.com/media/FsZNOgcWAAEQtrd.jpg"
    api = f"https://cdn.syndication.twimg.com/tweet-result?id={DELETED}&lang=en&token=4lqd8fy1cv9"
    media = [{"type": "photo", "media_url_https": photo}]
    wayback.add(api, "20250310180000", tweet(DELETED, "Words nobody can read any more.", "someone", mediaDetails=media))  # fmt: skip
    wayback.add(photo, "20250310180004", PHOTO, "image/jpeg")
    wayback.add(f"https://twitter.com/someone/status/{DELETED}", "20250402101500", LEGACY_PAGE, "text/html")  # fmt: skip
    wayback.add(
        f"https://x.com/someone/status/{DELETED}", "20250501000000", b"", "text/html", "302"
    )
    other = f"https://cdn.syndication.twimg.com/tweet-result?id={DELETED}4&lang=en"
    wayback.add(other, "20250601000000", tweet(f"{DELETED}4", "another post"))


def test_unavailable_post_recovered_from_wayback_snapshots(
    fake_platform, wayback: FakeWayback, archive_dir: Path, tmp_path: Path
) -> None:
    gone_snapshots(wayback)
    env = {**cli_env(fake_platform, archive_dir), **wayback.env(), "COLUMNS": "200"}
    article = tmp_path / "gone.html"
    article.write_text(GONE_ARTICLE)
    assert run(["archive", str(article)], env).exit_code == 0
    result = run(["recover", "--json"], env)
    assert result.exit_code == 0, result.output
    [found] = json.loads(result.stdout)
    assert (found["kind"], found["outcome"], found["capture_ids"]) == (
        "wayback",
        "recovered",
        [2, 3],
    )
    assert found["candidates"] == 2  # the 302 and the other id's snapshot are not this post

    db = Database(archive_dir / "archive.db")
    earliest, latest = db["captures"].get(2), db["captures"].get(3)
    for capture, when in ((earliest, "2025-03-10T18:00:00Z"), (latest, "2025-04-02T10:15:00Z")):
        assert (capture["method"], capture["status"]) == ("wayback", "archived")
        [attempt] = json.loads(capture["attempts"])
        assert attempt["detail"].startswith("via web.archive.org") and when in attempt["detail"]
        assert json.loads(capture["data"])["text"] == "Words nobody can read any more."
    assert json.loads(earliest["raw"])["id_str"] == DELETED
    assert "permalink-tweet" in latest["raw"]
    assert json.loads(latest["data"])["created_at"] == "2025-03-10T17:42:05.118Z"  # from the id
    assert json.loads(latest["data"])["uploader"] == "Someone"
    [photo] = db["media"].rows_where("capture_id = 2")
    assert photo["mime"] == "image/jpeg" and photo["source_url"].endswith(
        "/web/20250310180000im_/https://pbs.twimg.com/media/FsZNOgcWAAEQtrd.jpg"
    )
    urls = [e["url"] for e in db["http_exchanges"].rows_where("capture_id = 2")]
    assert any("/cdx/search/cdx" in u for u in urls)
    assert any("/web/20250310180000id_/https://cdn.syndication.twimg.com/" in u for u in urls)

    recovery = next(db["recoveries"].rows)
    snapshots = json.loads(recovery["candidates"])
    assert [(s["captured_at"], s["capture_id"]) for s in snapshots] == [
        ("2025-03-10T18:00:00Z", 2),
        ("2025-04-02T10:15:00Z", 3),
    ]
    post = next(db["posts"].rows)
    assert post["status"] == "unavailable"  # a snapshot is history, not the live post
    assert post["text"] == "Words nobody can read any more."
    checked = json.loads(run(["check", "--json"], env).stdout)
    assert [(f["source"], f["kind"]) for f in checked] == [
        ("live", "deleted"),
        ("wayback", "match"),
    ]
    shown = run(["show", DELETED], env).stdout
    assert "via web.archive.org: snapshot of" in shown

    wayback.requests.clear()
    assert json.loads(run(["recover", "--json"], env).stdout) == []  # already recovered
    assert wayback.requests == []

    # The post is back: the snapshot, judged while it was gone, is history now.
    tweet = json.loads((DATA_DIR / "syndication" / f"{SEED_ID}.json").read_text("utf-8"))
    tweet.update(id_str=DELETED, text="Words nobody can read any more.")
    fake_platform.tweets[DELETED] = json.dumps(tweet)
    assert run(["recheck"], env).exit_code == 0
    checked = json.loads(run(["check", "--json"], env).stdout)
    assert checked and {f["source"] for f in checked} == {"live"}
    shown = run(["show", DELETED], env).stdout  # and the post page: as check has it
    assert "(live): " in shown and "(wayback)" not in shown


def test_wayback_down_is_retryable_and_changes_nothing(
    fake_platform, wayback: FakeWayback, archive_dir: Path, tmp_path: Path
) -> None:
    trhaber_timeline(fake_platform, wayback)
    env = {**cli_env(fake_platform, archive_dir), **wayback.env()}
    article = seed_without_link(tmp_path)
    assert run(["archive", str(article)], env).exit_code == 0
    wayback.down = True
    failed = run(["recover", "--json"], env)
    assert failed.exit_code == 1
    assert json.loads(failed.stdout)[0]["outcome"] == "failed"
    db = Database(archive_dir / "archive.db")
    assert next(db["detections"].rows)["resolution"] == "unresolved"
    wayback.down = False
    assert json.loads(run(["recover", "--json"], env).stdout)[0]["outcome"] == "recovered"


def test_candidates_that_cannot_be_fetched_are_no_answer(
    fake_platform, wayback: FakeWayback, archive_dir: Path, tmp_path: Path
) -> None:
    trhaber_timeline(fake_platform, wayback)
    env = {**cli_env(fake_platform, archive_dir), **wayback.env()}
    assert run(["archive", str(seed_without_link(tmp_path))], env).exit_code == 0
    fake_platform.fail("/syndication/", 503)
    fake_platform.fail("/oembed", 503)
    result = run(["recover", "--json"], env)
    assert result.exit_code == 1
    [found] = json.loads(result.stdout)
    assert found["outcome"] == "failed" and found["retryable"]
    assert "could not be fetched" in found["note"]
    db = Database(archive_dir / "archive.db")
    assert next(db["detections"].rows)["resolution"] == "unresolved" and db["posts"].count == 0


TEXTLESS_PAGE = b"<html><head><title>X</title></head><body><div id=react-root></div></body></html>"


def textless_latest_snapshot(wayback: FakeWayback) -> None:
    """A gone post whose first snapshot (the API's JSON) has other words than the article shows,
    and whose latest is a page with no readable text (a script shell): handle and date only."""
    api = f"https://cdn.syndication.twimg.com/tweet-result?id={DELETED}&lang=en&token=4lqd8fy1cv9"
    wayback.add(api, "20250310180000", tweet(DELETED, "Words that were there first.", "someone"))
    page = f"https://twitter.com/someone/status/{DELETED}"
    wayback.add(page, "20250402101500", TEXTLESS_PAGE, "text/html")


def test_a_gone_post_is_judged_by_the_latest_snapshot_that_has_its_text(
    fake_platform, wayback: FakeWayback, archive_dir: Path, tmp_path: Path
) -> None:
    textless_latest_snapshot(wayback)
    env = {**cli_env(fake_platform, archive_dir), **wayback.env()}
    article = tmp_path / "gone.html"
    article.write_text(GONE_ARTICLE)
    assert run(["archive", str(article)], env).exit_code == 0
    [found] = json.loads(run(["recover", "--json"], env).stdout)
    assert found["capture_ids"] == [2, 3]
    db = Database(archive_dir / "archive.db")
    assert json.loads(db["captures"].get(3)["data"]).get("text") is None  # the shell
    checked = json.loads(run(["check", "--json"], env).stdout)
    assert [(f["source"], f["kind"], f["capture_id"]) for f in checked] == [
        ("live", "deleted", 1),
        ("wayback", "edited", 2),  # not a "match" on handle and date against the shell
    ]
    shown = run(["show", DELETED], env).stdout
    assert "text differs" in shown and "same handle" not in shown  # what the post page shows


def test_an_archive_judged_by_the_rule_before_is_judged_again_by_check(
    fake_platform, wayback: FakeWayback, archive_dir: Path, tmp_path: Path, monkeypatch
) -> None:
    """An archive whose findings came from findings-2 (the latest snapshot, text or not): after
    'check', the post shows the new judgement only, not the old one beside it."""
    from embedarchive import findings

    def latest_snapshot(observed: list[dict]) -> list[tuple[str, dict]]:
        live = [o for o in observed if not o["wayback"]]
        snapshots = [o for o in observed if o["wayback"] and o["data"]]
        return [("live", live[-1])] + ([("wayback", snapshots[-1])] if snapshots else [])

    textless_latest_snapshot(wayback)
    env = {**cli_env(fake_platform, archive_dir), **wayback.env()}
    article = tmp_path / "gone.html"
    article.write_text(GONE_ARTICLE)
    with monkeypatch.context() as before:
        before.setattr(findings, "RULE", "findings-2")
        before.setattr(findings, "_targets", latest_snapshot)
        assert run(["archive", str(article)], env).exit_code == 0
        assert run(["recover"], env).exit_code == 0
        assert "same handle" in run(["show", DELETED], env).stdout  # findings-2's verdict
    checked = json.loads(run(["check", "--json"], env).stdout)
    assert [(f["kind"], f["capture_id"]) for f in checked] == [("deleted", 1), ("edited", 2)]
    shown = run(["show", DELETED], env).stdout
    assert "text differs" in shown and "same handle" not in shown


def gone_article(tmp_path: Path, fake_platform, wayback: FakeWayback, archive_dir: Path) -> dict:
    env = {**cli_env(fake_platform, archive_dir), **wayback.env()}
    article = tmp_path / "gone.html"
    article.write_text(GONE_ARTICLE)
    assert run(["archive", str(article)], env).exit_code == 0
    return env


def test_a_snapshot_of_another_post_is_not_taken_for_the_gone_one(
    fake_platform, wayback: FakeWayback, archive_dir: Path, tmp_path: Path
) -> None:
    """The Wayback's answer for the gone post's API address was another post's JSON (by
    another account): it was stored as the gone post, and check judged the article by it."""
    api = f"https://cdn.syndication.twimg.com/tweet-result?id={DELETED}&lang=en&token=4lqd8fy1cv9"
    wayback.add(api, "20250310180000", tweet(OTHER, "Completely different words.", "impostor"))
    env = gone_article(tmp_path, fake_platform, wayback, archive_dir)
    result = run(["recover", "--json"], env)
    [found] = json.loads(result.stdout)
    assert found["outcome"] == "failed" and "another post" in found["note"], found
    db = Database(archive_dir / "archive.db")
    [snapshot] = db["captures"].rows_where("method = 'wayback'")
    assert snapshot["status"] == "failed" and snapshot["data"] is None
    assert f"the snapshot is of another post ({OTHER}), not {DELETED}" in snapshot["error"]
    assert next(db["posts"].rows)["uploader_id"] != "impostor"
    assert run(["verify"], env).exit_code == 0


def test_the_capture_says_which_snapshot_the_replay_served(
    fake_platform, wayback: FakeWayback, archive_dir: Path, tmp_path: Path
) -> None:
    """The CDX listed 2020, the replay redirected to the 2025 snapshot: the capture said
    "taken 2020" of bytes taken in 2025."""
    page = f"https://twitter.com/someone/status/{DELETED}"
    wayback.add(page, "20200622143900", LEGACY_PAGE, "text/html", replayable=False)
    wayback.add(page, "20250402101500", LEGACY_PAGE, "text/html")
    env = gone_article(tmp_path, fake_platform, wayback, archive_dir)
    assert run(["recover"], env).exit_code == 0
    db = Database(archive_dir / "archive.db")
    details = [
        json.loads(c["attempts"])[0]["detail"]
        for c in db["captures"].rows_where("method = 'wayback'", order_by="id")
    ]
    assert (
        "taken 2020-06-22T14:39:00Z; served as the snapshot taken 2025-04-02T10:15:00Z"
        in details[0]
    )
    assert "served as" not in details[1]  # the 2025 one, asked for by its own time


@pytest.mark.parametrize(
    "answer",
    [
        b'[["timestamp","original","statuscode"],5,null,"x"]',
        b'[7,["20250101000000","x","200"]]',
        b'[["timestamp","original","statuscode"],["20259999999999","https://twitter.com/someone/status/1899153799872901283","200"]]',
        b'[["timestamp","original","statuscode"],["../../cdx","https://twitter.com/someone/status/1899153799872901283","200"]]',
    ],
)
def test_a_cdx_answer_of_another_shape_is_an_outcome_not_a_traceback(
    fake_platform, wayback: FakeWayback, archive_dir: Path, tmp_path: Path, answer: bytes
) -> None:
    env = gone_article(tmp_path, fake_platform, wayback, archive_dir)
    wayback.cdx_body = answer
    result = run(["recover", "--json"], env)  # an exception would fail the test here
    assert result.exit_code in (0, 1), result.output
    [found] = json.loads(result.stdout)
    assert found["outcome"] in ("failed", "no-snapshots")
    assert run(["verify"], env).exit_code == 0


def test_snapshots_that_show_the_post_gone_are_no_recovery(
    fake_platform, wayback: FakeWayback, archive_dir: Path, tmp_path: Path
) -> None:
    """Only tombstones: the look-up was 'recovered' and never made again, when a later one may
    find the Wayback's copy from before the post went."""
    api = f"https://cdn.syndication.twimg.com/tweet-result?id={DELETED}&lang=en&token=4lqd8fy1cv9"
    tombstone = {"__typename": "TweetTombstone", "tombstone": {"text": {"text": "deleted"}}}
    wayback.add(api, "20250501000000", tombstone)
    env = gone_article(tmp_path, fake_platform, wayback, archive_dir)
    [first] = json.loads(run(["recover", "--json"], env).stdout)
    assert first["outcome"] == "no-post" and first["capture_ids"] == [2]
    gone_snapshots(wayback)  # the Wayback has the post from before now
    [second] = json.loads(run(["recover", "--json"], env).stdout)
    assert second["outcome"] == "recovered"
    db = Database(archive_dir / "archive.db")
    statuses = [c["status"] for c in db["captures"].rows_where("method = 'wayback'")]
    assert statuses == ["unavailable", "archived"]  # the earliest; the latest, the tombstone,
    # was the first look-up's and is not fetched again


def test_a_snapshot_that_failed_for_now_is_taken_up_by_the_next_look_up_alone(
    fake_platform, wayback: FakeWayback, archive_dir: Path, tmp_path: Path
) -> None:
    """One snapshot replayed, the other answered 503: 'recovered', and the 503 never tried
    again; now 'partial' (exit 1), and the next look-up fetches only the one that failed."""
    gone_snapshots(wayback)
    env = gone_article(tmp_path, fake_platform, wayback, archive_dir)
    wayback.busy = {"20250402101500"}
    result = run(["recover", "--json"], env)
    [found] = json.loads(result.stdout)
    assert result.exit_code == 1
    assert (found["outcome"], found["retryable"]) == ("partial", True), found
    assert "503" in found["note"]
    wayback.busy = set()
    wayback.requests.clear()
    [again] = json.loads(run(["recover", "--json"], env).stdout)
    assert again["outcome"] == "recovered"
    db = Database(archive_dir / "archive.db")
    assert [c["status"] for c in db["captures"].rows_where("method = 'wayback'")] == [
        "archived",
        "failed",
        "archived",
    ]
    replays = [r for r in wayback.requests if "/web/" in r and "im_/" not in r]
    assert len(replays) == 1 and "20250402101500id_" in replays[0]
