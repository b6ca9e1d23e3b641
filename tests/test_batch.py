"""Batch inputs: list files, folders, RSS/Atom feeds and sitemaps (served from 127.0.0.1), stdin."""

from __future__ import annotations

import functools
import gzip
import json
import os
import re
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlite_utils import Database

from embedarchive.batch import folder_articles, parse_list, sitemap_locs, sniff
from embedarchive.cli import cli

from .helpers import SEED, cli_env

RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Desk</title>
<item><title>One</title><link>{base}/a1.txt</link></item>
<item><title>Two</title><link>/a2.txt</link></item>
</channel></rss>"""
ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Desk</title>
<entry><title>One</title><link rel="alternate" href="{base}/a2.txt"/><id>1</id></entry>
</feed>"""
SITEMAP_INDEX = """<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>{base}/news-sitemap.xml</loc></sitemap></sitemapindex>"""
SITEMAP = """<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>{base}/a1.txt</loc></url><url><loc>{base}/a2.txt</loc></url></urlset>"""


class _Quiet(SimpleHTTPRequestHandler):
    """The site's files; ``/fail-N/<path>`` hangs up without an answer the first N times."""

    failures: dict[str, int] = {}

    def log_message(self, format: str, *args: object) -> None:
        """No per-request lines on stderr."""

    def do_GET(self) -> None:
        if self.path.startswith("/fail-"):
            times, _, rest = self.path[len("/fail-") :].partition("/")
            seen = self.failures.get(self.path, 0)
            if seen < int(times):
                self.failures[self.path] = seen + 1
                self.close_connection = True  # a reset: no status line at all
                return
            self.path = "/" + rest
        super().do_GET()


@pytest.fixture
def site(tmp_path: Path) -> Iterator[str]:
    """A news site on 127.0.0.1: two articles (the seed text) and its feeds and sitemaps."""
    root = tmp_path / "site"
    root.mkdir()
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root)))
    base = f"http://127.0.0.1:{server.server_address[1]}"
    seed = SEED.read_bytes()
    (root / "a1.txt").write_bytes(seed)
    (root / "a2.txt").write_bytes(seed + b"\nSecond edition.\n")
    for name, text in {
        "rss": RSS,
        "atom": ATOM,
        "sitemap-index": SITEMAP_INDEX,
        "news-sitemap.xml": SITEMAP,
    }.items():
        (root / name).write_text(text.format(base=base), encoding="utf-8")
    (root / "index-with-trouble").write_text(
        SITEMAP_INDEX.replace(
            "</sitemapindex>",
            f"<sitemap><loc>{base}/index-with-trouble</loc></sitemap>"
            f"<sitemap><loc>{base}/gone-sitemap.xml</loc></sitemap></sitemapindex>",
        ).format(base=base),
        encoding="utf-8",
    )
    (root / "news-sitemap.xml.gz").write_bytes(gzip.compress(SITEMAP.format(base=base).encode()))
    for i in range(4):  # an index nesting indexes four deep, the last listing the articles
        (root / f"chain{i}").write_text(
            SITEMAP_INDEX.replace("/news-sitemap.xml", f"/chain{i + 1}").format(base=base)
        )
    (root / "chain4").write_text(SITEMAP.format(base=base))
    _Quiet.failures.clear()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield base
    server.shutdown()
    server.server_close()


def _archive(fake, archive_dir: Path, *args: str, input: str | None = None):
    return CliRunner().invoke(cli, ["archive", *args], env=cli_env(fake, archive_dir), input=input)


def _sources(archive_dir: Path) -> list[str]:
    return sorted(r["source"] for r in Database(archive_dir / "archive.db")["articles"].rows)


def test_list_ignores_comments_and_blank_lines() -> None:
    assert parse_list("# desk list\n\nhttps://a.example/1\n  b.html  \n #x\n") == (
        "https://a.example/1",
        "b.html",
    )


def test_feed_and_sitemap_are_recognised_by_content() -> None:
    assert sniff(b'\xef\xbb\xbf<?xml version="1.0"?>\n<!-- c --><rss version="2.0">') == "feed"
    assert sniff(b"<feed xmlns='http://www.w3.org/2005/Atom'>") == "feed"
    assert sniff(b"<rdf:RDF xmlns:rdf='x'>") == "feed"
    assert sniff(b"<?xml version='1.0'?><sitemapindex>") == "sitemap"
    assert sniff(b"<!DOCTYPE html><html><body>rss</body></html>") is None
    assert sniff(b"A plain text article about <rss> feeds") is None


