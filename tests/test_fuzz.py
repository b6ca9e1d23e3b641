"""Property tests: detectors and parsers never raise on what an article or a platform may send.

Example counts are bounded (``max_examples``) so the file runs in well under a minute; the
properties are what must hold for *any* input, not only for the generated ones.
"""

from __future__ import annotations

import dataclasses
import html
import json
import re
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from bs4 import BeautifulSoup
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from embedarchive import manifest
from embedarchive.article import build_article, decode
from embedarchive.capture.context import FetchContext
from embedarchive.capture.http import Http, Recorder
from embedarchive.detect import detect, detect_html, detect_text
from embedarchive.detect._links import URLISH, may_be_url
from embedarchive.detect._positions import _SPECIAL, Positions
from embedarchive.detect._scope import Scope
from embedarchive.detect._tree import (
    markup,
    nested_text_lengths,
    parse,
    stripped_text_length,
    utf8,
)
from embedarchive.detect._visible import (
    _NOT_EMBED_BLOCKS as NOT_EMBED_BLOCKS,
)
from embedarchive.detect._visible import BLOCKS, NO_TEXT, Texts, _one_space, visible_text
from embedarchive.detect.dates import find_date, iso_date
from embedarchive.detect.html import _smallest_groups
from embedarchive.errors import EmbedArchiveError, InputError
from embedarchive.models import Detection, Target
from embedarchive.platforms import bluesky, mastodon, telegram, twitter
from embedarchive.settings import Settings, load_settings
from embedarchive.store.files import FileStore

FAST = settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
SLOW = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))

#: Pieces of real embed code, mixed into generated documents so the rules have work to do.
MARKERS = [
    "https://twitter.com/jack/status/20",
    "https://x.com/a_b/status/1590000000000000001?s=20",
    "pic.twitter.com/AbCdEf123",
    "https://t.co/WcgraWqkiA",
    "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
    "https://youtu.be/dQw4w9WgXcQ",
    "https://www.instagram.com/p/C7tq2Nsu7Gd/",
    "https://www.tiktok.com/@scout2015/video/6718335390845095173",
    "https://t.me/durov/68",
    "https://bsky.app/profile/a.bsky.social/post/3k7qmjev5lr2s",
    "https://mastodon.social/@raymondcamden/116205264348332986",
    "https://vimeo.com/76979871",
    "— Name (@handle) November 14, 2022",
    "&mdash; Jörg (@jo_rg) 14. November 2022",
    "♬ original sound - someone",
]
TAGS = ["p", "div", "blockquote", "a", "iframe", "amp-twitter", "script", "textarea", "span"]
TAGS += ["article", "main", "nav", "aside", "br", "noscript", "template", "table", "td", "li"]
ATTRS = ["href", "src", "class", "data-href", "data-tweetid", "cite", "data-id", "itemprop"]
ATTRS += ["data-src", "data-telegram-post", "data-bluesky-uri", "type", "data-tweet-id"]
CLASSES = ["twitter-tweet", "instagram-media", "tiktok-embed", "bluesky-embed", "fb-post"]
CLASSES += ["mastodon-embed", "sidebar", "related-posts", "rll-youtube-player"]

text_with_markers = st.lists(
    st.one_of(st.text(max_size=40), st.sampled_from(MARKERS), st.sampled_from(["\n", "\n\n"])),
    max_size=25,
).map("".join)
attr_value = st.one_of(st.sampled_from(MARKERS), st.sampled_from(CLASSES), st.text(max_size=20))


@st.composite
def html_documents(draw: st.DrawFn, depth: int = 0) -> str:
    parts = []
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["text", "element", "element", "junk"]))
        if kind == "text" or depth > 3:
            parts.append(html.escape(draw(text_with_markers), quote=False))
        elif kind == "junk":
            parts.append(draw(st.sampled_from(["<", ">", "</p>", "<!--", "-->", "&amp", "<a"])))
        else:
            tag = draw(st.sampled_from(TAGS))
            attrs = draw(st.dictionaries(st.sampled_from(ATTRS), attr_value, max_size=3))
            rendered = "".join(f' {k}="{html.escape(v)}"' for k, v in attrs.items())
            parts.append(f"<{tag}{rendered}>{draw(html_documents(depth + 1))}</{tag}>")
    return "".join(parts)


