"""Articles are untrusted: binary files, huge and deeply nested documents, every encoding,
injection attempts in titles and URLs, hostile file names, and addresses that try to reach the
private network. Each must end in a clear result or a one-line error, never a crash.
"""

from __future__ import annotations

import gc
import json
import socket
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from click.testing import CliRunner

from embedarchive.article import build_article, load_file
from embedarchive.capture import http as http_module
from embedarchive.capture.http import Http, Recorder
from embedarchive.capture.media import download
from embedarchive.cli import cli
from embedarchive.detect import detect, detect_html, detect_text
from embedarchive.errors import BlockedAddressError, InputError
from embedarchive.store.files import FileStore, extension_for

from .faultserver import FaultServer
from .helpers import SEED, cli_env
from .test_faults import make_settings

T = TypeVar("T")

TWEET_URL = "https://twitter.com/jack/status/20"
BLOCKQUOTE = (
    '<blockquote class="twitter-tweet"><p lang="en">just setting up my twttr</p>&mdash; jack '
    f'(@jack) <a href="{TWEET_URL}">March 21, 2006</a></blockquote>'
)
#: A post the fake X platform serves (see tests/fakeplatform).
KNOWN_ID = "1641895049427550208"


def tweet_ids(found: list[Any]) -> set[str | None]:
    return {d.id for d in found if d.platform == "twitter"}


def timed(
    capsys: pytest.CaptureFixture[str], what: str, read: Callable[[str], T], document: str
) -> tuple[T, float]:
    """``read(document)`` and the seconds it took, printed to the log."""
    t0 = time.monotonic()
    result = read(document)
    elapsed = time.monotonic() - t0
    with capsys.disabled():
        print(f"\n{what}: {elapsed:.1f} s", file=sys.stderr)
    return result, elapsed


# --- binary, NUL bytes, size ----------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 4,
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n\x00\x00",
        b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + b"\x00" * 100,
        b"GIF89a\x01\x00\x01\x00\x80\x00\x00" + b"\xff" * 30,
    ],
)
def test_binary_files_are_refused_with_one_line(tmp_path: Path, raw: bytes) -> None:
    path = tmp_path / "article.html"
    path.write_bytes(raw)
    with pytest.raises(InputError, match="binary data") as caught:
        load_file(path, 10_000_000)
    assert "\n" not in str(caught.value)


def test_nul_bytes_after_the_head_do_not_stop_detection() -> None:
    """A NUL past the sniffed head is not binary enough to refuse; detection still works."""
    for is_html, body in ((True, f"<p>{'x' * 9000}</p>\x00<p>\x00</p>{BLOCKQUOTE}\x00"),
                          (False, f"{'x' * 9000}\x00\n\n{TWEET_URL}\x00\n")):  # fmt: skip
        article = build_article(body.encode(), source="nul", source_kind="file", is_html=is_html)
        assert "20" in tweet_ids(detect(article))


