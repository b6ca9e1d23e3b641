"""``embedarchive verify``: does the archive still prove what it proved when it was written?

One pass, streaming (constant memory whatever the archive's size):

1. every file a row names (media, article bytes, WARCs, manifests, timestamp tokens) exists
   and still has its sha256 and size;
2. every WARC record's digests hold (warcio), and every ``warc_records`` row points at a record
   with that id and digest; every exchange has its record;
3. the manifests form an unbroken hash chain and every row they list still has its hash;
   every evidence row is listed by some manifest; every detection's link to its post is the
   one its latest ``link`` manifest names, and each post row is the post its captures are of;
4. every timestamp token covers its manifest and its signature verifies;
5. every file under media/, warc/, manifests/ and timestamps/ has a row (else it is orphaned).

Problems are counted as ``missing``, ``altered`` or ``orphaned``; each has a one-line message.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from sqlite_utils import Database

from .capture.media import NullProgress, ProgressSink
from .manifest import (
    COVERED_TABLES,
    add_coverage,
    check_rows,
    current_links,
    fetch_row,
    link_entries,
    linked_by_manifests,
    start_coverage,
    walk_chain,
)
from .manifest import parse as parse_manifest
from .manifest import uncovered as uncovered_rows
from .seal import TimestampError, TokenInfo, check_token, load_ca_file, token_time_problem
from .store.lock import active_writer
from .store.records import read_snapshot

CHUNK = 1024 * 1024
SCANNED_DIRS = ("media", "warc", "manifests", "timestamps")


@dataclass
class Report:
    checked: int = 0
    ok: int = 0
    missing: int = 0
    altered: int = 0
    orphaned: int = 0
    problems: list[dict[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def problem(self, kind: str, message: str) -> None:
        setattr(self, kind, getattr(self, kind) + 1)
        self.problems.append({"kind": kind, "message": message})

    def check(self, failure: tuple[str, str] | None) -> bool:
        self.checked += 1
        if failure is None:
            self.ok += 1
            return True
        self.problem(*failure)
        return False

    @property
    def passed(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "checked": self.checked,
            "ok": self.ok,
            "missing": self.missing,
            "altered": self.altered,
            "orphaned": self.orphaned,
            "problems": self.problems,
            "notes": self.notes,
        }


def hash_stream(fh: IO[bytes], progress: ProgressSink, handle: object) -> tuple[str, int]:
    sha, size = hashlib.sha256(), 0
    while chunk := fh.read(CHUNK):
        sha.update(chunk)
        size += len(chunk)
        progress.advance(handle, len(chunk))
    return sha.hexdigest(), size


@dataclass(frozen=True)
class RecordSeen:
    offset: int
    length: int
    record_id: str
    record_type: str
    target_uri: str
    payload_digest: str | None
    problems: tuple[str, ...]
    #: ``WARC-Concurrent-To``: the response a request record belongs to.
    concurrent_to: str = ""


def scan_warc(fh: IO[bytes]) -> Iterator[RecordSeen]:
    """Every record of a WARC with warcio's digest check; raises ``ValueError`` if unreadable."""
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    from .store.warc import hex_digest

    try:
        iterator = ArchiveIterator(fh, check_digests=True)
        for record in iterator:
            while record.raw_stream.read(CHUNK):
                pass
            iterator.read_to_end()
            headers = record.rec_headers
            checker = record.digest_checker
            yield RecordSeen(
                offset=iterator.get_record_offset(),
                length=iterator.get_record_length(),
                record_id=headers.get_header("WARC-Record-ID") or "",
                record_type=headers.get_header("WARC-Type") or "",
                target_uri=headers.get_header("WARC-Target-URI") or "",
                payload_digest=hex_digest(
                    headers.get_header("WARC-Payload-Digest")
                    or headers.get_header("WARC-Block-Digest")
                ),
                problems=tuple(checker.problems) if checker.passed is False else (),
                concurrent_to=headers.get_header("WARC-Concurrent-To") or "",
            )
    except (ArchiveLoadFailed, OSError, EOFError, ValueError) as err:
        raise ValueError(f"unreadable WARC: {err}") from None


def verify_archive(
    root: Path, *, progress: ProgressSink | None = None, tsa_ca_file: Path | None = None
) -> Report:
    sink = progress or NullProgress()
    started = time.time()
    writer = active_writer(root)
    report = Report()
    # One snapshot for every check, so rows a run commits meanwhile are judged all or none.
    with read_snapshot(root) as db:
        files = list(_named_files(db))
        total = sum(int(size or 0) for _, _, size, _ in files)
        handle = sink.start("verifying", total)
        try:
            _check_files(root, files, report, sink, handle)
            _check_warcs(root, db, report)
            _check_chain(root, db, report)
            _check_timestamps(root, db, report, load_ca_file(tsa_ca_file))
            writer = writer if writer is not None else active_writer(root)
            in_flight = _check_orphans(root, db, report, started, writing=writer is not None)
        finally:
            sink.finish(handle)
    if in_flight:
        who = f" (pid {writer})" if writer else ""
        report.notes.append(
            f"{in_flight} file(s) written by a run in progress{who} have no row yet and were "
            "not counted: verify again when it has finished"
        )
    return report


