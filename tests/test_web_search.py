"""Search: full text across posts, authors, article titles and renderings; facets; the index.

The index (migration m003) is kept in sync by triggers, so these tests also check that an
archive written while the UI is open is searchable at once, and that an older archive gets
its index built when it is first served.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlite_utils import Database

from embedarchive.cli import cli
from embedarchive.models import Article, Detection
from embedarchive.store.files import FileStore
from embedarchive.store.records import Store
from embedarchive.store.schema import migrations
from embedarchive.web.app import prepare
from embedarchive.web.search import Filters, fts_query, highlight

from .helpers import cli_env
from .test_web import DELETED_ID, PHOTO_ID, QUOTE_ID, SEED_ID, Client, build_archive, pk_of


@pytest.fixture(scope="module")
def archive(fake_platform: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_archive(fake_platform, tmp_path_factory.mktemp("search") / "archive")


@pytest.fixture(scope="module")
def client(archive: Path) -> Iterator[Client]:
    c = Client(archive / "archive.db")
    yield c
    c.close()


def result_pks(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'class="result-title" href="/posts/(\d+)"', html)]


def test_a_word_of_the_seed_post_finds_it_and_is_highlighted(client: Client, archive: Path) -> None:
    html = client.get("/search?q=ordusunun").text
    assert result_pks(html) == [pk_of(archive, SEED_ID)]
    assert "<mark>ordusunun</mark>" in html


def test_search_ignores_case_and_diacritics_and_matches_word_prefixes(
    client: Client, archive: Path
) -> None:
    for q in ("BUYUKELCILIGI", "büyükelç", "Azerbaycan ordus"):
        assert result_pks(client.get(f"/search?q={q}").text) == [pk_of(archive, SEED_ID)], q


def test_search_covers_authors_article_titles_and_what_the_article_showed(
    client: Client, archive: Path
) -> None:
    assert result_pks(client.get("/search?q=mattcarrollcode").text) == [pk_of(archive, QUOTE_ID)]
    roundup = set(result_pks(client.get("/search?q=roundup").text))
    assert roundup == {pk_of(archive, i) for i in (PHOTO_ID, QUOTE_ID, DELETED_ID, SEED_ID)}
    shown = client.get("/search?q=someone").text  # only the article's links named @someone
    assert set(result_pks(shown)) == {pk_of(archive, QUOTE_ID), pk_of(archive, DELETED_ID)}
    assert "As the article showed it:" in shown
    assert "As the article showed it:" not in client.get("/search?q=roundup").text


def test_facets_count_and_filter_by_platform_author_status_date_and_article(
    client: Client, archive: Path
) -> None:
    html = client.get("/search").text

    def count(label: str) -> int:
        found = re.search(rf'{label}(?:\s*</span>)*\s*<span class="count">(\d+)</span>', html)
        return int(found.group(1)) if found else 0

    assert (count('archived">archived'), count('changed">changed'), count("twitter")) == (3, 1, 4)
    changed = client.get("/search?status=changed").text
    assert result_pks(changed) == [pk_of(archive, QUOTE_ID)]
    gone = client.get("/search?status=unavailable").text
    assert result_pks(gone) == [pk_of(archive, DELETED_ID)]
    by_author = client.get("/search?handle=TRHABER_COM").text
    assert result_pks(by_author) == [pk_of(archive, SEED_ID)]
    day = Database(archive / "archive.db").execute("select min(last_captured_at) from posts")
    captured = day.fetchone()[0][:10]
    assert len(result_pks(client.get(f"/search?captured={captured}").text)) == 4
    seed_article = Database(archive / "archive.db").execute(
        "select article_id from detections where post_pk = ? order by id", [pk_of(archive, SEED_ID)]
    )
    first = seed_article.fetchone()[0]
    assert result_pks(client.get(f"/search?article={first}").text) == [pk_of(archive, SEED_ID)]
    both = client.get(f"/search?q=ordusunun&article={first}&platform=twitter&status=archived")
    assert result_pks(both.text) == [pk_of(archive, SEED_ID)]
    assert "Remove filter article" in both.text


def test_turkish_dotted_and_dotless_i_match_in_any_case(client: Client, archive: Path) -> None:
    """The seed post is Turkish: "attığı", "Dışişleri", "Olayın" typed in capitals (I, not İ),
    or without Turkish letters, as a reader on another keyboard would."""
    seed = [pk_of(archive, SEED_ID)]
    for q in ("attığı", "ATTIĞI", "attigi", "Dışişleri", "DIŞIŞLERI", "disisleri", "OLAYIN"):
        html = client.get(f"/search?q={q}").text
        assert result_pks(html) == seed, q
    assert "<mark>attığı</mark>" in client.get("/search?q=ATTIGI").text


def test_several_words_with_is_in_them_find_the_post_together(
    client: Client, archive: Path
) -> None:
    """A word with an i is asked in a bracketed group of spellings; FTS5 takes no implicit
    AND beside one, so any such query of two words or more was a 500."""
    seed = [pk_of(archive, SEED_ID)]
    for q in ("Rus ordusunun attığı", "DIŞIŞLERI ordusunun", "attigi fuzeler", "Dışişleri Rus"):
        response = client.get("/search", params={"q": q})
        assert response.status_code == 200, q
        assert result_pks(response.text) == seed, q
    assert result_pks(client.get("/search", params={"q": "attığı nowhere"}).text) == []


def test_a_decomposed_accent_is_the_same_letter(client: Client, archive: Path) -> None:
    decomposed = "bu\u0308yu\u0308kelc\u0327ilig\u0306i"  # "büyükelçiliği", as macOS may paste it
    assert result_pks(client.get("/search", params={"q": decomposed}).text) == [
        pk_of(archive, SEED_ID)
    ]


def test_bad_filter_values_are_ignored_not_errors(client: Client) -> None:
    for query in (
        "?status=<b>",
        "?captured=yesterday",
        "?captured=9999-12-31",  # no day after it
        "?page=-3",
        "?page=%C2%B2",  # "²": a digit to str.isdigit, not to int()
        "?article=x",
        "?article=%E2%91%A0",  # "①"
        "?article=9223372036854775808",  # past SQLite's integers
        "?article=99999999999999999999999",
        '?q="*',
    ):
        assert client.get("/search" + query).status_code == 200, query


def test_a_page_past_the_last_shows_the_last(client: Client) -> None:
    html = client.get("/search?q=roundup&page=40").text
    assert len(result_pks(html)) == 4 and "Nothing matches" not in html and "of 0" not in html


def test_a_query_without_words_says_so(client: Client) -> None:
    html = client.get("/search?q=***").text
    assert "has no words to search for" in html and len(result_pks(html)) == 4


def test_fts_query_quotes_every_word_and_spells_its_is_both_ways() -> None:
    assert fts_query('Kyv" OR NEAR(x') == '"Kyv"* AND "OR"* AND "NEAR"* AND "x"*'
    assert fts_query("  ") == ""
    assert fts_query("Işık") == '("işik"* OR "işık"* OR "ışik"* OR "ışık"*)'
    assert fts_query("iiiiii").count(" OR ") == 2**4 - 1  # the first four i's only


def test_highlight_escapes_around_marks() -> None:
    html = str(highlight("<b>füzeler</b> & more", ["fuze"]))
    assert html == "&lt;b&gt;<mark>füzeler</mark>&lt;/b&gt; &amp; more"


def test_filters_keep_only_known_values() -> None:
    f = Filters.from_args({"status": "evil", "sort": "newest", "page": "2", "handle": "@x"})
    assert (f.status, f.sort, f.page, f.handle) == ("", "newest", 2, "x")
    assert f.link(platform="twitter") == {"platform": "twitter", "sort": "newest", "handle": "x"}


@pytest.mark.parametrize(
    "address",
    [
        f"https://twitter.com/trhaber_com/status/{SEED_ID}",
        f"https://x.com/trhaber_com/status/{SEED_ID}?s=20",  # as pasted from the app
        f"twitter:{SEED_ID}",
        SEED_ID,
    ],
)
def test_a_post_is_found_by_its_address(client: Client, archive: Path, address: str) -> None:
    html = client.get("/search", params={"q": address}).text
    assert result_pks(html) == [pk_of(archive, SEED_ID)]
    assert f"the post <code>twitter:{SEED_ID}</code>" in html or SEED_ID == address


def test_an_id_like_word_no_post_has_is_searched_as_a_word(client: Client) -> None:
    html = client.get("/search?q=99999999").text
    assert result_pks(html) == [] and "Found by its address" not in html


def test_a_post_url_finds_the_embeds_that_never_reached_a_post(tmp_path: Path) -> None:
    folder = tmp_path / "archive"
    store = Store.open(folder / "archive.db")
    files = FileStore(folder)
    files.open()
    now = "2026-01-02T03:04:05Z"
    run = store.begin_run({"started_at": now, "command": "archive", "argv": "[]", "software": "{}"})
    raw = b"<p>https://x.com/someone/status/1600000000000000077</p>"
    sha, rel = files.put_bytes(raw, "text/html")
    article = Article(source="a.html", source_kind="file", raw=raw, sha256=sha, encoding="utf-8",
                      text=raw.decode(), is_html=True, retrieved_at=now, title="Late news")  # fmt: skip
    article_id, _ = store.save_article(article, rel, run, [])
    url = "https://twitter.com/someone/status/1600000000000000077"
    store.save_detections(article_id, [
        Detection(platform="twitter", kind="post", markup="link", offset=3, url=url,
                  id="1600000000000000077", links=(url,)),
    ])  # fmt: skip
    store.close()
    client = Client(folder / "archive.db")
    try:
        html = client.get(
            "/search", params={"q": "https://x.com/someone/status/1600000000000000077"}
        )
        assert "1 result" in html.text and "Late news" in html.text
        assert "0 results" in client.get("/search?q=twitter:1600000000000000078").text
    finally:
        client.close()


def test_archiving_while_serving_is_searchable_at_once(
    fake_platform: Any, archive: Path, client: Client, tmp_path: Path
) -> None:
    assert result_pks(client.get("/search?q=lateword").text) == []
    article = tmp_path / "late.txt"
    article.write_text(
        f"A lateword article\n\nhttps://twitter.com/SamuelSusla/status/{PHOTO_ID}\n", "utf-8"
    )
    result = CliRunner().invoke(cli, ["archive", str(article)], env=cli_env(fake_platform, archive))
    assert result.exit_code == 0, result.output
    assert result_pks(client.get("/search?q=lateword").text) == [pk_of(archive, PHOTO_ID)]


def test_an_older_archive_gets_its_search_index_when_served(tmp_path: Path) -> None:
    path = tmp_path / "archive.db"
    db = Database(path)
    migrations.apply(db, stop_before="m003_search_index")
    db["articles"].insert({"id": 1, "source": "a.txt", "sha256": "0" * 64, "title": "Old news"})
    db["posts"].insert({"id": 7, "platform": "twitter", "post_id": "7", "status": "archived",
                        "text": "an archived sentence", "uploader_id": "old"})  # fmt: skip
    db["detections"].insert({"article_id": 1, "platform": "twitter", "kind": "post",
                             "markup": "text", "offset": 3, "handle": "old", "post_pk": 7,
                             "text": "an archived sentence"})  # fmt: skip
    db["detections"].insert({"article_id": 1, "platform": "twitter", "kind": "post",
                             "markup": "text", "offset": 9, "text": "never fetched",
                             "resolution": "failed"})  # fmt: skip
    db.close()
    prepare(path)
    store = Store.open(path)
    found = store.db.execute(
        "select s.id, s.status from search_fts f join search_items s on s.id = f.rowid "
        "where search_fts match ? order by s.id",
        ['"old"'],
    ).fetchall()
    assert found == [(-2, "failed"), (7, "archived")]


@pytest.fixture(scope="module")
def social(fake_platform: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    """An archive of the Telegram, Bluesky and Mastodon embeds (fake platforms)."""
    from .helpers import ARTICLES

    folder = tmp_path_factory.mktemp("social") / "archive"
    article = ARTICLES / "social-telegram-bluesky-mastodon.html"
    done = CliRunner().invoke(cli, ["archive", str(article)], env=cli_env(fake_platform, folder))
    assert done.exit_code == 0, done.output
    c = Client(folder / "archive.db")
    c.folder = folder  # type: ignore[attr-defined]
    yield c
    c.close()


def test_posts_of_every_platform_are_found_by_the_addresses_people_paste(social: Client) -> None:
    db = Database(social.folder / "archive.db")  # type: ignore[attr-defined]
    posts = {p["platform"]: p for p in db["posts"].rows}
    assert {"telegram", "bluesky", "mastodon"} <= set(posts)
    bsky = posts["bluesky"]
    did, rkey = bsky["post_id"].rsplit("/", 1)
    tg = posts["telegram"]
    masto = posts["mastodon"]
    for query, post in (
        (f"https://bsky.app/profile/{bsky['uploader_id']}/post/{rkey}", bsky),  # the handle
        (f"https://bsky.app/profile/{did}/post/{rkey}", bsky),
        (rkey, bsky),
        (f"telegram:{tg['post_id']}", tg),
        (f"https://t.me/{tg['post_id']}", tg),
        (f"mastodon:{masto['post_id']}", masto),
        (masto["post_id"].rsplit("/", 1)[1], masto),  # the status id alone
    ):
        response = social.get("/search", params={"q": query})
        assert response.status_code == 200, query
        assert result_pks(response.text) == [post["id"]], query


def test_an_embed_that_showed_nothing_is_not_sent_to_check_in_a_loop(social: Client) -> None:
    """A Telegram widget or a bare frame shows no words, author or date: check never judges
    it, so the page says there is nothing to compare instead of 'run embedarchive check'."""
    db = Database(social.folder / "archive.db")  # type: ignore[attr-defined]
    bare = [
        d for d in db["detections"].rows_where("post_pk is not null")
        if not any(d[k] for k in ("text", "author", "handle", "date"))
    ]  # fmt: skip
    assert bare
    for d in bare:
        html = social.get(f"/posts/{d['post_pk']}").text
        block = html[html.index(f'#embed-{d["id"]}"') :]
        block = block[: block.index("</p>")]
        assert "Nothing to compare" in block and "embedarchive check" not in block
    article = social.get(f"/articles/{bare[0]['article_id']}").text
    assert 'badge-nothing-to-compare">nothing-to-compare' in article