def test_fifty_megabyte_html_article_is_read_in_bounded_time(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paragraph = "<p>" + "Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 80 + "</p>\n"
    filler = paragraph * 40
    chunks, size, count = [], 0, 0
    while size < 50_000_000:
        piece = filler + BLOCKQUOTE.replace("/20", f"/{1000 + count}")
        chunks.append(piece)
        size += len(piece)
        count += 1
    path = tmp_path / "big.html"
    path.write_text(
        "<!doctype html><html><body><article>" + "".join(chunks) + "</article></body></html>"
    )
    t0 = time.monotonic()
    article = load_file(path, 60_000_000)
    found = detect(article)
    elapsed = time.monotonic() - t0
    with capsys.disabled():
        print(
            f"\n50 MB HTML ({count} embeds): read and detected in {elapsed:.1f} s", file=sys.stderr
        )
    assert len(tweet_ids(found)) == count
    assert all(0 <= d.offset < len(article.text) for d in found)
    assert elapsed < 600  # a generous ceiling: the point is that it finishes


def test_large_text_article_with_many_copied_posts_is_read_in_linear_time(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """5 MB (50 MB takes about two minutes: the URL patterns scan at ~0.4 MB/s) with an
    attribution every 100 lines; each post's lines are looked up, not rescanned from the top."""
    line = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.\n"
    block = line * 100 + f"\n{TWEET_URL}\n\n— jack (@jack) March 21, 2006\n\n"
    text = block * (5_000_000 // len(block) + 1)
    t0 = time.monotonic()
    found = detect_text(text)
    elapsed = time.monotonic() - t0
    with capsys.disabled():
        print(f"\n5 MB text: detected in {elapsed:.1f} s", file=sys.stderr)
    assert tweet_ids(found) == {"20"}
    assert elapsed < 600


@pytest.mark.parametrize(
    ("unit", "size", "posts"),
    [
        ("\u2014 A (@a) ", 5_000_000, 0),  # attributions without a date, on one endless line
        ("@ab\n", 2_000_000, 0),  # lines that start a TikTok caption none of which ends
        ("https://x.com/a/status/1 ", 1_000_000, 1),  # 40,000 links to one post
        ("t.co/abcdefg ", 1_000_000, 1),  # 77,000 short links
        ("@ab\nx \u266c s\n", 1_000_000, 1),  # 100,000 TikTok captions
        ("https://www.youtube.com/watch?", 400_000, 0),  # one word, a query never reaching v=
        ("\u2014 a (@a) 14 November 2025 ", 2_000_000, 1),  # one date, for dateparser
        ("https://" + "a" * 1_000_000 + ".com/x ", 1, 0),  # a host name of a million letters
        ("at://comments/a\t", 1_000_000, 0),  # one link to a host that starts like 900 patterns
    ],
)
def test_text_built_to_make_the_detector_rescan_is_read_in_linear_time(
    unit: str, size: int, posts: int, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each took time quadratic in the size, or a millisecond per repeat (minutes for these,
    hours for 50 MB): an attribution cut the rest of its line, an ``@user`` line read 2,200
    characters on, each match was checked against every one before it, a lazy query ran to
    the end of the word from every start, each repeated date went to dateparser, every
    prefix of a host name was looked up, each copy of a link was checked against yt-dlp's
    ~900 extractors whose patterns hold ``com``."""
    text = unit * max(1, size // len(unit))
    found, elapsed = timed(capsys, f"{len(text):,} characters of {unit[:30]!r}", detect_text, text)
    assert len(found) == posts
    assert elapsed < 60  # seconds here; the old reading took minutes


def test_a_link_to_a_host_of_many_labels_is_read_in_linear_time() -> None:
    url = "https://" + "a." * 100_000 + "com/"
    html = f'<html><body><article><p><a href="{url}">{url}</a></p></article></body></html>'
    t0 = time.monotonic()
    assert detect_html(html) == []
    assert time.monotonic() - t0 < 30  # was 40 s: every ending of the host name was joined


@pytest.mark.parametrize(
    ("embed", "found"),
    [
        # A thousand copies of one embed code: each one's place was looked up from the top.
        (
            '<blockquote class="twitter-tweet"><a href="https://twitter.com/a/status/{i}">'
            "May 1, 2020</a></blockquote>",
            8000,
        ),
        # Links that differ but all hold an entity: every one was decoded for every other.
        (
            '<p><a href="https://x.com/a/status/{i}?s=1&amp;t=2">https://x.com/a/status/{i}</a></p>',
            8000,
        ),
        # Image-only links: each one's feed-grid test walked every other one's ancestors.
        ('<p><a href="https://www.instagram.com/p/POST{i:06d}/"><img src="t.jpg"></a></p>', 0),
    ],
)
def test_an_article_with_thousands_of_embeds_is_read_in_linear_time(
    embed: str, found: int, capsys: pytest.CaptureFixture[str]
) -> None:
    body = "".join(embed.format(i=1000 + i) for i in range(8000))
    html = f"<html><body><article><p>{'Text. ' * 200}</p>{body}</article></body></html>"
    detections, elapsed = timed(capsys, "8,000 embeds", detect_html, html)
    assert len(detections) == found
    assert all(0 <= d.offset < len(html) for d in detections)
    assert elapsed < 30  # about a second; quadratic, this took minutes


@pytest.mark.parametrize("separator", [" ", "<br>"])
def test_a_paragraph_of_thousands_of_links_is_read_in_linear_time(separator: str) -> None:
    links = (
        f'<a href="https://x.com/a/status/{i}">https://x.com/a/status/{i}</a>'
        for i in range(12_000)
    )
    html = f"<html><body><article><p>{separator.join(links)}</p></article></body></html>"
    t0 = time.monotonic()
    assert detect_html(html) == []  # none is alone in its paragraph
    assert time.monotonic() - t0 < 15  # well under a second; reading the paragraph for each
    # link took 50 s and 90 s


def test_a_head_of_unclosed_titles_is_read_in_linear_time() -> None:
    raw = ("<html><head>" + "<title>" * 28_000 + "</head><body><p>x</p></body></html>").encode()
    t0 = time.monotonic()
    article = build_article(raw, source="titles.html", source_kind="file", is_html=True)
    assert article.title is None
    assert time.monotonic() - t0 < 10  # each <title> read the rest of the head: 26 s


# --- deep nesting ---------------------------------------------------------------------------


@pytest.mark.parametrize("tag", ["div", "span"])
def test_deeply_nested_html_does_not_crash(tag: str, capsys: pytest.CaptureFixture[str]) -> None:
    depth = 100_000
    html = f"<html><body>{f'<{tag}>' * depth}{BLOCKQUOTE}{f'</{tag}>' * depth}</body></html>"
    t0 = time.monotonic()
    found = detect_html(html)
    elapsed = time.monotonic() - t0
    with capsys.disabled():
        print(f"\n{depth:,} nested <{tag}>: {elapsed:.1f} s", file=sys.stderr)
    assert tweet_ids(found) == {"20"}
    assert all(0 <= d.offset < len(html) for d in found)


def test_thousands_of_chrome_boxes_in_a_deeply_nested_article_are_read_in_linear_time() -> None:
    depth = 40_000
    body = "<p>" + "Text of the article. " * 100 + "</p>" + "<nav>menu</nav>" * 8000 + BLOCKQUOTE
    html = f"<html><body>{'<div>' * depth}<article>{body}</article>{'</div>' * depth}</body></html>"
    t0 = time.monotonic()
    assert tweet_ids(detect_html(html)) == {"20"}
    assert time.monotonic() - t0 < 10  # each <nav> walked up from the article: 20 s


def _nested(unit: str, inside: str = "", around: str = "") -> Callable[[int], str]:
    """``unit`` nested ``levels`` deep with ``inside`` at the bottom, in an ``around`` block."""
    return lambda levels: f"<{around}>{unit * levels}{inside}" if around else unit * levels + inside


def _numbered(unit: str) -> Callable[[int], str]:
    """``unit`` nested ``levels`` deep, each level with its own number."""
    return lambda levels: "".join(unit.format(i=1000 + i) for i in range(levels))


def _closed_with_urls(tag: str) -> Callable[[int], str]:
    """Nested ``tag`` elements, each followed by a bare post URL."""
    return lambda n: f"<{tag}>" * n + "".join(f"</{tag}> {TWEET_URL}{i} " for i in range(n))


@pytest.mark.parametrize(
    ("nest", "levels", "found"),
    [
        pytest.param(
            _nested("<a href='https://x.com/a/status/1'><b>", around="p"), 50_000, 0, id="links"
        ),
        pytest.param(
            _nested("<a href='https://x.com/a/status/1'><b>", "x.com/a/status/1", around="p"),
            50_000,
            1,
            id="links-around-a-shown-url",
        ),
        pytest.param(
            _nested("<a href='https://www.instagram.com/p/ABC/'><img src=t.jpg><div>"),
            50_000,
            0,
            id="image-links",
        ),
        pytest.param(_closed_with_urls("div"), 50_000, 1, id="blocks-with-url-tails"),
        pytest.param(_closed_with_urls("span"), 50_000, 0, id="spans-with-url-tails"),
        pytest.param(
            _nested("<div><textarea>&lt;blockquote class=twitter-tweet&gt;</textarea>"),
            100_000,
            0,
            id="parked-embed-code",
        ),
        pytest.param(
            _nested(
                f"<blockquote class='twitter-tweet'><p>text <a href='{TWEET_URL}'>March 21</a>"
            ),
            100_000,
            1,
            id="embed-blockquotes",
        ),
        pytest.param(
            _nested("<div data-src='https://www.youtube.com/embed/abcdefghijk'>"),
            100_000,
            1,
            id="placeholders",
        ),
        # Each embed's snippet wrote 20,000 characters of the nest below it.
        pytest.param(
            _numbered("<div><amp-twitter data-tweetid='{i}'>"), 20_000, 20_000, id="amp-embeds"
        ),
        # The article region: each marked body, and each chrome-named wrapper, read the
        # paragraphs below it.
        pytest.param(
            _nested("<div itemprop=articleBody><p>Text text.</p>"), 32_000, 0, id="marked-bodies"
        ),
        pytest.param(
            _nested("<div class=sidebar><p>Text text.</p>", "<iframe src='https://youtu.be/x'>"),
            32_000,
            0,
            id="chrome-wrappers",
        ),
    ],
)
def test_nests_of_links_blocks_and_embeds_are_read_in_linear_time(
    nest: Callable[[int], str], levels: int, found: int, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each level is read once: before, each link, block or quote read all that is below it
    (or walked up from itself), which took minutes to hours at these depths."""
    article = f"<html><body><article><p>{'Text. ' * 200}</p>{nest(levels)}</article></body></html>"

    def read(document: str) -> list[Any]:
        detections = detect_html(document)
        gc.collect()  # what a page leaves to the collector is paid by whatever runs next
        return detections

    detections, elapsed = timed(capsys, f"{levels:,} levels", read, article)
    assert len(detections) == found
    assert all(0 <= d.offset < len(article) for d in detections)
    assert elapsed < 30  # seconds


def test_unclosed_nesting_is_read_in_linear_time(capsys: pytest.CaptureFixture[str]) -> None:
    """Five elements a level: lxml's own text iterator and end-of-element events take time
    quadratic in the depth (they queue the ends of a nest and take them from the front), and
    each quote's and link's text was read whole: 100,000 levels took over a minute."""
    html = "<blockquote><div><p><a href='#'><b>" * 100_000 + BLOCKQUOTE
    found, elapsed = timed(capsys, "100,000 unclosed levels", detect_html, html)
    assert tweet_ids(found) == {"20"}
    assert elapsed < 30  # seconds; about 5


# --- encodings ------------------------------------------------------------------------------

SAMPLES = {
    "latin2": "Árvíztűrő tükörfúrógép, Łódź, Šibenik",
    "cp1250": "Příliš žluťoučký kůň úpěl ďábelské ódy",
    "shift_jis": "日本語の記事です。埋め込まれた投稿を見てください",
    "utf-16": "Ελληνικά, русский, עברית, 中文 and emoji 🎉",
}


@pytest.mark.parametrize("encoding", list(SAMPLES))
@pytest.mark.parametrize("is_html", [True, False])
def test_every_encoding_decodes_and_detects(encoding: str, is_html: bool) -> None:
    words = SAMPLES[encoding]
    if is_html:
        body = (
            f'<html><head><meta charset="{encoding}"><title>{words}</title></head>'
            f"<body><p>{words}</p>{BLOCKQUOTE}</body></html>"
        )
    else:
        body = f"{words}\n\n{words}\n\n{TWEET_URL}\n"
    raw = body.encode(encoding)  # utf-16 writes its BOM
    article = build_article(raw, source="enc", source_kind="file", is_html=is_html)
    if is_html or encoding == "utf-16":  # declared (meta charset, BOM): decoded exactly
        assert words in article.text
    else:  # undeclared 8-bit text is a statistical guess (Latin-2 and cp1250 look alike)
        assert article.text.count("\ufffd") <= 3
    assert "20" in tweet_ids(detect(article))


def test_invalid_utf8_is_decoded_with_replacement_not_refused() -> None:
    raw = b"caf\xc3\xa9 \xff\xfe\xfa broken \xc3 bytes\n\n" + TWEET_URL.encode() + b"\n\xed\xa0\x80"
    article = build_article(raw, source="bad", source_kind="file", is_html=False)
    assert "broken" in article.text
    assert tweet_ids(detect(article)) == {"20"}


@pytest.mark.parametrize("charset", ["base64", "hex", "zlib", "rot13", "idna", "undefined"])
def test_a_meta_charset_naming_a_non_text_codec_is_ignored(charset: str) -> None:
    """Once a traceback: bytes.decode refuses bytes-to-bytes codecs with a LookupError."""
    raw = f'<meta charset="{charset}"><p>café</p>{BLOCKQUOTE}'.encode()
    article = build_article(raw, source="x", source_kind="file", is_html=True)
    assert "café" in article.text and article.encoding == "utf-8"


# --- injection through titles and URLs ------------------------------------------------------

HOSTILE = "{0} %s %(x)s $(rm -rf ~); `id` | & [/] [bold]x[/bold] \\N{BEL} ${HOME}"


def test_titles_and_urls_are_never_interpreted(
    fake_platform: Any, tmp_path: Path, archive_dir: Path
) -> None:
    url = f"https://x.com/someone/status/{KNOWN_ID}?s=$(rm%20-rf%20~);{{0}}%s"
    page = tmp_path / "hostile.html"
    page.write_text(
        f"<html><head><title>{HOSTILE}\nsecond line</title></head><body><article>"
        f'<p><a href="{url}">{url}</a></p></article></body></html>'
    )
    env = {**cli_env(fake_platform, archive_dir), "COLUMNS": "400"}  # no folded cells
    runner = CliRunner()
    result = runner.invoke(cli, ["archive", str(page)], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    listed = runner.invoke(cli, ["list", "--json"], env=env, catch_exceptions=False)
    (article,) = json.loads(listed.output)["articles"]
    assert article["title"] == f"{HOSTILE} second line"  # exactly as written, newline folded
    table = runner.invoke(cli, ["list"], env=env, catch_exceptions=False)
    assert table.exit_code == 0 and "Traceback" not in table.output
    assert "{0} %s %(x)s $(rm -rf ~);" in table.output and "[/]" in table.output
    shown = runner.invoke(cli, ["show", KNOWN_ID, "--json"], env=env, catch_exceptions=False)
    assert shown.exit_code == 0
    assert url in shown.output or KNOWN_ID in shown.output
    assert not (Path.home() / "x").exists()


#: What a terminal acts on: clear the screen, retitle the window (OSC 0), write the clipboard
#: (OSC 52), and an 8-bit CSI.
ESCAPES = "\x1b[2J\x1b]0;owned\x1b\\\x1b]52;c;cm0gLXJmIH4=\x07\x9b31m"


def test_terminal_escapes_in_an_article_are_shown_never_sent(
    fake_platform: Any, tmp_path: Path, archive_dir: Path
) -> None:
    seed = SEED.read_text(encoding="utf-8")
    assert "Rus ordusunun" in seed
    page = tmp_path / "escapes.txt"
    page.write_text(
        ESCAPES + seed.replace("Rus ordusunun", f"Rus {ESCAPES}ordusunun", 1), encoding="utf-8"
    )
    env = cli_env(fake_platform, archive_dir)
    runner = CliRunner()
    outputs = []
    for args in (["detect", str(page)], ["archive", str(page)], ["list"], ["check"],
                 ["show", "twitter:1989257861291196183"]):  # fmt: skip
        result = runner.invoke(cli, args, env=env, catch_exceptions=False)
        assert result.exit_code == 0, (args, result.output)
        assert "\x1b" not in result.output and "\x9b" not in result.output, args
        outputs.append(result.output)
    assert "\u241b[2J" in outputs[-1]  # the post's text as the article showed it: ESC as ␛
    listed = runner.invoke(cli, ["list", "--json"], env=env, catch_exceptions=False)
    assert "\x1b" not in listed.output and "\x9b" not in listed.output  # JSON escapes them
    assert json.loads(listed.output)["articles"][0]["title"].startswith(ESCAPES[:16])


def test_hostile_urls_flow_through_detection_as_plain_data() -> None:
    text = f"see {TWEET_URL}?q=$(reboot);{{0}}%s%n`id`\n\n"
    found = detect_text(text)
    assert tweet_ids(found) == {"20"}
    (d,) = found
    assert d.url == TWEET_URL and text[d.offset :].startswith(d.snippet)  # payload left behind


# --- file names from the network ---------------------------------------------------------------


@pytest.fixture(scope="module")
def server() -> Iterator[FaultServer]:
    with FaultServer() as running:
        yield running


@pytest.mark.parametrize(
    "path", ["/bytes/..%2F..%2F..%2Fescape.jpg", "/bytes/%2e%2e/%2e%2e/escape.sh", "/bytes/a/..//b"]
)
def test_remote_file_names_never_choose_the_stored_path(
    server: FaultServer, tmp_path: Path, path: str
) -> None:
    files = FileStore(tmp_path / "archive")
    files.open()
    with Http(make_settings(files.root)) as http:
        got = download(http, server.url(path + "?n=3000"), files, Recorder(), kind="photo")
    assert got.path == f"media/{got.sha256[:2]}/{got.sha256}.bin"  # content-addressed only
    stored = files.path(got.path).resolve()
    assert stored.is_relative_to(files.media.resolve())
    everything = {p for p in tmp_path.rglob("*") if p.is_file()}
    spooled = {p for p in everything if p.parent == files.tmp}  # the WARC copy: mkstemp names
    assert everything - spooled == {stored}
    assert all(p.name.endswith(".body.part") and "escape" not in p.name for p in spooled)


@pytest.mark.parametrize(
    ("mime", "ext"),
    [
        ("../../etc/passwd", "bin"),
        ("image/../../x", "bin"),
        ("text/html;../", "html"),
        ("\x00/", "bin"),
    ],
)
def test_a_hostile_content_type_cannot_pick_the_extension(mime: str, ext: str) -> None:
    """Extensions come from a fixed table; anything else is ``.bin``."""
    assert extension_for(mime) == ext
    sha = "ab" * 32
    assert FileStore(Path("/archive")).relative(sha, mime) == f"media/ab/{sha}.{ext}"


# --- the private-network guard ----------------------------------------------------------------


class FakeDNS:
    """``getaddrinfo`` with scripted answers for ``*.test`` names; real for everything else."""

    def __init__(self, answers: dict[str, list[list[str]]]) -> None:
        self.answers = answers
        self.asked: list[str] = []
        self._real = socket.getaddrinfo

    def __call__(self, host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if not isinstance(host, str) or not host.endswith(".test"):
            return self._real(host, port, *args, **kwargs)
        self.asked.append(host)
        script = self.answers[host]
        addresses = script.pop(0) if len(script) > 1 else script[0]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in addresses]


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeDNS]:
    """Scripted DNS; ``public.test`` and ``pinned.test`` stand for public servers although
    they are the local fault server (the guard's verdict is bypassed for those names only)."""
    fake = FakeDNS({})
    monkeypatch.setattr(socket, "getaddrinfo", fake)
    real_refuse = http_module._refuse

    def refuse(host: str, address: str) -> None:
        if host not in ("public.test", "pinned.test"):
            real_refuse(host, address)

    monkeypatch.setattr(http_module, "_refuse", refuse)
    yield fake


def guarded(tmp_path: Path) -> Http:
    return Http(make_settings(tmp_path, allow_private_network=False))


def test_redirect_from_public_to_private_is_refused_at_the_hop(
    server: FaultServer, tmp_path: Path, dns: FakeDNS
) -> None:
    dns.answers["public.test"] = [["127.0.0.1"]]
    before = len(server.requests)
    start = f"http://public.test:{server.port}/redirect?to=http://127.0.0.1:{server.port}/json"
    recorder = Recorder()
    with guarded(tmp_path) as http, pytest.raises(BlockedAddressError, match="non-public"):
        http.get(start, recorder, "test", max_bytes=1000)
    assert server.requests[before:] == ["/redirect"]  # the private /json was never asked for
    first, refused = recorder.exchanges()
    assert first.status == 302 and refused.status is None and "127.0.0.1" in refused.url


def test_dns_answer_mixing_public_and_private_is_refused(tmp_path: Path, dns: FakeDNS) -> None:
    dns.answers["mixed.test"] = [["93.184.216.34", "10.0.0.5"]]
    with guarded(tmp_path) as http, pytest.raises(BlockedAddressError, match="10.0.0.5"):
        http.get("http://mixed.test/x", Recorder(), "test", max_bytes=1000)


def test_dns_rebinding_between_check_and_connect_is_refused(
    server: FaultServer, tmp_path: Path, dns: FakeDNS
) -> None:
    """Public when checked, loopback when the connection is made: the connect-time check of
    the pinned backend refuses it, and the local server never sees the request."""
    dns.answers["rebind.test"] = [["93.184.216.34"], ["127.0.0.1"]]
    before = len(server.requests)
    with guarded(tmp_path) as http, pytest.raises(BlockedAddressError, match="127.0.0.1"):
        http.get(f"http://rebind.test:{server.port}/json", Recorder(), "test", max_bytes=1000)
    assert server.requests[before:] == []


def test_the_connection_goes_to_the_address_that_was_checked(
    server: FaultServer, tmp_path: Path, dns: FakeDNS
) -> None:
    """Later answers point elsewhere (an unroutable TEST-NET address); the request still
    reaches the checked address, so nothing resolved the name a third time."""
    dns.answers["pinned.test"] = [["127.0.0.1"], ["127.0.0.1"], ["203.0.113.9"]]
    with guarded(tmp_path) as http:
        got = http.get(f"http://pinned.test:{server.port}/json", Recorder(), "test", max_bytes=100)
    assert got.status == 200 and got.body == b'{"ok": true}'
    assert dns.asked == ["pinned.test", "pinned.test"]  # the guard's check and the backend's
