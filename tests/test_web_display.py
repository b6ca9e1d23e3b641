"""What a post shows is what it is: archived text cannot turn the page's own words around or
draw over them, each video keeps its own still, a file is played only when its bytes are a
type the browser plays, and a post of megabytes is an excerpt in the search results.

The archive is written through the real writer (``Store``), as ``test_web_security`` does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from embedarchive.display import isolate
from embedarchive.models import Article, Capture, Detection, MediaFile, PostData, Target
from embedarchive.store.files import FileStore
from embedarchive.store.records import Store
from embedarchive.web.search import EXCERPT

from .test_web import Client

NOW = "2026-01-02T03:04:05.000Z"
RLO, FSI, PDI = "\u202e", "\u2068", "\u2069"
SPOOFED_NAME = f"Alice {RLO}"
NEEDLE_AT = 500_000
BIG_TEXT = ("filler " * (NEEDLE_AT // 7)) + "needle " + "filler " * 100_000


def media(files: FileStore, kind: str, mime: str, body: bytes) -> MediaFile:
    sha, rel = files.put_bytes(body, mime)
    url = f"https://pbs.example/{sha[:8]}"
    return MediaFile(sha256=sha, size=len(body), mime=mime, kind=kind, source_url=url,
                     final_url=url, path=rel)  # fmt: skip


def display_archive(folder: Path) -> dict[str, int]:
    """Four posts: a spoofed name, two videos with their stills, an SVG, a megabyte of text."""
    store = Store.open(folder / "archive.db")
    files = FileStore(folder)
    files.open()
    run = store.begin_run({"started_at": NOW, "command": "archive", "argv": "[]", "software": "{}"})
    raw = b"<html><body>four posts</body></html>"
    sha, rel = files.put_bytes(raw, "text/html")
    article = Article(source="https://news.example/a", source_kind="url", raw=raw, sha256=sha,
                      encoding="utf-8", text=raw.decode(), is_html=True, retrieved_at=NOW,
                      title=f"Bidi test {RLO}eltit")  # fmt: skip
    article_id, _ = store.save_article(article, rel, run, [])
    posts = {
        "spoofed": (dict(uploader=SPOOFED_NAME, uploader_id="moc_evil", text="Same words."), ()),
        "videos": (
            dict(uploader="Vera", uploader_id="vera", text="Two clips."),
            (
                media(files, "video", "video/mp4", b"video one"),
                media(files, "thumbnail", "image/jpeg", b"still one"),
                media(files, "video", "video/mp4", b"video two"),
                media(files, "thumbnail", "image/jpeg", b"still two"),
            ),
        ),
        "svg": (
            dict(uploader="Sam", uploader_id="sam", text="A drawing."),
            (media(files, "photo", "image/svg+xml", b"<svg></svg>"),),
        ),
        "big": (dict(uploader="Bo", uploader_id="bo", text=BIG_TEXT), ()),
    }
    detections = store.save_detections(article_id, [
        Detection(platform="twitter", kind="post", markup="blockquote", offset=i,
                  id=str(100 + i), author=fields["uploader"], handle=fields["uploader_id"],
                  text=fields["text"][:100], snippet="<blockquote>")
        for i, (fields, _) in enumerate(posts.values())
    ])  # fmt: skip
    pks = {}
    for i, (name, (fields, files_of)) in enumerate(posts.items()):
        post_id = str(100 + i)
        url = f"https://x.com/{fields['uploader_id']}/status/{post_id}"
        capture = Capture(
            target=Target("twitter", post_id, url), status="archived", started_at=NOW,
            finished_at=NOW, method="syndication",
            post=PostData(platform="twitter", id=post_id, url=url, created_at=NOW,
                          raw=json.dumps(fields), **fields),
            media=files_of,
        )  # fmt: skip
        pks[name] = store.save_capture(capture, run)
        store.link_detection(detections[i], pks[name])
    pks["article"] = article_id
    store.close()
    return pks


@pytest.fixture(scope="module")
def shown(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Client, dict[str, int]]]:
    folder = tmp_path_factory.mktemp("display") / "archive"
    pks = display_archive(folder)
    client = Client(folder / "archive.db")
    yield client, pks
    client.close()


def test_isolating_ends_every_override_and_isolate_the_value_opened() -> None:
    assert isolate("plain") == "plain"
    assert isolate(SPOOFED_NAME) == FSI + SPOOFED_NAME + PDI
    two_open = "a\u2067b\u2066c"
    assert isolate(two_open) == FSI + two_open + PDI * 3
    assert isolate(3) == 3


def test_a_name_with_an_open_override_is_isolated_wherever_it_is_shown(
    shown: tuple[Client, dict[str, int]],
) -> None:
    """The page's own words after an archived value read as they are: "@moc_evil" and the
    verdict after the article's title were drawn reversed."""
    client, pks = shown
    for path in (f"/posts/{pks['spoofed']}", f"/articles/{pks['article']}", "/search?q=alice"):
        page = client.get(path)
        assert page.status_code == 200, path
        assert RLO in page.text, path
        for at in (m.start() for m in re.finditer(RLO, page.text)):
            before, after = page.text[:at], page.text[at:]
            assert before.rfind(FSI) > before.rfind(PDI), (path, "not opened before")
            assert PDI in after[:200], (path, "not closed after")


