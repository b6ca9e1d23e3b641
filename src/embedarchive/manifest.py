"""Manifests and the archive's hash chain.

Each unit the store writes (an article, the detections found in it, a resolution, a capture, a
sealed WARC) gets a manifest: a JSON file naming every row it added with the sha256 of that
row, and every file with its sha256 and size. Manifest *n* carries the sha256 of manifest
*n-1* (``previous``), so the latest manifest — the chain head, which ``seal`` timestamps —
commits to every manifest before it: editing or removing a past row, file or manifest breaks
the chain or a hash, and ``verify`` says which.

Manifests hold hashes of rows, not the rows: a bundle can carry the part of the chain between
its own captures and the seal without disclosing anyone else's captures.

Rows are hashed as canonical JSON of their columns. Columns that legitimately change later
are left out: a detection's resolution (only what the article showed is hashed) and a run's
``finished_at``. A detection's link to its post is filled in later, once: a ``link`` manifest
then vouches for it (``links``: the detection's id and the hash of its resolution and of the
post it names by platform and id), so what an article showed cannot be pointed at another
post unnoticed. A ``detections`` manifest says ``"links": []``: its detections are linked
only by such manifests (older ones were linked before links were vouched for).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from .store import sql
from .untrusted import load_json

FORMAT = "embedarchive-manifest/1"

#: Hashed columns where not all of them are fixed evidence.
FIXED_COLUMNS: dict[str, tuple[str, ...]] = {
    "detections": (
        "id",
        "article_id",
        "platform",
        "kind",
        "markup",
        "offset",
        "url",
        "post_id",
        "author",
        "handle",
        "date",
        "text",
        "links",
        "snippet",
    ),
    "runs": ("id", "started_at", "command", "argv", "software", "settings", "operator", "hostname"),
}

#: A detection's link to its post: how it was resolved, beside the post it names.
LINK_COLUMNS = (
    "resolution",
    "resolved_url",
    "resolved_post_id",
    "resolution_hops",
    "resolution_error",
    "resolved_at",
)

#: Tables whose every row must be covered by some manifest.
COVERED_TABLES = (
    "runs",
    "articles",
    "detections",
    "captures",
    "media",
    "http_exchanges",
    "warc_records",
    "warc_files",
)


def canonical(data: Any) -> bytes:
    return json.dumps(
        data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str
    ).encode("utf-8")


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def row_hash(table: str, row: Mapping[str, Any]) -> str:
    columns = FIXED_COLUMNS.get(table)
    data = {k: row.get(k) for k in columns} if columns else dict(row)
    return sha256_bytes(canonical(data))


def link_hash(detection: Mapping[str, Any], post: tuple[Any, Any] | None) -> str:
    """The hash of a detection's link to ``post`` (its platform and id): the post by what it
    is, not by the archive's row number, so a bundle (which has no posts table) checks it too."""
    data = {k: detection.get(k) for k in LINK_COLUMNS}
    data["id"] = detection.get("id")
    data["post"] = list(post) if post is not None else None
    return sha256_bytes(canonical(data))


def current_links(db: Database, ids: Sequence[int] | None = None) -> dict[int, str]:
    """The link hash of each linked detection (of these ids), as the archive has it now."""
    query = """select d.*, p.platform as linked_platform, p.post_id as linked_post_id
               from detections d left join posts p on p.id = d.post_pk
               where d.post_pk is not null"""
    if ids is not None:
        query += f" and d.id in ({','.join(str(int(i)) for i in ids)})"
    out = {}
    for row in sql.rows(db, query + " order by d.id"):
        post = (
            None
            if row["linked_platform"] is None
            else (row["linked_platform"], row["linked_post_id"])
        )
        out[int(row["id"])] = link_hash(row, post)
    return out


def link_entries(body: Mapping[str, Any]) -> tuple[dict[int, str], list[tuple[str, str]]]:
    """The links a manifest vouches for (detection id → hash), and what is malformed."""
    entries = body.get("links")
    if entries is None:
        return {}, []
    seq = body.get("seq")
    if not isinstance(entries, list):
        return {}, [("altered", f"manifest {seq} lists its links in another shape: altered")]
    found: dict[int, str] = {}
    problems = []
    for entry in entries:
        row_id = _row_id(entry)
        sha = entry.get("sha256") if isinstance(entry, dict) else None
        if row_id is None or not isinstance(sha, str):
            problems.append(("altered", f"manifest {seq} lists a link as {entry!r:.80}"))
        else:
            found[row_id] = sha
    return found, problems


