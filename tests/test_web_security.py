"""Safe by construction: hostile archived text stays text, every page has a CSP, nothing leaves.

``hostile_archive`` writes an article and a post full of ``<script>``, ``<img onerror>`` and
``javascript:`` links through the real writer (``Store``); the browser tests reuse it.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from datasette.app import Datasette

from embedarchive.models import (
    Article,
    Capture,
    Detection,
    HttpExchange,
    MediaFile,
    PostData,
    Target,
)
from embedarchive.store.files import FileStore
from embedarchive.store.records import Store

from .test_web import Client, assert_home_counts_match_their_links

NOW = "2026-01-02T03:04:05.000Z"
SCRIPT = "<script>window.pwned = 1; alert('script')</script>"
IMG = '<img src=x onerror="window.pwned = 2">'
JS_URL = "javascript:window.pwned=3"
PAYLOADS = (SCRIPT, IMG, "<svg onload=window.pwned=4>")


def hostile_archive(folder: Path) -> tuple[Path, int]:
    """An archive whose every field is an attack; returns it and the hostile post's row id."""
    store = Store.open(folder / "archive.db")
    files = FileStore(folder)
    files.open()
    software = json.dumps({"embedarchive": SCRIPT})
    run = store.begin_run({"started_at": NOW, "command": IMG, "argv": "[]", "software": software})
    raw = f"<html><title>{SCRIPT}</title><body>{IMG}</body></html>".encode()
    sha, rel = files.put_bytes(raw, "text/html")
    article = Article(source=SCRIPT, source_kind="url", raw=raw, sha256=sha, encoding="utf-8",
                      text=SCRIPT, is_html=True, retrieved_at=NOW, url=JS_URL, final_url=JS_URL,
                      http_status=200, http_headers=(("x-evil", SCRIPT),), title=f"Hostile {SCRIPT}")  # fmt: skip
    article_id, _ = store.save_article(article, rel, run, [])
    [detection] = store.save_detections(article_id, [
        Detection(platform="twitter", kind="post", markup="blockquote", offset=1, url=JS_URL,
                  id="666", author=IMG, handle="<svg onload=window.pwned=4>", date="2025-01-01",
                  text=f"hostile {SCRIPT} {IMG}", links=(JS_URL, "https://example.org/ok"),
                  snippet=SCRIPT),
        Detection(platform="twitter", kind="post", markup="text", offset=99, author=SCRIPT,
                  text=f"hostile unresolved {IMG}", snippet=IMG),
    ])[:1]  # fmt: skip
    page_sha, page_rel = files.put_bytes(raw, "text/html")
    capture = Capture(
        target=Target("twitter", "666", JS_URL), status="archived", started_at=NOW,
        finished_at=NOW, method=SCRIPT,
        post=PostData(platform="twitter", id="666", url=JS_URL, uploader=IMG,
                      uploader_id="<svg onload=window.pwned=4>", created_at=NOW,
                      text=f"hostile {SCRIPT} {IMG} {JS_URL}", raw=json.dumps({"html": SCRIPT})),
        media=(MediaFile(sha256=page_sha, size=len(raw), mime="text/html", kind="photo",
                         source_url=JS_URL, final_url=JS_URL, path=page_rel),),
        exchanges=(HttpExchange(method="GET", url=f'https://x.example/"><script>{SCRIPT}',
                                started_at=NOW, elapsed_ms=1.0, status=200,
                                response_headers=(("content-type", SCRIPT),),
                                body_sha256=page_sha),),
        error=IMG,
    )  # fmt: skip
    pk = store.save_capture(capture, run)
    store.link_detection(detection, pk)
    store.close()
    return folder, pk


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Client, int, int]]:
    folder, pk = hostile_archive(tmp_path_factory.mktemp("hostile") / "archive")
    client = Client(folder / "archive.db")
    article_id = 1
    yield client, pk, article_id
    client.close()


def pages(pk: int, article_id: int) -> list[str]:
    return ["/", "/search", "/search?q=hostile", "/search?q=pwned&status=archived",
            f"/articles/{article_id}", f"/posts/{pk}", "/archive/posts", "/archive/detections",
            f"/archive/posts/{pk}", "/archive?sql=select+*+from+http_exchanges"]  # fmt: skip


def test_hostile_text_is_escaped_on_every_page(hostile: tuple[Client, int, int]) -> None:
    client, pk, article_id = hostile
    for path in pages(pk, article_id):
        page = client.get(path)
        assert page.status_code == 200, path
        html = page.text
        for payload in PAYLOADS:
            assert payload not in html, (path, payload)
        assert "<script>window" not in html and 'onerror="window' not in html, path
        assert not re.search(r"""(href|src)\s*=\s*["']?\s*javascript:""", html, re.I), path
    post = client.get(f"/posts/{pk}").text
    assert "&lt;script&gt;window.pwned = 1;" in post
    assert 'title="not a web link: shown as text">javascript:window.pwned=3' in post
    assert 'href="https://example.org/ok"' in post