def check_offsets(found: list[Detection], document: str) -> None:
    for d in found:
        assert 0 <= d.offset <= len(document), d
        assert d.platform and d.markup
    assert [d.offset for d in found] == sorted(d.offset for d in found)


def keys(found: list[Detection]) -> set[tuple[str, str | None]]:
    return {(d.platform, d.id) for d in found}


# --- detectors ------------------------------------------------------------------------------


@FAST
@given(st.text())
def test_detect_text_never_raises_on_any_text(text: str) -> None:
    found = detect_text(text)
    check_offsets(found, text)
    assert detect_text(text) == found


@FAST
@given(text_with_markers)
def test_detect_text_with_embed_markers_is_stable(text: str) -> None:
    found = detect_text(text)
    check_offsets(found, text)
    assert detect_text(text) == found
    for d in found:
        if d.markup == "link":
            assert text[d.offset :].startswith(d.snippet)


@FAST
@given(st.one_of(st.text(), text_with_markers))
def test_detect_html_never_raises_on_any_text(text: str) -> None:
    check_offsets(detect_html(text), text)


@SLOW
@given(html_documents())
def test_generated_html_gives_stable_detections_with_offsets_in_range(document: str) -> None:
    found = detect_html(document)
    check_offsets(found, document)
    assert detect_html(document) == found
    for d in found:
        if d.id is not None:
            assert d.url  # an id without its canonical URL would be unusable downstream


@SLOW
@pytest.mark.filterwarnings("ignore::bs4.MarkupResemblesLocatorWarning")
@given(html_documents())
def test_generated_html_reads_as_beautifulsoup_read_it(document: str) -> None:
    """The lxml tree the rules read has BeautifulSoup's elements, snippets and paragraph text
    (the detector was written against it, and snippets are evidence)."""
    root = parse(utf8(document))
    theirs = BeautifulSoup(document, "lxml").find_all(True)
    ours = [el for el in root.iter() if isinstance(el.tag, str)] if root is not None else []
    assert [el.tag for el in ours] == [tag.name for tag in theirs]
    written = Positions(document, root).written if root is not None else None
    for el, tag in zip(ours, theirs, strict=True):
        assert markup(el, 20_000, written) == str(tag)[:20_000]
        assert stripped_text_length(el) == len(tag.get_text(" ", strip=True))
    tops = [(el, "p") for el in ours[:1]] + [(el, "div") for el in ours if el.tag == "blockquote"]
    for top, name in tops[:4]:
        inside = nested_text_lengths(top, lambda el, name=name: el.tag == name)
        assert inside == {el: stripped_text_length(el) for el in inside}
        assert top in inside and {el for el in inside if el is not top} == {
            el for el in top.iter(name) if el is not top
        }


@SLOW
@given(st.one_of(html_documents(), text_with_markers))
def test_html_nested_past_the_parsers_depth_limit_never_raises(document: str) -> None:
    """Deeper than 2,048 levels the tree is built from parser events, where lxml refuses more
    (control characters, odd names): still a result, never an exception."""
    nested = "<div a='\x01'>" * 2100 + document
    check_offsets(detect_html(nested), nested)


@SLOW
@given(html_documents())
def test_an_article_reads_the_same_from_its_bytes_and_its_text(document: str) -> None:
    try:
        article = build_article(document.encode(), source="f", source_kind="file", is_html=True)
    except InputError:
        return
    assert detect(article) == detect_html(article.text)


@SLOW
@given(st.sampled_from([m for m in MARKERS if "://" in m]), st.sampled_from(CLASSES[:4]))
def test_entity_escaped_attributes_name_the_same_posts(url: str, cls: str) -> None:
    """``&amp;``/``&#x2F;``-escaped embed code is the same embed as the plain one."""
    plain = f'<blockquote class="{cls}"><a href="{url}?a=1&b=2">{url}</a></blockquote>'
    escaped_url = "".join(f"&#x{ord(c):x};" if c in "/:" else c for c in url)
    escaped = (
        f'<blockquote class="{cls}"><a href="{escaped_url}?a=1&amp;b=2">'
        f"{html.escape(url)}</a></blockquote>"
    )
    assert keys(detect_html(plain)) == keys(detect_html(escaped))