def test_each_video_keeps_its_own_still(shown: tuple[Client, dict[str, int]]) -> None:
    """Two videos and two stills: no video wears the first still (which showed one clip's
    picture on the other); both stills are shown as pictures, not hidden."""
    client, pks = shown
    page = client.get(f"/posts/{pks['videos']}").text
    assert page.count("<video ") == 2
    assert "poster=" not in page
    assert len(re.findall(r'<img src="/media/[0-9a-f]{64}" alt="thumbnail', page)) == 2


def test_only_types_the_media_route_serves_inline_are_shown_inline(
    shown: tuple[Client, dict[str, int]],
) -> None:
    """An SVG is served as a download (it can hold script): the page offered a broken <img>."""
    client, pks = shown
    page = client.get(f"/posts/{pks['svg']}").text
    [sha] = set(re.findall(r'href="/media/([0-9a-f]{64})\?download=1"', page))
    assert f'<img src="/media/{sha}"' not in page
    assert "not shown in the page" in page
    served = client.get(f"/media/{sha}")
    assert served.headers["content-type"] == "application/octet-stream"


def test_a_post_of_a_megabyte_is_an_excerpt_around_the_match_in_search(
    shown: tuple[Client, dict[str, int]],
) -> None:
    client, _ = shown
    page = client.get("/search?q=needle")
    assert page.status_code == 200
    assert "<mark>needle</mark>" in page.text
    assert len(page.text) < 40_000  # the page held the whole megabyte, three times over
    [excerpt] = re.findall(r'<p class="excerpt">(.*?)</p>', page.text, re.S)
    assert excerpt.startswith("… ") and excerpt.endswith(" …")
    assert len(excerpt) < EXCERPT + 40


