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
    finding_line,
    history_table,
    output,
    post_panel,
    print_json,
    printable,
    table,
)
from .errors import EmbedArchiveError
from .settings import LoadedSettings, describe, load_settings
from .store.sql import INT64_MAX

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
            _fail(escape(printable(err)), err.exit_code)
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
    context = click.get_current_context(silent=True)
    if context is not None and (
        context.get_parameter_source("archive_dir") is click.core.ParameterSource.ENVIRONMENT
    ):
        archive_dir = None  # Click read EMBEDARCHIVE_ARCHIVE_DIR: settings read it as such
    return load_settings({"archive_dir": archive_dir, **overrides}, config_file=config_file)


class _OneLineErrors(click.Group):
    """Click's usage errors (an unknown option, a value that is not one) as one line like
    every other error, not its usage text, hint, blank line and message."""

    def main(  # type: ignore[override]
        self, args: Any = None, prog_name: str | None = None, **extra: Any
    ) -> Any:
        if not extra.pop("standalone_mode", True):
            return super().main(args, prog_name, standalone_mode=False, **extra)
        try:
            done = super().main(args, prog_name, standalone_mode=False, **extra)
        except click.exceptions.NoArgsIsHelpError as err:  # no command given: the help
            err.show()
            sys.exit(err.exit_code)
        except click.UsageError as err:
            hint = f" (see '{err.ctx.command_path} --help')" if err.ctx else ""
            _fail(escape(printable(err.format_message())) + hint, err.exit_code)
        except click.ClickException as err:
            err.show()
            sys.exit(err.exit_code)
        except click.Abort:
            click.echo("Aborted!", err=True)
            sys.exit(1)
        sys.exit(done if isinstance(done, int) else 0)


@click.group(cls=_OneLineErrors, context_settings={"help_option_names": ["-h", "--help"]})
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
    output().print(
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


#: Rows of each table ``list`` shows by default: a newsroom's archive has tens of thousands.
LIST_LIMIT = 50


@cli.command(name="list")
@click.option("--platform", help="Only posts of this platform.")
@click.option(
    "--status",
    type=click.Choice(["archived", "unavailable", "failed"]),
    help="Only posts with this status.",
)
@click.option(
    "--limit",
    type=click.IntRange(min=0, max=INT64_MAX),
    help=f"Show the newest N articles and posts (tables: {LIST_LIMIT} unless given; --json: "
    "all unless given; 0: all).",
)
@common_options
@json_option
@friendly_errors
def list_cmd(
    platform: str | None,
    status: str | None,
    limit: int | None,
    archive_dir: Path | None,
    config_file: Path | None,
    as_json: bool,
) -> None:
    """List archived articles and posts, newest last."""
    from .store.queries import list_articles, list_posts
    from .store.records import Store

    settings = _settings(archive_dir, config_file).settings
    store = Store.open(settings.db_path, create=False)
    if limit is None and not as_json:
        limit = LIST_LIMIT
    limit = limit or None  # 0: all
    articles, article_count = list_articles(store, limit)
    posts, post_count = list_posts(store, platform, status, limit)
    if as_json:
        print_json(Console(), {"articles": articles, "posts": posts})
        return
    out = output()
    if not articles:
        out.print("No articles in this archive yet.")
        return
    shown = table(
        "Articles",
        ["id", "source", "title", "retrieved", "embeds"],
        (
            [a["id"], a["source"], (a["title"] or "")[:60], a["retrieved_at"], a["embeds"]]
            for a in articles
        ),
    )
    shown.caption = _more(len(articles), article_count)
    out.print(shown)
    if not posts:
        if platform or status:
            out.print("No posts match --platform/--status.")
        else:
            out.print("No posts yet.")
        return
    shown = table(
        "Posts",
        ["id", "platform", "post id", "author", "created", "status", "last capture"],
        (
            [
                p["id"],
                p["platform"],
                p["post_id"],
                f"{p['uploader'] or ''} @{p['uploader_id']}".strip()
                if p["uploader_id"]
                else (p["uploader"] or ""),
                p["created_at"],
                p["status"],
                p["last_captured_at"],
            ]
            for p in posts
        ),
    )
    shown.caption = _more(len(posts), post_count)
    out.print(shown)


def _more(shown: int, total: int) -> str | None:
    if shown >= total:
        return None
    return f"the newest {shown} of {total:,} (--limit N shows more, --limit 0 all)"


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
    out = output()
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
            out.print(printable(d["text"]), markup=False, highlight=False)
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
    output().print(
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
    return Store.open(
        settings.db_path,
        warc_max_bytes=settings.warc_max_bytes,
        durable=settings.durable_commits,
    )


from .cli_archive import archive, retry  # noqa: E402  (they use the helpers above)
from .cli_checks import check, recheck, recover  # noqa: E402
from .cli_evidence import export, seal, verify  # noqa: E402

for _command in (archive, retry, check, recheck, recover, verify, seal, export):
    cli.add_command(_command)


def main() -> None:
    cli(prog_name="embedarchive")
