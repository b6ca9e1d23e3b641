"""``embedarchive verify --bundle FILE``: check an exported bundle on its own, without an archive.

What is checked, in order: ``datapackage-digest.json`` against ``datapackage.json``; every
member's sha256 and size against ``datapackage.json`` (and no unlisted member); the WARC's
record digests; the manifest chain (each manifest follows the previous one) up to the sealed
one; every row of the exported units against its manifest hash; every detection's link to its
post against its ``link`` manifest; every media file and WARC record those rows name; every
timestamp token against the manifest it covers.
"""

from __future__ import annotations

import hashlib
import shutil
import stat
import struct
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from .capture.media import NullProgress, ProgressSink
from .errors import InputError
from .manifest import check_rows, link_entries, link_hash, walk_chain
from .seal import TimestampError, check_token, load_ca_file
from .untrusted import load_json
from .verify import (
    CHUNK,
    RecordSeen,
    Report,
    hash_stream,
    implausible_token,
    scan_warc,
    token_differs,
)
from .wacz import member_name

T = TypeVar("T")

WARC_MEMBER = "archive/data.warc.gz"


def verify_bundle(
    path: Path, *, progress: ProgressSink | None = None, tsa_ca_file: Path | None = None
) -> Report:
    if not path.is_file():  # a device reads for ever (/dev/zero), a FIFO waits for a writer
        raise InputError(f"{path} is not a bundle: not a file")
    try:
        bundle = _Bundle(path)
    except (OSError, zipfile.BadZipFile) as err:
        raise InputError(f"{path} is not a bundle (zip): {err}") from None
    with bundle:
        report = Report()
        bundle.unread = _check_container(path, bundle, report)
        members = {i.filename: i for i in bundle.infolist()}
        for needed in ("datapackage.json", "datapackage-digest.json", "records/rows.json"):
            if needed not in members:
                raise InputError(f"{path} is not an embedarchive bundle: no {needed}")
        sink = progress or NullProgress()
        handle = sink.start("verifying bundle", sum(i.file_size for i in members.values()))
        try:
            hashes = _check_package(bundle, members, report, sink, handle)
            records = _check_warc(bundle, report)
            no_chain: list[dict[str, Any]] = []
            chain = _guarded(report, "manifests/chain.json", no_chain, _check_chain, bundle, report)
            _guarded(report, "records/rows.json", None, _check_rows, bundle, report, chain, hashes, records)  # fmt: skip
            _guarded(report, "records/rows.json", None, _check_links, bundle, report, chain)
            ca = load_ca_file(tsa_ca_file)
            _guarded(report, "timestamps/tokens.json", None, _check_tokens, bundle, report, chain, ca)  # fmt: skip
            _guarded(report, "the report and indexes", None, _check_derived, bundle, report)
        finally:
            sink.finish(handle)
    return report


#: What reading a member of another shape than the export wrote raises (a list for an object,
#: a field missing, malformed or too deeply nested JSON, the member itself missing).
_MISSHAPEN = (KeyError, TypeError, AttributeError, IndexError, ValueError, zipfile.BadZipFile)


_CHANGED_IN_PLACE = "was changed inside the zip: its CRC-32 no longer matches"


def _guarded(report: Report, member: str, default: T, check: Callable[..., T], *args: Any) -> T:
    """Run one check; if the bundle's own index for it cannot be read as the export wrote it,
    that is reported as altered and the other checks still run (a tampered bundle is what this
    command is for: it must say so, never stop with a traceback)."""
    try:
        return check(*args)
    except _MISSHAPEN as err:
        reason = str(err) if isinstance(err, ValueError) else type(err).__name__
        report.check(("altered", f"{member} cannot be read as the export wrote it ({reason})"))
        return default


def _read_json(bundle: zipfile.ZipFile, name: str) -> Any:
    return load_json(bundle.read(name).decode("utf-8"))


