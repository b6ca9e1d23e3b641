"""The seed article archived end to end over real HTTP against the local fake platform."""

from __future__ import annotations

import json
from pathlib import Path

from sqlite_utils import Database

from .helpers import MEDIA, SEED, cli_env, counts, media_files, run, sha256_file

SEED_ID = "1989257861291196183"


def test_seed_archives_with_provenance(fake_platform, archive_dir: Path) -> None:
    result = run(["archive", str(SEED)], cli_env(fake_platform, archive_dir))
    assert result.exit_code == 0, result.output
    db = Database(archive_dir / "archive.db")

    article = next(db["articles"].rows)
    assert article["sha256"] == sha256_file(SEED)
    assert (archive_dir / article["raw_path"]).read_bytes() == SEED.read_bytes()
    assert article["encoding"] == "utf-8"

    detection = next(db["detections"].rows)
    assert detection["handle"] == "trhaber_com"
    assert detection["author"] == "TRHaber"
    assert detection["date"] == "2025-11-14"
    assert "Rus ordusunun" in detection["text"]
    assert json.loads(detection["links"]) == ["pic.twitter.com/sto5JNQDWw"]
    assert detection["resolution"] == "resolved"
    assert detection["resolved_post_id"] == SEED_ID
    assert json.loads(detection["resolution_hops"])[0].endswith("/pic/sto5JNQDWw")

    post = next(db["posts"].rows)
    assert detection["post_pk"] == post["id"]
    assert (post["platform"], post["post_id"], post["status"]) == ("twitter", SEED_ID, "archived")
    assert post["uploader_id"] == "trhaber_com"
    assert "Azerbaycan Büyükelçiliği" in post["text"]

    capture = next(db["captures"].rows)
    assert capture["method"] == "syndication"
    assert json.loads(capture["raw"])["id_str"] == SEED_ID

    media = {m["kind"]: m for m in db["media"].rows}
    video = media["video"]
    assert video["sha256"] == sha256_file(MEDIA / "video-best.mp4")
    assert video["mime"] == "video/mp4"
    assert (archive_dir / video["path"]).read_bytes() == (MEDIA / "video-best.mp4").read_bytes()
    assert json.loads(video["info"])["probe"]["size"]  # ffmpeg read the stored bytes

    exchanges = list(db["http_exchanges"].rows)
    assert len(exchanges) == len(fake_platform.requests)
    assert all(e["status"] and e["started_at"] for e in exchanges)
    served = {e["url"].split("?")[0]: e for e in exchanges}
    video_exchange = next(e for url, e in served.items() if url.endswith(".mp4"))
    assert video_exchange["body_sha256"] == video["sha256"]

    run_row = next(db["runs"].rows)
    software = json.loads(run_row["software"])
    assert {"embedarchive", "yt-dlp", "httpx", "python"} <= set(software)
    assert run_row["operator"] is None and run_row["hostname"] is None


def test_rerun_adds_nothing_and_makes_no_requests(fake_platform, archive_dir: Path) -> None:
    env = cli_env(fake_platform, archive_dir)
    assert run(["archive", str(SEED)], env).exit_code == 0
    before, files_before = counts(archive_dir), media_files(archive_dir)
    fake_platform.reset()
    again = run(["archive", str(SEED)], env)
    assert again.exit_code == 0, again.output
    assert counts(archive_dir) == before
    assert media_files(archive_dir) == files_before
    assert fake_platform.requests == []


def test_refresh_adds_a_capture_but_no_duplicate_files(fake_platform, archive_dir: Path) -> None:
    env = cli_env(fake_platform, archive_dir)
    assert run(["archive", str(SEED)], env).exit_code == 0
    before, files_before = counts(archive_dir), media_files(archive_dir)
    assert run(["archive", "--refresh", str(SEED)], env).exit_code == 0
    after = counts(archive_dir)
    assert after["captures"] == before["captures"] + 1
    assert after["posts"] == before["posts"] and after["articles"] == before["articles"]
    assert media_files(archive_dir) == files_before


def test_offline_run_keeps_evidence_and_completes_later(fake_platform, archive_dir: Path) -> None:
    closed = "http://127.0.0.1:9"  # discard port: nothing listens, connections are refused
    offline = cli_env(
        fake_platform,
        archive_dir,
        EMBEDARCHIVE_TWITTER_PIC_URL=f"{closed}/pic",
        EMBEDARCHIVE_TWITTER_SYNDICATION_URL=f"{closed}/syndication/tweet-result",
        EMBEDARCHIVE_TWITTER_OEMBED_URL=f"{closed}/oembed",
    )
    first = run(["archive", str(SEED)], offline)
    assert first.exit_code == 1
    assert "run the same command again" in first.stderr.lower()
    db = Database(archive_dir / "archive.db")
    detection = next(db["detections"].rows)
    assert detection["handle"] == "trhaber_com" and "Rus ordusunun" in detection["text"]
    assert detection["resolution"] == "failed"
    assert "connect" in detection["resolution_error"]
    assert db["posts"].count == 0

    second = run(["archive", str(SEED)], cli_env(fake_platform, archive_dir))
    assert second.exit_code == 0, second.output
    assert counts(archive_dir)["articles"] == 1
    assert counts(archive_dir)["detections"] == 1
    post = next(db["posts"].rows)
    assert post["status"] == "archived"


def test_show_and_list_print_the_post(fake_platform, archive_dir: Path) -> None:
    env = cli_env(fake_platform, archive_dir)
    assert run(["archive", str(SEED)], env).exit_code == 0
    shown = run(["show", SEED_ID], env)
    assert shown.exit_code == 0
    assert "trhaber_com" in shown.output and "syndication" in shown.output
    data = json.loads(run(["show", f"twitter:{SEED_ID}", "--json"], env).output)
    assert data["captures"][0]["media"][0]["sha256"]
    assert data["detections"][0]["handle"] == "trhaber_com"
    assert data["captures"][0]["http_exchanges"]
    listed = json.loads(run(["list", "--json"], env).output)
    assert [p["post_id"] for p in listed["posts"]] == [SEED_ID]
    assert listed["articles"][0]["embeds"] == 1


def test_archive_json_reports_each_article(fake_platform, archive_dir: Path) -> None:
    result = run(["archive", "--json", str(SEED)], cli_env(fake_platform, archive_dir))
    assert result.exit_code == 0
    (article,) = [json.loads(line) for line in result.stdout.splitlines()]  # JSON Lines
    assert article["state"] == "done"
    assert (article["found"], article["archived"], article["failed"]) == (1, 1, 0)
    assert article["items"][0]["status"] == "archived"


def test_operator_and_host_are_opt_in(fake_platform, archive_dir: Path) -> None:
    env = cli_env(fake_platform, archive_dir)
    assert (
        run(["archive", "--operator", "A. Reporter", "--record-host", str(SEED)], env).exit_code
        == 0
    )
    row = next(Database(archive_dir / "archive.db")["runs"].rows)
    assert row["operator"] == "A. Reporter"
    assert row["hostname"]