def test_a_server_error_is_a_short_page_and_a_traceback_without_locals(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """Datasette printed every error with the page's local variables, on the event loop: for
    a large page, minutes and gigabytes while every other request waited."""
    import sqlite3

    folder = tmp_path / "archive"
    pks = display_archive(folder)
    db = sqlite3.connect(folder / "archive.db")
    db.execute("alter table captures rename to captures_gone")  # a page's query now fails
    db.commit()
    db.close()
    client = Client(folder / "archive.db")
    try:
        page = client.get(f"/posts/{pks['big']}")
        as_json = client.get("/archive/captures.json")
    finally:
        client.close()
    assert page.status_code == 500
    assert "the error is in the server&#39;s log" in page.text or "server's log" in page.text
    assert "content-security-policy" in {k.lower() for k in page.headers}
    assert as_json.status_code in (400, 404, 500)
    err = capfd.readouterr().err
    assert "Traceback" in err and "no such table" in err
    assert "filler filler" not in err  # the page's data (a megabyte of it) is not printed
    assert len(err) < 20_000


def test_a_post_in_many_articles_lists_a_few_titles_in_search(tmp_path: Path) -> None:
    """A viral post's result card listed every article's title (224 kB for one card)."""
    import sqlite3

    folder = tmp_path / "archive"
    display_archive(folder)
    db = sqlite3.connect(folder / "archive.db")
    columns = [r[1] for r in db.execute("pragma table_info(articles)") if r[1] != "id"]
    for n in range(200):
        picked = ", ".join(
            f"'https://news.example/{n}'"
            if c == "source"
            else f"'Story number {n}'"
            if c == "title"
            else c
            for c in columns
        )
        db.execute(
            f"insert into articles ({', '.join(columns)}) select {picked} from articles where id = 1"
        )
        db.execute(
            "insert into detections (article_id, platform, kind, markup, offset, snippet, resolution,"
            " post_pk) values (last_insert_rowid(), 'twitter', 'post', 'text', 0, 'x', 'resolved', 1)"
        )
    db.commit()
    db.close()
    client = Client(folder / "archive.db")
    try:
        page = client.get("/search?q=same").text
    finally:
        client.close()
    assert "Story number 3" in page and "(more on its page)" in page
    assert "Story number 199" not in page


def test_the_search_form_gives_back_what_was_typed(shown: tuple[Client, dict[str, int]]) -> None:
    """A query with a right-to-left mark came back with a pair of isolates more on each
    submit: form values are what the user typed, not display text."""
    client, _ = shown
    typed = "\u200fsame"
    page = client.get("/search", params={"q": typed, "handle": "moc_evil\u200e"}).text
    assert f'name="q" value="{typed}"' in page
    assert 'name="handle" value="moc_evil\u200e"' in page
    assert f'value="{FSI}' not in page  # the heading shows it isolated; the form does not


def test_a_post_embedded_by_many_articles_pages_its_embeds(tmp_path: Path) -> None:
    """A viral post (1,501 embeds, 404 captures) made a 9 MB page that took a second; the page
    shows the first 50 embeds and the latest 50 captures, and all of them when asked."""
    import sqlite3

    from embedarchive.web.queries import POST_PAGE_ITEMS

    folder = tmp_path / "archive"
    pks = display_archive(folder)
    db = sqlite3.connect(folder / "archive.db")
    for n in range(POST_PAGE_ITEMS + 10):
        db.execute(
            "insert into detections (article_id, platform, kind, markup, offset, snippet,"
            " resolution, post_pk, author) values (1, 'twitter', 'post', 'text', ?, 'x',"
            " 'resolved', ?, ?)",
            [1000 + n, pks["spoofed"], f"Copy number {n}"],
        )
    db.commit()
    db.close()
    client = Client(folder / "archive.db")
    try:
        page = client.get(f"/posts/{pks['spoofed']}").text
        everything = client.get(f"/posts/{pks['spoofed']}?all=1").text
    finally:
        client.close()
    total = POST_PAGE_ITEMS + 11
    assert f"The first {POST_PAGE_ITEMS} of the {total} embeds of this post" in page
    assert "Copy number 3" in page and f"Copy number {POST_PAGE_ITEMS + 9}" not in page
    assert f"Copy number {POST_PAGE_ITEMS + 9}" in everything and "show all" not in everything


def test_a_streamed_csv_export_is_not_cut_at_100_mb(shown: tuple[Client, dict[str, int]]) -> None:
    """Datasette's default cut a table's streamed CSV at 100 MB (84,315 of 144,214 captures in
    a year's archive); measured whole on that archive: 179 MB, 6 s."""
    client, _ = shown
    assert client.datasette.setting("max_csv_mb") == 0
    page = client.get("/archive/posts.csv?_stream=on")
    assert page.status_code == 200 and page.text.count("\n") >= 5
