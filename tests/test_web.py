"""The web UI's pages, in-process through Datasette's ASGI client, on archives made by the CLI.

The archive holds the seed article (the TRHaber video post) and a round-up article linking a
photo post, a post quoting it under another account's name, a deleted post and the seed again.
``Client`` and ``build_archive`` are shared with the other ``test_web_*`` files.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from sqlite_utils import Database

from embedarchive.cli import cli
from embedarchive.web.app import make_datasette

from .helpers import SEED, cli_env

SEED_ID = "1989257861291196183"
PHOTO_ID = "1641086480675225601"
QUOTE_ID = "1641895049427550208"
DELETED_ID = "1899153799872901283"
ROUNDUP = f"""Fact-check roundup: what the posts said

A photo was shared widely: https://twitter.com/SamuelSusla/status/{PHOTO_ID}

Another account quoted it: https://twitter.com/someone/status/{QUOTE_ID}

The original claim has since been deleted: https://twitter.com/someone/status/{DELETED_ID}

And the video again: https://twitter.com/trhaber_com/status/{SEED_ID}
"""


def build_archive(fake: Any, folder: Path) -> Path:
    """Archive the seed and the round-up with the CLI against the fake platform."""
    fake.start()
    fake.reset()
    roundup = folder.parent / "roundup.txt"
    roundup.write_text(ROUNDUP, encoding="utf-8")
    env = cli_env(fake, folder)
    for source in (SEED, roundup):
        result = CliRunner().invoke(cli, ["archive", str(source)], env=env)
        assert result.exit_code == 0, result.output
    return folder


class Client:
    """Datasette's in-process client on one event loop, usable from plain test functions."""

    def __init__(self, db_path: Path) -> None:
        self.datasette = make_datasette(db_path)
        self.loop = asyncio.new_event_loop()

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.loop.run_until_complete(self.datasette.client.get(path, **kwargs))

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    def close(self) -> None:
        self.loop.close()


def pk_of(folder: Path, post_id: str) -> int:
    db = Database(folder / "archive.db")
    return int(next(db["posts"].rows_where("post_id = ?", [post_id]))["id"])