def _named_files(db: Database) -> Iterator[tuple[str, str, int | None, str]]:
    """(path, sha256, size, what) of every file a row names, each path once."""
    yield from db.execute(
        """select path, sha256, size, 'media' from media group by path
           union all select raw_path, sha256, size, 'article' from articles group by raw_path
           union all select path, sha256, size, 'WARC' from warc_files
           union all select path, sha256, null, 'manifest' from manifests
           union all select path, sha256, null, 'timestamp token' from timestamps"""
    )


def _check_files(
    root: Path,
    files: list[tuple[str, str, int | None, str]],
    report: Report,
    sink: ProgressSink,
    handle: object,
) -> None:
    for path, sha, size, what in files:
        full = root / path
        try:
            with open(full, "rb") as fh:
                got, got_size = hash_stream(fh, sink, handle)
        except FileNotFoundError:
            report.check(("missing", f"{what} file {path} is missing"))
            continue
        except OSError as err:
            report.check(("missing", f"{what} file {path} cannot be read: {err}"))
            continue
        if got != sha or (size is not None and got_size != size):
            report.check(("altered", f"{what} file {path} is altered: its sha256 is now {got}"))
        else:
            report.check(None)


def _check_warcs(root: Path, db: Database, report: Report) -> None:
    for name, path in db.execute("select name, path from warc_files order by id").fetchall():
        links = {
            int(r[0]): (r[1], r[2], r[3])
            for r in db.execute(
                "select offset, record_id, digest, id from warc_records where warc_file = ?",
                [name],
            )
        }
        try:
            with open(root / path, "rb") as fh:
                for seen in scan_warc(fh):
                    problem = None
                    if seen.problems:
                        problem = (
                            "altered",
                            f"WARC {path} record {seen.record_id} at offset {seen.offset}: "
                            + "; ".join(seen.problems),
                        )
                    linked = links.pop(seen.offset, None)
                    if linked is not None and (
                        linked[0] != seen.record_id or linked[1] != seen.payload_digest
                    ):
                        problem = problem or (
                            "altered",
                            f"WARC {path} at offset {seen.offset} is not the record its row names",
                        )
                    report.check(problem)
        except FileNotFoundError:
            continue  # reported by the file check
        except ValueError as err:
            report.check(("altered", f"WARC {path}: {err}"))
        for offset, (record_id, _, _) in links.items():
            report.check(("missing", f"WARC {path} has no record {record_id} at offset {offset}"))
    open_names = {p.name for p in (root / "warc" / "open").glob("*.warc.gz")}
    for (name,) in db.execute(
        "select distinct warc_file from warc_records where warc_file not in "
        "(select name from warc_files)"
    ).fetchall():
        if name in open_names:
            report.notes.append(f"WARC {name} is still open (a run is writing it, or crashed)")
        else:
            report.check(("missing", f"WARC {name} named by warc_records has no file or row"))
    baseline = db.execute(
        "select max_id from manifest_baseline where tbl = 'http_exchanges'"
    ).fetchone()
    before = int(baseline[0]) if baseline else 0
    unrecorded = 0
    for (exchange_id,) in db.execute(
        "select id from http_exchanges where id not in "
        "(select exchange_id from warc_records where exchange_id is not null)"
    ).fetchall():
        if exchange_id <= before:
            unrecorded += 1
        else:
            report.check(("missing", f"http_exchanges row {exchange_id} has no WARC record"))
    if unrecorded:
        report.notes.append(
            f"{unrecorded} exchange(s) were archived before WARC recording and have no record"
        )
    for link_id, exchange_id, digest, body in db.execute(
        """select w.id, e.id, w.digest, e.body_sha256 from warc_records w
           join http_exchanges e on e.id = w.exchange_id
           where w.record_type = 'response' and e.complete and w.digest is not e.body_sha256"""
    ).fetchall():
        report.check(
            (
                "altered",
                f"http_exchanges row {exchange_id} says its body is {body}, "
                f"its WARC record (link {link_id}) holds {digest}",
            )
        )


