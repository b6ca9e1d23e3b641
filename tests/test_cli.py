"""The command line as a journalist meets it: one-line errors, exit codes, documented commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlite_utils import Database

from embedarchive.cli import cli
from embedarchive.web.app import prepare

from .helpers import ROOT, SEED, cli_env, counts, run
from .test_web import Client

QUOTE_ID = "1641895049427550208"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["archive", "no/such/article.txt"], "no such file"),
        (["archive", "ftp://example.org/a"], "only http(s)"),
        (["archive", "http://"], "no host name"),
        (["archive", "https://[::1/a"], "no host name"),
        (["detect", "no/such/article.txt"], "no such file"),
        (["show", "123"], "no archive"),
        (["list"], "no archive"),
        # Click's usage errors, one line too (not its usage text, hint and blank line).
        (["list", "--limit", "abc"], "'--limit'"),
        (["archive", "--bogus"], "No such option '--bogus'"),
        (["nosuch"], "No such command 'nosuch'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    result = run([*args, "--archive", str(tmp_path / "archive")])
    assert result.exit_code == 2
    assert result.stderr.strip().startswith("error: ") and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_a_failure_retrying_cannot_mend_is_not_sent_back_to_retry(tmp_path: Path) -> None:
    # The private-network guard refuses the article: no later run would fetch it either.
    result = run(["archive", "http://127.0.0.1:9/news", "--archive", str(tmp_path / "a")])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert lines[-2].startswith("error: refused 127.0.0.1: it resolves to non-public address")
    assert lines[-1].endswith("Retrying would not help: see the reasons above.")
    assert "retry" not in lines[-1].replace("Retrying", "")


def test_commands_with_nothing_to_do_say_so_in_a_sentence(
    fake_platform, archive_dir: Path, tmp_path: Path
) -> None:
    env = cli_env(fake_platform, archive_dir)
    plain = tmp_path / "no-embeds.txt"
    plain.write_text("A report with no embedded post at all.\n", encoding="utf-8")
    assert run(["archive", str(plain)], env).exit_code == 0
    for args, said in [
        (["check"], "No findings: no embed of these articles has a capture to compare with.\n"),
        (["recheck"], "Nothing to re-check: no archived post matches.\n"),
        (["recover"], "Nothing to recover: no X post or copied X embed is known to be gone.\n"),
        (["retry"], "Nothing to retry: no failure recorded in this archive can be retried.\n"),
    ]:
        result = run(args, env)
        assert (result.exit_code, result.stdout) == (0, said), args
    assert fake_platform.requests == []


def test_list_shows_the_newest_rows_and_says_how_many_more(tmp_path: Path) -> None:
    archive = ["--archive", str(tmp_path / "archive")]
    for n in range(3):
        article = tmp_path / f"report-{n}.txt"
        article.write_text(f"Report number {n}, with no embedded post.\n", encoding="utf-8")
        assert run(["archive", str(article), *archive]).exit_code == 0
    shown = run(["list", "--limit", "2", *archive], {"COLUMNS": "200"}).stdout
    assert "report-1.txt" in shown and "report-2.txt" in shown and "report-0.txt" not in shown
    assert "the newest 2 of 3 (--limit N shows more, --limit 0 all)" in shown
    assert "report-0.txt" in run(["list", "--limit", "0", *archive], {"COLUMNS": "200"}).stdout
    first = run(["archive", str(tmp_path / "report-0.txt"), *archive], {"COLUMNS": "200"})
    assert "Summary" in first.stdout and "Embeds" not in first.stdout  # no empty table
    every = json.loads(run(["list", "--json", *archive]).stdout)["articles"]
    assert [a["source"].rsplit("/", 1)[-1] for a in every] == [f"report-{n}.txt" for n in range(3)]
    newest = json.loads(run(["list", "--json", "--limit", "1", *archive]).stdout)["articles"]
    assert [a["source"].rsplit("/", 1)[-1] for a in newest] == ["report-2.txt"]
    # No post in the archive: a sentence, not an empty table.
    assert shown.endswith("\nNo posts yet.\n") and "Posts" not in shown
    filtered = run(["list", "--platform", "youtube", *archive], {"COLUMNS": "200"}).stdout
    assert filtered.endswith("\nNo posts match --platform/--status.\n")


def test_tables_written_to_a_pipe_keep_each_row_on_one_line(tmp_path: Path) -> None:
    article = "reports/2026-11-26-report-on-the-strike-in-kyiv-with-no-embedded-post.txt"
    (tmp_path / "reports").mkdir()
    (tmp_path / article).write_text("A report with no embedded post.\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}

    def embedarchive(*args: str, **extra: str) -> str:
        command = [sys.executable, "-m", "embedarchive", *args, "--archive", "archive"]
        done = subprocess.run(
            command, cwd=tmp_path, env={**env, **extra}, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert article in embedarchive("archive", article)
    assert article in embedarchive("list")  # not folded at 80 columns into a cell of lines
    assert article not in embedarchive("list", COLUMNS="80")  # the width the user asks for


def test_list_of_an_archive_without_articles_says_so(tmp_path: Path) -> None:
    archive = ["--archive", str(tmp_path / "archive")]
    env = {"EMBEDARCHIVE_ALLOW_PRIVATE_NETWORK": "1", "EMBEDARCHIVE_HTTP_RETRIES": "0"}
    assert run(["archive", "http://127.0.0.1:9/gone", *archive], env).exit_code == 1
    assert run(["list", *archive]).stdout == "No articles in this archive yet.\n"


def test_binary_input_is_refused_and_archive_untouched(
    fake_platform, archive_dir: Path, tmp_path: Path
) -> None:
    env = cli_env(fake_platform, archive_dir)
    assert run(["archive", str(SEED)], env).exit_code == 0
    before = counts(archive_dir)
    binary = tmp_path / "photo.txt"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200))
    result = run(["archive", str(binary)], env)
    assert result.exit_code == 2 and "binary" in result.stderr
    assert counts(archive_dir) == before


HUGE = "99999999999999999999999"  # past SQLite's integers


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["list", "--limit", HUGE], "'--limit'"),
        (["show", HUGE], "no post"),
        (["show", "9223372036854775808"], "no post"),
        (["check", HUGE], "no article"),
        (["export", HUGE, "--out", "x.wacz"], "no article"),
        (["recover", HUGE], "no article"),
        (["recheck", "--older-than", "3000000d"], "at most 100 years"),
        (["recheck", "--older-than", "9" * 400], "at most 100 years"),
    ],
)
def test_numbers_past_any_row_or_date_are_one_line_and_exit_2(
    fake_platform, archive_dir: Path, args: list[str], message: str
) -> None:
    env = cli_env(fake_platform, archive_dir)
    assert run(["archive", str(SEED)], env).exit_code == 0
    result = run(args, env)
    assert result.exit_code == 2, result.output
    assert result.stderr.strip().startswith("error: ") and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_corrupt_database_is_a_clear_error(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    archive.mkdir()
    (archive / "archive.db").write_bytes(b"this is not sqlite" * 100)
    result = run(["archive", str(SEED), "--archive", str(archive)])
    assert result.exit_code == 2
    assert "cannot open archive database" in result.stderr
    assert (archive / "archive.db").read_bytes() == b"this is not sqlite" * 100


@pytest.mark.parametrize(
    "args", [["check"], ["list"], ["show", "1"], ["verify"], ["seal"], ["serve", "--port", "0"]]
)
def test_a_missing_archive_is_not_made_by_a_command_that_needs_one(
    tmp_path: Path, args: list[str]
) -> None:
    archive = tmp_path / "nope"
    result = run([*args, "--archive", str(archive)])
    assert result.exit_code == 2 and "no archive" in result.stderr, result.output
    assert not archive.exists()  # check made the folder and its writer.lock


READERS = (["list"], ["show", "1"], ["verify"], ["export", "1", "--out", "x.wacz"], ["check"])


def test_a_garbled_or_emptied_database_is_one_line_and_left_as_it_is(
    fake_platform, archive_dir: Path
) -> None:
    env = cli_env(fake_platform, archive_dir)
    assert run(["archive", str(SEED)], env).exit_code == 0
    db = archive_dir / "archive.db"
    Database(db).execute("pragma wal_checkpoint(truncate)")
    good = db.read_bytes()
    garbled = bytearray(good)
    for i in range(4096, len(garbled), 97):  # the schema's text no longer UTF-8, among others
        garbled[i] = (garbled[i] + 0x8E) % 256
    for damaged, said in ((bytes(garbled), "malformed"), (b"", "is empty (0 bytes)")):
        db.write_bytes(damaged)
        for args in READERS:
            result = run(args, env)
            assert result.exit_code == 2, (args, result.output)
            assert result.stderr.strip().startswith("error: ") and said in result.stderr, args
            assert len(result.stderr.strip().splitlines()) == 1, (args, result.stderr)
        assert db.read_bytes() == damaged  # not "upgraded" into a new, empty archive


def test_an_archive_on_read_only_media_can_be_read(
    fake_platform, small_disk: Path, tmp_path: Path
) -> None:
    """Evidence handed over on a disc or a read-only mount: SQLite cannot make its -shm file
    there, so readers opened nothing ("unable to open database file")."""
    archive = small_disk / "archive"
    env = cli_env(fake_platform, archive)
    assert run(["archive", str(SEED)], env).exit_code == 0
    remount = subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=False)
    assert remount.returncode == 0
    for args in (["list"], ["show", "twitter:1989257861291196183"], ["verify"], ["check"]):
        result = run(args, env)
        if args == ["check"]:  # a writer: refused in one line
            assert result.exit_code == 2 and result.stderr.count("\n") == 1, result.output
            continue
        assert result.exit_code == 0, (args, result.output)
    assert "TRHaber" in run(["show", "twitter:1989257861291196183"], env).stdout
    out = tmp_path / "seed.wacz"
    assert run(["export", str(SEED), "--out", str(out)], env).exit_code == 0
    assert run(["verify", "--bundle", str(out)], {}).exit_code == 0
    prepare(archive / "archive.db")  # what `serve` does first: it migrated, so it wrote
    client = Client(archive / "archive.db")
    try:
        assert "TRHaber" in client.get("/search?q=ordusunun").text
    finally:
        client.close()


def test_an_archive_of_the_release_before_a_view_changed_is_read_on_read_only_media(
    fake_platform, small_disk: Path, tmp_path: Path
) -> None:
    """An archive written before m010 (which only redefines a view) on a read-only mount:
    every reader refused it ("written by an older embedarchive: copy it somewhere")."""
    from embedarchive.store.schema import READABLE_WITHOUT

    archive = small_disk / "archive"
    env = cli_env(fake_platform, archive)
    assert run(["archive", str(SEED)], env).exit_code == 0
    db = Database(archive / "archive.db")
    for name in READABLE_WITHOUT:  # as the release before left it
        db.execute("delete from _sqlite_migrations where name = ?", [name])
    db.execute("pragma wal_checkpoint(truncate)")
    db.close()
    remount = subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=False)
    assert remount.returncode == 0
    for args in (["list"], ["show", "twitter:1989257861291196183"], ["verify"]):
        result = run(args, env)
        assert result.exit_code == 0, (args, result.output)
    out = tmp_path / "seed.wacz"
    assert run(["export", str(SEED), "--out", str(out)], env).exit_code == 0


def test_invalid_setting_is_exit_2(tmp_path: Path) -> None:
    result = run(["config"], {"EMBEDARCHIVE_READ_TIMEOUT": "soon"})
    assert result.exit_code == 2 and "read_timeout" in result.stderr


def test_config_json_shows_sources(tmp_path: Path) -> None:
    result = run(
        ["config", "--json"], {"EMBEDARCHIVE_TWITTER_OEMBED_URL": "http://mirror.test/oembed"}
    )
    rows = {r["name"]: r for r in json.loads(result.output)}
    assert rows["twitter_oembed_url"]["value"] == "http://mirror.test/oembed"
    assert rows["twitter_oembed_url"]["source"] == "env EMBEDARCHIVE_TWITTER_OEMBED_URL"
    assert rows["twitter_syndication_url"]["source"] == "default"


def test_config_says_where_the_archive_folder_came_from(tmp_path: Path) -> None:
    env = {"EMBEDARCHIVE_ARCHIVE_DIR": str(tmp_path / "from-env")}
    rows = {r["name"]: r for r in json.loads(run(["config", "--json"], env).output)}
    assert rows["archive_dir"]["value"] == str(tmp_path / "from-env")
    assert rows["archive_dir"]["source"] == "env EMBEDARCHIVE_ARCHIVE_DIR"
    flag = ["config", "--json", "--archive", str(tmp_path / "flag")]
    rows = {r["name"]: r for r in json.loads(run(flag, env).output)}
    assert (rows["archive_dir"]["value"], rows["archive_dir"]["source"]) == (
        str(tmp_path / "flag"),
        "command line",
    )


def test_detect_seed_json() -> None:
    result = run(["detect", str(SEED), "--json"])
    assert result.exit_code == 0
    (embed,) = json.loads(result.output)
    assert embed["platform"] == "twitter" and embed["kind"] == "post"
    assert (embed["handle"], embed["author"], embed["date"]) == (
        "trhaber_com",
        "TRHaber",
        "2025-11-14",
    )
    assert embed["links"] == ["pic.twitter.com/sto5JNQDWw"]
    assert embed["url"] is None and embed["id"] is None and embed["markup"] == "text"
    assert SEED.read_text(encoding="utf-8")[embed["offset"] :].startswith("Rus ordusunun")


def test_detect_table_lists_the_embed() -> None:
    result = run(["detect", str(SEED)], {"COLUMNS": "200"})
    assert result.exit_code == 0 and "@trhaber_com" in result.output
    assert "pic.twitter.com/sto5JNQDWw" in result.output


def test_stdin_article(fake_platform, archive_dir: Path) -> None:
    text = f"Per the post https://x.com/someone/status/{QUOTE_ID}?s=20 the quote was archived."
    result = CliRunner().invoke(
        cli, ["archive", "-"], input=text, env=cli_env(fake_platform, archive_dir)
    )
    assert result.exit_code == 0, result.output
    db = Database(archive_dir / "archive.db")
    assert next(db["articles"].rows)["source"] == "-"
    posts = {p["post_id"]: p for p in db["posts"].rows}
    quoted_id = posts[QUOTE_ID]["quoted_post_id"]
    assert quoted_id and quoted_id in posts  # the quoted post is archived as a post of its own
    assert posts[quoted_id]["status"] == "archived"
    quoted_capture = next(db["captures"].rows_where("post_id = ?", [quoted_id]))
    assert quoted_capture["parent_capture_id"] is not None
    assert db["media"].count_where("post_pk = ?", [posts[quoted_id]["id"]]) >= 1


def test_unavailable_post_exits_0_with_evidence(fake_platform, archive_dir: Path) -> None:
    deleted = "1899153799872901283"
    result = CliRunner().invoke(
        cli,
        ["archive", "-"],
        input=f"https://twitter.com/a/status/{deleted}",
        env=cli_env(fake_platform, archive_dir),
    )
    assert result.exit_code == 0
    db = Database(archive_dir / "archive.db")
    post = next(db["posts"].rows)
    assert post["status"] == "unavailable"
    capture = next(db["captures"].rows)
    assert "deleted" in capture["error"]
    assert db["http_exchanges"].count_where("capture_id = ?", [capture["id"]]) >= 2


def test_every_command_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in cli.commands:
        assert f"embedarchive {name}" in readme, f"command {name} is not documented"


def test_python_dash_m_runs() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "embedarchive", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0 and "embedarchive" in result.stdout


def test_ctrl_c_while_the_program_loads_is_one_line_and_exit_130() -> None:
    """The imports take half a second; Ctrl-C there gave an import traceback."""
    code = (
        "import os, signal, sys, threading\n"
        "from embedarchive.__main__ import run\n"
        "threading.Timer(0.05, lambda: os.kill(os.getpid(), signal.SIGINT)).start()\n"
        "sys.argv = ['embedarchive', '--version']\n"
        "run()\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert (done.returncode, done.stdout) == (130, "")
    assert done.stderr == "error: interrupted before anything was stored\n"
