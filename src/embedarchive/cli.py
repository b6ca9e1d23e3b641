"""Thin click commands over the library. Errors become one line on stderr and an exit code:
0 all archived or recorded as unavailable, 1 some fetches failed (retryable), 2 bad input."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.markup import escape

from . import __version__
from .console import (
    RichProgress,
    finding_line,
    findings_table,
    history_table,
    post_panel,
    print_json,
    recheck_table,
    recovery_table,
    table,
)
from .errors import EmbedArchiveError
from .settings import LoadedSettings, describe, load_settings

F = TypeVar("F", bound=Callable[..., Any])


def _fail(message: str, code: int) -> None:
    Console(stderr=True, highlight=False).print(
        f"[red]error:[/] {message}", markup=True, soft_wrap=True
    )
    sys.exit(code)


def friendly_errors(func: F) -> F:
    """Every anticipated error ends as one line and an exit code, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except EmbedArchiveError as err:
            _fail(str(err).replace("[", r"\["), err.exit_code)
        except KeyboardInterrupt:
            _fail(
                "interrupted; what was finished is stored, run the same command again to complete",
                130,
            )
        return None

    return wrapper  # type: ignore[return-value]


def common_options(func: F) -> F:
    """--archive and --config, shared by every command (sqlite-utils' reusable option bundles)."""
    func = click.option(
        "--config",
        "config_file",
        type=click.Path(dir_okay=False, path_type=Path),
        help="TOML settings file (default: ARCHIVE/embedarchive.toml).",
    )(func)
    func = click.option(
        "--archive",
        "archive_dir",
        type=click.Path(file_okay=False, path_type=Path),
        envvar="EMBEDARCHIVE_ARCHIVE_DIR",
        show_envvar=True,
        help="Archive folder (database and media). Default: ./archive",
    )(func)
    return func


def json_option(func: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")(func)


def _settings(
    archive_dir: Path | None, config_file: Path | None, **overrides: Any
) -> LoadedSettings:
    return load_settings({"archive_dir": archive_dir, **overrides}, config_file=config_file)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="embedarchive")
def cli() -> None:
    """Preserve the social-media posts embedded in news articles, with provenance."""


@cli.command()
@click.argument("source")
@common_options
@json_option
@friendly_errors
def detect(source: str, archive_dir: Path | None, config_file: Path | None, as_json: bool) -> None:
    """List the embeds in SOURCE without fetching anything (a URL is fetched, nothing else)."""
    from .article import load
    from .capture.http import Http, Recorder
    from .detect import detect as run_detect

    settings = _settings(archive_dir, config_file).settings
    with Http(settings) as http:
        article = load(source, http, Recorder(), settings.max_article_bytes)
    found = run_detect(article)
    if as_json:
        print_json(Console(), [d.to_json() for d in found])
        return
    Console().print(
        table(
            f"{len(found)} embed(s) in {source}",
            ["#", "platform", "markup", "offset", "url / id", "author", "date", "links"],
            (
                [
                    i + 1,
                    d.platform,
                    d.markup,
                    d.offset,
                    d.url or d.id or "—",
                    f"{d.author or ''} @{d.handle}" if d.handle else (d.author or ""),
                    d.date,
                    " ".join(d.links),
                ]
                for i, d in enumerate(found)
            ),
        )
    )