def test_only_the_pages_own_scripts_and_styles_load(hostile: tuple[Client, int, int]) -> None:
    client, pk, article_id = hostile
    for path in pages(pk, article_id)[:6]:
        html = client.get(path).text
        assert re.findall(r"<script[^>]*>", html) == [
            f'<script src="{src}" defer>' for src in re.findall(r'<script src="([^"]+)"', html)
        ]
        for url in re.findall(r'(?:src|href)="([^"]+)"', html):
            if not url.startswith(("/", "#", "?")):
                assert re.search(rf'<a [^>]*href="{re.escape(url)}"[^>]*rel="noopener', html), url
        assert "style=" not in html, path


def test_every_response_has_a_csp_and_nosniff(hostile: tuple[Client, int, int]) -> None:
    client, pk, article_id = hostile
    for path in [*pages(pk, article_id), "/archive/posts.json", "/archive/posts.csv",
                 f"/captures/{pk}/raw", "/-/versions", "/nope"]:  # fmt: skip
        response = client.get(path)
        csp = response.headers["content-security-policy"]
        scripts = re.search(r"script-src([^;]*)", csp)
        assert scripts is None or "'unsafe-inline'" not in scripts.group(1), path
        assert "default-src 'none'" in csp or "default-src 'self'" in csp, path
        assert "frame-ancestors 'none'" in csp or "sandbox" in csp, path
        assert response.headers["x-content-type-options"] == "nosniff", path
        assert response.headers["referrer-policy"] == "no-referrer", path


def test_requests_another_site_sends_are_refused_but_a_visit_by_link(
    hostile: tuple[Client, int, int],
) -> None:
    """Another site's page may make the browser send requests here (``<img src>``, ``fetch``
    in no-cors mode, a form) without reading the answers: enough to run a costly query again
    and again. Such requests are refused; a link followed to a page of the archive opens."""
    client, pk, _ = hostile
    sql = "/archive.json?sql=select+count(*)+from+posts"
    image = {"sec-fetch-site": "cross-site", "sec-fetch-mode": "no-cors", "sec-fetch-dest": "image"}
    visit = {"sec-fetch-site": "cross-site", "sec-fetch-mode": "navigate", "sec-fetch-dest": "document"}  # fmt: skip
    refused = [
        (sql, image),
        (sql, {**image, "sec-fetch-site": "same-site"}),  # another port of localhost
        (f"/posts/{pk}", image),
        (f"/posts/{pk}", {**visit, "sec-fetch-dest": "iframe"}),
        (sql, visit),  # Datasette's views run SQL: not even as a visit
        ("/archive/posts", visit),
        ("/archive.db", visit),
    ]
    for path, headers in refused:
        response = client.get(path, headers=headers)
        assert response.status_code == 403, (path, headers)
        assert "archive itself" in response.text
        assert response.headers["x-content-type-options"] == "nosniff"
    allowed = [
        (f"/posts/{pk}", visit),
        ("/search?q=hostile", {**visit, "sec-fetch-site": "same-site"}),
        (sql, {"sec-fetch-site": "same-origin", "sec-fetch-mode": "cors"}),
        (sql, {"sec-fetch-site": "none", "sec-fetch-mode": "navigate"}),  # typed in
        (sql, {}),  # curl, scripts: no browser metadata
    ]
    for path, headers in allowed:
        assert client.get(path, headers=headers).status_code == 200, (path, headers)


def test_home_counts_tell_posts_from_embeds_that_never_reached_one(
    hostile: tuple[Client, int, int],
) -> None:
    client, _, _ = hostile  # one post, and one embed that was never resolved to a post
    assert re.search(r'stat-n">1</span> embeds without a post', client.get("/").text)
    assert_home_counts_match_their_links(client)
    embeds = client.get("/search?what=embeds").text
    assert "<h1>Embeds without a post</h1>" in embeds and "showing: embeds without a post" in embeds


def test_raw_response_and_archived_html_are_plain_text(hostile: tuple[Client, int, int]) -> None:
    client, pk, _ = hostile
    raw = client.get(f"/captures/{pk}/raw")
    assert raw.headers["content-type"].startswith("text/plain")
    assert raw.headers["content-security-policy"] == "default-src 'none'; sandbox"
    assert "<script>" in raw.text  # shown as the source it is
    media = re.findall(r"/media/([0-9a-f]{64})", client.get(f"/posts/{pk}").text)
    assert media
    for sha in set(media):
        assert client.get(f"/media/{sha}").headers["content-type"].startswith("text/plain")


def test_database_is_opened_read_only(hostile: tuple[Client, int, int]) -> None:
    client, _, _ = hostile
    db = client.datasette.get_database("archive")
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        client.run(db.execute_fn(lambda conn: conn.execute("create table intruder (x)")))


def test_plugin_leaves_other_datasette_instances_alone(hostile: tuple[Client, int, int]) -> None:
    client, _, _ = hostile
    plain = Datasette(memory=True)
    response = client.run(plain.client.get("/"))
    assert response.status_code == 200
    assert "Archived embeds" not in response.text
    assert "content-security-policy" not in response.headers
