"""Articles given as URLs: fetched over real HTTP, stored with status, headers and encoding."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlite_utils import Database

from embedarchive.cli import cli

from .helpers import cli_env

ARTICLE = (
    "<html><head><title>Kijev: rakétatámadás</title></head><body><article>"
    "<p>Az azeri nagykövetség megsérült.</p>"
    '<blockquote class="twitter-tweet"><p lang="tr">Rus ordusunun füzeler</p>&mdash; TRHaber (@trhaber_com) '
    '<a href="https://twitter.com/trhaber_com/status/1989257861291196183?ref_src=twsrc%5Etfw">November 14, 2025</a>'
    "</blockquote></article></body></html>"
)


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        if self.path.split("?")[0] == "/news/kijev":
            body = ARTICLE.encode("cp1250")
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=windows-1250")
        else:
            body = b"not here"
            self.send_response(404)
            self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture(scope="module")
def news_site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_article_url_is_fetched_decoded_and_archived(
    fake_platform, archive_dir: Path, news_site: str
) -> None:
    url = f"{news_site}/news/kijev"
    result = CliRunner().invoke(cli, ["archive", url], env=cli_env(fake_platform, archive_dir))
    assert result.exit_code == 0, result.output
    db = Database(archive_dir / "archive.db")
    article = next(db["articles"].rows)
    assert (article["url"], article["final_url"], article["http_status"]) == (url, url, 200)
    assert article["encoding"] == "cp1250"
    assert article["title"] == "Kijev: rakétatámadás"
    assert ["content-type", "text/html; charset=windows-1250"] in json.loads(
        article["http_headers"]
    )
    assert (archive_dir / article["raw_path"]).read_bytes() == ARTICLE.encode("cp1250")
    exchange = next(db["http_exchanges"].rows_where("article_id = ?", [article["id"]]))
    assert exchange["url"] == url and exchange["body_sha256"] == article["sha256"]
    detection = next(db["detections"].rows)
    assert detection["markup"] == "blockquote" and detection["resolution"] == "direct"
    assert next(db["posts"].rows)["status"] == "archived"


def test_a_source_that_reads_as_console_markup_is_printed_as_it_is(
    fake_platform, archive_dir: Path, news_site: str
) -> None:
    # Rich would read "[/]" as a closing tag with nothing to close, and raise.
    url = f"{news_site}/news/kijev?ref=[/]"
    env = cli_env(fake_platform, archive_dir)
    for args in (["detect", url], ["archive", url], ["show", "1"]):
        result = CliRunner().invoke(cli, args, env=env)
        assert result.exit_code == 0, result.output
        assert "ref=[/]" in result.output.replace("\n", ""), args


def test_missing_article_url_fails_cleanly(
    fake_platform, archive_dir: Path, news_site: str
) -> None:
    result = CliRunner().invoke(
        cli, ["archive", f"{news_site}/gone"], env=cli_env(fake_platform, archive_dir)
    )
    assert result.exit_code == 1
    assert "HTTP 404" in result.stderr
    assert Database(archive_dir / "archive.db")["articles"].count == 0