@cli.command(name="list")
@click.option("--platform", help="Only posts of this platform.")
@click.option(
    "--status",
    type=click.Choice(["archived", "unavailable", "failed"]),
    help="Only posts with this status.",
)
@common_options
@json_option
@friendly_errors
def list_cmd(
    platform: str | None,
    status: str | None,
    archive_dir: Path | None,
    config_file: Path | None,
    as_json: bool,
) -> None:
    """List archived articles and posts."""
    from .store.queries import list_articles, list_posts
    from .store.records import Store

    settings = _settings(archive_dir, config_file).settings
    store = Store.open(settings.db_path, create=False)
    articles, posts = list_articles(store), list_posts(store, platform, status)
    if as_json:
        print_json(Console(), {"articles": articles, "posts": posts})
        return
    out = Console()
    out.print(
        table(
            "Articles",
            ["id", "source", "title", "retrieved", "embeds"],
            (
                [a["id"], a["source"], (a["title"] or "")[:60], a["retrieved_at"], a["embeds"]]
                for a in articles
            ),
        )
    )
    out.print(
        table(
            "Posts",
            ["id", "platform", "post id", "author", "created", "status", "last capture"],
            (
                [
                    p["id"],
                    p["platform"],
                    p["post_id"],
                    f"{p['uploader'] or ''} @{p['uploader_id'] or ''}",
                    p["created_at"],
                    p["status"],
                    p["last_captured_at"],
                ]
                for p in posts
            ),
        )
    )


@cli.command()
@click.argument("ident")
@common_options
@json_option
@friendly_errors
def show(ident: str, archive_dir: Path | None, config_file: Path | None, as_json: bool) -> None:
    """Show one post (row id, post id, or platform:id) with its captures and provenance."""
    from .store.queries import post_detail
    from .store.records import Store

    settings = _settings(archive_dir, config_file).settings
    store = Store.open(settings.db_path, create=False)
    post = post_detail(store, ident)
    if as_json:
        print_json(Console(), post)
        return
    out = Console()
    out.print(post_panel(post))
    for d in post["detections"]:
        out.print(
            table(
                f"As the article showed it ({d['article_source']}, {d['markup']} at offset {d['offset']})",
                ["author", "handle", "date", "links", "resolution"],
                [
                    [
                        d["author"],
                        d["handle"],
                        d["date"],
                        " ".join(d["links"] or []),
                        f"{d['resolution']} via {' → '.join(d['resolution_hops'] or []) or '—'}",
                    ]
                ],
            )
        )
        if d["text"]:
            out.print(d["text"], markup=False, highlight=False)
        for f in d["findings"]:
            out.print(finding_line(f))
    out.print(history_table(post["history"]))
    for c in post["captures"]:
        run = c["run"] or {}
        out.print(
            table(
                f"Capture {c['id']}: {c['status']} via {c['method'] or '—'} at {c['finished_at']}",
                ["attempts", "software", "operator", "error"],
                [
                    [
                        ", ".join(f"{a['method']}:{a['outcome']}" for a in c["attempts"]),
                        ", ".join(
                            f"{k} {v}"
                            for k, v in (run.get("software") or {}).items()
                            if k != "platform"
                        ),
                        run.get("operator") or "—",
                        c["error"] or "",
                    ]
                ],
            )
        )
        if c["media"]:
            out.print(
                table(
                    "Media",
                    ["kind", "mime", "size", "sha256", "file", "source"],
                    (
                        [m["kind"], m["mime"], m["size"], m["sha256"], m["path"], m["source_url"]]
                        for m in c["media"]
                    ),
                )
            )
        out.print(
            table(
                "HTTP exchanges",
                ["time", "method", "url", "status", "bytes", "body sha256"],
                (
                    [
                        e["started_at"],
                        e["method"],
                        e["url"],
                        e["status"],
                        e["body_size"],
                        e["body_sha256"],
                    ]
                    for e in c["http_exchanges"]
                ),
            )
        )


@cli.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on; anything but loopback lets others on the network browse.",
)
@click.option(
    "--port", type=click.IntRange(0, 65535), default=8001, show_default=True, help="0: any free."
)
@common_options
@friendly_errors
def serve(host: str, port: int, archive_dir: Path | None, config_file: Path | None) -> None:
    """Browse the archive in a web browser, read-only: search, comparison, media, provenance."""
    from .web import serve as run_server

    settings = _settings(archive_dir, config_file).settings
    err = Console(stderr=True, highlight=False)
    run_server(
        settings.db_path,
        host,
        port,
        announce=lambda line: err.print(line, markup=False, soft_wrap=True),
    )