@FAST
@given(st.binary(max_size=3000), st.booleans())
def test_any_bytes_become_an_article_or_an_input_error(raw: bytes, as_html: bool) -> None:
    try:
        article = build_article(raw, source="fuzz", source_kind="file", is_html=as_html)
    except InputError as err:
        assert "\n" not in str(err)
        return
    assert article.is_html is as_html and article.sha256
    check_offsets(detect(article), article.text)


@FAST
@given(st.binary(max_size=3000), st.one_of(st.none(), st.text(max_size=20)), st.booleans())
def test_decode_never_raises(raw: bytes, declared: str | None, is_html: bool) -> None:
    text, encoding = decode(raw, declared, is_html)
    assert isinstance(text, str) and encoding


@FAST
@given(st.one_of(st.text(max_size=80), st.from_regex(r"\d{1,2} [A-Za-z]{3,9} \d{4}.{0,20}")))
def test_dates_never_raise(text: str) -> None:
    found = find_date(text)
    if found is not None:
        date_text, end = found
        assert 0 < end <= len(text) and date_text
    date = iso_date(text)
    assert date is None or len(date) >= 10


# --- the detector's shortcuts: each one answers what the slower test it stands for does ------

#: Every character ``str.isspace`` (and so ``\s`` and ``str.split``) knows, and a few others.
SPACES_AND_LETTERS = [chr(c) for c in range(0x3001) if chr(c).isspace()] + list("ab\u00e9/.")


@FAST
@given(st.text(alphabet=SPACES_AND_LETTERS, min_size=1))
def test_one_space_is_the_whitespace_substitution(text: str) -> None:
    assert _one_space(text) == re.sub(r"\s+", " ", text)


@FAST
@given(st.one_of(st.text(), text_with_markers, attr_value))
def test_may_be_url_is_the_urlish_search(value: str) -> None:
    assert may_be_url(value) == (URLISH.search(value) is not None)


SHOWN_URL = "x.com/a/status/1"
text_pieces = st.lists(
    st.one_of(
        st.text(alphabet=SPACES_AND_LETTERS, max_size=6),
        st.sampled_from([SHOWN_URL, "<br>", "<!-- c -->", "\n", " "]),
    ),
    max_size=4,
).map("".join)
TEXT_TAGS = ["p", "div", "span", "b", "a", "li", "h2", "pre", "blockquote", "br"]
TEXT_TAGS += ["script", "style", "template", "noscript"]


@st.composite
def text_trees(draw: st.DrawFn, depth: int = 0) -> str:
    parts = [draw(text_pieces)]
    for _ in range(draw(st.integers(0, 3)) if depth < 5 else 0):
        tag = draw(st.sampled_from(TEXT_TAGS))
        parts.append(f"<{tag}>{draw(text_trees(depth + 1))}</{tag}>{draw(text_pieces)}")
    return "".join(parts)


@FAST
@given(text_trees())
def test_text_shapes_answer_what_reading_the_visible_text_does(document: str) -> None:
    """``Texts`` tells from its elements' shapes what ``visible_text`` would write."""
    root = parse(utf8(f"<html><body>{document}</body></html>"))
    assert root is not None
    texts = Texts()
    elements = [el for el in root.iter() if isinstance(el.tag, str)]
    for el in reversed(elements):  # parents after children, and the other way round below
        texts.length(el)
    for el in elements:
        visible = visible_text(el)
        words = visible.split()
        assert texts.length(el) == len(visible)
        assert texts.shown(el) == (visible.strip() if len(words) <= 1 else None)
        block = block_of(el)
        assert texts.block_of(el) is block
        for shown in {*words[:1], SHOWN_URL, f"{SHOWN_URL} x"}:
            alone = block.tag not in NOT_EMBED_BLOCKS and words_of(block) == shown.split()
            assert texts.alone_in_block(el, shown) == alone
        assert texts.hidden(el) == (next(el.iterancestors(*NO_TEXT), None) is not None)


