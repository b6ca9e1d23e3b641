"""``embedarchive export``: a self-contained evidence bundle of some articles, as a WACZ 1.1 file.

Layout (all members stored uncompressed, as WACZ requires for random access)::

  archive/data.warc.gz        the articles' WARC records, copied byte for byte (each record is
                              its own gzip member, so digests and record ids are unchanged)
  indexes/index.cdx           CDXJ index of that WARC
  pages/pages.jsonl           the pages ReplayWeb.page lists
  report/index.html           the offline report (report.py)
  media/…                     the media files and article bytes (``wacz.member_name``)
  records/rows.json           the database rows of the exported units
  manifests/…, manifests/chain.json   the hash chain from the first exported manifest to the seal
  timestamps/…, timestamps/tokens.json  the RFC 3161 tokens over that chain
  datapackage.json, datapackage-digest.json   sha256 of every file; sha256 of datapackage.json

Manifests of other captures inside the chain's window are included as they are: they hold
only hashes, so the chain can be checked without disclosing those captures.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from sqlite_utils import Database

from . import __version__
from .capture.http import utcnow
from .errors import InputError, StoreError, write_error
from .manifest import backfills
from .report import REPORT_FORMAT, TEMPLATES, capture_view, render_report
from .store import sql
from .store.records import read_snapshot
from .wacz import cdxj_lines, member_name, page_entries

CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Exported:
    path: Path
    articles: int
    captures: int
    records: int
    manifests: int
    timestamps: int
    size: int


def _rows(db: Database, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
    cursor = db.execute(sql, list(params))
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _in(ids: Sequence[int]) -> str:
    return "(" + ",".join(str(int(i)) for i in ids) + ")" if ids else "(null)"


def find_articles(db: Database, refs: Sequence[str]) -> list[dict[str, Any]]:
    """Articles by row id, source (URL or path as given to ``archive``) or sha256."""
    found: dict[int, dict[str, Any]] = {}
    for ref in refs:
        rows = _rows(
            db,
            "select * from articles where source = ? or sha256 = ? or url = ? or id = ?",
            [ref, ref, ref, sql.row_id(ref) or -1],
        )
        if not rows:
            raise InputError(f"no article {ref!r} in the archive (see 'embedarchive list')")
        found.update((r["id"], r) for r in rows)
    return [found[k] for k in sorted(found)]


class _Zip:
    """Writes members uncompressed and remembers each one's sha256 and size."""

    def __init__(self, path: Path) -> None:
        self.zip = zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED, allowZip64=True)
        self.resources: list[dict[str, Any]] = []

    def add_stream(self, name: str, src: IO[bytes]) -> None:
        sha, size = hashlib.sha256(), 0
        with self.zip.open(name, "w", force_zip64=True) as out:
            while chunk := src.read(CHUNK):
                sha.update(chunk)
                size += len(chunk)
                out.write(chunk)
        self.resources.append(
            {
                "name": name.rsplit("/", 1)[-1],
                "path": name,
                "hash": f"sha256:{sha.hexdigest()}",
                "bytes": size,
            }
        )

    def abandon(self) -> None:
        """Close a bundle that will be deleted, without writing its central directory (on a
        full disk, ``ZipFile.__del__`` would try, and print a traceback)."""
        fp = self.zip.fp
        self.zip.fp = None  # nothing left for close() or __del__ to write
        if fp is not None:
            with contextlib.suppress(OSError):  # its buffer cannot be flushed to a full disk
                fp.close()

    def add_bytes(self, name: str, data: bytes) -> None:
        import io

        self.add_stream(name, io.BytesIO(data))

    def add_file(self, name: str, path: Path) -> None:
        with _open_stored(path) as fh:
            self.add_stream(name, fh)


def _open_stored(path: Path) -> IO[bytes]:
    """A file the archive's rows name; its absence is the archive's fault, not a crash."""
    try:
        return open(path, "rb")
    except FileNotFoundError:
        raise StoreError(
            f"{path} is missing: the archive is incomplete ('embedarchive verify' lists what "
            "is missing); no bundle was written"
        ) from None
    except OSError as err:  # not the bundle's fault: the OSError below is about writing it
        raise StoreError(f"cannot read {path}: {err.strerror}; no bundle was written") from None