@cli.command()
@common_options
@json_option
@friendly_errors
def config(archive_dir: Path | None, config_file: Path | None, as_json: bool) -> None:
    """Print every setting and endpoint with its value, environment variable and source."""
    rows = describe(_settings(archive_dir, config_file))
    if as_json:
        print_json(Console(), rows)
        return
    Console().print(
        table(
            "Settings",
            ["setting", "value", "source", "environment variable", "meaning"],
            ([r["name"], r["value"], r["source"], r["env"], r["doc"]] for r in rows),
        )
    )


def _open_existing(settings: Any) -> Any:
    """The existing archive, upgraded to this version's schema; a missing one is an error."""
    from .store.records import Store

    Store.open(settings.db_path, create=False).close()
    return Store.open(settings.db_path, warc_max_bytes=settings.warc_max_bytes)


@cli.command()
@click.argument("article", required=False)
@common_options
@json_option
@friendly_errors
def check(
    article: str | None, archive_dir: Path | None, config_file: Path | None, as_json: bool
) -> None:
    """Compare each embed as ARTICLE (row id or source; default: all) showed it with the post
    as captured: match, edited, deleted, author-mismatch, date-mismatch."""
    from .findings import current_findings, record_findings
    from .store.queries import find_article

    store = _open_existing(_settings(archive_dir, config_file).settings)
    try:
        article_id = int(find_article(store, article)["id"]) if article else None
        record_findings(store)
        rows = current_findings(store, article_id)
    finally:
        store.close()
    if as_json:
        print_json(Console(), rows)
    else:
        Console().print(findings_table(rows))


@cli.command()
@click.option(
    "--older-than",
    help="Only posts whose latest capture is older than this (30m, 12h, 7d, 2w). Default: all.",
)
@click.option("--platform", help="Only posts of this platform.")
@common_options
@json_option
@friendly_errors
def recheck(
    older_than: str | None,
    platform: str | None,
    archive_dir: Path | None,
    config_file: Path | None,
    as_json: bool,
) -> None:
    """Capture archived posts again (new captures; nothing is overwritten) and record what
    changed: text edited, media changed, now unavailable, available again."""
    from .recheck import parse_duration
    from .recheck import recheck as run_recheck

    age = parse_duration(older_than) if older_than else None
    items = _with_fetching(
        "recheck",
        archive_dir,
        config_file,
        lambda store, ctx, run_id: run_recheck(
            store, ctx, run_id, older_than=age, platform=platform
        ),
    )
    if as_json:
        print_json(Console(), [i.__dict__ for i in items])
    else:
        Console().print(recheck_table(items))
    if any(i.status == "failed" for i in items):
        sys.exit(1)


@cli.command()
@click.argument("article", required=False)
@common_options
@json_option
@friendly_errors
def recover(
    article: str | None, archive_dir: Path | None, config_file: Path | None, as_json: bool
) -> None:
    """Look up in the Wayback Machine the X posts that are gone (earliest and latest snapshot
    become captures) and the textified X embeds of ARTICLE (default: all) whose link is gone
    (snowflake id range + text similarity)."""
    from .recover import recover as run_recover
    from .store.queries import find_article

    def work(store: Any, ctx: Any, run_id: int) -> Any:
        article_id = int(find_article(store, article)["id"]) if article else None
        return run_recover(store, ctx, run_id, article_id)

    results = _with_fetching("recover", archive_dir, config_file, work)
    if as_json:
        print_json(Console(), [r.__dict__ for r in results])
    else:
        Console().print(recovery_table(results))
    if any(r.outcome == "failed" for r in results):
        sys.exit(1)


def _with_fetching(
    command: str, archive_dir: Path | None, config_file: Path | None, work: Callable[..., Any]
) -> Any:
    """Run ``work(store, ctx, run_id)`` on the existing archive, as a recorded run."""
    from .capture.context import FetchContext
    from .session import fetching_run

    loaded = _settings(archive_dir, config_file)
    with (
        fetching_run(loaded, command, create=False) as (store, files, http, run_id),
        RichProgress(Console(stderr=True)) as progress,
    ):
        ctx = FetchContext(settings=loaded.settings, http=http, files=files, progress=progress)
        return work(store, ctx, run_id)


