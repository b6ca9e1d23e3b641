"""Fault-injection benchmark: a batch against a platform that fails on purpose, killed and resumed.

    .venv/bin/python benchmarks/faults.py [--articles 150] [--posts 240] [--jobs 8]
        [--fault-rate 0.25] [--seed 6] [--methods syndication,oembed] [--keep DIR]

A local server in its own process plays X/Twitter and fails a share ``--fault-rate`` of its
answers — connection resets, truncated bodies, 429 and 5xx with ``Retry-After``, slow bodies,
malformed JSON, HTML error pages — the same request the same way in every run (see
``faultplatform.py``). ``--articles`` generated files (a quarter copied text with
``pic.twitter.com`` links, the rest HTML with ``twitter-tweet`` blockquotes; posts appear in
several articles) are archived by the real CLI, each phase a subprocess:

1. ``embedarchive archive DIR --jobs N``, SIGKILLed once it has stored captures for 30 % of
   the posts;
2. ``embedarchive archive --resume --jobs N``, SIGKILLed the same way;
3. the first command again: it continues the same batch to its end;
4. ``embedarchive retry --jobs N`` (``EMBEDARCHIVE_RETRY_BASE_DELAY=0``: every failure is
   due), SIGKILLed once it has re-captured a third of the failed items;
5. ``embedarchive retry --jobs N``;
6. ``embedarchive retry --jobs N`` with the faults switched off;
7. ``embedarchive verify``;
8. the first command again: a new batch over the finished archive, nothing to fetch;
9. ``embedarchive verify``.

Timeouts are short (connect and read 2 s, a whole response 4 s) so slow bodies fail too.
Then the archive is checked (issue 6): every embed archived or recorded with its reason;
every live post archived with all its media, every gone post ``unavailable``; no media lost
to a text-only fallback; nothing duplicated (posts, archived captures, detections, articles,
media rows); no queue item left open; no orphaned, missing or ``.part`` file, ``tmp/`` and
``warc/open/`` empty; the three kills landed; no traceback, no hang; the last retry, the re-run
and both verifies exit 0. Prints a table of phases and one of checks; exits 1 if any check
fails.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from faultplatform import KINDS, Post, all_posts, make_posts, serve, write_articles

PHASE_TIMEOUT = 240.0


# --- the phases ----------------------------------------------------------------------------


def _ro(archive: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{archive / 'archive.db'}?mode=ro", uri=True, timeout=5)


def snapshot(archive: Path) -> tuple[dict[str, int], dict[str, int], int]:
    """Posts by status, queue items by state, captures (all zero before the schema exists)."""
    try:
        with closing(_ro(archive)) as db:
            posts = dict(
                db.execute("select status, count(*) from posts group by status").fetchall()
            )
            queue = dict(db.execute("select state, count(*) from queue group by state").fetchall())
            return posts, queue, db.execute("select count(*) from captures").fetchone()[0]
    except sqlite3.Error:
        return {}, {}, 0


def leftovers(archive: Path) -> dict[str, int]:
    """Files a run must not leave behind (or that the next run must clean up or adopt)."""
    with closing(_ro(archive)) as db:
        named = {
            r[0] for r in db.execute("select path from media union select raw_path from articles")
        }
    on_disk = {
        p.relative_to(archive).as_posix() for p in (archive / "media").rglob("*") if p.is_file()
    }
    return {
        "tmp/": sum(1 for p in (archive / "tmp").rglob("*") if p.is_file()),
        "warc/open/": sum(1 for p in (archive / "warc" / "open").rglob("*") if p.is_file()),
        "orphaned media": len(on_disk - named),
        "missing media": len(named - on_disk),
    }


@dataclass
class Phase:
    name: str
    wall: float
    exit_code: int
    requests: int
    faults: list[int]
    posts: dict[str, int]
    queue: dict[str, int]
    note: str = ""


def run_phase(
    name: str, argv: list[str], env: dict[str, str], counts: Any, log: Path, kill_after: int = 0
) -> Phase:
    """One CLI run in a subprocess; with ``kill_after``, SIGKILLed once it has stored that many
    captures."""
    archive = Path(env["EMBEDARCHIVE_ARCHIVE_DIR"])
    before, captures = list(counts), snapshot(archive)[2]
    note = ""
    t0 = time.monotonic()
    with open(log.with_suffix(".out"), "wb") as out, open(log.with_suffix(".err"), "wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "embedarchive", *argv], env=env, stdout=out, stderr=err
        )
        while proc.poll() is None:
            if time.monotonic() - t0 > PHASE_TIMEOUT:
                proc.kill()
                note = f"hung: killed after {PHASE_TIMEOUT:.0f} s"
            elif kill_after and snapshot(archive)[2] - captures >= kill_after:
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                left = ", ".join(f"{k} {v}" for k, v in leftovers(archive).items() if v)
                new = snapshot(archive)[2] - captures
                note = f"SIGKILL after {new} captures; left: {left or 'nothing'}"
            time.sleep(0.05)
        proc.wait()
    wall = time.monotonic() - t0
    if kill_after and not note:
        note = "ended before it could be killed"
    posts, queue, _ = snapshot(archive)
    after = list(counts)
    faults = [a - b for a, b in zip(after[1:], before[1:], strict=True)]
    return Phase(name, wall, proc.returncode, after[0] - before[0], faults, posts, queue, note)


# --- the checks -----------------------------------------------------------------------------

Check = tuple[str, bool, str]


def check_archive(archive: Path, posts: list[Post], articles: int, embeds: int) -> list[Check]:
    """Every embed accounted for, every post as expected, nothing duplicated, no stray file."""
    with closing(_ro(archive)) as db:
        checks = check_rows(db, posts, articles, embeds)
    left = leftovers(archive)
    parts = sum(1 for p in (archive / "media").rglob("*.part"))
    checks.append(
        (
            "files: no orphan, none missing, no .part, tmp/ and warc/open/ empty",
            not any(left.values()) and not parts,
            ", ".join(f"{k} {v}" for k, v in left.items()) + f", .part {parts}",
        )
    )
    return checks


def check_rows(
    db: sqlite3.Connection, posts: list[Post], articles: int, embeds: int
) -> list[Check]:

    def one(sql: str) -> int:
        return int(db.execute(sql).fetchone()[0])

    accounted = Counter(
        r[0]
        for r in db.execute(
            """select case
                 when p.status in ('archived', 'unavailable') then p.status
                 when p.status = 'failed' and c.error is not null then 'failed with its reason'
                 when d.post_pk is null and d.resolution in ('failed', 'unresolved')
                      and d.resolution_error is not null then 'unresolved with its reason'
                 else 'unaccounted' end
               from detections d left join posts p on p.id = d.post_pk
               left join captures c on c.id = p.last_capture_id"""
        )
    )
    found = sum(accounted.values())
    checks: list[Check] = [
        (
            "every embed archived or recorded with its reason",
            found == embeds and not accounted["unaccounted"],
            f"{found} of {embeds} embeds: "
            + ", ".join(f"{k} {v}" for k, v in sorted(accounted.items())),
        )
    ]

    method = dict(
        db.execute(
            "select p.post_id, c.method from posts p join captures c on c.id = p.last_capture_id"
        )
    )
    status = dict(db.execute("select post_id, status from posts"))
    media = dict(
        db.execute(
            "select p.post_id, (select count(*) from media m where m.capture_id = p.last_capture_id) from posts p"
        )
    )
    fallback = [  # archived from oEmbed's text after the syndication API failed
        r[0]
        for r in db.execute(
            """select p.post_id from posts p join captures c on c.id = p.last_capture_id
               where c.method = 'oembed' and exists (select 1 from json_each(c.attempts)
                 where json_extract(value, '$.outcome') = 'failed')"""
        )
    ]
    expected = {p.id: p for p in posts}
    expected.update(
        {q.id: q for p in posts if (q := p.quoted) and method.get(p.id) == "syndication"}
    )
    wrong = [
        pid
        for pid, p in expected.items()
        if status.get(pid) != ("archived" if p.live else "unavailable")
    ]
    extra = set(status) - set(expected)
    checks.append(
        (
            "live posts archived, gone posts unavailable",
            not wrong and not extra,
            f"{len(status)} posts stored, {len(expected)} expected; {len(wrong)} with another status"
            + (f" (e.g. {wrong[0]}: {status.get(wrong[0], 'missing')})" if wrong else "")
            + f", {len(extra)} unexpected",
        )
    )
    short = [
        pid
        for pid, p in expected.items()
        if method.get(pid) == "syndication" and media.get(pid) != p.media
    ]
    checks.append(
        (
            "posts captured via syndication have all their media",
            not short,
            f"{one('select count(*) from media')} media rows; {len(short)} posts short",
        )
    )
    known = all_posts(posts)
    lost_media = sum(known[pid].media for pid in fallback)
    checks.append(
        (
            "no media lost to the text-only oEmbed fallback",
            not fallback,
            f"{len(fallback)} posts archived via oEmbed after syndication failed transiently: "
            f"{lost_media} media and {sum(1 for pid in fallback if known[pid].kind == 'quote')} "
            "quoted posts never fetched, nothing left to retry",
        )
    )

    duplicated = {  # a natural key and where it must be unique
        "posts": ("platform || ':' || post_id", "posts"),
        "archived captures": (
            "post_pk",
            "captures where status = 'archived' and parent_capture_id is null",
        ),
        "detections": ("article_id || ':' || platform || ':' || offset", "detections"),
        "articles": ("source", "articles"),
        "media rows": ("capture_id || ':' || sha256", "media"),
    }
    dups = {
        k: one(f"select count(*) - count(distinct {key}) from {src}")
        for k, (key, src) in duplicated.items()
    }
    n_articles = one("select count(*) from articles")
    checks.append(
        (
            "nothing duplicated",
            not any(dups.values()) and n_articles == articles,
            f"{n_articles} articles of {articles}; extra rows: "
            + ", ".join(f"{k} {v}" for k, v in dups.items()),
        )
    )
    open_items = one("select count(*) from queue where state in ('pending', 'running')")
    checks.append(("queue: nothing pending or running", not open_items, f"{open_items} open items"))
    return checks


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=150)
    parser.add_argument("--posts", type=int, default=240)
    parser.add_argument("--jobs", type=int, default=8)
    parser.add_argument("--fault-rate", type=float, default=0.25)
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument(
        "--methods", default="syndication,oembed", help="EMBEDARCHIVE_TWITTER_METHODS"
    )
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    args = parser.parse_args()

    posts = make_posts(args.posts, args.seed)
    ctx = multiprocessing.get_context("spawn")
    port_q = ctx.Queue()
    counts = ctx.Array("l", 1 + len(KINDS))
    faults_on = ctx.Value("b", 1)
    server = ctx.Process(
        target=serve,
        args=(port_q, posts, args.seed, args.fault_rate, faults_on, counts),
        daemon=True,
    )
    server.start()
    base = f"http://127.0.0.1:{port_q.get(timeout=30)}"
    work = args.keep or Path(tempfile.mkdtemp(prefix="embedarchive-faults-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("EMBEDARCHIVE_")} | {
        "EMBEDARCHIVE_ARCHIVE_DIR": str(work / "archive"),
        "EMBEDARCHIVE_ALLOW_PRIVATE_NETWORK": "1",
        "EMBEDARCHIVE_TWITTER_SYNDICATION_URL": f"{base}/syndication/tweet-result",
        "EMBEDARCHIVE_TWITTER_OEMBED_URL": f"{base}/oembed",
        "EMBEDARCHIVE_TWITTER_PIC_URL": f"{base}/pic",
        "EMBEDARCHIVE_TWITTER_METHODS": args.methods,
        "EMBEDARCHIVE_CONNECT_TIMEOUT": "2",
        "EMBEDARCHIVE_READ_TIMEOUT": "2",
        "EMBEDARCHIVE_TOTAL_TIMEOUT": "4",
        "EMBEDARCHIVE_RETRY_BASE_DELAY": "0",
        "EMBEDARCHIVE_PER_HOST_CONNECTIONS": str(args.jobs),
        "EMBEDARCHIVE_PER_HOST_RATE": "0",
        "EMBEDARCHIVE_HTTP_BACKOFF_BASE": "0.2",
    }
    folder = work / "articles"
    archive = ["archive", str(folder), "--jobs", str(args.jobs)]
    retry = ["retry", "--jobs", str(args.jobs)]
    resume = ["archive", "--resume", "--jobs", str(args.jobs)]
    verify = ["verify"]
    kill_at = max(1, len(posts) * 3 // 10)
    plan: list[tuple[str, list[str], bool, int | None]] = [  # name, argv, faults, kill after
        ("archive, killed", archive, True, kill_at),
        ("archive --resume, killed", resume, True, kill_at),
        ("archive (same command: continues)", archive, True, 0),
        ("retry, killed", retry, True, None),  # once it has re-captured a third of the failures
        ("retry", retry, True, 0),
        ("retry, faults off", retry, False, 0),
        ("verify", verify, False, 0),
        ("archive (new batch, nothing to fetch)", archive, False, 0),
        ("verify", verify, False, 0),
    ]
    phases: list[Phase] = []
    try:
        embeds = write_articles(folder, posts, args.articles, args.seed)
        for n, (name, argv, faults, kill) in enumerate(plan, 1):
            faults_on.value = int(faults)
            if kill is None:
                kill = max(1, snapshot(work / "archive")[1].get("failed", 0) // 3)
            phases.append(run_phase(f"{n} {name}", argv, env, counts, work / f"phase{n}", kill))
        checks = check_archive(work / "archive", posts, args.articles, embeds)
        outs = [(work / f"phase{n}.out").read_text("utf-8", "replace") for n in range(1, 10)]
        errs = [(work / f"phase{n}.err").read_text("utf-8", "replace") for n in range(1, 10)]
    finally:
        server.terminate()
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    checks += run_checks(phases, outs, errs)
    report(args, posts, embeds, phases, checks)
    return 0 if all(passed for _, passed, _ in checks) else 1


def run_checks(phases: list[Phase], outs: list[str], errs: list[str]) -> list[Check]:
    """What the phases themselves must show: kills landed, clean exits, clean verifies."""

    def problems(out: str) -> str:
        kinds = ("missing", "altered", "orphaned")
        lines = [line for line in out.splitlines() if line.split(":")[0] in kinds]
        more = f" (+{len(lines) - 3})" if len(lines) > 3 else ""
        return "; ".join(lines[:3]) + more if lines else "clean"

    killed = [p for p in phases if "killed" in p.name]
    last_retry, verify1, rerun, verify2 = phases[5:]
    return [
        (
            f"killed mid-run, {len(killed)} times",
            all(p.exit_code == -signal.SIGKILL for p in killed),
            " / ".join(p.note for p in killed),
        ),
        (
            "no traceback, no hang",
            not any("Traceback" in e for e in errs) and not any("hung" in p.note for p in phases),
            ", ".join(p.name for p, e in zip(phases, errs, strict=True) if "Traceback" in e)
            or "none",
        ),
        ("last retry exits 0", last_retry.exit_code == 0, f"exit {last_retry.exit_code}"),
        (
            "verify after the kills and retries exits 0",
            verify1.exit_code == 0,
            f"exit {verify1.exit_code} {problems(outs[6])}",
        ),
        (
            "re-run fetches nothing, exits 0",
            rerun.requests == 0 and rerun.exit_code == 0,
            f"{rerun.requests} requests, exit {rerun.exit_code}",
        ),
        (
            "verify after the re-run exits 0",
            verify2.exit_code == 0,
            f"exit {verify2.exit_code} {problems(outs[8])}",
        ),
    ]


def report(
    args: argparse.Namespace,
    posts: list[Post],
    embeds: int,
    phases: list[Phase],
    checks: list[Check],
) -> None:
    known = all_posts(posts)
    live = [p for p in known.values() if p.live]
    print(
        f"{args.articles} articles, {embeds} embeds of {len(posts)} posts (+{len(known) - len(posts)} quoted; "
        f"{len(live)} live with {sum(p.media for p in live)} media); methods {args.methods}; "
        f"fault rate {args.fault_rate:.0%}, seed {args.seed}; --jobs {args.jobs}; {os.cpu_count()} cores"
    )
    print()
    print(
        "| phase | wall | exit | requests | "
        + " | ".join(KINDS)
        + " | posts archived / unavailable / failed | queue open / failed | note |"
    )
    print(
        "| --- | ---: | ---: | ---: | "
        + " | ".join("---:" for _ in KINDS)
        + " | ---: | ---: | --- |"
    )
    for p in phases:
        s, q = p.posts, p.queue
        print(
            f"| {p.name} | {p.wall:.1f} s | {p.exit_code} | {p.requests} | "
            + " | ".join(str(n) for n in p.faults)
            + f" | {s.get('archived', 0)} / {s.get('unavailable', 0)} / {s.get('failed', 0)} | "
            f"{q.get('pending', 0) + q.get('running', 0)} / {q.get('failed', 0)} | {p.note} |"
        )
    print()
    print(
        f"total {sum(p.wall for p in phases):.1f} s; {sum(sum(p.faults) for p in phases)} faults "
        f"in {sum(p.requests for p in phases)} requests"
    )
    print()
    print("| check | result | detail |")
    print("| --- | --- | --- |")
    for name, passed, detail in checks:
        print(f"| {name} | {'ok' if passed else '**FAILED**'} | {detail} |")
    sys.stdout.flush()


if __name__ == "__main__":
    raise SystemExit(main())
