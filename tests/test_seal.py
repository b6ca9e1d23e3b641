"""``embedarchive seal``: an RFC 3161 token over the chain head from a local TSA, checked by verify."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlite_utils import Database

from embedarchive.seal import TimestampError, check_token

from .faketsa import FakeTSA
from .helpers import SEED, cli_env, run


@pytest.fixture
def env(fake_platform, archive_dir: Path, tsa: FakeTSA) -> dict[str, str]:
    env = cli_env(fake_platform, archive_dir, EMBEDARCHIVE_TSA_URL=tsa.url)
    assert run(["archive", str(SEED)], env).exit_code == 0
    return env


def verify(env: dict[str, str]) -> tuple[int, dict[str, Any]]:
    result = run(["verify", "--json"], env)
    return result.exit_code, json.loads(result.stdout)


def test_seal_timestamps_the_chain_head(env: dict[str, str], archive_dir: Path) -> None:
    result = run(["seal", "--json"], env)
    assert result.exit_code == 0, result.output
    sealed = json.loads(result.stdout)
    db = Database(archive_dir / "archive.db")
    head = db.execute("select seq, sha256 from manifests order by seq desc limit 1").fetchone()
    assert (sealed["manifest_seq"], sealed["manifest_sha256"]) == head
    assert sealed["tsa"] == "CN=Test TSA"
    (row,) = db["timestamps"].rows
    token = (archive_dir / row["path"]).read_bytes()
    manifest = (
        archive_dir / next(db["manifests"].rows_where("seq = ?", [head[0]]))["path"]
    ).read_bytes()
    assert check_token(token, manifest).tsa_name == "CN=Test TSA"
    with pytest.raises(TimestampError, match="covers"):
        check_token(token, manifest + b" ")
    code, report = verify(env)
    assert code == 0, report["problems"]
    assert not any("not sealed" in n for n in report["notes"])


def test_verify_requires_the_configured_tsa_ca(
    env: dict[str, str], tsa: FakeTSA, tmp_path: Path
) -> None:
    assert run(["seal"], env).exit_code == 0
    ours = tsa.write_ca(tmp_path / "ours.pem")
    assert verify({**env, "EMBEDARCHIVE_TSA_CA_FILE": str(ours)})[0] == 0
    with FakeTSA("Someone Else") as other:
        theirs = other.write_ca(tmp_path / "theirs.pem")
    code, report = verify({**env, "EMBEDARCHIVE_TSA_CA_FILE": str(theirs)})
    assert code == 1
    assert any("signature does not verify" in p["message"] for p in report["problems"])


def test_tampered_token_fails(env: dict[str, str], archive_dir: Path) -> None:
    assert run(["seal"], env).exit_code == 0
    row = next(Database(archive_dir / "archive.db")["timestamps"].rows)
    path = archive_dir / row["path"]
    os.chmod(path, 0o644)
    data = bytearray(path.read_bytes())
    data[-5] ^= 0xFF  # inside the signature
    path.write_bytes(bytes(data))
    code, report = verify(env)
    assert code == 1
    kinds = {p["kind"] for p in report["problems"]}
    assert "altered" in kinds


def test_the_seal_time_and_tsa_shown_are_the_tokens(env: dict[str, str], archive_dir: Path) -> None:
    """The row's gen_time, serial and tsa_name are what the report and the web pages show: a
    copy of the signed token's, so an edited copy is caught."""
    assert run(["seal"], env).exit_code == 0
    db = Database(archive_dir / "archive.db")
    db.execute("drop trigger timestamps_no_update")
    db.execute("update timestamps set gen_time = '2020-01-01T00:00:00Z', tsa_name = 'CN=Other'")
    db.conn.commit()
    code, report = verify(env)
    assert code == 1
    assert any(
        "its time, TSA differ from the signed token" in p["message"] for p in report["problems"]
    ), report["problems"]


def test_removing_the_sealed_head_is_detected(env: dict[str, str], archive_dir: Path) -> None:
    assert run(["seal"], env).exit_code == 0
    db = Database(archive_dir / "archive.db")
    for table in ("manifests", "timestamps"):
        db.execute(f"drop trigger {table}_no_delete")
    head = db.execute("select id, path from manifests order by seq desc limit 1").fetchone()
    db.execute("delete from manifests where id = ?", [head[0]])
    db.conn.commit()
    (archive_dir / head[1]).unlink()
    code, report = verify(env)
    assert code == 1
    assert any(
        "covers a manifest no longer in the chain" in p["message"] for p in report["problems"]
    )