@cli.command()
@click.option(
    "--bundle",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Check an exported bundle on its own (no archive needed).",
)
@common_options
@json_option
@friendly_errors
def verify(
    bundle: Path | None, archive_dir: Path | None, config_file: Path | None, as_json: bool
) -> None:
    """Re-hash every file; check WARC digests, the manifest chain and timestamps (exit 1 if any fail)."""
    from .bundle import verify_bundle
    from .verify import verify_archive

    settings = _settings(archive_dir, config_file).settings
    with RichProgress(Console(stderr=True)) as progress:
        if bundle is not None:
            report = verify_bundle(bundle, progress=progress, tsa_ca_file=settings.tsa_ca_file)
        else:
            report = verify_archive(
                settings.archive_dir, progress=progress, tsa_ca_file=settings.tsa_ca_file
            )
    if as_json:
        print_json(Console(), report.to_json())
    else:
        out = Console(highlight=False)
        for problem in report.problems:
            out.print(f"[red]{problem['kind']}:[/] {escape(problem['message'])}", soft_wrap=True)
        for note in report.notes:
            out.print(f"[dim]note:[/] {escape(note)}", soft_wrap=True)
        out.print(
            table(
                f"verify {bundle or settings.archive_dir}: "
                + ("[green]OK[/]" if report.passed else "[red]FAILED[/]"),
                ["checked", "ok", "missing", "altered", "orphaned"],
                [[report.checked, report.ok, report.missing, report.altered, report.orphaned]],
            )
        )
    if not report.passed:
        sys.exit(1)


@cli.command()
@common_options
@json_option
@friendly_errors
def seal(archive_dir: Path | None, config_file: Path | None, as_json: bool) -> None:
    """Get an RFC 3161 timestamp over the latest manifest (the hash chain's head)."""
    from .seal import seal as run_seal

    sealed = run_seal(_settings(archive_dir, config_file).settings)
    data = {
        "manifest_seq": sealed.manifest_seq,
        "manifest_sha256": sealed.manifest_sha256,
        "token": sealed.token_path,
        "time": sealed.token.gen_time,
        "tsa": sealed.token.tsa_name,
        "backfilled_rows": sealed.backfilled,
    }
    if as_json:
        print_json(Console(), data)
        return
    Console(highlight=False).print(
        f"sealed manifest {sealed.manifest_seq} ({sealed.manifest_sha256[:16]}…) at "
        f"{sealed.token.gen_time} by {escape(sealed.token.tsa_name or 'the TSA')}; "
        f"token {sealed.token_path}"
    )


@cli.command()
@click.argument("articles", nargs=-1, required=True)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The bundle to write (a .wacz file).",
)
@common_options
@json_option
@friendly_errors
def export(
    articles: tuple[str, ...],
    out: Path,
    archive_dir: Path | None,
    config_file: Path | None,
    as_json: bool,
) -> None:
    """Write ARTICLES (id, source or sha256) as a self-contained WACZ bundle with a report."""
    from .export import export_bundle

    settings = _settings(archive_dir, config_file).settings
    done = export_bundle(settings.archive_dir, articles, out)
    data = {k: str(v) if isinstance(v, Path) else v for k, v in done.__dict__.items()}
    if as_json:
        print_json(Console(), data)
        return
    Console(highlight=False).print(
        f"wrote {done.path} ({done.size} bytes): {done.articles} article(s), "
        f"{done.captures} capture(s), {done.records} WARC record(s), {done.manifests} "
        f"manifest(s), {done.timestamps} timestamp token(s)",
        markup=False,
    )


from .cli_archive import archive, retry  # noqa: E402  (they use the helpers above)

cli.add_command(archive)
cli.add_command(retry)


def main() -> None:
    cli(prog_name="embedarchive")