def export_bundle(
    root: Path, refs: Sequence[str], out: Path, *, overwrite: bool = False
) -> Exported:
    if out.exists() and not overwrite:
        # A bundle may already be in someone's hands as evidence: never replaced by accident.
        raise InputError(f"{out} already exists (choose another --out, or --overwrite)")
    if out.exists() and not out.is_file():
        # A folder, a device (/dev/full as root would become a zip file), a pipe: not a bundle.
        raise InputError(f"{out} is not a file: --overwrite only replaces an earlier bundle")
    # One snapshot: a run writing meanwhile cannot put rows in the bundle without their
    # manifest, or a manifest without its rows.
    with read_snapshot(root) as db:
        try:
            return _export(root, db, find_articles(db, refs), out)
        except OSError as err:
            raise write_error(err, f"the bundle {out}") from None


def _export(root: Path, db: Database, articles: list[dict[str, Any]], out: Path) -> Exported:
    a_ids = [a["id"] for a in articles]
    detections = _rows(db, f"select * from detections where article_id in {_in(a_ids)} order by id")
    d_ids = [d["id"] for d in detections]
    for d in detections:
        if d["post_pk"] is not None and not isinstance(d["post_pk"], int):
            raise StoreError(
                f"detection {d['id']} is linked to {str(d['post_pk'])[:40]!r}, which is no "
                "post: the archive was altered ('embedarchive verify' says more)"
            )
    post_pks = sorted({d["post_pk"] for d in detections if d["post_pk"]})
    captures = _rows(db, f"select * from captures where post_pk in {_in(post_pks)} order by id")
    c_ids = [c["id"] for c in captures]
    captures += _rows(
        db,
        f"select * from captures where parent_capture_id in {_in(c_ids)} "
        f"and id not in {_in(c_ids)} order by id",
    )
    c_ids = [c["id"] for c in captures]
    media = _rows(db, f"select * from media where capture_id in {_in(c_ids)} order by id")
    exchanges = _rows(
        db,
        f"""select * from http_exchanges where article_id in {_in(a_ids)}
            or detection_id in {_in(d_ids)} or capture_id in {_in(c_ids)} order by id""",
    )
    e_ids = [e["id"] for e in exchanges]
    links = _rows(
        db,
        f"""select * from warc_records where exchange_id in {_in(e_ids)}
            or article_id in {_in(a_ids)} or capture_id in {_in(c_ids)} order by id""",
    )
    runs = _rows(
        db,
        "select * from runs where id in "
        + _in(sorted({r["run_id"] for r in articles + captures + exchanges if r.get("run_id")})),
    )
    subjects = (
        [f"article:{i}" for i in a_ids]
        + [f"detection:{i}" for i in d_ids]
        + [f"capture:{i}" for i in c_ids]
    )
    own = _rows(
        db,
        "select * from manifests where subject in ("
        + ",".join("?" * len(subjects))
        + ") order by seq",
        subjects,
    )
    rows_held = {
        (table, r["id"])
        for table, items in (
            ("articles", articles),
            ("detections", detections),
            ("captures", captures),
            ("media", media),
            ("http_exchanges", exchanges),
            ("warc_records", links),
            ("runs", runs),
        )
        for r in items
    }
    # A backfill (seal, after an upgrade) may vouch for some of them, or for all of an article
    # archived before manifests: the chain goes that far.
    seqs = [m["seq"] for m in own] + _backfills(root, db, rows_held, d_ids)
    if not seqs:
        raise StoreError(
            "these articles were archived before manifests and no seal has vouched for them "
            "yet: run 'embedarchive seal' first"
        )
    first, last = min(seqs), max(seqs)
    tokens = _rows(
        db,
        """select t.*, m.seq as manifest_seq from timestamps t join manifests m
           on m.id = t.manifest_id where m.seq >= ? order by m.seq, t.id""",
        [last],
    )
    top = (
        tokens[0]["manifest_seq"]
        if tokens
        else db.execute("select max(seq) from manifests").fetchone()[0]
    )
    tokens = [t for t in tokens if t["manifest_seq"] == top]
    chain = _rows(
        db, "select * from manifests where seq between ? and ? order by seq", [first, top]
    )
    own_seqs = {m["seq"] for m in own}
    rows = {
        "articles": articles,
        "detections": detections,
        "captures": captures,
        "media": media,
        "http_exchanges": exchanges,
        "warc_records": links,
        "runs": runs,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    part = out.with_name(out.name + ".part")
    workdir = Path(tempfile.mkdtemp(prefix="embedarchive-export-"))
    bundle: _Zip | None = None
    try:
        warc = workdir / "data.warc.gz"
        copied = _assemble_warc(root, db, links, warc)
        bundle = _Zip(part)
        bundle.add_file("archive/data.warc.gz", warc)
        for path in sorted({m["path"] for m in media} | {a["raw_path"] for a in articles}):
            bundle.add_file(member_name(path), root / path)
        rows_json = _json(rows)
        bundle.add_bytes("records/rows.json", rows_json)
        for m in chain:
            bundle.add_file(member_name(m["path"]), root / m["path"])
            m["exported"] = m["seq"] in own_seqs
        chain_json = _json(chain)
        bundle.add_bytes("manifests/chain.json", chain_json)
        for t in tokens:
            bundle.add_file(member_name(t["path"]), root / t["path"])
        tokens_json = _json(tokens)
        bundle.add_bytes("timestamps/tokens.json", tokens_json)
        created = utcnow()
        # Made from what the bundle holds, as verify --bundle makes them again to compare.
        held = [json.loads(data) for data in (rows_json, chain_json, tokens_json)]
        for name, data in derived_members(held[0], held[1], held[2], warc, created).items():
            bundle.add_bytes(name, data)
        _finish(bundle, articles, created)
        os.replace(part, out)
    except BaseException:
        if bundle is not None:
            bundle.abandon()
        part.unlink(missing_ok=True)
        raise
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return Exported(
        out, len(articles), len(captures), copied, len(chain), len(tokens), out.stat().st_size
    )


def _backfills(
    root: Path, db: Database, held: set[tuple[str, int]], detection_ids: list[int]
) -> list[int]:
    """The ``backfill`` manifests listing a row the bundle holds or a link of one of its
    detections, by seq."""
    wanted = set(detection_ids)
    return [b.seq for b in backfills(db, root) if b.rows & held or b.links & wanted]


def _json(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True, default=str).encode()


#: The members ``derived_members`` makes, and the package key that says a bundle's were made
#: by it (bundles exported before cannot be checked this way: their page ids were random).
DERIVED = ("indexes/index.cdx", "pages/pages.jsonl", "report/index.html")
DERIVED_KEY = "embedarchiveDerived"
#: The package key naming the report's format (``report.REPORT_FORMAT``); none: format 1.
REPORT_KEY = "embedarchiveReport"


def derived_members(
    rows: dict[str, list[dict[str, Any]]],
    chain: list[dict[str, Any]],
    tokens: list[dict[str, Any]],
    warc: Path,
    created: str,
    report_format: int = REPORT_FORMAT,
) -> dict[str, bytes]:
    """The members made from the rows, for people and players: the CDX index, the pages list
    and the report. The same inputs give the same bytes, so ``verify --bundle`` makes them
    again and compares: what a reader opens is tied to the rows the chain vouches for."""
    cdx = cdxj_lines(warc, "data.warc.gz")
    pages = page_entries(rows["articles"], rows["captures"], rows["http_exchanges"], cdx)
    report = _report(
        rows["articles"],
        rows["detections"],
        rows["captures"],
        rows["media"],
        rows["http_exchanges"],
        rows["warc_records"],
        rows["runs"],
        chain,
        tokens,
        created,
        report_format,
    )
    return {
        "indexes/index.cdx": "".join(cdx).encode("utf-8"),
        "pages/pages.jsonl": "".join(json.dumps(p) + "\n" for p in pages).encode(),
        "report/index.html": report.encode("utf-8"),
    }


def _finish(bundle: _Zip, articles: list[dict[str, Any]], created: str) -> None:
    package = {
        "profile": "data-package",
        "wacz_version": "1.1.1",
        "title": "embedarchive export: "
        + ", ".join(str(a.get("title") or a["source"]) for a in articles)[:200],
        "created": created,
        "software": f"embedarchive {__version__}",
        # The report and indexes are made again from the rows by verify --bundle.
        DERIVED_KEY: sorted(DERIVED),
        REPORT_KEY: REPORT_FORMAT,
        "resources": bundle.resources,
    }
    data = json.dumps(package, indent=1, ensure_ascii=False).encode("utf-8")
    digest = {"path": "datapackage.json", "hash": "sha256:" + hashlib.sha256(data).hexdigest()}
    bundle.zip.writestr("datapackage.json", data)
    bundle.zip.writestr("datapackage-digest.json", json.dumps(digest, indent=1))
    bundle.zip.close()


def _assemble_warc(root: Path, db: Database, links: list[dict[str, Any]], dest: Path) -> int:
    """Copy the linked records (and each response's request) byte for byte into one WARC."""
    from warcio.archiveiterator import ArchiveIterator

    paths = dict(db.execute("select name, path from warc_files").fetchall())
    seen: set[tuple[str, int]] = set()
    count = 0
    with open(dest, "wb") as out:
        for link in sorted(links, key=lambda r: (r["warc_file"], r["offset"])):
            key = (link["warc_file"], link["offset"])
            path = paths.get(link["warc_file"])
            if key in seen or path is None:
                continue  # a WARC still open is not exported; verify reports it
            seen.add(key)
            with _open_stored(root / path) as src:
                spans = [(link["offset"], link["length"])]
                if link["record_type"] == "response":
                    src.seek(link["offset"] + link["length"])
                    iterator = ArchiveIterator(src)
                    record = next(iterator, None)
                    if (
                        record is not None
                        and record.rec_headers.get_header("WARC-Concurrent-To") == link["record_id"]
                    ):
                        iterator.read_to_end()
                        spans.append(
                            (link["offset"] + link["length"], iterator.get_record_length())
                        )
                for offset, length in spans:
                    src.seek(offset)
                    left = length
                    while left > 0:
                        chunk = src.read(min(CHUNK, left))
                        if not chunk:
                            raise StoreError(
                                f"WARC {path} ends inside a record: run 'embedarchive verify'"
                            )
                        out.write(chunk)
                        left -= len(chunk)
                    count += 1
    return count


def _report(
    articles: list[dict[str, Any]],
    detections: list[dict[str, Any]],
    captures: list[dict[str, Any]],
    media: list[dict[str, Any]],
    exchanges: list[dict[str, Any]],
    links: list[dict[str, Any]],
    runs: list[dict[str, Any]],
    chain: list[dict[str, Any]],
    tokens: list[dict[str, Any]],
    created: str,
    report_format: int,
) -> str:
    record_of = {k["exchange_id"]: k["record_id"] for k in links if k["exchange_id"]}
    by_post: dict[int, list[dict[str, Any]]] = {}
    for c in captures:
        view = capture_view(
            c,
            [
                {**m, "path": "../" + member_name(m["path"])}
                for m in media
                if m["capture_id"] == c["id"]
            ],
            [
                {**e, "record_id": record_of.get(e["id"])}
                for e in exchanges
                if e["capture_id"] == c["id"]
            ],
        )
        by_post.setdefault(c["post_pk"], []).append(view)
    views = []
    for a in articles:
        ds = []
        for d in detections:
            if d["article_id"] == a["id"]:
                links_list = json.loads(d["links"]) if d.get("links") else []
                ds.append({**d, "links": links_list, "captures": by_post.get(d["post_pk"], [])})
        views.append({**a, "detections": ds})
    return render_report(
        {
            "created": created,
            "version": __version__,
            "articles": views,
            "runs": runs,
            "manifests": chain,
            "timestamps": tokens,
        },
        report_format,
    )


__all__ = ["REPORT_KEY", "TEMPLATES", "Exported", "export_bundle", "find_articles"]
