"""``verify``, ``seal`` and ``export``: the evidence commands (checking the archive or a
bundle, timestamping it, exporting it). Registered on the group in ``cli.py``."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.text import Text

from .cli import _settings, common_options, friendly_errors, json_option
from .console import RichProgress, output, print_json, printable, table


@click.command()
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
        out = output(highlight=False)
        for problem in report.problems:
            out.print(
                f"[red]{problem['kind']}:[/] {escape(printable(problem['message']))}",
                soft_wrap=True,
            )
        for note in report.notes:
            out.print(f"[dim]note:[/] {escape(printable(note))}", soft_wrap=True)
        out.print(
            table(
                Text.assemble(
                    (printable(f"verify {bundle or settings.archive_dir}: "), "table.title"),
                    ("OK", "green") if report.passed else ("FAILED", "red"),
                ),
                ["checked", "ok", "missing", "altered", "orphaned"],
                [[report.checked, report.ok, report.missing, report.altered, report.orphaned]],
            )
        )
    if not report.passed:
        sys.exit(1)


@click.command()
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
    output(highlight=False).print(
        f"sealed manifest {sealed.manifest_seq} ({sealed.manifest_sha256[:16]}…) at "
        f"{sealed.token.gen_time} by {escape(sealed.token.tsa_name or 'the TSA')}; "
        f"token {sealed.token_path}"
    )


@click.command()
@click.argument("articles", nargs=-1, required=True)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The bundle to write (a .wacz file).",
)
@click.option("--overwrite", is_flag=True, help="Replace the --out file if it exists.")
@common_options
@json_option
@friendly_errors
def export(
    articles: tuple[str, ...],
    out: Path,
    overwrite: bool,
    archive_dir: Path | None,
    config_file: Path | None,
    as_json: bool,
) -> None:
    """Write ARTICLES (id, source or sha256) as a self-contained WACZ bundle with a report."""
    from .export import export_bundle

    settings = _settings(archive_dir, config_file).settings
    done = export_bundle(settings.archive_dir, articles, out, overwrite=overwrite)
    data = {k: str(v) if isinstance(v, Path) else v for k, v in done.__dict__.items()}
    if as_json:
        print_json(Console(), data)
        return
    output(highlight=False).print(
        f"wrote {done.path} ({done.size} bytes): {done.articles} article(s), "
        f"{done.captures} capture(s), {done.records} WARC record(s), {done.manifests} "
        f"manifest(s), {done.timestamps} timestamp token(s)",
        markup=False,
    )


__all__ = ["export", "seal", "verify"]