def _check_chain(root: Path, db: Database, report: Report) -> None:
    start_coverage(db)
    expected = 1
    listed = db.execute(
        "select seq, path, sha256, kind, subject, previous, created_at from manifests order by seq"
    ).fetchall()
    rows = [r[:3] for r in listed]
    copies = {int(r[0]): tuple(r[3:]) for r in listed}
    vouched: dict[int, tuple[int, str]] = {}  # detection id → (seq, hash) of its latest link
    marked: set[int] = set()  # detections whose own manifest says links vouch for them
    for link in walk_chain(rows, lambda path: (root / path).read_bytes()):
        if link.seq != expected:
            report.check(
                ("missing", f"manifests {expected}…{link.seq - 1} are missing from the chain")
            )
        expected = link.seq + 1
        if link.body is None and link.problem is None:
            continue  # the file check reports a missing or altered manifest file
        report.check(link.problem)
        if link.body is None:
            continue
        # The row's copy of the manifest's own fields (export and the pages read the row).
        body = link.body
        said = (body.get("kind"), body.get("subject"), body.get("previous"), body.get("created_at"))
        if copies.get(link.seq) != said:
            report.check(("altered", f"manifests row {link.seq} differs from its manifest file"))
        problems, covered = check_rows(lambda t, i: fetch_row(db, t, i), body)
        for kind, message in problems:
            report.check((kind, message))
        report.checked += len(covered) - len(problems)
        report.ok += len(covered) - len(problems)
        add_coverage(db, covered)
        links, malformed = link_entries(body)
        for problem in malformed:
            report.check(problem)
        vouched.update((i, (link.seq, sha)) for i, sha in links.items())
        marked.update(linked_by_manifests(body))
    _check_links(db, report, vouched, marked)
    _check_ids(db, report)
    for table, ids in uncovered_rows(db).items():
        report.check(
            (
                "missing",
                f"{len(ids)} {table} row(s) are in no manifest ({_some(ids)}); "
                "rows added behind the chain's back, or written before manifests "
                "('embedarchive seal' covers those)",
            )
        )


def _some(ids: list[int]) -> str:
    return ", ".join(str(i) for i in ids[:10]) + (" …" if len(ids) > 10 else "")


def _check_links(
    db: Database, report: Report, vouched: dict[int, tuple[int, str]], marked: set[int]
) -> None:
    """Each detection's link to its post against its latest ``link`` manifest, and each post
    row against its captures: the derived ``posts`` table names the post a detection shows.
    A detection ``marked`` by its own manifest as linked by link manifests is never one of
    the links from before (whatever ``link_baseline`` was made to say)."""
    if db["link_baseline"].exists():
        baseline = {r[0] for r in db.execute("select detection_id from link_baseline")}
    else:  # no writer has opened it since links were vouched for: every link is from before
        baseline = {r[0] for r in db.execute("select id from detections")}
    unvouched: list[int] = []
    for detection_id, sha in current_links(db).items():
        seq, expected = vouched.pop(detection_id, (None, None))
        if seq is None:
            unvouched.append(detection_id)
            continue
        wrong = f"detection {detection_id} is linked otherwise than manifest {seq} says: altered"
        report.check(None if sha == expected else ("altered", wrong))
    for detection_id, (seq, _) in sorted(vouched.items()):
        report.check(
            (
                "altered",
                f"detection {detection_id} is no longer linked to the post manifest {seq} names",
            )
        )
    old = [i for i in unvouched if i in baseline and i not in marked]
    new = [i for i in unvouched if i not in baseline or i in marked]
    for ids, why in (
        (new, "links made behind the chain's back"),
        (old, "links made before links were vouched for ('embedarchive seal' covers those)"),
    ):
        if ids:
            report.check(
                (
                    "missing",
                    f"{len(ids)} detection link(s) are in no manifest ({_some(ids)}); {why}",
                )  # fmt: skip
            )
    for post_pk, platform, post_id in db.execute(
        """select distinct c.post_pk, c.platform, c.post_id from captures c
           left join posts p on p.id = c.post_pk
           where p.id is null or p.platform is not c.platform or p.post_id is not c.post_id
           order by c.post_pk"""
    ):
        report.check(
            (
                "altered",
                f"posts row {post_pk} is not the post its captures are of "
                f"({platform}:{post_id}): altered",
            )
        )


#: Tables whose rows are named by id: a table rebuilt without its primary key can hold two
#: rows of one id, one hashed by its manifest and the other shown.
_ID_TABLES = (*COVERED_TABLES, "posts", "manifests", "timestamps")


def _check_ids(db: Database, report: Report) -> None:
    for table in _ID_TABLES:
        if not db[table].exists():
            continue
        shared, odd = db.execute(
            f"select count(*) - count(distinct id), sum(typeof(id) <> 'integer') from [{table}]"
        ).fetchone()
        if shared or odd:
            report.check(
                (
                    "altered",
                    f"{table} has rows that share an id or whose id is not a number: "
                    "the table was rebuilt",
                )
            )