def linked_by_manifests(body: Mapping[str, Any]) -> list[int]:
    """The detections a ``detections`` manifest says are linked by ``link`` manifests only
    (written since links were vouched for): no backfill, whatever ``link_baseline`` says."""
    if body.get("kind") != "detections" or "links" not in body:
        return []
    records = body.get("records")
    entries = records.get("detections") if isinstance(records, dict) else None
    return [i for e in entries or [] if (i := _row_id(e)) is not None]


def fetch_row(db: Database, table: str, row_id: int) -> dict[str, Any] | None:
    return sql.first(db, f"select * from [{table}] where id = ?", [row_id])


def fetch_rows(db: Database, table: str, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """The rows of these ids that exist, in the order given: a query per 500, not per row."""
    found: dict[int, dict[str, Any]] = {}
    for start in range(0, len(ids), 500):
        part = ids[start : start + 500]
        marks = ",".join("?" * len(part))
        for row in sql.rows(db, f"select * from [{table}] where id in ({marks})", part):
            found[row["id"]] = row
    return {i: found[i] for i in ids if i in found}


def manifest_path(sha256: str) -> str:
    return f"manifests/{sha256[:2]}/{sha256}.json"


@dataclass(frozen=True)
class ManifestRef:
    id: int
    seq: int
    sha256: str
    path: str


def head(db: Database) -> ManifestRef | None:
    row = db.execute("select id, seq, sha256, path from manifests order by seq desc limit 1")
    found = row.fetchone()
    return ManifestRef(*found) if found else None


def write_manifest(
    db: Database,
    root: Path,
    kind: str,
    subject: str,
    records: Mapping[str, Iterable[int | None]],
    files: Iterable[Mapping[str, Any]] = (),
    links: Mapping[int, str] | None = None,
) -> ManifestRef:
    """Append a manifest to the chain (call inside the transaction that added the rows).
    ``links``: detection id → ``link_hash`` (``{}`` writes the empty list)."""
    from .capture.http import utcnow

    previous = head(db)
    seq = previous.seq + 1 if previous else 1
    listed: dict[str, list[dict[str, Any]]] = {}
    for table, ids in records.items():
        found = fetch_rows(db, table, sorted({i for i in ids if i is not None}))
        entries = [{"id": i, "sha256": row_hash(table, row)} for i, row in found.items()]
        if entries:
            listed[table] = entries
    unique_files = {f["path"]: dict(f) for f in files}
    body = {
        "format": FORMAT,
        "seq": seq,
        "previous": previous.sha256 if previous else None,
        "created_at": utcnow(),
        "kind": kind,
        "subject": subject,
        "records": listed,
        "files": [unique_files[p] for p in sorted(unique_files)],
    }
    if links is not None:
        body["links"] = [{"id": i, "sha256": links[i]} for i in sorted(links)]
    data = json.dumps(body, sort_keys=True, ensure_ascii=False, indent=1).encode("utf-8") + b"\n"
    sha = sha256_bytes(data)
    rel = manifest_path(sha)
    dest = root / rel
    if not dest.exists():
        part = dest.with_suffix(".part")
        try:
            try:
                part.write_bytes(data)
            except FileNotFoundError:  # its folder's first manifest (not a mkdir for every one)
                dest.parent.mkdir(parents=True, exist_ok=True)
                part.write_bytes(data)
            os.replace(part, dest)
        except BaseException:  # a full disk: no half-written manifest left for verify to find
            part.unlink(missing_ok=True)
            raise
        os.chmod(dest, 0o444)
    pk = sql.insert(
        db,
        "manifests",
        {
            "seq": seq,
            "kind": kind,
            "subject": subject,
            "path": rel,
            "sha256": sha,
            "previous": body["previous"],
            "created_at": body["created_at"],
        },
    )
    return ManifestRef(pk, seq, sha, rel)


def discard_uncommitted(db: Database, root: Path) -> int:
    """Remove manifest files whose row never committed (a run killed inside the transaction
    that wrote them). They are in no chain, so nothing refers to them; like temp files."""
    folder = root / "manifests"
    if not folder.is_dir():
        return 0
    known = {r[0] for r in db.execute("select path from manifests").fetchall()}
    removed = 0
    for path in folder.rglob("*"):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and rel not in known:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def parse(data: bytes) -> dict[str, Any]:
    """A manifest's JSON; ``ValueError`` if it is not one."""
    body = load_json(data.decode("utf-8"))
    if not isinstance(body, dict) or body.get("format") != FORMAT:
        raise ValueError("not an embedarchive manifest")
    return body


@dataclass(frozen=True)
class Backfill:
    """What one ``backfill`` manifest (written by 'embedarchive seal' after an upgrade)
    vouches for: rows from before manifests, and links from before link manifests."""

    seq: int
    rows: frozenset[tuple[str, int]]
    links: frozenset[int]


def backfills(db: Any, root: Path) -> list[Backfill]:
    """The archive's backfill manifests that can be read, in chain order (a missing or
    damaged one is verify's to report). There are few: one per seal that found anything."""
    found = []
    for seq, path in db.execute(
        "select seq, path from manifests where kind = 'backfill' order by seq"
    ):
        try:
            body = parse((root / path).read_bytes())
        except (OSError, ValueError):
            continue
        records = body.get("records")
        records = records if isinstance(records, dict) else {}
        rows = frozenset(
            (table, i)
            for table, entries in records.items()
            if isinstance(entries, list)
            for e in entries
            if (i := _row_id(e)) is not None
        )
        found.append(Backfill(int(seq), rows, frozenset(link_entries(body)[0])))
    return found


def check_link(body: Mapping[str, Any], seq: int, previous: str | None) -> str | None:
    """Why ``body`` does not follow ``previous`` as number ``seq`` of the chain, if it does not."""
    if body.get("seq") != seq:
        return f"manifest {seq} says it is number {body.get('seq')}: the chain was reordered"
    if body.get("previous") != previous:
        return (
            f"manifest {seq} does not follow manifest {seq - 1}: its 'previous' is "
            f"{str(body.get('previous'))[:16]}…, the chain has {str(previous)[:16]}… "
            "(a manifest before it was edited, removed or replaced)"
        )
    return None


@dataclass
class ChainLink:
    """One manifest of a chain as read: its body when its bytes are intact, and what is wrong.

    ``file_problem`` (missing, altered bytes) is reported by whoever checks files; ``problem``
    (not a manifest, not following the one before) only by the chain."""

    seq: int
    path: str
    sha256: str
    data: bytes | None = None
    body: dict[str, Any] | None = None
    file_problem: tuple[str, str] | None = None
    problem: tuple[str, str] | None = None


def walk_chain(
    entries: Iterable[tuple[int, str, str]],
    read: Callable[[str], bytes],
    previous: str | None = None,
) -> Iterator[ChainLink]:
    """Each (seq, path, sha256) of a chain read with ``read(path)`` (``OSError``/``KeyError``
    when it is not there) and checked against its hash and the manifest before it. A broken
    link does not stop the walk: the next one is checked against the hash the chain names."""
    for seq, path, sha in entries:
        link = ChainLink(seq, path, sha)
        try:
            data = read(path)
        except (OSError, KeyError):
            link.file_problem = ("missing", f"manifest {seq} ({path}) is missing")
        else:
            if hashlib.sha256(data).hexdigest() != sha:
                link.file_problem = ("altered", f"manifest {seq} ({path}) is altered")
            else:
                try:
                    link.body = parse(data)
                except ValueError as err:
                    link.problem = ("altered", f"manifest {seq} ({path}) is not a manifest: {err}")
                else:
                    link.data = data
                    broken = check_link(link.body, seq, previous)
                    link.problem = ("altered", broken) if broken else None
        previous = sha
        yield link


def check_rows(
    lookup: Any, body: Mapping[str, Any]
) -> tuple[list[tuple[str, str]], list[tuple[str, int]]]:
    """Compare the rows a manifest lists with ``lookup(table, id)``.

    Returns (problems as (kind, message), covered (table, id) pairs); kind is ``missing`` or
    ``altered``.
    """
    problems: list[tuple[str, str]] = []
    covered: list[tuple[str, int]] = []
    seq = body.get("seq")
    records = body.get("records") or {}
    if not isinstance(records, dict):
        return [("altered", f"manifest {seq} lists its rows in another shape: altered")], []
    for table, entries in records.items():
        # Only the tables manifests cover, and only as written: a table name goes into SQL.
        if table not in COVERED_TABLES or not isinstance(entries, list):
            problems.append(("altered", f"manifest {seq} lists {table!r} rows: altered"))
            continue
        for entry in entries:
            row_id = _row_id(entry)
            if row_id is None:
                problems.append(("altered", f"manifest {seq} lists a {table} row as {entry!r:.80}"))
                continue
            covered.append((table, row_id))
            row = lookup(table, row_id)
            if row is None:
                problems.append(("missing", f"{table} row {row_id} (in manifest {seq}) is missing"))
            elif row_hash(table, row) != entry.get("sha256"):
                problems.append(
                    ("altered", f"{table} row {row_id} differs from manifest {seq}: altered")
                )
    return problems, covered


def _row_id(entry: object) -> int | None:
    """A manifest entry's row id, when the entry is one as written (``{"id": 3, ...}``)."""
    row_id = entry.get("id") if isinstance(entry, dict) else None
    if isinstance(row_id, bool) or not isinstance(row_id, int) or not 0 < row_id < 2**63:
        return None
    return row_id


def start_coverage(db: Database) -> None:
    """A temp table of the (table, id) pairs manifests cover, filled by ``add_coverage``."""
    db.execute(
        "create temp table if not exists covered (tbl text, id integer, primary key (tbl, id))"
    )
    db.execute("delete from temp.covered")


def add_coverage(db: Database, pairs: Iterable[tuple[str, int]]) -> None:
    db.conn.executemany("insert or ignore into temp.covered values (?, ?)", list(pairs))


def uncovered(db: Database) -> dict[str, list[int]]:
    """Rows of evidence tables that no manifest lists (after ``add_coverage`` for all)."""
    out: dict[str, list[int]] = {}
    for table in COVERED_TABLES:
        if not db[table].exists():
            continue
        ids = [
            int(r[0])
            for r in db.execute(
                f"select id from [{table}] where id not in "
                "(select id from temp.covered where tbl = ?) order by id",
                [table],
            )
        ]
        if ids:
            out[table] = ids
    return out


def backfill(db: Database, root: Path) -> int:
    """Cover rows written before manifests existed, and links made before links were vouched
    for, with one ``backfill`` manifest.

    Only rows up to the baseline m004 recorded, and links m009 recorded, qualify: anything
    added since is covered by its own manifest, or was added behind the chain's back and
    stays reported. Returns how many rows and links it covered (0: nothing to do).
    Unreadable manifests are skipped here; ``verify`` reports them.
    """
    start_coverage(db)
    linked: set[int] = set()
    marked: set[int] = set()
    for (path,) in db.execute("select path from manifests order by seq"):
        try:
            body = parse((root / path).read_bytes())
        except (OSError, ValueError):
            continue
        add_coverage(
            db,
            ((t, int(e["id"])) for t, entries in body.get("records", {}).items() for e in entries),
        )
        linked.update(link_entries(body)[0])
        marked.update(linked_by_manifests(body))
    db.conn.commit()  # the temp table's inserts opened an implicit transaction
    baseline = dict(db.execute("select tbl, max_id from manifest_baseline").fetchall())
    missing = {
        table: kept
        for table, ids in uncovered(db).items()
        if (kept := [i for i in ids if i <= baseline.get(table, 0)])
    }
    old_links = [r[0] for r in db.execute("select detection_id from link_baseline order by 1")]
    links = current_links(db, [i for i in old_links if i not in linked and i not in marked])
    if not missing and not links:
        return 0
    files: list[dict[str, Any]] = []
    queries = {
        "media": "select path, sha256, size from media where id = ?",
        "articles": "select raw_path, sha256, size from articles where id = ?",
        "warc_files": "select path, sha256, size from warc_files where id = ?",
    }
    for table, query in queries.items():
        for row_id in missing.get(table, []):
            for path, sha, size in db.execute(query, [row_id]):
                files.append({"path": path, "sha256": sha, "size": size})
    with db.atomic():
        write_manifest(
            db, root, "backfill", "rows written before manifests", missing, files, links or None
        )
    return sum(len(ids) for ids in missing.values()) + len(links)


__all__ = [
    "current_links",
    "link_entries",
    "linked_by_manifests",
    "link_hash",
    "LINK_COLUMNS",
    "add_coverage",
    "backfill",
    "start_coverage",
    "uncovered",
    "COVERED_TABLES",
    "FORMAT",
    "ManifestRef",
    "canonical",
    "check_link",
    "check_rows",
    "head",
    "manifest_path",
    "parse",
    "row_hash",
    "discard_uncommitted",
    "write_manifest",
]