def test_sitemap_parser_ignores_entities() -> None:
    evil = b"""<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>
    <urlset><url><loc>https://n.example/&e;</loc></url><url><loc>https://n.example/b</loc></url>
    <url><loc>file:///etc/passwd</loc></url></urlset>"""
    index, locs = sitemap_locs(evil)
    assert not index
    assert "https://n.example/b" in locs
    assert not any("root:" in loc or loc.startswith("file:") for loc in locs)


def test_folder_is_sorted_and_recursive_only_on_request(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    for name in ("b.html", "a.txt", "c.HTM", "notes.md", "sub/d.html"):
        (tmp_path / name).write_text("x")
    top = [Path(p).name for p in folder_articles(tmp_path, False)]
    assert top == ["a.txt", "b.html", "c.HTM"]
    assert [Path(p).name for p in folder_articles(tmp_path, True)][-1] == "d.html"


def test_from_file_archives_each_article_once(
    fake_platform, archive_dir: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "copy.txt"
    copy.write_bytes(SEED.read_bytes() + b"\n(reprinted)\n")
    listing = tmp_path / "list.txt"
    listing.write_text(f"# two articles\n{SEED}\n\n{copy}\n{SEED}\n", encoding="utf-8")
    # one job: lines in list order, and the first article is the one that captures the post
    result = _archive(fake_platform, archive_dir, "--from", str(listing), "--json", "--jobs", "1")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["source"], r["state"]) for r in lines] == [(str(SEED), "done"), (str(copy), "done")]
    assert (lines[0]["archived"], lines[1]["already"]) == (1, 1)
    assert _sources(archive_dir) == sorted([str(SEED), str(copy)])


def test_a_folder_in_a_list_is_read_as_on_the_command_line(
    fake_platform, archive_dir: Path, tmp_path: Path
) -> None:
    """A folder line was taken as an article: after the rest of the batch ran, exit 2 ("is a
    folder"). An empty folder is refused before any work, as an argument is."""
    folder = tmp_path / "desk"
    folder.mkdir()
    (folder / "one.txt").write_bytes(SEED.read_bytes())
    listing = tmp_path / "list.txt"
    listing.write_text(f"{folder}\n", encoding="utf-8")
    result = _archive(fake_platform, archive_dir, "--from", str(listing))
    assert result.exit_code == 0, result.output
    assert _sources(archive_dir) == [str(folder / "one.txt")]
    (tmp_path / "empty").mkdir()
    listing.write_text(f"{tmp_path / 'empty'}\n{SEED}\n", encoding="utf-8")
    refused = _archive(fake_platform, archive_dir, "--from", str(listing))
    assert refused.exit_code == 2 and "no .html, .htm or .txt file" in refused.output
    assert _sources(archive_dir) == [str(folder / "one.txt")]  # nothing of it was done


def test_list_on_stdin(fake_platform, archive_dir: Path) -> None:
    result = _archive(fake_platform, archive_dir, "--from", "-", input=f"{SEED}\n")
    assert result.exit_code == 0, result.output
    assert _sources(archive_dir) == [str(SEED)]


