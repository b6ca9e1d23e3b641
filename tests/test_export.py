"""``embedarchive export``: a WACZ bundle with the report, manifests and tokens, checked on its own."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import shutil
import sqlite3
import stat
import warnings
import zipfile
from pathlib import Path
from typing import Any

import pytest

from embedarchive import export as export_module
from embedarchive.wacz import member_name

from .faketsa import FakeTSA
from .helpers import ARTICLES, SEED, cli_env, run

SEED_ID = "1989257861291196183"
HOSTILE = f"""<!doctype html><html><head>
<title>Tom &amp; &lt;img src=x onerror=alert(1)&gt;</title></head><body><article>
<p>Report.</p>
<blockquote class="twitter-tweet"><p lang="tr">Injected &lt;script&gt;alert(1)&lt;/script&gt;</p>
&mdash; TRHaber (@trhaber_com) <a href="https://twitter.com/trhaber_com/status/{SEED_ID}">November 14, 2025</a>
</blockquote></article></body></html>"""


@pytest.fixture
def env(fake_platform, archive_dir: Path, tsa: FakeTSA) -> dict[str, str]:
    env = cli_env(fake_platform, archive_dir, EMBEDARCHIVE_TSA_URL=tsa.url)
    assert run(["archive", str(SEED)], env).exit_code == 0
    return env


def export(env: dict[str, str], out: Path, *articles: str) -> dict[str, Any]:
    result = run(["export", *articles, "--out", str(out), "--json"], env)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def exported_report(env: dict[str, str], out: Path, *articles: str) -> str:
    """The report of a bundle of ``articles`` exported to ``out``."""
    export(env, out, *articles)
    with zipfile.ZipFile(out) as bundle:
        return bundle.read("report/index.html").decode()


def verify_bundle(bundle: Path) -> tuple[int, dict[str, Any]]:
    result = run(["verify", "--bundle", str(bundle), "--json"], {})
    return result.exit_code, json.loads(result.stdout)


def test_bundle_has_the_wacz_layout(env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "seed.wacz"
    done = export(env, out, str(SEED))
    assert done["articles"] == 1 and done["captures"] == 1 and done["records"] > 5
    with zipfile.ZipFile(out) as z:
        names = set(z.namelist())
        assert {
            "archive/data.warc.gz",
            "indexes/index.cdx",
            "pages/pages.jsonl",
            "datapackage.json",
            "datapackage-digest.json",
            "report/index.html",
            "records/rows.json",
            "manifests/chain.json",
        } <= names
        assert all(i.compress_type == zipfile.ZIP_STORED for i in z.infolist())
        package = json.loads(z.read("datapackage.json"))
        assert package["profile"] == "data-package" and package["wacz_version"].startswith("1.1")
        for resource in package["resources"]:
            data = z.read(resource["path"])
            assert resource["hash"] == "sha256:" + hashlib.sha256(data).hexdigest()
            assert resource["bytes"] == len(data)
        digest = json.loads(z.read("datapackage-digest.json"))
        assert digest["hash"] == "sha256:" + hashlib.sha256(z.read("datapackage.json")).hexdigest()
        cdx = z.read("indexes/index.cdx").decode().splitlines()
        assert cdx == sorted(cdx) and any(".mp4" in line for line in cdx)
        key, stamp, entry = cdx[0].split(" ", 2)
        assert len(stamp) == 14 and json.loads(entry)["filename"] == "data.warc.gz"
        pages = [json.loads(line) for line in z.read("pages/pages.jsonl").splitlines()]
        assert pages[0]["format"] == "json-pages-1.0" and len(pages) >= 2
        assert any(n.startswith("media/") and n.endswith(".mp4") for n in names)


def test_report_is_offline_and_escapes_archived_text(
    fake_platform, archive_dir: Path, tmp_path: Path
) -> None:
    article = tmp_path / "hostile.html"
    article.write_text(HOSTILE, encoding="utf-8")
    env = cli_env(fake_platform, archive_dir)
    assert run(["archive", str(article)], env).exit_code == 0
    html = exported_report(env, tmp_path / "hostile.wacz", str(article))
    assert "<script" not in html.lower() and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)  # no external resource
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    assert 'src="../media/' in html  # the media, from the bundle itself


def test_exported_bundle_verifies_alone_in_a_fresh_directory(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run(["seal"], env).exit_code == 0
    out = tmp_path / "seed.wacz"
    done = export(env, out, str(SEED))
    assert done["timestamps"] == 1
    fresh = tmp_path / "elsewhere"
    fresh.mkdir()
    moved = Path(shutil.copy(out, fresh / "bundle.wacz"))
    shutil.rmtree(tmp_path / "archive")  # nothing of the archive is left
    monkeypatch.chdir(fresh)
    code, report = verify_bundle(moved)
    assert code == 0, report["problems"]
    assert report["checked"] > 30
    assert not any("no trusted timestamp" in n for n in report["notes"])


def _rewrite(bundle: Path, name: str, change: Any) -> Path:
    tampered = bundle.with_name("tampered.wacz")
    with zipfile.ZipFile(bundle) as src, zipfile.ZipFile(tampered, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            dst.writestr(info, change(data) if info.filename == name else data)
    return tampered


def _repackage(bundle: Path, changes: dict[str, Any]) -> Path:
    """``bundle`` with members changed (a function of the old bytes) or added (bytes), and
    ``datapackage.json`` and its digest made to match: what anyone can do to a zip."""
    tampered = bundle.with_name("repackaged.wacz")
    with zipfile.ZipFile(bundle) as src:
        members = {i.filename: src.read(i) for i in src.infolist()}
    for name, change in changes.items():
        members[name] = change(members[name]) if callable(change) else change
    package = json.loads(members["datapackage.json"])
    resources = {r["path"]: r for r in package["resources"]}
    for name, data in members.items():
        if name.startswith("datapackage"):
            continue
        entry = resources.setdefault(name, {"name": name.rsplit("/", 1)[-1], "path": name})
        entry.update(hash="sha256:" + hashlib.sha256(data).hexdigest(), bytes=len(data))
    package["resources"] = list(resources.values())
    members["datapackage.json"] = json.dumps(package).encode()
    digest = {"path": "datapackage.json", "hash": "sha256:" + hashlib.sha256(members["datapackage.json"]).hexdigest()}  # fmt: skip
    members["datapackage-digest.json"] = json.dumps(digest).encode()
    with zipfile.ZipFile(tampered, "w") as dst:
        for name, data in members.items():
            dst.writestr(name, data)
    return tampered


def _edit_json(change: Any) -> Any:
    return lambda data: json.dumps(change(json.loads(data))).encode()


def _unexported(chain: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**e, "exported": False} for e in chain]


def test_a_consistently_repackaged_bundle_is_still_caught(
    env: dict[str, str], tmp_path: Path
) -> None:
    """Whoever edits a bundle can recompute datapackage.json and its digest, and flip the
    chain's "exported" marks, which nothing signs: every row, file and WARC record the bundle
    holds must still be vouched for by a manifest of the chain."""
    out = tmp_path / "seed.wacz"
    assert run(["seal"], env).exit_code == 0
    export(env, out, str(SEED))
    assert verify_bundle(_repackage(out, {}))[0] == 0  # the repackaging itself changes nothing
    with zipfile.ZipFile(out) as z:
        video = next(n for n in z.namelist() if n.endswith(".mp4"))
    forged_record = (
        b"WARC/1.1\r\nWARC-Type: resource\r\nWARC-Record-ID: <urn:uuid:0000>\r\n"
        b"WARC-Target-URI: https://twitter.com/x/status/1\r\nContent-Length: 6\r\n\r\nforged\r\n\r\n"
    )

    def add_capture(rows: dict[str, Any]) -> dict[str, Any]:
        rows["captures"].append({**rows["captures"][0], "id": 999, "status": "archived"})
        return rows

    attacks = {
        "video swapped, its manifest marked not exported": (
            {video: b"forged video", "manifests/chain.json": _edit_json(_unexported)},
            "differs from manifest",
        ),
        "a capture row no manifest lists": (
            {"records/rows.json": _edit_json(add_capture)},
            "captures row 999 is in no manifest",
        ),
        "a member no manifest names": (
            {"media/evil.jpg": b"\xff\xd8 evil"},
            "named by no manifest",
        ),
        "a WARC record no row names": (
            {"archive/data.warc.gz": lambda d: d + gzip.compress(forged_record)},
            "named by no row",
        ),
        "the report a reader opens, edited": (
            {"report/index.html": lambda d: d.replace(b"trhaber_com", b"someone_else")},
            "report/index.html is not what the rows make",
        ),
        "the index and pages a player reads, edited": (
            {"pages/pages.jsonl": lambda d: d.replace(b"(archived)", b"(forged)")},
            "pages/pages.jsonl is not what the rows make",
        ),
        "the seal's time rewritten": (
            {
                "timestamps/tokens.json": _edit_json(
                    lambda ts: [{**t, "gen_time": "2020-01-01T00:00:00Z"} for t in ts]
                )
            },  # fmt: skip
            "time differ from the signed token",
        ),
    }
    for name, (changes, said) in attacks.items():
        code, report = verify_bundle(_repackage(out, changes))
        assert code == 1, name
        assert any(said in p["message"] for p in report["problems"]), (name, report["problems"])
    # Passing the bundle off as one exported before the report could be checked is said.
    older = _edit_json(lambda p: {k: v for k, v in p.items() if k != "embedarchiveDerived"})
    code, report = verify_bundle(_repackage(out, {"datapackage.json": older}))
    assert code == 0 and any("were not checked" in n for n in report["notes"])


def test_a_detection_pointed_at_another_post_of_the_bundle_is_caught(
    env: dict[str, str], tmp_path: Path
) -> None:
    """The report shows under each embed the captures of the post its detection is linked to:
    that link is vouched for by a manifest too, so it cannot be pointed at another post."""
    article = str(ARTICLES / "four-findings.html")
    assert run(["archive", article], env).exit_code == 0
    out = tmp_path / "four.wacz"
    export(env, out, article)
    with zipfile.ZipFile(out) as z:
        rows = json.loads(z.read("records/rows.json"))
    first = rows["detections"][0]
    other = next(c["post_pk"] for c in rows["captures"] if c["post_pk"] != first["post_pk"])

    def repoint(rows: dict[str, Any]) -> dict[str, Any]:
        rows["detections"][0]["post_pk"] = other
        return rows

    # The report made from the rows would differ: pass the bundle off as an older one.
    older = _edit_json(lambda p: {k: v for k, v in p.items() if k != "embedarchiveDerived"})
    code, report = verify_bundle(_repackage(out, {"datapackage.json": older}))
    assert code == 0, report["problems"]
    code, report = verify_bundle(
        _repackage(out, {"datapackage.json": older, "records/rows.json": _edit_json(repoint)})
    )
    assert code == 1
    assert [p["message"] for p in report["problems"]] == [
        f"detection {first['id']} is linked otherwise than manifest "
        f"{_link_seq(out, first['id'])} says: altered"
    ]

    def unlink(rows: dict[str, Any]) -> dict[str, Any]:
        rows["detections"][0].update(post_pk=None, resolution="unresolved")
        return rows

    def forged_twin(rows: dict[str, Any]) -> dict[str, Any]:
        twin = {**rows["captures"][0], "data": '{"text": "forged"}'}
        rows["captures"].insert(0, twin)  # same id: only one of the two could be hashed
        return rows

    for change, said in (
        (unlink, f"detection {first['id']} is no longer linked to the post manifest"),
        (forged_twin, f"captures row {rows['captures'][0]['id']} is in the bundle twice"),
    ):
        tampered = {"datapackage.json": older, "records/rows.json": _edit_json(change)}
        code, report = verify_bundle(_repackage(out, tampered))
        assert code == 1 and any(said in p["message"] for p in report["problems"]), said


def test_a_bundle_of_an_upgraded_archive_carries_the_backfill_that_vouches_for_its_links(
    env: dict[str, str], tmp_path: Path
) -> None:
    """Sealed, then an embed from before manifests (its row and its link) is covered by the
    next seal's backfill: the bundle's chain reaches that backfill (it stopped at the first
    seal), so the row is vouched for and the link checked."""
    archive = Path(env["EMBEDARCHIVE_ARCHIVE_DIR"])
    assert run(["seal"], env).exit_code == 0
    db = sqlite3.connect(archive / "archive.db")
    db.execute(
        """insert into detections (article_id, platform, kind, markup, offset, url, post_id,
           snippet, resolution, resolved_post_id, post_pk)
           select article_id, platform, kind, markup, offset + 1, url, post_id, snippet,
           resolution, resolved_post_id, post_pk from detections where id = 1"""
    )
    (old,) = db.execute("select max(id) from detections").fetchone()
    db.execute("drop trigger manifest_baseline_no_update")
    db.execute("update manifest_baseline set max_id = ? where tbl = 'detections'", [old])
    db.execute("insert into link_baseline values (?)", [old])  # as the upgrade records it
    db.commit()
    db.close()
    sealed = run(["seal", "--json"], env)
    assert json.loads(sealed.stdout)["backfilled_rows"] == 2
    out = tmp_path / "seed.wacz"
    export(env, out, str(SEED))
    code, report = verify_bundle(out)
    assert code == 0, report["problems"]
    assert not any("were not checked" in n for n in report["notes"])

    def repoint(rows: dict[str, Any]) -> dict[str, Any]:
        next(d for d in rows["detections"] if d["id"] == old)["post_pk"] = 999
        return rows

    older = _edit_json(lambda p: {k: v for k, v in p.items() if k != "embedarchiveDerived"})
    tampered = {"datapackage.json": older, "records/rows.json": _edit_json(repoint)}
    code, report = verify_bundle(_repackage(out, tampered))
    assert code == 1
    assert [p["message"] for p in report["problems"]] == [
        f"detection {old} is linked otherwise than manifest "
        f"{json.loads(sealed.stdout)['manifest_seq']} says: altered"
    ]


def test_export_of_a_detection_linked_to_no_post_row_is_one_line(
    env: dict[str, str], tmp_path: Path
) -> None:
    db = sqlite3.connect(Path(env["EMBEDARCHIVE_ARCHIVE_DIR"]) / "archive.db")
    db.execute("update detections set post_pk = 'abc'")
    db.commit()
    db.close()
    result = run(["export", str(SEED), "--out", str(tmp_path / "x.wacz")], env)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: detection 1 is linked to 'abc', which is no post")


def _link_seq(bundle: Path, detection_id: int) -> int:
    with zipfile.ZipFile(bundle) as z:
        chain = json.loads(z.read("manifests/chain.json"))
    (seq,) = [
        m["seq"]
        for m in chain
        if m["kind"] == "link" and m["subject"] == f"detection:{detection_id}"
    ]
    return int(seq)


@pytest.mark.parametrize(
    "member", ["records/rows.json", "datapackage.json", "archive/data.warc.gz", "media"]
)
def test_a_byte_changed_in_place_in_a_member_is_reported_not_a_crash(
    env: dict[str, str], tmp_path: Path, member: str
) -> None:
    """As a hex editor would: the zip's own CRC-32 then fails on reading (BadZipFile)."""
    out = tmp_path / "seed.wacz"
    export(env, out, str(SEED))
    with zipfile.ZipFile(out) as z:
        if member == "media":
            member = next(n for n in z.namelist() if n.startswith("media/"))
        info = z.getinfo(member)
    data = bytearray(out.read_bytes())
    at = info.header_offset
    start = at + 30 + int.from_bytes(data[at + 26 : at + 28], "little")
    start += int.from_bytes(data[at + 28 : at + 30], "little")
    data[start + 10] ^= 1
    out.write_bytes(bytes(data))
    result = run(["verify", "--bundle", str(out), "--json"], {})
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert f"{member} was changed inside the zip" in report["problems"][0]["message"]