def _check_package(
    bundle: zipfile.ZipFile,
    members: dict[str, zipfile.ZipInfo],
    report: Report,
    sink: ProgressSink,
    handle: object,
) -> dict[str, str]:
    """Hash every member once; returns path → sha256 of what the bundle really holds."""
    try:
        package_bytes = bundle.read("datapackage.json")
    except zipfile.BadZipFile:
        report.check(("altered", f"datapackage.json {_CHANGED_IN_PLACE}"))
        package_bytes = b"{}"
    got = "sha256:" + hashlib.sha256(package_bytes).hexdigest()
    digest = _guarded(report, "datapackage-digest.json", None, _digest, bundle)
    if digest is not None:
        report.check(
            None
            if digest == got
            else ("altered", "datapackage.json is altered: datapackage-digest.json does not match")
        )
    nothing: dict[str, dict[str, Any]] = {}
    listed = _guarded(report, "datapackage.json", nothing, _resources, package_bytes)
    hashes: dict[str, str] = {}
    for name in members:
        if name in ("datapackage.json", "datapackage-digest.json"):
            continue
        entry = listed.pop(name, None)
        if name in getattr(bundle, "unread", ()):
            continue  # the container check said so
        try:
            with bundle.open(name) as fh:
                sha, size = hash_stream(fh, sink, handle)
        except zipfile.BadZipFile:  # a byte changed in place: zip's own CRC says so
            report.check(("altered", f"{name} {_CHANGED_IN_PLACE}"))
            continue
        hashes[name] = sha
        if entry is None:
            report.problem("orphaned", f"{name} is in the bundle but not in datapackage.json")
        elif entry.get("hash") != f"sha256:{sha}" or entry.get("bytes") != size:
            report.check(("altered", f"{name} is altered: its sha256 is now {sha}"))
        else:
            report.check(None)
    for name in listed:
        report.check(("missing", f"{name} is listed in datapackage.json but missing"))
    return hashes


def _digest(bundle: zipfile.ZipFile) -> str:
    return str(_read_json(bundle, "datapackage-digest.json")["hash"])


def _resources(package: bytes) -> dict[str, dict[str, Any]]:
    return {str(r["path"]): dict(r) for r in load_json(package).get("resources", [])}


class _Bundle(zipfile.ZipFile):
    """A bundle that will not decompress the members the container check refused: an export
    stores every member as it is, so a compressed one was put there by someone else, and a
    few kilobytes of it can inflate to gigabytes."""

    unread: frozenset[str] = frozenset()

    def open(self, name: Any, mode: Any = "r", pwd: Any = None, **options: Any) -> Any:
        member = name.filename if isinstance(name, zipfile.ZipInfo) else name
        if mode == "r" and member in self.unread:
            raise zipfile.BadZipFile(f"{member} is compressed: not read")
        return super().open(name, mode, pwd, **options)


#: Extra fields an export's zip may carry: zip64 sizes (a bundle over 4 GiB).
_ZIP64_EXTRA = 0x0001
#: The one zip flag an export may set: names in UTF-8.
_UTF8_NAME = 0x0800
_END_OF_ZIP = b"PK\x05\x06"


