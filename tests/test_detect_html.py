"""HTML detection: every embed markup form, what is not an embed, offsets, no duplicates."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from bs4 import BeautifulSoup, Tag

from embedarchive.article import build_article
from embedarchive.detect import detect, detect_html
from embedarchive.detect._positions import Positions
from embedarchive.detect._tree import markup, parse, stripped_text_length, utf8
from embedarchive.models import Detection

FIXTURES = Path(__file__).parent / "fixtures" / "articles"
SHARED_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


def page(body: str, *, chrome: str = "") -> str:
    return (
        "<!DOCTYPE html>\n<html><head><title>t</title>"
        '<link rel="alternate" href="https://twitter.com/feed/status/999">'
        "<script>var cfg = {tweet: 'https://twitter.com/js/status/998'};</script></head>\n"
        f"<body>{chrome}<article>\n{body}\n</article></body></html>"
    )


def only(detections: list[Detection]) -> Detection:
    assert len(detections) == 1, detections
    return detections[0]


def assert_offsets_point_at_elements(html: str, detections: list[Detection]) -> None:
    for d in detections:
        assert 0 <= d.offset < len(html)
        tag = re.match(r"<([\w-]+)", d.snippet)
        assert tag, d.snippet[:80]
        assert re.match(rf"<{tag.group(1)}\b", html[d.offset :], re.IGNORECASE), (
            d,
            html[d.offset : d.offset + 80],
        )


def assert_no_duplicates(detections: list[Detection]) -> None:
    keys = [(d.platform, d.id) for d in detections if d.id]
    assert len(keys) == len(set(keys))


BLOCKQUOTE = (
    '<blockquote class="twitter-tweet" data-lang="en"><p lang="en" dir="ltr">Launch day! '
    '<a href="https://twitter.com/hashtag/Space?src=hash">#Space</a> '
    '<a href="https://t.co/AbCdEf1234">https://t.co/AbCdEf1234</a> '
    '<a href="https://t.co/XyZ9876543">pic.twitter.com/XyZ9876543</a></p>'
    "&mdash; Space Fan (@SpaceFan_01) "
    '<a href="https://twitter.com/SpaceFan_01/status/1590000000000000001?ref_src=twsrc%5Etfw">'
    "November 14, 2022</a></blockquote>\n"
    '<script async src="https://platform.twitter.com/widgets.js" charset="utf-8"></script>'
)


# --- embed forms ----------------------------------------------------------------------------


def test_official_blockquote_gives_post_from_its_last_status_link() -> None:
    html = page("<p>The agency posted:</p>\n" + BLOCKQUOTE)
    d = only(detect_html(html))
    assert (d.platform, d.kind, d.markup) == ("twitter", "post", "blockquote")
    assert d.id == "1590000000000000001"
    assert d.url == "https://twitter.com/SpaceFan_01/status/1590000000000000001"
    assert (d.author, d.handle, d.date) == ("Space Fan", "SpaceFan_01", "2022-11-14")
    assert d.text == "Launch day! #Space https://t.co/AbCdEf1234 pic.twitter.com/XyZ9876543"
    assert d.links == ("https://t.co/AbCdEf1234", "pic.twitter.com/XyZ9876543")
    assert html[d.offset :].startswith('<blockquote class="twitter-tweet"')
    assert d.snippet.startswith("<blockquote") and "SpaceFan_01" in d.snippet


@pytest.mark.parametrize(
    ("name", "post_id", "handle", "date"),
    [
        (
            "embed-snippet-twitter-tweet-blockquote-from-nbcnews-fixture.html",
            "774150065166229504",
            "elonmusk",
            "2016-09-09",
        ),
        (
            "embed-snippet-twitter-tweet-blockquote-legacy-statuses-url-from-readability-001.html",
            "370525864523743232",
            "ironshay",
            "2013-08-22",
        ),
        ("nbcnews-twitter-tweet-blockquote.html", "774150065166229504", "elonmusk", "2016-09-09"),
        ("readability-001-twitter-tweet.html", "370525864523743232", "ironshay", "2013-08-22"),
    ],
)
def test_real_blockquotes_are_found_once_with_their_fields(
    name: str, post_id: str, handle: str, date: str
) -> None:
    html = (FIXTURES / name).read_text(encoding="utf-8")
    d = only(detect_html(html))
    assert (d.markup, d.id, d.handle, d.date) == ("blockquote", post_id, handle, date)
    assert_offsets_point_at_elements(html, [d])


def test_line_breaks_inside_a_blockquote_survive_in_its_text() -> None:
    name = "embed-snippet-twitter-tweet-blockquote-legacy-statuses-url-from-readability-001.html"
    d = only(detect_html((FIXTURES / name).read_text(encoding="utf-8")))
    assert d.text == (
        'Drinking game for web devs:\n(1) Think of a noun\n(2) Google "<noun>.js"\n'
        "(3) If a library with that name exists - drink"
    )
    assert d.author == "Shay Friedman"


def test_a_blockquote_holding_only_a_status_link_is_still_an_embed() -> None:
    html = page(
        '<blockquote class="twitter-tweet"> <a href="https://twitter.com/X/status/1926719756263993519'
        '?ref_src=twsrc%5Etfw"></a> </blockquote>'
    )
    d = only(detect_html(html))
    assert (d.markup, d.id, d.text, d.handle, d.links) == (
        "blockquote",
        "1926719756263993519",
        None,
        None,
        (),
    )


def test_twitter_video_blockquotes_are_embeds_too() -> None:
    html = page(BLOCKQUOTE.replace("twitter-tweet", "twitter-video"))
    assert only(detect_html(html)).id == "1590000000000000001"


def test_widget_rendered_div_with_iframe_is_the_blockquote_embed() -> None:
    html = page(
        '<div class="twitter-tweet twitter-tweet-rendered" style="display:flex">'
        '<iframe id="twitter-widget-0" scrolling="no" frameborder="0" '
        'src="https://platform.twitter.com/embed/Tweet.html?dnt=false&amp;id=1700000000000000042'
        '&amp;lang=en" data-tweet-id="1700000000000000042"></iframe></div>'
    )
    d = only(detect_html(html))
    assert (d.markup, d.id) == ("blockquote", "1700000000000000042")
    assert html[d.offset :].startswith('<div class="twitter-tweet twitter-tweet-rendered"')


def test_legacy_twitter_widget_element_is_found_by_its_tweet_id() -> None:
    html = page(
        '<twitter-widget class="twitter-tweet twitter-tweet-rendered" '
        'data-tweet-id="463440424141459456"></twitter-widget>'
    )
    d = only(detect_html(html))
    assert (d.markup, d.id, d.url) == (
        "blockquote",
        "463440424141459456",
        "https://twitter.com/i/status/463440424141459456",
    )


def test_rendered_copy_and_original_blockquote_are_one_detection_each() -> None:
    html = (FIXTURES / "corpus-016-rendered-widgets-excerpt.html").read_text(encoding="utf-8")
    detections = detect_html(html)
    assert [(d.id, d.handle) for d in detections] == [
        ("1823152883115909193", "harris_wins"),
        ("1823149953717321821", "itsJeffTiedrich"),
        ("1823148672084770873", "SethAbramson"),
        ("1823157092376834337", "RobDenBleyker"),
        ("1823155707430011162", "PaulRudnickNY"),
    ]
    assert all(d.markup == "blockquote" and d.date == "2024-08-13" for d in detections)
    # The original blockquote is kept as evidence, not widgets.js's iframe copy.
    assert all(html[d.offset :].startswith("<blockquote") for d in detections)
    assert detections[0].text == "BREAKING: Twitter."
    assert_no_duplicates(detections)


def test_amp_twitter_is_an_amp_embed_filled_from_its_placeholder() -> None:
    html = page(
        '<amp-twitter width="375" height="472" layout="responsive" data-tweetid="885634330868850689">'
        '<blockquote placeholder class="twitter-tweet" data-lang="en"><p>Hello AMP</p>'
        "&mdash; AMP Project (@AMPhtml) "
        '<a href="https://twitter.com/AMPhtml/status/885634330868850689">July 13, 2017</a>'
        "</blockquote></amp-twitter>"
    )
    d = only(detect_html(html))
    assert (d.markup, d.id, d.handle, d.date, d.text) == (
        "amp",
        "885634330868850689",
        "AMPhtml",
        "2017-07-13",
        "Hello AMP",
    )
    assert html[d.offset :].startswith("<amp-twitter")


def test_amp_twitter_without_placeholder_gets_a_canonical_url_from_the_id() -> None:
    html = page('<amp-twitter width="1" height="1" data-tweetid="123456789"></amp-twitter>')
    d = only(detect_html(html))
    assert (d.markup, d.url) == ("amp", "https://twitter.com/i/status/123456789")


def test_embed_iframe_and_lazy_iframe_are_iframe_embeds() -> None:
    html = page(
        '<p>One:</p><iframe src="https://platform.twitter.com/embed/Tweet.html?id=1111111111111111111"'
        ' width="550"></iframe>\n<p>Two:</p><iframe class="lazyload" '
        'data-src="//platform.twitter.com/embed/Tweet.html?theme=dark&amp;id=2222222222222222222">'
        "</iframe>"
    )
    detections = detect_html(html)
    assert [(d.markup, d.id) for d in detections] == [
        ("iframe", "1111111111111111111"),
        ("iframe", "2222222222222222222"),
    ]
    assert_offsets_point_at_elements(html, detections)


def test_lazy_placeholders_with_a_post_url_in_data_attributes_are_other_embeds() -> None:
    html = (FIXTURES / "corpus-013-lazy-data-href-excerpt.html").read_text(encoding="utf-8")
    detections = detect_html(html)
    assert [(d.markup, d.id) for d in detections] == [
        ("other", "1875707373559673271"),
        ("other", "1875715427697139961"),
    ]
    assert detections[0].url == "https://twitter.com/IrisTaoTV/status/1875707373559673271"
    assert_offsets_point_at_elements(html, detections)


def test_screenshot_fallbacks_are_found_and_the_inline_citation_adds_nothing() -> None:
    html = (FIXTURES / "corpus-019-screenshot-fallbacks-excerpt.html").read_text(encoding="utf-8")
    detections = detect_html(html)
    assert [(d.markup, d.id) for d in detections] == [
        ("other", "1196529376915066881"),
        ("other", "1195777715544166401"),
        ("other", "1195458854617862144"),
    ]
    assert html[detections[0].offset :].startswith('<a class="embed-original-post-link"')


# --- links in the body -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("href", "post_id", "url"),
    [
        (
            "https://twitter.com/SomeUser/status/1234567890123456789/photo/1",
            "1234567890123456789",
            "https://twitter.com/SomeUser/status/1234567890123456789",
        ),
        (
            "https://x.com/AbC_9/status/42?s=20&amp;t=XyZ",
            "42",
            "https://twitter.com/AbC_9/status/42",
        ),
        (
            "https://mobile.twitter.com/dev/status/77/video/1",
            "77",
            "https://twitter.com/dev/status/77",
        ),
        ("https://fxtwitter.com/Dev/status/78", "78", "https://twitter.com/Dev/status/78"),
        ("https://vxtwitter.com/dev/status/79", "79", "https://twitter.com/dev/status/79"),
        ("https://fixupx.com/dev/status/80", "80", "https://twitter.com/dev/status/80"),
        ("https://nitter.poast.org/dev/status/81#m", "81", "https://twitter.com/dev/status/81"),
        ("//twitter.com/dev/statuses/82", "82", "https://twitter.com/dev/status/82"),
    ],
)
def test_a_status_link_alone_in_its_paragraph_is_a_link_embed(
    href: str, post_id: str, url: str
) -> None:
    html = page(f'<p>Intro text.</p>\n<p><a href="{href}">{href}</a></p>')
    d = only(detect_html(html))
    assert (d.platform, d.markup, d.id, d.url) == ("twitter", "link", post_id, url)
    assert html[d.offset :].startswith("<a href=")


def test_an_unrendered_oembed_url_as_bare_text_is_a_link_embed() -> None:
    html = page(
        '<figure class="wp-block-embed is-type-rich is-provider-twitter"><div class="wp-block-embed__'
        'wrapper">\nhttps://twitter.com/WordPress/status/1600000000000000007\n</div></figure>'
    )
    d = only(detect_html(html))
    assert (d.markup, d.id) == ("link", "1600000000000000007")
    assert html[d.offset :].startswith('<div class="wp-block-embed__wrapper">')


@pytest.mark.parametrize(
    ("url", "platform", "post_id"),
    [
        # What follows the id is still the URL the paragraph shows: Instagram's own URLs end in
        # "/", share URLs carry a query, Reddit's a slug (WordPress prints Instagram and
        # Facebook embeds as the bare URL since it dropped their oEmbed).
        ("https://www.instagram.com/p/C1a2B3c4D5e/", "instagram", "C1a2B3c4D5e"),
        ("https://youtu.be/dQw4w9WgXcQ?si=AbC123", "youtube", "dQw4w9WgXcQ"),
        ("https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=42s", "youtube", "dQw4w9WgXcQ"),
        ("https://x.com/someone/status/1600000000000000008?s=46", "twitter", "1600000000000000008"),
        (
            "https://twitter.com/someone/status/1600000000000000009/",
            "twitter",
            "1600000000000000009",
        ),
        ("https://www.reddit.com/r/space/comments/9pabcd/starship_flight/", "reddit", "9pabcd"),
        ("https://t.me/durov/68?single", "telegram", "durov/68"),
        ("https://www.tiktok.com/@user/video/7100000000000000001?lang=en", "tiktok", None),
    ],
)
def test_a_bare_post_url_with_more_after_its_id_is_a_link_embed(
    url: str, platform: str, post_id: str | None
) -> None:
    html = page(f"<p>Intro text.</p>\n<p>{url}</p>")
    d = only(detect_html(html))
    assert (d.platform, d.markup, d.links) == (platform, "link", (url,))
    assert post_id is None or d.id == post_id
    assert html[d.offset :].startswith(f"<p>{url}")


@pytest.mark.parametrize(
    "text",
    [
        "https://x.com/someone/status/1600000000000000010abc",  # another word glued on
        "https://x.com/someone/status/1600000000000000011.",  # a sentence's full stop
        "(https://x.com/someone/status/1600000000000000012)",
        "https://www.facebook.com/sharer.php?u=https://x.com/someone/status/1600000000000000013",
    ],
)
def test_a_bare_text_that_is_more_than_a_post_url_is_not_an_embed(text: str) -> None:
    assert detect_html(page(f"<p>Intro text.</p>\n<p>{text}</p>")) == []


@pytest.mark.parametrize(
    ("src", "platform", "post_id"),
    [
        (
            "https://platform.x.com/embed/Tweet.html?id=1728688401639940130&amp;theme=light",
            "twitter",
            "1728688401639940130",
        ),
        (
            "https://www.redditmedia.com/r/space/comments/9pabcd/starship_flight_test/"
            "?ref_source=embed&amp;ref=share&amp;embed=true",
            "reddit",
            "9pabcd",
        ),
    ],
)
def test_the_frames_of_x_and_of_reddits_old_embed_are_found(
    src: str, platform: str, post_id: str
) -> None:
    d = only(detect_html(page(f'<p>Intro text.</p><iframe src="{src}"></iframe>')))
    assert (d.platform, d.markup, d.id) == (platform, "iframe", post_id)


def test_a_status_link_inside_a_sentence_is_a_citation_not_an_embed() -> None:
    html = page(
        '<p>As <a href="https://twitter.com/someone/status/31337">she tweeted</a> on Monday, '
        "the plan was off.</p>"
    )
    assert detect_html(html) == []


def test_corpus_page_reports_its_embeds_and_not_its_cited_tweet() -> None:
    html = (FIXTURES / "corpus-022-blockquotes-and-body-links.html").read_text(encoding="utf-8")
    detections = detect_html(html)
    assert [(d.markup, d.id, d.handle) for d in detections] == [
        ("blockquote", "1214387633146564608", "Rabbi_360"),
        ("blockquote", "1214239528954712064", "drewmikkelsenk5"),
    ]
    assert detections[1].links == ("pic.twitter.com/CIHDX5qmux",)
    cited = "1214351117548576770"  # linked inside a sentence: the article cites it
    assert cited in html and cited not in {d.id for d in detections}
    assert_offsets_point_at_elements(html, detections)


def test_navigation_footer_aside_share_profile_and_script_links_are_not_embeds() -> None:
    chrome = (
        '<header><a href="https://twitter.com/site/status/1001">https://twitter.com/site/status/1001</a>'
        '</header><nav><p><a href="https://x.com/site/status/1002">x.com/site/status/1002</a></p></nav>'
    )
    body = (
        "<p>Body text.</p>"
        '<p><a href="https://twitter.com/intent/tweet?url=https%3A%2F%2Fexample.com">Tweet</a></p>'
        '<p><a href="https://twitter.com/share?text=hi">Share</a></p>'
        '<p><a href="https://www.facebook.com/sharer.php?u=https://twitter.com/a/status/1003">'
        "https://twitter.com/a/status/1003</a></p>"
        '<p><a href="https://twitter.com/NBCNews">@NBCNews</a></p>'
        '<a class="twitter-timeline" href="https://twitter.com/NBCNews">Tweets by NBCNews</a>'
        '<aside><p><a href="https://twitter.com/side/status/1004">https://twitter.com/side/status/1004'
        "</a></p></aside>"
        '<footer><p><a href="https://twitter.com/foot/status/1005">twitter.com/foot/status/1005</a>'
        "</p></footer>"
        '<script type="application/json">{"u": "https://twitter.com/json/status/1006"}</script>'
        "<style>/* https://twitter.com/css/status/1007 */</style>"
    )
    assert detect_html(page(body, chrome=chrome)) == []


def test_mixed_case_handles_ids_and_short_codes_are_kept_as_shown() -> None:
    html = page(BLOCKQUOTE.replace("SpaceFan_01", "SpAcEfAn_01"))
    d = only(detect_html(html))
    assert d.url == "https://twitter.com/SpAcEfAn_01/status/1590000000000000001"
    assert d.handle == "SpAcEfAn_01"
    assert d.links == ("https://t.co/AbCdEf1234", "pic.twitter.com/XyZ9876543")


def test_a_classless_blockquote_with_attribution_and_status_link_is_an_embed() -> None:
    html = page(BLOCKQUOTE.replace(' class="twitter-tweet"', ""))
    d = only(detect_html(html))
    assert (d.markup, d.handle) == ("blockquote", "SpaceFan_01")


def test_a_plain_quotation_with_a_cited_link_is_not_an_embed() -> None:
    html = page(
        '<blockquote><p>We will rebuild.</p><p>Source: <a href="https://twitter.com/mayor/status/5">'
        "the mayor</a></p></blockquote>"
    )
    assert detect_html(html) == []


def test_one_post_in_several_forms_is_one_detection_at_its_best_markup() -> None:
    post = "https://twitter.com/SpaceFan_01/status/1590000000000000001"
    html = page(
        f'<p>Earlier, <a href="{post}">a post</a> said so.</p>\n'
        + BLOCKQUOTE
        + f'\n<p><a href="{post}">{post}</a></p>'
        + '\n<iframe data-tweet-id="1590000000000000001" src="about:blank"></iframe>'
    )
    d = only(detect_html(html))
    assert (d.markup, d.handle) == ("blockquote", "SpaceFan_01")
    assert html[d.offset :].startswith("<blockquote")


def test_detect_reads_an_html_article_as_html() -> None:
    html = page(BLOCKQUOTE)
    article = build_article(
        html.encode("utf-8"), source="https://example.com/a", source_kind="url", is_html=True
    )
    assert [d.markup for d in detect(article)] == ["blockquote"]


def test_a_page_without_embeds_gives_nothing() -> None:
    html = (FIXTURES / "corpus-073-wp-embed-blocks.html").read_text(encoding="utf-8")
    assert [d.id for d in detect_html(html)] == ["1310340832445292544", "1310340867681648640"]
    assert detect_html(page("<p>Nothing to see.</p>")) == []


# --- the lxml tree reads like the BeautifulSoup one it replaced -------------------------------


def soup_elements(html: str) -> list[Tag]:
    return BeautifulSoup(html, "lxml").find_all(True)


@pytest.mark.parametrize("fixture", sorted(p.name for p in FIXTURES.glob("*.html")))
def test_snippets_are_the_elements_as_beautifulsoup_prints_them(fixture: str) -> None:
    """Every element of a real page prints as ``str(tag)`` did (snippets are evidence: they
    must not change with the parser), and its visible text and paragraph text are the same."""
    html = (FIXTURES / fixture).read_text(encoding="utf-8")
    root = parse(utf8(html))
    assert root is not None
    ours = [el for el in root.iter() if isinstance(el.tag, str)]
    theirs = soup_elements(html)
    written = Positions(html, root).written
    assert [el.tag for el in ours] == [tag.name for tag in theirs]
    for el, tag in zip(ours, theirs, strict=True):
        assert markup(el, 20_000, written) == str(tag)[:20_000], tag.name
        assert stripped_text_length(el) == len(tag.get_text(" ", strip=True)), tag.name


def test_deep_nests_of_blockquotes_are_read_in_linear_time() -> None:
    """A page nesting 100,000 blockquotes (libxml2's tree builder gives up at 2,048 levels;
    the rules once read each quote's whole text: hours) is read in seconds."""
    nest = "<blockquote>" * 100_000
    for html, wanted in (
        (nest + BLOCKQUOTE, ["1590000000000000001"]),  # the outermost quote holds the post
        ("<blockquote>— jack (@jack) March 21, 2006 " * 100_000, []),  # no link: no post
        ("<nav>" + nest + BLOCKQUOTE + "</nav>", []),  # chrome, however deep
    ):
        start = time.monotonic()
        assert [d.id for d in detect_html(html)] == wanted
        assert time.monotonic() - start < 120


def test_an_article_read_from_utf8_bytes_gives_what_its_text_gives() -> None:
    html = page("<p>Ärger über Tweets: ünïcödé</p>" + BLOCKQUOTE)
    article = build_article(html.encode("utf-8"), source="f", source_kind="file", is_html=True)
    assert detect(article) == detect_html(article.text)
    assert [d.id for d in detect(article)] == ["1590000000000000001"]


def test_a_lone_surrogate_is_read_not_raised() -> None:
    assert [d.id for d in detect_html(page("\ud800" + BLOCKQUOTE))] == ["1590000000000000001"]


# --- the whole labelled corpus (in ../shared beside the clone) -------------------------------


def corpus_labels() -> list[dict]:
    path = SHARED_CORPUS / "labels.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


@pytest.mark.skipif(not SHARED_CORPUS.exists(), reason="../shared/corpus is not beside the clone")
def test_labelled_corpus_tweets_are_all_found_with_few_false_positives() -> None:
    found = wrong = wanted_total = 0
    for label in corpus_labels():
        html = (SHARED_CORPUS / "articles" / label["file"]).read_bytes().decode("utf-8", "replace")
        detections = detect_html(html)
        assert_offsets_point_at_elements(html, detections)
        assert_no_duplicates(detections)
        wanted = {e["id"] for e in label["embeds"] if e["platform"] == "twitter"}
        got = {d.id for d in detections if d.platform == "twitter"}
        assert wanted <= got, (label["file"], wanted - got)
        found += len(wanted)
        wrong += len(got - wanted)
        wanted_total += len(wanted)
    assert found == wanted_total and wanted_total >= 40
    assert wrong <= 2