def test_tampered_bundle_fails(env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "seed.wacz"
    export(env, out, str(SEED))
    with zipfile.ZipFile(out) as z:
        video = next(n for n in z.namelist() if n.endswith(".mp4"))

    def flip(data: bytes) -> bytes:
        return data[:100] + bytes([data[100] ^ 1]) + data[101:]

    code, report = verify_bundle(_rewrite(out, video, flip))
    assert code == 1
    altered = [p["message"] for p in report["problems"] if p["kind"] == "altered"]
    assert any(video in m for m in altered)
    assert any("differs from manifest" in m for m in altered)
    code, report = verify_bundle(
        _rewrite(out, "records/rows.json", lambda d: d.replace(b"trhaber_com", b"someone_else"))
    )
    assert code == 1
    assert any("differs from manifest" in p["message"] for p in report["problems"])


@pytest.mark.parametrize(
    ("member", "mangled"),
    [
        ("records/rows.json", b"not json"),
        ("records/rows.json", b"[" * 100_000 + b"]" * 100_000),
        ("records/rows.json", b"[1, 2]"),
        ("manifests/chain.json", b'[{"seq": 1}]'),
        ("timestamps/tokens.json", b'{"x": 1}'),
        ("datapackage.json", b'{"resources": 5}'),
        ("datapackage-digest.json", b"[]"),
    ],
)
def test_a_bundle_whose_own_indexes_are_mangled_is_reported_not_a_crash(
    env: dict[str, str], tmp_path: Path, member: str, mangled: bytes
) -> None:
    out = tmp_path / "seed.wacz"
    export(env, out, str(SEED))
    tampered = _rewrite(out, member, lambda _: mangled)
    code, report = verify_bundle(tampered)  # --json: a traceback would leave no JSON to read
    assert code == 1
    assert any(member in p["message"] for p in report["problems"] if p["kind"] == "altered")
    shown = run(["verify", "--bundle", str(tampered)], {})
    assert shown.exit_code == 1 and "FAILED" in shown.stdout and "[red]" not in shown.stdout


def test_bundle_with_an_altered_manifest_names_it_and_follows_the_rest_of_the_chain(
    env: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "seed.wacz"
    export(env, out, str(SEED))
    with zipfile.ZipFile(out) as z:
        chain = json.loads(z.read("manifests/chain.json"))
    assert len(chain) > 2
    middle = chain[1]
    code, report = verify_bundle(
        _rewrite(out, member_name(middle["path"]), lambda d: d.replace(b'"seq"', b'"Seq"'))
    )
    assert code == 1
    messages = [(p["kind"], p["message"]) for p in report["problems"]]
    assert ("altered", f"manifest {middle['seq']} ({middle['path']}) is altered") in messages
    assert not any("does not follow" in m for _, m in messages)  # the next link still holds


def test_unknown_article_is_exit_2(env: dict[str, str], tmp_path: Path) -> None:
    result = run(["export", "no-such-article", "--out", str(tmp_path / "x.wacz")], env)
    assert result.exit_code == 2 and "no article" in result.stderr
    assert not (tmp_path / "x.wacz").exists()


def test_a_file_missing_from_the_archive_is_one_line_and_no_bundle(
    env: dict[str, str], archive_dir: Path, tmp_path: Path
) -> None:
    media = next((archive_dir / "media").rglob("*.mp4"))
    media.unlink()
    out = tmp_path / "seed.wacz"
    result = run(["export", str(SEED), "--out", str(out)], env)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.stderr.strip().splitlines() == [
        f"error: {media} is missing: the archive is incomplete ('embedarchive verify' lists "
        "what is missing); no bundle was written"
    ]
    assert list(tmp_path.glob("seed.wacz*")) == []


def test_an_archive_file_that_cannot_be_read_is_named_and_no_bundle(
    env: dict[str, str], archive_dir: Path, tmp_path: Path
) -> None:
    media = next((archive_dir / "media").rglob("*.mp4"))
    media.unlink()
    media.mkdir()  # unreadable as a file (root reads any mode, so not a permission test)
    out = tmp_path / "seed.wacz"
    result = run(["export", str(SEED), "--out", str(out)], env)
    assert result.exit_code == 2
    assert (
        result.stderr.strip()
        == f"error: cannot read {media}: Is a directory; no bundle was written"
    )
    assert list(tmp_path.glob("seed.wacz*")) == []


def test_export_reads_one_snapshot_while_a_run_writes(
    env: dict[str, str], archive_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = sqlite3.connect(archive_dir / "archive.db")
    read = export_module._rows

    def read_then_a_run_commits(db: Any, sql: str, params: Any = ()) -> list[dict[str, Any]]:
        found = read(db, sql, params)
        if "from detections" in sql:  # between two of the export's reads, another process
            writer.execute(
                "insert into manifests (seq, kind, subject, path, sha256, previous, created_at)"
                " values (99999, 'article', 'article:1', 'manifests/00/late.json', 'x', 'y', 'z')"
            )
            writer.commit()
        return found

    monkeypatch.setattr(export_module, "_rows", read_then_a_run_commits)
    out = tmp_path / "seed.wacz"
    done = export(env, out, str(SEED))  # the late manifest (and its missing file) is not seen
    assert done["manifests"] > 0
    assert verify_bundle(out)[0] == 0
    writer.close()


def test_an_existing_bundle_is_replaced_only_when_asked(
    env: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "seed.wacz"
    out.write_bytes(b"handed to the court on Monday")
    result = run(["export", str(SEED), "--out", str(out)], env)
    assert result.exit_code == 2 and "already exists" in result.stderr
    assert out.read_bytes() == b"handed to the court on Monday"
    assert run(["export", str(SEED), "--out", str(out), "--overwrite"], env).exit_code == 0
    assert verify_bundle(out)[0] == 0


def test_overwrite_replaces_only_a_file(env: dict[str, str], tmp_path: Path) -> None:
    """As root, ``--out /dev/full --overwrite`` turned the device into a zip file."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    folder = tmp_path / "folder"
    folder.mkdir()
    for out, said in ((fifo, "is not a file"), (folder, "is a directory")):
        result = run(["export", str(SEED), "--out", str(out), "--overwrite"], env)
        assert result.exit_code == 2 and said in result.stderr, result.output
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert stat.S_ISFIFO(fifo.stat().st_mode) and folder.is_dir() and not list(folder.iterdir())


def test_reference_validator_accepts_the_bundle(env: dict[str, str], tmp_path: Path) -> None:
    """py-wacz (Webrecorder's own WACZ tool) validates the layout, hashes and datapackage."""
    import subprocess
    import sys

    out = tmp_path / "seed.wacz"
    export(env, out, str(SEED))
    wacz = Path(sys.executable).with_name("wacz")
    result = subprocess.run(
        [str(wacz), "validate", "-f", str(out)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Validation succeeded" in result.stdout


def test_an_article_archived_before_manifests_is_exported_once_a_seal_vouches_for_it(
    env: dict[str, str], tmp_path: Path
) -> None:
    """An article and its embed from before manifests (no manifest names them) could never be
    exported, sealed or not: the bundle's chain is now the backfill that vouches for them."""
    archive = Path(env["EMBEDARCHIVE_ARCHIVE_DIR"])
    db = sqlite3.connect(archive / "archive.db")
    copied = {}
    for table, changed in (("runs", {}), ("articles", {"source": "'old-article.txt'"})):
        if table == "articles":
            changed["run_id"] = str(copied["runs"])
        columns = [r[1] for r in db.execute(f"pragma table_info({table})") if r[1] != "id"]
        picked = ", ".join(changed.get(c, c) for c in columns)
        db.execute(
            f"insert into {table} ({', '.join(columns)}) select {picked} from {table} where id = 1"
        )
        (copied[table],) = db.execute(f"select max(id) from {table}").fetchone()
    article = copied["articles"]
    db.execute(
        """insert into detections (article_id, platform, kind, markup, offset, snippet,
           resolution) values (?, 'twitter', 'post', 'text', 0, 'x', 'unresolved')""",
        [article],
    )
    (detection,) = db.execute("select max(id) from detections").fetchone()
    db.execute("drop trigger manifest_baseline_no_update")
    for table, top in (*copied.items(), ("detections", detection)):
        db.execute("update manifest_baseline set max_id = ? where tbl = ?", [top, table])
    db.commit()
    db.close()
    out = tmp_path / "old.wacz"
    refused = run(["export", "old-article.txt", "--out", str(out)], env)
    assert refused.exit_code == 2 and "run 'embedarchive seal' first" in refused.output
    assert not out.exists()
    sealed = json.loads(run(["seal", "--json"], env).stdout)
    assert sealed["backfilled_rows"] == 3  # the run, the article, its embed
    export(env, out, "old-article.txt")
    code, report = verify_bundle(out)
    assert code == 0, report["problems"]


def test_a_bundle_in_the_first_layout_still_verifies(env: dict[str, str], tmp_path: Path) -> None:
    """Bundles exported before 2026-11-25 keep files three levels deep, as the archive does
    (``manifests/c7/<sha>.json``): they were all reported missing and "added to the bundle"."""
    out = tmp_path / "seed.wacz"
    export(env, out, str(SEED))
    with zipfile.ZipFile(out) as src:
        members = {i.filename: src.read(i) for i in src.infolist()}
    fanned = re.compile(r"^(media|manifests|timestamps)/([0-9a-f]{2})([0-9a-f]{62}\.\w+)$")
    renamed = {fanned.sub(r"\1/\2/\2\3", name): data for name, data in members.items()}
    assert sum(name.count("/") == 2 for name in renamed) >= 5  # manifests, media, a token
    package = json.loads(renamed["datapackage.json"])
    package.pop("embedarchiveDerived", None)  # the first bundles had no derived members' list
    for resource in package["resources"]:
        resource["path"] = fanned.sub(r"\1/\2/\2\3", resource["path"])
    renamed["datapackage.json"] = json.dumps(package).encode()
    digest = hashlib.sha256(renamed["datapackage.json"]).hexdigest()
    renamed["datapackage-digest.json"] = json.dumps(
        {"path": "datapackage.json", "hash": f"sha256:{digest}"}
    ).encode()
    old = tmp_path / "first-layout.wacz"
    with zipfile.ZipFile(old, "w") as dst:
        for name, data in renamed.items():
            dst.writestr(name, data)
    code, report = verify_bundle(old)
    assert code == 0, report["problems"]
    assert report["ok"] == report["checked"] > 60  # its rows, files and manifests, all read


def test_verify_and_export_refuse_an_archive_a_newer_release_wrote(
    env: dict[str, str], tmp_path: Path
) -> None:
    """As every other command does: a verify that read on would vouch for tables it cannot
    know (a downgraded verify said OK over a re-pointed embed a newer release would catch)."""
    db = sqlite3.connect(Path(env["EMBEDARCHIVE_ARCHIVE_DIR"]) / "archive.db")
    db.execute(
        "insert into _sqlite_migrations (migration_set, name, applied_at) "
        "values ('embedarchive', 'm999_from_the_future', 'x')"
    )
    db.commit()
    db.close()
    out = tmp_path / "x.wacz"
    for args in (["verify"], ["export", str(SEED), "--out", str(out)], ["list"]):
        result = run(args, env)
        assert result.exit_code == 2, (args, result.output)
        assert "written by a newer embedarchive" in result.output, args
        assert "Traceback" not in result.output
    assert not out.exists()


FORMAT_1 = Path(__file__).resolve().parent / "fixtures" / "bundles" / "format1-seed.wacz"


def test_a_bundle_whose_report_is_in_the_first_format_is_checked_in_that_format(
    tmp_path: Path,
) -> None:
    """``format1-seed.wacz`` was exported by the release before report format 2 (the seed,
    sealed by the fake TSA): its report is made again in format 1 and compared, so changing
    the report never makes a bundle already handed over fail, and a forged one still does."""
    code, report = verify_bundle(FORMAT_1)
    assert code == 0, report["problems"]
    assert not [n for n in report["notes"] if "not checked" in n]  # the report was checked
    with zipfile.ZipFile(FORMAT_1) as bundle:
        assert "embedarchiveReport" not in json.loads(bundle.read("datapackage.json"))
    copy = tmp_path / FORMAT_1.name
    shutil.copy(FORMAT_1, copy)
    forged = _repackage(copy, {"report/index.html": lambda b: b.replace(b"<h1>", b"<h1>Forged ")})
    code, report = verify_bundle(forged)
    assert code == 1
    assert [p["message"] for p in report["problems"]] == [
        "report/index.html is not what the rows make: altered"
    ]


def test_a_new_bundle_says_its_report_format(env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "seed.wacz"
    export(env, out, str(SEED))
    with zipfile.ZipFile(out) as bundle:
        package = json.loads(bundle.read("datapackage.json"))
        page = bundle.read("report/index.html").decode()
    assert package["embedarchiveReport"] == 2
    assert ".box,h2,h3,p,td,th{overflow:clip}" in page
    code, report = verify_bundle(out)
    assert code == 0 and not [n for n in report["notes"] if "not checked" in n], report


def test_the_report_isolates_an_archived_name_with_an_open_override(
    fake_platform, archive_dir: Path, tmp_path: Path
) -> None:
    """A display name ending in U+202E turned the report's "@handle date" after it around, as
    it did in the web pages."""
    from .fakeplatform import DATA_DIR, SEED_ID

    tweet = json.loads((DATA_DIR / "syndication" / f"{SEED_ID}.json").read_text("utf-8"))
    tweet["user"]["name"] = "TRHaber \u202e"
    fake_platform.tweets[SEED_ID] = json.dumps(tweet, ensure_ascii=False)
    env = cli_env(fake_platform, archive_dir)
    assert run(["archive", str(SEED)], env).exit_code == 0
    page = exported_report(env, tmp_path / "seed.wacz", str(SEED))
    assert "\u2068TRHaber \u202e\u2069 @trhaber_com" in page
    assert verify_bundle(tmp_path / "seed.wacz")[0] == 0


def _rezip(bundle: Path, out: Path, edit: Any, *, before: bytes = b"", after: bytes = b"") -> Path:
    """``bundle``'s members, each as ``(ZipInfo, bytes)``, through ``edit``, written again (with
    bytes before or after the zip): the zip-level tricks a hand-made bundle can hold."""
    with zipfile.ZipFile(bundle) as src:
        members = [(zipfile.ZipInfo(i.filename, i.date_time), src.read(i)) for i in src.infolist()]
    plain = out.with_suffix(".zip")
    with warnings.catch_warnings(), zipfile.ZipFile(plain, "w") as dst:
        warnings.simplefilter("ignore")  # a duplicate name is the point of one case
        for info, data in edit(members):
            dst.writestr(info, data)
    out.write_bytes(before + plain.read_bytes() + after)
    return out


def _forged_first(members: list[Any]) -> list[Any]:
    """A forged report before the real one: zipfile reads the last, unzip takes the first."""
    return [(zipfile.ZipInfo("report/index.html"), b"<h1>FORGED</h1>"), *members]


def _with(name: str, **attrs: Any) -> Any:
    def edit(members: list[Any]) -> list[Any]:
        for info, _ in members:
            if info.filename == name:
                for key, value in attrs.items():
                    setattr(info, key, value)
        return members

    return edit


def _padded_rows(members: list[Any]) -> list[Any]:
    out = []
    for info, data in members:
        if info.filename == "records/rows.json":
            info.compress_type = zipfile.ZIP_DEFLATED
            data = data + b" " * 50_000_000  # a bomb's shape: deflates to ~50 kB
        out.append((info, data))
    return out


@pytest.mark.parametrize(
    ("edit", "around", "said"),
    [
        (_forged_first, {}, "report/index.html is in the zip 2 times"),
        (lambda m: m, {"before": b"MZ<html>payload</html>"}, "22 bytes before the zip's first member"),
        (lambda m: m, {"after": b"<script>1</script>"}, "bytes after the zip's end, or a zip comment"),
        (_with("report/index.html", comment=b"certified"), {}, "report/index.html has a comment in the zip"),
        (_with("report/index.html", extra=b"\x99\x99\x02\x00ab"), {}, "report/index.html has extra fields in the zip"),
        (_with("report/index.html", external_attr=0o120777 << 16), {}, "report/index.html is marked lrwxrwxrwx in the zip, not a plain file"),
        (_padded_rows, {}, "records/rows.json is compressed (an export stores every member): not read"),
    ],
)  # fmt: skip
def test_what_the_zip_holds_besides_its_members_is_caught(
    env: dict[str, str], tmp_path: Path, edit: Any, around: dict[str, bytes], said: str
) -> None:
    """Other programs may show what verify never read: the first of two members of one name,
    a zip or a page prepended to the bundle, a symlink; a compressed member may be a bomb
    (1 GiB of rows in a 1 MB bundle took 31 s and 3 GB)."""
    out = tmp_path / "seed.wacz"
    export(env, out, str(SEED))
    tampered = _rezip(out, tmp_path / "tampered.wacz", edit, **around)
    code, report = verify_bundle(tampered)
    assert code == 1
    assert said in [p["message"] for p in report["problems"]]


def test_forged_chain_and_token_fields_the_report_shows_are_caught(
    env: dict[str, str], tmp_path: Path
) -> None:
    """chain.json's kind and subject and tokens.json's manifest number are shown in the report
    and were never compared with the manifests and tokens they describe."""
    assert run(["seal"], env).exit_code == 0
    out = tmp_path / "seed.wacz"
    export(env, out, str(SEED))

    def forge_chain(chain: list[dict[str, Any]]) -> list[dict[str, Any]]:
        chain[0]["subject"] = "capture:999"
        return chain

    def forge_tokens(tokens: list[dict[str, Any]]) -> list[dict[str, Any]]:
        tokens[0]["manifest_seq"] = 1
        return tokens

    tampered = _repackage(
        out,
        {
            "manifests/chain.json": _edit_json(forge_chain),
            "timestamps/tokens.json": _edit_json(forge_tokens),
        },
    )
    code, report = verify_bundle(tampered)
    messages = [p["message"] for p in report["problems"]]
    assert code == 1
    assert any(
        "chain.json says manifest" in m and "subject is 'capture:999'" in m for m in messages
    )
    assert any("tokens.json says" in m and "covers manifest 1;" in m for m in messages)


@pytest.mark.parametrize("kind", ["device", "fifo"])
def test_a_bundle_that_is_no_file_is_one_line(tmp_path: Path, kind: str) -> None:
    """/dev/zero grew to 24 GB and was killed; a FIFO waited for ever."""
    path = tmp_path / "bundle.wacz"
    if kind == "device":
        path.symlink_to("/dev/zero")
    else:
        os.mkfifo(path)
    result = run(["verify", "--bundle", str(path)])
    assert result.exit_code == 2
    assert result.output.strip().endswith("is not a bundle: not a file")


def _gap_before_directory(data: bytes, start: int, _: zipfile.ZipInfo) -> bytes:
    """A forged member hidden between the last member and the directory, the end record's
    offset moved past it: Java's ZipInputStream reads it, zipfile and unzip do not."""
    hidden = b"PK\x03\x04" + bytes(26) + b"FORGED REPORT"
    end = bytearray(data[-22:])
    end[16:20] = (start + len(hidden)).to_bytes(4, "little")
    return data[:start] + hidden + data[start:-22] + bytes(end)


def _local_says_deflated(data: bytes, start: int, report: zipfile.ZipInfo) -> bytes:
    edited = bytearray(data)
    edited[report.header_offset + 8] = zipfile.ZIP_DEFLATED
    return bytes(edited)


def _directory_says_encrypted(data: bytes, start: int, report: zipfile.ZipInfo) -> bytes:
    edited = bytearray(data)
    at = data.index(b"PK\x01\x02", start)
    while data[at + 46 : at + 46 + len(b"report/index.html")] != b"report/index.html":
        at = data.index(b"PK\x01\x02", at + 4)
    edited[at + 8] |= 0x01
    return bytes(edited)


@pytest.mark.parametrize(
    ("edit", "said"),
    [
        (_gap_before_directory, "43 bytes between the last member and the zip's directory"),
        (_local_says_deflated, "report/index.html's local header says otherwise than the zip's directory"),
        (_directory_says_encrypted, "report/index.html has zip flags 0x1 (an export sets none): not read"),
    ],
)  # fmt: skip
def test_the_zip_layout_is_the_one_the_export_writes(
    env: dict[str, str], tmp_path: Path, edit: Any, said: str
) -> None:
    """Members one after another, local headers as the directory says, no flags: a gap held a
    member only streaming readers see; an 'encrypted' flag made verify raise a traceback."""
    out = tmp_path / "seed.wacz"
    export(env, out, str(SEED))
    with zipfile.ZipFile(out) as bundle:
        start, report = bundle.start_dir, bundle.getinfo("report/index.html")  # type: ignore[attr-defined]
    tampered = tmp_path / "tampered.wacz"
    tampered.write_bytes(edit(out.read_bytes(), start, report))
    result = run(["verify", "--bundle", str(tampered), "--json"], {})
    assert result.exit_code == 1, result.output
    assert said in [p["message"] for p in json.loads(result.stdout)["problems"]]


@pytest.mark.parametrize("named", [99, "2", None])
def test_a_report_format_verify_cannot_make_is_no_pass(
    env: dict[str, str], tmp_path: Path, named: Any
) -> None:
    """A forged report with datapackage.json naming an unknown format passed with a note."""
    out = tmp_path / "seed.wacz"
    export(env, out, str(SEED))

    def rename(package: dict[str, Any]) -> dict[str, Any]:
        return {**package, "embedarchiveReport": named}

    forged = _repackage(
        out,
        {
            "report/index.html": lambda b: b.replace(b"<h1>", b"<h1>Forged "),
            "datapackage.json": _edit_json(rename),
        },
    )
    code, report = verify_bundle(forged)
    assert code == 1
    assert any(f"report format {named!r}" in p["message"] for p in report["problems"])