def test_captures_after_the_seal_are_reported_unsealed(env: dict[str, str], fake_platform) -> None:
    assert run(["seal"], env).exit_code == 0
    assert run(["archive", "--refresh", str(SEED)], env).exit_code == 0
    code, report = verify(env)
    assert code == 0
    assert any("not sealed yet" in n for n in report["notes"])


def test_unreachable_tsa_is_one_line_exit_1(env: dict[str, str]) -> None:
    result = run(["seal"], {**env, "EMBEDARCHIVE_TSA_URL": "http://127.0.0.1:9/tsr"})
    assert result.exit_code == 1
    assert "cannot reach the TSA" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_seal_covers_rows_from_before_manifests_but_not_later_additions(
    env: dict[str, str], archive_dir: Path
) -> None:
    db = Database(archive_dir / "archive.db")
    row = dict(next(db["media"].rows))
    row.pop("id")
    db["media"].insert(row)  # added behind the chain's back, after the baseline
    assert run(["seal"], env).exit_code == 0
    code, report = verify(env)
    assert code == 1
    assert any("media row(s) are in no manifest" in p["message"] for p in report["problems"])
    db.execute("drop trigger manifest_baseline_no_update")
    db.execute("update manifest_baseline set max_id = 100 where tbl = 'media'")  # as if legacy
    db.conn.commit()
    sealed = json.loads(run(["seal", "--json"], env).stdout)
    assert sealed["backfilled_rows"] == 1
    assert verify(env)[0] == 0


def test_seal_never_covers_a_link_made_by_hand_even_one_put_in_the_baseline(
    env: dict[str, str], archive_dir: Path, tmp_path: Path
) -> None:
    article = tmp_path / "linkless.txt"  # an embed whose link was lost: stored, never linked
    article.write_text("Story.\n\nWords of the post.\n— Someone (@someone) November 14, 2025\n")
    run(["archive", str(article)], env)
    db = Database(archive_dir / "archive.db")
    (detection_id,) = db.execute("select id from detections where post_pk is null").fetchone()
    db.execute("update detections set post_pk = (select min(id) from posts) where id = ?", [detection_id])  # fmt: skip
    db.conn.commit()
    assert run(["seal"], env).exit_code == 0
    code, report = verify(env)
    assert code == 1
    assert [p["message"] for p in report["problems"]] == [
        f"1 detection link(s) are in no manifest ({detection_id}); links made behind the "
        "chain's back"
    ]
    # Passing it off as a link from before: its own manifest says links vouch for it.
    db.execute("insert into link_baseline values (?)", [detection_id])
    db.conn.commit()
    assert "behind the chain's back" in verify(env)[1]["problems"][0]["message"]
    sealed = json.loads(run(["seal", "--json"], env).stdout)
    assert sealed["backfilled_rows"] == 0
    assert verify(env)[0] == 1


def test_an_archive_from_before_link_manifests_records_its_links_when_upgraded(
    env: dict[str, str], archive_dir: Path
) -> None:
    """An archive written before manifests vouched for links: a detection (here one from
    before manifests at all, as the oldest archives have) linked without a link manifest, and
    no ``link_baseline`` yet. Its detection row and its link are covered by seal's backfill."""
    db = Database(archive_dir / "archive.db")
    row = dict(next(db["detections"].rows))
    row.update(id=None, offset=row["offset"] + 1)
    old = db["detections"].insert(row).last_pk
    db.execute("drop trigger manifest_baseline_no_update")
    db.execute("update manifest_baseline set max_id = ? where tbl = 'detections'", [old])
    db.execute("drop table link_baseline")
    db.execute("delete from _sqlite_migrations where name = 'm009_link_baseline'")
    db.conn.commit()
    code, report = verify(env)  # read as it is (verify writes nothing): its link is old
    assert code == 1
    assert f"1 detection link(s) are in no manifest ({old}); links made before links were vouched for ('embedarchive seal' covers those)" in [p["message"] for p in report["problems"]]  # fmt: skip
    sealed = json.loads(run(["seal", "--json"], env).stdout)  # a writer upgrades it first
    assert sealed["backfilled_rows"] == 2  # the detection row and its link
    linked = [r[0] for r in db.execute("select id from detections where post_pk is not null")]
    assert [r[0] for r in db.execute("select detection_id from link_baseline")] == linked
    assert old in linked and verify(env)[0] == 0