def words_of(block: Any) -> list[str]:
    return visible_text(block).split()


def block_of(tag: Any) -> Any:
    """The nearest block holding ``tag``, walking up (else ``tag``)."""
    return next((node for node in [tag, *tag.iterancestors()] if node.tag in BLOCKS), tag)


@SLOW
@given(html_documents())
def test_paragraph_text_is_the_same_by_every_route(document: str) -> None:
    """The region's paragraph counts: read below each element, derived from its parent's or
    its child's, or counted for a whole subtree in one pass."""
    root = parse(utf8(document))
    if root is None:
        return
    elements = [el for el in root.iter() if isinstance(el.tag, str)]
    direct = Scope(root)
    expected = {el: sum(map(direct._length, el.iterdescendants("p"))) for el in elements}
    one_pass = Scope(root)
    one_pass._count_paragraphs_below(root)
    assert {el: one_pass._totals[el] for el in elements} == expected
    down = Scope(root)
    assert {el: down._paragraph_text_below(el) for el in elements} == expected
    up = Scope(root)
    for el in reversed(elements):
        parent = el.getparent()
        if parent is not None:
            assert up._paragraph_text_around(parent, el, expected[el]) == expected[parent]


IMAGE_LINKS = [
    '<a href="https://www.instagram.com/p/C7tq2Nsu7Gd/"><img src="t.jpg"></a>',
    '<a href="https://twitter.com/jack/status/20"><img src="t.jpg"></a>',
]


@st.composite
def link_trees(draw: st.DrawFn, depth: int = 0) -> str:
    parts = []
    for _ in range(draw(st.integers(0, 4)) if depth < 5 else 0):
        kind = draw(st.sampled_from(["link", "box", "box", "text"]))
        if kind == "link":
            parts.append(draw(st.sampled_from(IMAGE_LINKS)))
        elif kind == "text":
            parts.append("Some words. ")
        else:
            parts.append(f"<div>{draw(link_trees(depth + 1))}</div>")
    return "".join(parts)


@FAST
@given(link_trees())
def test_the_smallest_group_above_each_image_link_is_the_one_walking_up_finds(
    document: str,
) -> None:
    root = parse(utf8(f"<html><body>{document}</body></html>"))
    assert root is not None
    textless = [
        (a, Target("instagram" if "instagram" in a.get("href") else "twitter", "1", ""))
        for a in root.iter("a")
    ]
    held: dict[tuple[str, Any], int] = {}
    for a, target in textless:
        for node in a.iterancestors():
            held[(target.platform, node)] = held.get((target.platform, node), 0) + 1
    walked_up = [
        next(
            ((node, n) for node in a.iterancestors() if (n := held[(t.platform, node)]) >= 3),
            (None, 0),
        )
        for a, t in textless
    ]
    assert _smallest_groups(textless) == walked_up


def test_the_raw_text_lookahead_lets_every_case_of_the_names_through() -> None:
    """Case-insensitive matching knows more than ASCII (``ſ`` is an ``s``): the lookahead in
    front of the comment and raw-text pattern holds every first character the names match."""
    first = [chr(c) for c in range(sys.maxunicode + 1) if re.fullmatch("(?i:[st])", chr(c))]
    for c in first:
        for rest in ("cript>", "tyle>", "extarea>", "itle>"):
            source = "<" + c + rest
            ungated = re.match(r"<(?:!--|(?i:script|style|textarea|title)\b)", source)
            assert (_SPECIAL.match(source) is None) == (ungated is None)


# --- platform parsers ---------------------------------------------------------------------------