def test_folder_of_articles(fake_platform, archive_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "desk"
    folder.mkdir()
    (folder / "one.txt").write_bytes(SEED.read_bytes())
    (folder / "skip.json").write_text("{}")
    result = _archive(fake_platform, archive_dir, str(folder))
    assert result.exit_code == 0, result.output
    assert _sources(archive_dir) == [str(folder / "one.txt")]


def test_a_folder_without_articles_is_bad_input(
    fake_platform, archive_dir: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "desk"
    (folder / "2025").mkdir(parents=True)
    (folder / "notes.json").write_text("{}")
    result = _archive(fake_platform, archive_dir, str(folder))
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"error: {folder}: no .html, .htm or .txt file in this folder "
        "(--recursive also reads its sub-folders)"
    )
    assert not (archive_dir / "archive.db").exists() or _sources(archive_dir) == []


def test_a_file_name_that_is_not_utf8_is_refused_by_name(
    fake_platform, archive_dir: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "desk"
    folder.mkdir()
    latin1 = Path(os.fsdecode(bytes(folder) + b"/caf\xe9.txt"))  # from a Latin-1 disk
    latin1.write_bytes(SEED.read_bytes())
    expected = f"error: {folder}/caf\\xe9.txt: the file name is not UTF-8 text: rename the file"
    for source in (str(folder), str(latin1)):
        result = _archive(fake_platform, archive_dir, source)
        assert result.exit_code == 2, result.output
        assert result.stderr.strip().startswith(expected)
    shown = CliRunner().invoke(
        cli, ["detect", str(latin1)], env=cli_env(fake_platform, archive_dir)
    )
    assert shown.exit_code == 0 and "caf\ufffd.txt" in shown.stdout  # shown, never a crash


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/rss", ["a1.txt", "a2.txt"]),
        ("/atom", ["a2.txt"]),
        ("/sitemap-index", ["a1.txt", "a2.txt"]),
    ],
)
def test_feeds_and_sitemaps_by_url(
    fake_platform, archive_dir: Path, site: str, path: str, expected: list[str]
) -> None:
    result = _archive(fake_platform, archive_dir, site + path)
    assert result.exit_code == 0, result.output
    assert _sources(archive_dir) == [f"{site}/{name}" for name in expected]
    db = Database(archive_dir / "archive.db")
    purposes = [e["purpose"] for e in db["http_exchanges"].rows_where("article_id is null")]
    assert purposes.count("batch-input") >= 1  # reading the feed is recorded as provenance
    assert db["posts"].count == 1


def test_feed_file_with_any_name(
    fake_platform, archive_dir: Path, site: str, tmp_path: Path
) -> None:
    saved = tmp_path / "desk.dat"
    saved.write_text(RSS.format(base=site), encoding="utf-8")
    result = _archive(fake_platform, archive_dir, str(saved))
    assert result.exit_code == 0, result.output
    # a relative link cannot be resolved without the feed's URL: left out, not guessed
    assert _sources(archive_dir) == [f"{site}/a1.txt"]


def test_a_feed_whose_first_read_fails_is_read_when_its_turn_comes(
    fake_platform, archive_dir: Path, site: str
) -> None:
    """The read that tells a feed from an article failed when the batch was made: the feed
    is queued as it is, and when its turn comes it is read again and its entries archived
    (it was stored as an empty 'article' and its entries dropped)."""
    result = _archive(fake_platform, archive_dir, "--json", site + "/fail-1/rss")
    assert result.exit_code == 0, result.output
    assert _sources(archive_dir) == [f"{site}/a1.txt", f"{site}/a2.txt"]
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines[0]["source"] == site + "/fail-1/rss" and lines[0]["listed"] == 2
    assert len(lines) == 3


def test_a_feed_that_cannot_be_read_at_all_is_retried_with_its_entries(
    fake_platform, archive_dir: Path, site: str
) -> None:
    env = {**cli_env(fake_platform, archive_dir), "EMBEDARCHIVE_RETRY_BASE_DELAY": "0"}
    first = CliRunner().invoke(cli, ["archive", site + "/fail-2/rss"], env=env)
    assert first.exit_code == 1, first.output
    assert _sources(archive_dir) == []
    retried = CliRunner().invoke(cli, ["retry", "--json"], env=env)
    assert retried.exit_code == 0, retried.output
    assert _sources(archive_dir) == [f"{site}/a1.txt", f"{site}/a2.txt"]
    assert Database(archive_dir / "archive.db")["queue_batches"].get(1)["finished_at"]


def test_a_sitemap_index_listing_itself_and_a_gone_sitemap_archives_the_rest(
    fake_platform, archive_dir: Path, site: str
) -> None:
    result = _archive(fake_platform, archive_dir, "--json", site + "/index-with-trouble")
    assert result.exit_code == 1, result.output  # the gone sitemap: recorded, not fatal
    assert _sources(archive_dir) == [f"{site}/a1.txt", f"{site}/a2.txt"]
    failed = [json.loads(line) for line in result.stdout.splitlines()]
    failed = [line for line in failed if line["state"] == "failed"]
    assert [(f["source"], "404" in f["error"]) for f in failed] == [
        (f"{site}/gone-sitemap.xml", True)
    ]


def test_a_feed_with_an_internal_dtd_subset_is_a_feed() -> None:
    head = b'<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY nbsp "&#160;">]>\n<rss version="2.0">'
    assert sniff(head) == "feed"