def token_differs(
    path: str, info: TokenInfo, gen_time: Any, serial: Any, tsa_name: Any
) -> tuple[str, str] | None:
    """The time, serial and TSA a row (and so the report and the web pages) shows for a token,
    against what the signed token says: they are copies, and a copy can be edited."""
    said = {"time": gen_time, "serial": serial, "TSA": tsa_name}
    signed = {"time": info.gen_time, "serial": info.serial, "TSA": info.tsa_name}
    wrong = [k for k in said if said[k] != signed[k]]
    if not wrong:
        return None
    return ("altered", f"timestamp {path}: its {', '.join(wrong)} differ from the signed token")


def implausible_token(
    path: str, info: TokenInfo, manifest: bytes, seq: Any
) -> tuple[str, str] | None:
    """A token whose signed time cannot be right for the manifest it covers (a TSA's clock of
    1970 or 2999 signs validly all the same)."""
    try:
        written = parse_manifest(manifest).get("created_at")
    except ValueError:
        return None  # the chain check reports the manifest
    wrong = token_time_problem(info.gen_time, written, datetime.now(UTC))
    return None if wrong is None else ("altered", f"timestamp {path} (manifest {seq}): {wrong}")


def _check_timestamps(root: Path, db: Database, report: Report, ca_certs: list[Any]) -> None:
    rows = db.execute(
        """select t.id, t.path, t.manifest_sha256, m.path, m.sha256, m.seq, t.gen_time,
                  t.serial, t.tsa_name
           from timestamps t left join manifests m on m.id = t.manifest_id order by t.id"""
    ).fetchall()
    last_sealed = 0
    for _, token_path, covers, manifest_path, manifest_sha, seq, *shown in rows:
        if manifest_sha is None or manifest_sha != covers:
            report.check(
                ("missing", f"timestamp {token_path} covers a manifest no longer in the chain")
            )
            continue
        try:
            token = (root / token_path).read_bytes()
            message = (root / manifest_path).read_bytes()
        except OSError:
            continue  # reported by the file check
        try:
            info = check_token(token, message, ca_certs)
        except TimestampError as err:
            report.check(("altered", f"timestamp {token_path} (manifest {seq}): {err}"))
            continue
        report.check(token_differs(token_path, info, *shown))
        report.check(implausible_token(token_path, info, message, seq))
        last_sealed = max(last_sealed, int(seq))
    head = db.execute("select max(seq) from manifests").fetchone()[0] or 0
    if head > last_sealed:
        report.notes.append(
            f"manifests {last_sealed + 1}…{head} are not sealed yet ('embedarchive seal')"
        )
    if not ca_certs and rows:
        report.notes.append(
            "timestamps were checked against the certificates they carry; set "
            "EMBEDARCHIVE_TSA_CA_FILE to require your TSA's CA"
        )


def _check_orphans(
    root: Path, db: Database, report: Report, started: float, *, writing: bool
) -> int:
    """Report the files no row names; returns how many were left out as in flight instead:
    every one while a writer runs (it writes a file, then commits its row), and the ones
    written since this check began (their rows are past its snapshot)."""
    in_flight = 0
    db.execute("create temp table if not exists known (path text primary key)")
    db.execute("delete from temp.known")
    db.execute(
        """insert or ignore into temp.known select path from media
           union select raw_path from articles union select path from warc_files
           union select path from manifests union select path from timestamps"""
    )
    for folder in SCANNED_DIRS:
        base = root / folder
        for dirpath, dirnames, filenames in os.walk(base):
            if Path(dirpath) == root / "warc":
                dirnames[:] = [d for d in dirnames if d != "open"]
            for name in filenames:
                rel = (Path(dirpath) / name).relative_to(root).as_posix()
                found = db.execute("select 1 from temp.known where path = ?", [rel]).fetchone()
                if found is not None:
                    continue
                if writing or _modified_since(Path(dirpath) / name, started):
                    in_flight += 1
                else:
                    report.problem("orphaned", f"{rel} has no row in the archive database")
    return in_flight


def _modified_since(path: Path, moment: float) -> bool:
    """Whether the file was written while this check ran: not before it began, and not after
    now (a time in the future is a planted file's, set to pass as in flight)."""
    try:
        return moment <= path.stat().st_mtime <= time.time() + _CLOCK_SLACK
    except OSError:
        return True  # gone since it was listed: a writer's temp file, not an orphan


#: How far a file system's clock may run ahead of ours (a network mount's, say).
_CLOCK_SLACK = 5.0


__all__ = ["RecordSeen", "Report", "hash_stream", "scan_warc", "verify_archive"]