JSON_KEYS = [
    "id", "id_str", "text", "user", "entities", "urls", "media", "mediaDetails", "type",
    "video_info", "variants", "url", "bitrate", "quoted_tweet", "__typename", "tombstone",
    "created_at", "favorite_count", "html", "author_url", "author_name", "tweet", "author",
    "photos", "videos", "created_timestamp", "quote", "message", "thread", "post", "record",
    "$type", "embed", "images", "image", "ref", "$link", "external", "thumb", "did",
    "service", "serviceEndpoint", "account", "acct", "media_attachments", "reblog",
    "content", "in_reply_to_id", "langs", "reply", "parent", "uri", "value", "createdAt",
]  # fmt: skip
json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False),
        st.text(max_size=20),
        st.sampled_from(["photo", "video/mp4", "Tweet", "app.bsky.embed.images", "did:plc:x"]),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.one_of(st.sampled_from(JSON_KEYS), st.text(max_size=5)), inner, max_size=6
        ),
    ),
    max_leaves=30,
)


def fuzz_settings(archive_dir: Path) -> Settings:
    known = {f.name for f in dataclasses.fields(Settings)}
    overrides: dict[str, Any] = {
        "archive_dir": archive_dir,
        "allow_private_network": True,
        "per_host_rate": 0,
        "http_retries": 0,
        "host_failure_threshold": 1_000_000,
    }
    return load_settings({k: v for k, v in overrides.items() if k in known}, environ={}).settings


def answer(body: bytes, content_type: str, tmp: Path, method: Any, target: Target) -> None:
    """Run a platform method against a server that answers every request with ``body``."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": content_type}, content=body)

    s = fuzz_settings(tmp)
    files = FileStore(tmp)
    files.open()
    with Http(s, transport=httpx.MockTransport(handler)) as http:
        try:
            method(target, FetchContext(s, http, files), Recorder())
        except EmbedArchiveError as err:
            assert str(err) and "\n" not in str(err)


TWEET = Target("twitter", "20", "https://twitter.com/jack/status/20")
SKEET = Target("bluesky", "did:plc:abc/3k7q", "https://bsky.app/profile/did:plc:abc/post/3k7q")
TOOT = Target("mastodon", "mastodon.social/1", "https://mastodon.social/@a/1")
METHODS = [
    (twitter.fetch_syndication, TWEET),
    (twitter.fetch_oembed, TWEET),
    (twitter.fetch_fxtwitter, TWEET),
    (bluesky.fetch_appview, SKEET),
    (mastodon.fetch_api, TOOT),
]


@SLOW
@given(json_values, st.sampled_from(range(len(METHODS))))
def test_platform_json_parsers_raise_only_our_errors(
    tmp_path_factory: Any, data: Any, which: int
) -> None:
    method, target = METHODS[which]
    body = json.dumps(data).encode()
    answer(body, "application/json", tmp_path_factory.mktemp("j"), method, target)


@SLOW
@given(st.binary(max_size=500), st.sampled_from(range(len(METHODS))))
def test_platform_parsers_raise_only_our_errors_on_any_bytes(
    tmp_path_factory: Any, body: bytes, which: int
) -> None:
    method, target = METHODS[which]
    answer(body, "application/json", tmp_path_factory.mktemp("b"), method, target)


@pytest.mark.parametrize("which", range(len(METHODS)))
def test_deeply_nested_json_is_a_platform_error_not_a_crash(tmp_path: Path, which: int) -> None:
    # json.loads raises RecursionError (not a ValueError) past about a thousand levels.
    method, target = METHODS[which]
    for body in (b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 50_000 + b"1" + b"}" * 50_000):
        answer(body, "application/json", tmp_path, method, target)


def test_a_deeply_nested_manifest_is_not_a_manifest() -> None:
    with pytest.raises(ValueError, match="nested too deeply"):
        manifest.parse(b"[" * 100_000 + b"]" * 100_000)


@SLOW
@pytest.mark.filterwarnings("error::bs4.MarkupResemblesLocatorWarning")
@given(html_documents())
@example("https://t.me/durov/68")  # a body that is only a URL: BeautifulSoup warned on stderr
def test_telegram_widget_parser_raises_only_our_errors(tmp_path_factory: Any, page: str) -> None:
    target = Target("telegram", "durov/68", "https://t.me/durov/68")
    wrapped = f'<div class="tgme_widget_message" data-post="durov/68">{page}</div>'
    for body in (page, wrapped):
        answer(
            body.encode(), "text/html", tmp_path_factory.mktemp("t"), telegram.fetch_widget, target
        )