def test_a_gzipped_sitemap_whose_first_read_fails_is_read_at_its_turn(
    fake_platform, archive_dir: Path, site: str
) -> None:
    """Fetched as an article, its gzip was refused as binary before anyone saw a sitemap."""
    result = _archive(fake_platform, archive_dir, site + "/fail-1/news-sitemap.xml.gz")
    assert result.exit_code == 0, result.output
    assert _sources(archive_dir) == [f"{site}/a1.txt", f"{site}/a2.txt"]


@pytest.mark.parametrize("first", ["/chain0", "/fail-1/chain0"])
def test_sitemap_indexes_nest_three_deep_whether_read_at_once_or_at_their_turn(
    fake_platform, archive_dir: Path, site: str, first: str
) -> None:
    result = _archive(fake_platform, archive_dir, "--json", site + first)
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    refused = [line["source"] for line in lines if "nested deeper than 3" in line.get("error", "")]
    assert refused == [f"{site}/chain3"], lines
    assert _sources(archive_dir) == []  # chain4's articles are one level too deep


def test_the_batch_table_and_json_count_entries_of_a_list_read_late(
    fake_platform, archive_dir: Path, site: str
) -> None:
    result = _archive(fake_platform, archive_dir, site + "/fail-1/rss")
    assert result.exit_code == 0, result.output
    table = result.stdout[result.stdout.index("Batch 1") :]
    assert [int(n) for n in re.findall(r"\d+", table.splitlines()[-2])] == [3, 3, 0, 0]


def test_retry_takes_a_failed_refresh_again_even_when_a_later_batch_archived_the_article(
    fake_platform, archive_dir: Path, site: str
) -> None:
    """Settling matched the article's address alone: a refresh that failed was called done
    because a plain run archived the article later, and the refresh never happened."""
    env = {**cli_env(fake_platform, archive_dir), "EMBEDARCHIVE_RETRY_BASE_DELAY": "0"}
    url = site + "/fail-2/a1.txt"  # the batch's sniff and the refresh's fetch both fail
    assert CliRunner().invoke(cli, ["archive", "--refresh", url], env=env).exit_code == 1
    assert CliRunner().invoke(cli, ["archive", url], env=env).exit_code == 0
    db = Database(archive_dir / "archive.db")
    assert db["captures"].count == 1
    assert CliRunner().invoke(cli, ["retry"], env=env).exit_code == 0
    assert db["captures"].count == 2  # the refresh, done by retry
    stdin_bad = CliRunner().invoke(cli, ["archive", "-"], env=env, input="\x00\x01binary")
    assert stdin_bad.exit_code == 2
    assert CliRunner().invoke(cli, ["archive", "-"], env=env, input="Plain words.\n").exit_code == 0
    CliRunner().invoke(cli, ["retry"], env=env)
    states = [r["state"] for r in db["queue"].rows_where("key = '-' order by id")]
    assert states == ["failed", "done"]  # another text on stdin is not the same article


def test_retry_archives_what_a_list_it_read_queued_and_nothing_else_of_its_batch(
    fake_platform, archive_dir: Path, site: str
) -> None:
    """As a killed retry leaves it: the list done, its entries pending, beside an unrelated
    pending article of the same batch (that is the same command's to continue, not retry's)."""
    env = {**cli_env(fake_platform, archive_dir), "EMBEDARCHIVE_RETRY_BASE_DELAY": "0"}
    assert CliRunner().invoke(cli, ["archive", site + "/fail-1/rss"], env=env).exit_code == 0
    db = Database(archive_dir / "archive.db")
    db.execute(
        "update queue set state = 'pending' where parent_id is not null and kind = 'article'"
    )
    db["queue"].insert({"batch_id": 1, "kind": "article", "key": site + "/a2.txt?other", "state": "pending", "attempts": 0})  # fmt: skip
    db.conn.commit()
    result = CliRunner().invoke(cli, ["retry", "--json"], env=env)
    assert result.exit_code == 0, result.output
    states = {r["key"]: r["state"] for r in db["queue"].rows_where("kind = 'article'")}
    assert states[f"{site}/a1.txt"] == states[f"{site}/a2.txt"] == "done"
    assert states[site + "/a2.txt?other"] == "pending"