def test_the_post_page_names_the_sealed_backfill_of_a_capture_and_a_link_from_before(
    env: dict[str, str], archive_dir: Path
) -> None:
    """A capture and a link from before manifests: once 'seal' lists them in a backfill, the
    post page names that manifest and its seal (it said "covered … once sealed" for ever)."""
    from .test_web import Client

    db = Database(archive_dir / "archive.db")
    capture = dict(next(db["captures"].rows))
    capture.pop("id")
    old_capture = db["captures"].insert(capture).last_pk
    detection = dict(next(db["detections"].rows))
    detection.update(id=None, offset=detection["offset"] + 1)
    old_detection = db["detections"].insert(detection).last_pk
    db.execute("drop trigger manifest_baseline_no_update")
    for table, top in (("captures", old_capture), ("detections", old_detection)):
        db.execute("update manifest_baseline set max_id = ? where tbl = ?", [top, table])
    db.execute("insert into link_baseline values (?)", [old_detection])
    db.conn.commit()
    client = Client(archive_dir / "archive.db")
    try:
        before = client.get(f"/posts/{capture['post_pk']}").text
        assert "none (captured before manifests" in before
        assert "no manifest (linked before links were vouched for" in before
        sealed = json.loads(run(["seal", "--json"], env).stdout)
        assert sealed["backfilled_rows"] == 3 and verify(env)[0] == 0
        page = client.get(f"/posts/{capture['post_pk']}").text
    finally:
        client.close()
    seq = sealed["manifest_seq"]
    assert "once sealed" not in page and "before manifests:" not in page
    assert page.count(f"backfill manifest #{seq}") == 2  # the capture's and the link's
    assert "listed by the seal after the upgrade" in page
    capture_panel = page[page.index(f"backfill manifest #{seq} · sha256") :]
    assert '<span class="ok">yes</span>: RFC 3161 timestamp' in capture_panel[:3000]


@pytest.fixture
def wide_tsa() -> Iterator[FakeTSA]:
    """A TSA whose certificate is valid 1950-9999: only its tokens' times can be wrong."""
    with FakeTSA("Wide TSA", wide=True) as server:
        yield server


@pytest.mark.parametrize("year", [1970, 2999])
def test_a_token_of_an_impossible_time_is_refused_by_seal_and_flagged_by_verify(
    env: dict[str, str], archive_dir: Path, wide_tsa: FakeTSA, tmp_path: Path, year: int
) -> None:
    """A token of 1970 over a manifest of 2026 (or of 2999) was stored by seal and passed by
    verify and verify --bundle: it signs validly, and proves nothing."""
    import datetime as dt

    ca = wide_tsa.write_ca(tmp_path / "wide-ca.pem")
    sealing = {**env, "EMBEDARCHIVE_TSA_URL": wide_tsa.url, "EMBEDARCHIVE_TSA_CA_FILE": str(ca)}
    wide_tsa.clock = dt.datetime(year, 1, 1, tzinfo=dt.UTC)
    refused = run(["seal"], sealing)
    assert refused.exit_code == 1 and f"its time {year}-01-01T00:00:00Z is" in refused.output
    assert not list((archive_dir / "timestamps").rglob("*.tsr"))
    # Stored anyway (a seal by an older release, a row added by hand): verify says so.
    wide_tsa.clock = None
    assert run(["seal"], sealing).exit_code == 0
    db = Database(archive_dir / "archive.db")
    [row] = db["timestamps"].rows
    manifest = (archive_dir / db["manifests"].get(row["manifest_id"])["path"]).read_bytes()
    import httpx

    from embedarchive.seal import request_token

    wide_tsa.clock = dt.datetime(year, 1, 1, tzinfo=dt.UTC)
    with httpx.Client() as client:
        forged = request_token(client, wide_tsa.url, manifest)
    token = archive_dir / row["path"]
    os.chmod(token, 0o644)
    token.write_bytes(forged)
    code, report = verify({**env, "EMBEDARCHIVE_TSA_CA_FILE": str(ca)})
    assert code == 1
    assert any(f"its time {year}-01-01T00:00:00Z is" in p["message"] for p in report["problems"])


def test_a_tsa_that_answers_too_much_or_too_slowly_is_one_line(
    env: dict[str, str], tsa: FakeTSA
) -> None:
    """A TSA's gigabyte answer was read whole (2 GB for a gzip bomb); one trickling a byte a
    second held the writer lock past every deadline."""
    tsa.padding = 2 << 20
    try:
        result = run(["seal"], env)
        assert result.exit_code == 1 and "answered more than 1048576 bytes" in result.output
        tsa.padding, tsa.trickle = 0, True
        result = run(["seal"], {**env, "EMBEDARCHIVE_TOTAL_TIMEOUT": "1"})
        assert result.exit_code == 1 and "took more than 1 s to answer" in result.output
    finally:
        tsa.padding, tsa.trickle = 0, False