@pytest.fixture(scope="module")
def archive(fake_platform: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_archive(fake_platform, tmp_path_factory.mktemp("web") / "archive")


@pytest.fixture(scope="module")
def client(archive: Path) -> Iterator[Client]:
    c = Client(archive / "archive.db")
    yield c
    c.close()


def test_home_shows_counts_latest_captures_and_a_search_box(client: Client) -> None:
    page = client.get("/")
    assert page.status_code == 200
    html = page.text
    assert 'action="/search"' in html
    assert re.search(r'stat-n">4</span> posts', html)
    assert re.search(r'stat-n">2</span> articles', html)
    assert "Fact-check roundup: what the posts said" in html
    assert "TRHaber" in html and "@trhaber_com" in html
    assert "/search?what=posts&amp;platform=twitter&amp;status=unavailable" in html
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", html)


def assert_home_counts_match_their_links(client: Client) -> None:
    """Each count on the home page is the number of results of the search it links to."""
    html = client.get("/").text
    stats = r'<a href="(/search[^"]*)"><span class="stat-n">([\d,]+)</span> ([^<]+)</a>'
    links = re.findall(stats, html)
    labels = {label for _, _, label in links}
    assert {"posts", "changed since the article", "embeds without a post"} <= labels
    cells = re.findall(r'<td class="num"><a href="(/search[^"]*)">([\d,]+)</a>', html)
    links += [(href, n, "by platform and status") for href, n in cells]
    assert cells
    for href, n, label in links:
        results = client.get(href.replace("&amp;", "&")).text
        total = re.search(r'id="results-h"[^>]*>([\d,]+) result', results)
        assert total is not None and total.group(1) == n, (label, href)


def test_every_count_on_the_home_page_links_to_that_many_results(client: Client) -> None:
    assert_home_counts_match_their_links(client)


def test_article_page_lists_its_embeds_in_reading_order(client: Client, archive: Path) -> None:
    db = Database(archive / "archive.db")
    roundup = next(db["articles"].rows_where("title like 'Fact-check%'"))
    html = client.get(f"/articles/{roundup['id']}").text
    order = [html.index(f"/posts/{pk_of(archive, i)}") for i in (PHOTO_ID, QUOTE_ID, SEED_ID)]
    assert order == sorted(order)
    assert html.count('class="embed"') == 4
    assert roundup["sha256"] in html and f"/media/{roundup['sha256']}" in html
    assert "yt-dlp" in html  # the run's software versions


def test_post_page_shows_the_card_media_and_provenance(client: Client, archive: Path) -> None:
    db = Database(archive / "archive.db")
    pk = pk_of(archive, SEED_ID)
    html = client.get(f"/posts/{pk}").text
    video = next(db["media"].rows_where("kind = 'video'"))
    thumb = next(db["media"].rows_where("kind = 'thumbnail'"))
    assert f'<video src="/media/{video["sha256"]}" controls' in html
    assert f'poster="/media/{thumb["sha256"]}"' in html
    assert "Rus ordusunun Ukrayna" in html
    assert 'href="https://twitter.com/trhaber_com/status/1989257861291196183"' in html
    mine = "capture_id in (select id from captures where post_pk = ?)"
    for exchange in db["http_exchanges"].rows_where(mine, [pk]):
        assert exchange["body_sha256"] in html
    assert "syndication: ok" in html and "httpx " in html
    assert f"/media/{video['sha256']}?download=1" in html
    assert "Matches the capture" in html and 'badge-finding badge-match">match' in html
    for record in db.query(
        "select r.id, r.record_id, w.sha256 from warc_records r join warc_files w"
        " on w.name = r.warc_file where r.exchange_id in (select id from http_exchanges"
        f" where {mine}) and r.record_type = 'response'",
        [pk],
    ):
        assert f'href="/warc-records/{record["id"]}"' in html
        assert record["record_id"].replace("<", "&lt;").replace(">", "&gt;") in html
        assert f'href="/warc/{record["sha256"]}"' in html
    manifest = next(db["manifests"].rows_where("subject = 'capture:1'"))
    assert manifest["sha256"] in html
    assert "not sealed" in html and "embedarchive seal" in html
    for detection in db["detections"].rows_where("post_pk = ?", [pk]):
        (link,) = db["manifests"].rows_where("kind = 'link' and subject = ?", [f"detection:{detection['id']}"])  # fmt: skip
        assert f"Linked to this post by manifest #{link['seq']}" in html and link["sha256"] in html


def test_side_by_side_flags_a_different_author(client: Client, archive: Path) -> None:
    html = client.get(f"/posts/{pk_of(archive, QUOTE_ID)}").text
    assert "Differs from the capture" in html
    handle_row = re.search(
        r'<div class="compare-row differs" role="row">\s*<span[^>]*>Handle', html
    )
    assert handle_row, "the handle row is highlighted"
    assert "@someone" in html and "@mattcarrollcode" in html
    assert "Quoted post" in html and f"/posts/{pk_of(archive, PHOTO_ID)}" in html


def test_side_by_side_marks_a_deleted_post_with_the_platform_answer(
    client: Client, archive: Path
) -> None:
    html = client.get(f"/posts/{pk_of(archive, DELETED_ID)}").text
    assert "Post no longer available" in html
    assert "deleted by the Post author" in html
    assert "compare-cell gone" in html


def test_unknown_paths_are_quiet_404s(client: Client, capsys: pytest.CaptureFixture[str]) -> None:
    # Datasette's own handler printed each one with its locals to serve's terminal.
    for path in ("/robots.txt", "/posts/abc", "/archive/no_such_table", "/archive/posts/0"):
        page = client.get(path)
        assert page.status_code == 404 and "Not found" in page.text, path
        assert "nosniff" in page.headers["x-content-type-options"]
    answer = client.get("/archive/no_such_table.json")
    assert answer.status_code == 404 and answer.json()["ok"] is False
    assert capsys.readouterr() == ("", "")


def test_missing_rows_are_404_pages(client: Client) -> None:
    for path in ("/posts/999999", "/articles/999999"):
        page = client.get(path)
        assert page.status_code == 404 and "Not found" in page.text
    assert client.get("/media/" + "0" * 64).status_code == 404


def test_generic_tables_sql_and_exports_stay_available(client: Client) -> None:
    assert client.get("/archive").status_code == 200
    assert client.get("/archive/posts").status_code == 200
    rows = client.get("/archive/posts.json?_shape=array").json()
    assert {r["post_id"] for r in rows} >= {SEED_ID, QUOTE_ID}
    csv = client.get("/archive/captures.csv")
    assert csv.status_code == 200 and csv.text.startswith("id,")
    sql = client.get("/archive.json?sql=select+count(*)+as+n+from+posts&_shape=array").json()
    assert sql == [{"n": 4}]


def test_static_files_are_served_from_the_package(client: Client) -> None:
    html = client.get("/").text
    css = re.search(r'href="(/-/embedarchive/app\.css\?v=\w+)"', html)
    assert css
    response = client.get(css.group(1))
    assert response.status_code == 200 and "text/css" in response.headers["content-type"]
    assert client.get("/-/embedarchive/nope.css").status_code == 404


def test_serve_refuses_a_missing_archive_in_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["serve", "--archive", str(tmp_path / "none")])
    assert result.exit_code == 2
    assert "no archive" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_serve_refuses_a_port_in_use(archive: Path) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(cli, ["serve", "--archive", str(archive), "--port", str(port)])
    assert result.exit_code == 2 and "cannot listen" in result.stderr


def start_server(archive: Path) -> tuple[subprocess.Popen[str], str]:
    """``embedarchive serve --port 0`` in a subprocess; returns it and its base URL."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "embedarchive", "serve", "--archive", str(archive), "--port", "0"],
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    line = proc.stderr.readline()
    found = re.search(r"http://127\.0\.0\.1:\d+/", line)
    if not found:
        proc.kill()
        raise AssertionError(f"serve did not start: {line}{proc.stderr.read()}")
    base = found.group(0)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            httpx.get(base, timeout=1)
            break
        except httpx.TransportError:
            time.sleep(0.1)
    return proc, base


def test_serve_answers_on_127_0_0_1_over_real_http(archive: Path) -> None:
    proc, base = start_server(archive)
    try:
        home = httpx.get(base, timeout=10)
        assert home.status_code == 200 and "Archived embeds" in home.text
        assert "default-src 'none'" in home.headers["content-security-policy"]
        port = base.rsplit(":", 1)[1].strip("/")
        for host in (f"localhost:{port}", f"127.0.0.1:{port}", f"[::1]:{port}"):
            assert httpx.get(base, headers={"host": host}, timeout=10).status_code == 200, host
        # DNS rebinding: a page on another site pointed its own name at 127.0.0.1.
        for host in (f"attacker.example:{port}", "attacker.example", "127.0.0.1.nip.io"):
            refused = httpx.get(f"{base}archive.json", headers={"host": host}, timeout=10)
            assert refused.status_code == 421, host
            assert "Archived" not in refused.text and "posts" not in refused.text
    finally:
        proc.terminate()
        proc.wait(timeout=10)
