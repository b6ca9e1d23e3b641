"""``embedarchive archive`` (single articles and batches, resumable) and ``embedarchive retry``.

Registered on the one click group in ``cli.py``; thin: inputs are expanded by ``batch.py``,
the work is queued and run by ``queue.py`` / ``retry.py``. Exit codes: 0 everything archived
or recorded as unavailable, 1 retryable failures remain, 2 bad input.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.text import Text

from .cli import _settings, common_options, friendly_errors, json_option
from .console import (
    BatchProgress,
    RichProgress,
    Tally,
    json_text,
    output,
    printable,
    retried_table,
    table,
)
from .errors import InputError
from .session import fetching_run
from .settings import MAXIMA

jobs_option = click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1, max=MAXIMA["jobs"]),
    help="Articles and posts fetched at the same time (setting jobs; per-host limits still apply).",
)


def _json_line(data: Any) -> None:
    click.echo(json_text(data))


@click.command()
@click.argument("sources", nargs=-1)
@click.option(
    "--from",
    "lists",
    multiple=True,
    metavar="FILE",
    help="A list of article URLs or paths, one a line (# comments); - reads it from stdin.",
)
@click.option("--recursive", is_flag=True, help="Also the article files of sub-folders.")
@click.option(
    "--resume", is_flag=True, help="Continue the latest unfinished batch (no SOURCES needed)."
)
@click.option(
    "--refresh", is_flag=True, help="Capture posts again even if already archived (adds a capture)."
)
@click.option("--operator", help="Record this name as the operator of the run (opt-in).")
@click.option(
    "--record-host", is_flag=True, default=None, help="Record this machine's host name (opt-in)."
)
@click.option(
    "--cookies",
    "cookies_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Netscape cookies file of your own logged-in session, for yt-dlp "
    "(login-walled Instagram/Facebook posts). Read, never written; its contents never enter "
    "the archive.",
)
@jobs_option
@common_options
@json_option
@friendly_errors
def archive(
    sources: tuple[str, ...],
    lists: tuple[str, ...],
    recursive: bool,
    resume: bool,
    refresh: bool,
    operator: str | None,
    record_host: bool | None,
    cookies_file: Path | None,
    jobs: int | None,
    archive_dir: Path | None,
    config_file: Path | None,
    as_json: bool,
) -> None:
    """Archive every embedded post of SOURCES: article URLs, .html/.txt files, folders of them,
    RSS/Atom feeds, sitemaps, or - (the article on stdin). Work is queued first, so a killed
    run is continued by --resume or by the same command."""
    from .batch import BatchSpec, Expander, read_list
    from .capture.context import FetchContext
    from .capture.http import Recorder
    from .queue import Outcome, Queue, run_batch

    if resume and (sources or lists):
        raise InputError("--resume continues the latest unfinished batch; give no SOURCES")
    if not (resume or sources or lists):
        raise InputError("nothing to archive: give SOURCES, --from FILE, or --resume")
    loaded = _settings(
        archive_dir,
        config_file,
        operator=operator,
        record_host=record_host,
        cookies_file=cookies_file,
        jobs=jobs,
    )
    settings = loaded.settings
    stdin = sys.stdin.buffer
    spec = BatchSpec(
        sources,
        tuple((name, read_list(name, stdin, settings.max_article_bytes)) for name in lists),
        recursive,
        refresh,
    )
    err_console = Console(stderr=True)
    tally = Tally()  # what the tables show, not every outcome: memory stays flat
    errors: list[Outcome] = []

    def collect(outcome: Outcome) -> None:
        if outcome.result is not None:
            tally.add(outcome.result)
        if outcome.error:
            errors.append(outcome)

    with fetching_run(loaded, "archive") as (store, files, http, run_id):
        queue = Queue(store, settings)
        queue.requeue_running()  # whatever a killed archive or retry run left half done
        found = queue.unfinished() if resume else queue.unfinished(spec.key)
        if found is None and resume:
            err_console.print("no unfinished batch to resume")
            return
        if found is not None:
            batch_id = int(found["id"])
        else:
            recorder = Recorder()
            expander = Expander(http, recorder, stdin)
            try:
                expanded = expander.expand(spec)
            finally:  # the reads are evidence of the run, whether the batch could be made
                store.save_exchanges(recorder.exchanges(), run_id)
            batch_id = queue.create_batch(
                spec.key, "archive", spec.to_json(), expanded, run_id, expander.depths
            )
        counts = queue.counts(batch_id)
        total = sum(counts.values())
        done_before = total - counts.get("pending", 0)  # a count: the batch is never loaded
        with BatchProgress(err_console, total) as progress:
            progress.already_done(done_before)
            ctx = FetchContext(settings=settings, http=http, files=files, progress=progress)

            def report(outcome: Outcome) -> None:
                found = outcome.result.found if outcome.result else 0
                progress.article_done(found, outcome.listed or 0)
                if as_json:
                    _json_line({"batch_id": batch_id, **outcome.to_json()})

            run_batch(queue, batch_id, store, ctx, run_id, report, settings.jobs, collect)
        states = queue.counts(batch_id)
        retryable_left = len([i for i in queue.failures(due_only=False) if i.batch_id == batch_id])
    if not as_json:
        out = output()
        if tally.embeds:
            out.print(tally.items_table())
        if tally.articles:
            out.print(tally.summary_table())
        out.print(
            table(
                f"Batch {batch_id}",
                ["articles", "done", "failed", "pending"],
                [
                    [
                        sum(states.values()),
                        states.get("done", 0),
                        states.get("failed", 0),
                        states.get("pending", 0),
                    ]
                ],  # fmt: skip
            )
        )
    for o in errors:  # one line each, however long: they are grepped
        err_console.print(
            Text.assemble(("error:", "red"), f" {printable(o.error)}"), soft_wrap=True
        )
    failed = tally.totals["failed"] + sum(1 for o in errors if not o.bad_input)
    if (failed or retryable_left) and not as_json:
        err_console.print(
            f"[yellow]{failed} fetch(es) failed[/] and were recorded with their reason; "
            "everything else is stored. "
            + (
                "Run the same command again later (or 'embedarchive retry') to complete the "
                "archive."
                if retryable_left
                else "Retrying would not help: see the reasons above."
            ),
            soft_wrap=True,
        )
    if any(o.bad_input for o in errors):
        sys.exit(2)
    if failed:
        sys.exit(1)


@click.command()
@jobs_option
@common_options
@json_option
@friendly_errors
def retry(
    jobs: int | None, archive_dir: Path | None, config_file: Path | None, as_json: bool
) -> None:
    """Re-attempt failed fetches whose error was transient, once their next attempt is due
    (exponential backoff with jitter: retry_base_delay, retry_max_delay)."""
    from .capture.context import FetchContext
    from .queue import Queue
    from .retry import Retried, retry_failed

    loaded = _settings(archive_dir, config_file, jobs=jobs)
    with fetching_run(loaded, "retry", create=False) as (store, files, http, run_id):
        queue = Queue(store, loaded.settings)
        with RichProgress(Console(stderr=True)) as progress:
            ctx = FetchContext(settings=loaded.settings, http=http, files=files, progress=progress)

            def report(done: Retried) -> None:
                if as_json:
                    _json_line(done.__dict__)

            retried = retry_failed(queue, store, ctx, run_id, report, loaded.settings.jobs)
        waiting = queue.failures(due_only=False)
    if not as_json:
        out = output()
        if retried:
            out.print(retried_table(retried))
        elif not waiting:
            out.print("Nothing to retry: no failure recorded in this archive can be retried.")
        if waiting:
            first = min(w.next_attempt_at or "" for w in waiting)
            out.print(f"{len(waiting)} item(s) failed and will be retryable from {first}")
    if waiting:
        sys.exit(1)


__all__ = ["archive", "retry"]