def _check_container(path: Path, bundle: zipfile.ZipFile, report: Report) -> frozenset[str]:
    """The zip itself as the export writes it: each name once, nothing before the first
    member or after the end, no comments, no extra fields but zip64's, no compression, plain
    file modes. What else is there, other programs may show instead of the checked members
    (the first of two names, a zip prepended to the bundle, a symlink). Returns the members
    not to read (compressed)."""
    infos = bundle.infolist()
    problems: list[str] = []
    counts: dict[str, int] = {}
    for info in infos:
        counts[info.filename] = counts.get(info.filename, 0) + 1
    problems += [f"{name} is in the zip {n} times" for name, n in counts.items() if n > 1]
    first = min((i.header_offset for i in infos), default=0)
    if first:
        problems.append(f"{first} bytes before the zip's first member")
    with open(path, "rb") as fh:
        fh.seek(max(0, path.stat().st_size - 22))
        tail = fh.read(22)
    if len(tail) < 22 or not tail.startswith(_END_OF_ZIP) or tail[20:22] != b"\0\0":
        problems.append("bytes after the zip's end, or a zip comment")
    problems += _layout_problems(path, bundle, infos)
    compressed = set()
    for info in infos:
        name = info.filename
        if info.flag_bits & ~_UTF8_NAME:  # encrypted, a data descriptor: never written so
            compressed.add(name)
            problems.append(
                f"{name} has zip flags {info.flag_bits:#x} (an export sets none): not read"
            )
        if info.comment:
            problems.append(f"{name} has a comment in the zip")
        if any(tag != _ZIP64_EXTRA for tag in _extra_tags(info.extra)):
            problems.append(f"{name} has extra fields in the zip")
        if info.compress_type != zipfile.ZIP_STORED:
            compressed.add(name)
            problems.append(f"{name} is compressed (an export stores every member): not read")
        mode = info.external_attr >> 16
        if stat.S_IFMT(mode) not in (0, stat.S_IFREG) or mode & 0o7111:
            problems.append(f"{name} is marked {stat.filemode(mode)} in the zip, not a plain file")
    for problem in problems:
        report.check(("altered", problem))
    return frozenset(compressed)


def _layout_problems(
    path: Path, bundle: zipfile.ZipFile, infos: list[zipfile.ZipInfo]
) -> list[str]:
    """Members one after another as the central directory describes them, each local header
    saying what its central entry says, the central directory right after the last: a member
    hidden in a gap is what a streaming reader (Java's ZipInputStream) extracts too."""
    problems = []
    entries = sorted(infos, key=lambda i: i.header_offset)
    position = entries[0].header_offset if entries else 0  # bytes before: reported apart
    with open(path, "rb") as fh:
        for info in entries:
            name = info.filename
            if info.header_offset != position:
                problems.append(
                    f"{info.header_offset - position} bytes between members, before {name}"
                )
            fh.seek(info.header_offset)
            local = fh.read(30)
            if len(local) < 30 or not local.startswith(b"PK\x03\x04"):
                problems.append(f"{name}'s local header is missing")
                return problems
            flags, method = struct.unpack("<HH", local[6:10])
            name_size, extra_size = struct.unpack("<HH", local[26:30])
            fh.seek(name_size, 1)
            extra = fh.read(extra_size)
            if (flags, method) != (info.flag_bits, info.compress_type):
                problems.append(f"{name}'s local header says otherwise than the zip's directory")
            if any(tag != _ZIP64_EXTRA for tag in _extra_tags(extra)):
                problems.append(f"{name} has extra fields in its local header")
            position = info.header_offset + 30 + name_size + extra_size + info.compress_size
    start = getattr(bundle, "start_dir", position)
    if start != position:
        problems.append(f"{start - position} bytes between the last member and the zip's directory")
    return problems


def _extra_tags(extra: bytes) -> list[int]:
    tags = []
    while len(extra) >= 4:
        tag, size = int.from_bytes(extra[:2], "little"), int.from_bytes(extra[2:4], "little")
        tags.append(tag)
        extra = extra[4 + size :]
    if extra:
        tags.append(-1)  # a field cut short
    return tags


def _member(bundle: zipfile.ZipFile, path: str) -> str:
    """Where the archive file ``path`` sits in this bundle: two levels deep (``member_name``),
    or at its archive path, three levels deep, in a bundle exported before that layout."""
    name = member_name(path)
    if name not in bundle.NameToInfo and path in bundle.NameToInfo:
        return path
    return name


def _check_warc(bundle: zipfile.ZipFile, report: Report) -> dict[str, RecordSeen]:
    """record id → every record in the bundle's WARC."""
    records: dict[str, RecordSeen] = {}
    try:
        with bundle.open(WARC_MEMBER) as fh:
            for seen in scan_warc(fh):
                records[seen.record_id] = seen
                report.check(
                    ("altered", f"WARC record {seen.record_id}: " + "; ".join(seen.problems))
                    if seen.problems
                    else None
                )
    except KeyError:
        report.check(("missing", f"{WARC_MEMBER} is missing"))
    except ValueError as err:
        report.check(("altered", f"{WARC_MEMBER}: {err}"))
    except zipfile.BadZipFile:
        report.check(("altered", f"{WARC_MEMBER} {_CHANGED_IN_PLACE}"))
    return records


def _check_chain(bundle: zipfile.ZipFile, report: Report) -> list[dict[str, Any]]:
    """The chain entries whose manifest is present and intact, each with its parsed body."""
    chain = _read_json(bundle, "manifests/chain.json")
    intact: list[dict[str, Any]] = []
    entries = [(e["seq"], e["path"], e["sha256"]) for e in chain]
    first = chain[0]["previous"] if chain else None  # a bundle may start inside the chain
    for entry, link in zip(
        chain,
        walk_chain(entries, lambda path: bundle.read(_member(bundle, path)), first),
        strict=True,
    ):
        report.check(link.file_problem or link.problem)
        if link.body is not None and link.data is not None:
            intact.append({**entry, "body": link.body, "bytes": link.data})
            for field in ("kind", "subject", "created_at", "previous"):  # shown in the report
                if entry.get(field) != link.body.get(field):
                    report.check(
                        (
                            "altered",
                            f"manifests/chain.json says manifest {entry['seq']}'s "
                            f"{field} is {entry.get(field)!r}, the manifest {link.body.get(field)!r}",
                        )
                    )
    if not chain:
        report.check(("missing", "the bundle holds no manifests"))
    return intact


def _check_rows(
    bundle: zipfile.ZipFile,
    report: Report,
    chain: list[dict[str, Any]],
    hashes: dict[str, str],
    records: dict[str, RecordSeen],
) -> None:
    """Rows, files and WARC records against the manifests.

    The chain's ``exported`` marks say which units the bundle is *of* (their rows and files
    must all be here), but nothing protects them: every row, file and record the bundle holds
    must also be vouched for by some manifest of the chain, whatever the marks say.
    """
    rows: dict[str, list[dict[str, Any]]] = _read_json(bundle, "records/rows.json")
    by_id: dict[tuple[str, int], dict[str, Any]] = {}
    for table, items in rows.items():
        for r in items:
            if by_id.setdefault((table, int(r["id"])), r) is not r:  # only one could be hashed
                report.check(("altered", f"{table} row {r['id']} is in the bundle twice"))
    vouched: set[tuple[str, int]] = set()
    named: set[str] = set()
    for entry in chain:
        body = entry["body"]
        own = bool(entry.get("exported"))
        listed = body if own else _present(body, by_id)
        problems, covered = check_rows(lambda t, i: by_id.get((t, i)), listed)
        for problem in problems:
            report.check(problem)
        vouched.update(c for c in covered if c in by_id)
        report.checked += len(covered) - len(problems)
        report.ok += len(covered) - len(problems)
        for f in body.get("files", []):
            member = _member(bundle, f["path"])
            got = hashes.get(member)
            if got is None and own:
                report.check(("missing", f"file {f['path']} (manifest {body['seq']}) is missing"))
            elif got is not None:
                named.add(member)
                report.check(
                    None
                    if got == f["sha256"]
                    else ("altered", f"file {f['path']} differs from manifest {body['seq']}")
                )
    for table, row_id in sorted(by_id.keys() - vouched):
        report.check(("altered", f"{table} row {row_id} is in no manifest: added to the bundle"))
    fixed = _STRUCTURE | {_member(bundle, e["path"]) for e in chain}
    fixed |= {_member(bundle, t["path"]) for t in _read_json(bundle, "timestamps/tokens.json")}
    for member in sorted(hashes.keys() - named - fixed):
        report.check(("altered", f"{member} is named by no manifest: added to the bundle"))
    exchanges = {r["id"]: r for r in rows.get("http_exchanges", [])}
    linked = {link["record_id"] for link in rows.get("warc_records", [])}
    for link in rows.get("warc_records", []):
        if link["record_id"] not in records:
            report.check(("missing", f"WARC record {link['record_id']} is not in the bundle"))
            continue
        expected = link["digest"]
        exchange = exchanges.get(link.get("exchange_id"))
        if exchange and link["record_type"] == "response" and exchange["complete"]:
            expected = exchange["body_sha256"]
        report.check(
            None
            if records[link["record_id"]].payload_digest == link["digest"] == expected
            else ("altered", f"WARC record {link['record_id']} does not hold what its rows say")
        )
    for seen in records.values():
        # The export copies each linked record, and a response's request after it.
        if seen.record_id not in linked and not (
            seen.record_type == "request" and seen.concurrent_to in linked
        ):
            report.check(("altered", f"WARC record {seen.record_id} is named by no row: added"))


def _check_links(bundle: zipfile.ZipFile, report: Report, chain: list[dict[str, Any]]) -> None:
    """Each detection's link to a post (what the report shows under it) against the latest
    ``link`` manifest of the chain; the post is named by its captures' platform and id."""
    rows: dict[str, list[dict[str, Any]]] = _read_json(bundle, "records/rows.json")
    vouched: dict[int, tuple[int, str]] = {}
    marked: set[int] = set()  # detections whose manifest says their links are vouched for
    for entry in chain:
        body = entry["body"]
        links, malformed = link_entries(body)
        for problem in malformed:
            report.check(problem)
        vouched.update((i, (entry["seq"], sha)) for i, sha in links.items())
        if body.get("kind") == "detections" and "links" in body:
            marked.update(e["id"] for e in body.get("records", {}).get("detections", []))
    posts: dict[Any, set[tuple[Any, Any]]] = {}
    for capture in rows.get("captures", []):
        posts.setdefault(capture["post_pk"], set()).add((capture["platform"], capture["post_id"]))
    older = 0
    for d in rows.get("detections", []):
        seq, expected = vouched.get(int(d["id"]), (None, None))
        if d.get("post_pk") is None:
            if seq is not None:
                report.check(
                    (
                        "altered",
                        f"detection {d['id']} is no longer linked to the post manifest {seq} names",
                    )  # fmt: skip
                )
            continue
        if seq is None:
            if int(d["id"]) in marked:
                report.check(("altered", f"detection {d['id']}'s link to a post is in no manifest"))
            else:
                older += 1
            continue
        named = posts.get(d["post_pk"], set())
        post = next(iter(named)) if len(named) == 1 else None
        wrong = f"detection {d['id']} is linked otherwise than manifest {seq} says: altered"
        report.check(None if link_hash(d, post) == expected else ("altered", wrong))
    if older:
        report.notes.append(
            f"{older} detection(s) were linked to their posts before links were vouched for "
            "by manifests: those links were not checked"
        )


def _check_derived(bundle: zipfile.ZipFile, report: Report) -> None:
    """The report, the CDX index and the pages list against what the export makes of the
    rows, chain, tokens and WARC: the same inputs give the same bytes."""
    from .export import DERIVED_KEY, REPORT_KEY, TEMPLATES, derived_members

    package = _read_json(bundle, "datapackage.json")
    if DERIVED_KEY not in package:
        report.notes.append(
            "this bundle's report and indexes were made by an earlier export, which verify "
            "cannot make again: they were not checked (its rows, files and WARC were)"
        )
        return
    report_format = package.get(REPORT_KEY, 1)
    known = type(report_format) is int and report_format in TEMPLATES
    if not known:  # anyone can rewrite datapackage.json: an unchecked report is no pass
        report.check(
            (
                "altered",
                f"datapackage.json names report format {report_format!r}, which this release "
                "cannot make again: report/index.html was not checked (made by a newer "
                "embedarchive? verify it with that one)",
            )
        )
    held = [_read_json(bundle, n) for n in ("records/rows.json", "manifests/chain.json")]
    tokens = _read_json(bundle, "timestamps/tokens.json")
    with tempfile.TemporaryDirectory(prefix="embedarchive-verify-") as folder:
        warc = Path(folder) / "data.warc.gz"
        with bundle.open(WARC_MEMBER) as src, open(warc, "wb") as dst:
            shutil.copyfileobj(src, dst, CHUNK)
        expected = derived_members(
            held[0],
            held[1],
            tokens,
            warc,
            str(package["created"]),
            report_format if known else 1,
        )
    if not known:
        del expected["report/index.html"]
    for name, data in expected.items():
        try:
            same = bundle.read(name) == data
        except KeyError:
            report.check(("missing", f"{name} is missing"))
            continue
        report.check(None if same else ("altered", f"{name} is not what the rows make: altered"))


#: The members every bundle has besides the files, manifests and tokens its rows name: the
#: package, the WARC and its index, the rows, the chain and the report (made from the rows).
_STRUCTURE = frozenset(
    {
        "datapackage.json",
        "datapackage-digest.json",
        WARC_MEMBER,
        "indexes/index.cdx",
        "pages/pages.jsonl",
        "records/rows.json",
        "manifests/chain.json",
        "timestamps/tokens.json",
        "report/index.html",
    }
)


def _present(body: dict[str, Any], by_id: dict[tuple[str, int], Any]) -> dict[str, Any]:
    """A manifest of another unit, cut to the rows of it the bundle holds (what is not as
    the export writes it is kept, for ``check_rows`` to report)."""
    records = body.get("records")
    if not isinstance(records, dict):
        return body
    kept: dict[str, Any] = {}
    for table, entries in records.items():
        if not isinstance(entries, list):
            kept[table] = entries
            continue
        kept[table] = [
            e
            for e in entries
            if not (isinstance(e, dict) and isinstance(e.get("id"), int))
            or (table, e["id"]) in by_id
        ]
    return {**body, "records": kept}


def _check_tokens(
    bundle: zipfile.ZipFile, report: Report, chain: list[dict[str, Any]], ca: list[Any]
) -> None:
    tokens = _read_json(bundle, "timestamps/tokens.json")
    by_sha = {e["sha256"]: e for e in chain}
    for token in tokens:
        manifest = by_sha.get(token["manifest_sha256"])
        if manifest is None:
            report.check(("missing", f"timestamp {token['path']} covers a manifest not here"))
            continue
        try:
            info = check_token(bundle.read(_member(bundle, token["path"])), manifest["bytes"], ca)
        except KeyError:
            report.check(("missing", f"timestamp {token['path']} is missing"))
            continue
        except TimestampError as err:
            report.check(("altered", f"timestamp {token['path']}: {err}"))
            continue
        shown = (token.get("gen_time"), token.get("serial"), token.get("tsa_name"))
        report.check(token_differs(token["path"], info, *shown))
        report.check(implausible_token(token["path"], info, manifest["bytes"], manifest["seq"]))
        if token.get("manifest_seq") != manifest["seq"]:
            report.check(
                (
                    "altered",
                    f"timestamps/tokens.json says {token['path']} covers manifest "
                    f"{token.get('manifest_seq')!r}; it covers {manifest['seq']}",
                )
            )
    if not tokens:
        report.notes.append("no trusted timestamp: these captures were not sealed when exported")
    elif chain and chain[-1]["sha256"] != tokens[-1]["manifest_sha256"]:
        report.check(("missing", "the chain does not end at the sealed manifest"))
    if not ca and tokens:
        report.notes.append("timestamps were checked against the certificates they carry")


__all__ = ["verify_bundle"]
