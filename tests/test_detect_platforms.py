"""Detection of every platform and markup form: canonical ids, chrome that is not an embed."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from embedarchive.detect import detect_html, detect_text
from embedarchive.detect._scope import Scope
from embedarchive.detect._survey import survey
from embedarchive.detect._tree import parse, utf8
from embedarchive.models import Detection
from embedarchive.platforms import REGISTRY, by_name
from embedarchive.platforms.base import Platform
from embedarchive.platforms.bluesky import Bluesky
from embedarchive.platforms.mastodon import Mastodon
from embedarchive.platforms.telegram import Telegram

FIXTURES = Path(__file__).parent / "fixtures" / "articles"
REPO = Path(__file__).resolve().parents[1]
SHARED_CORPUS = REPO.parent / "shared" / "corpus"


def _full_registry() -> tuple[Platform, ...]:
    """The registry, with the Telegram/Bluesky/Mastodon platforms even before they are listed."""
    missing = tuple(p for p in (Telegram(), Bluesky(), Mastodon()) if by_name(p.name) is None)
    return REGISTRY + missing


ALL = _full_registry()
LONG_TEXT = "<p>" + "The reporter explains what happened in plain words. " * 12 + "</p>"


def page(body: str, *, chrome: str = "", after: str = "") -> str:
    return (
        "<!DOCTYPE html>\n<html><head><title>t</title></head>\n"
        f"<body>{chrome}<article>\n{LONG_TEXT}\n{body}\n{LONG_TEXT}\n</article>{after}</body></html>"
    )


def found(html: str) -> list[tuple[str, str | None, str]]:
    return [(d.platform, d.id, d.markup) for d in detect_html(html, ALL)]


def only(detections: list[Detection]) -> Detection:
    assert len(detections) == 1, detections
    return detections[0]


# --- each platform's own examples ------------------------------------------------------------

EXAMPLES = [
    pytest.param(p, url, post_id, id=f"{p.name}:{url[:60]}")
    for p in ALL
    for url, post_id in p.examples
]


@pytest.mark.parametrize(("platform", "url", "post_id"), EXAMPLES)
def test_platform_examples_name_their_post_or_nothing(
    platform: Platform, url: str, post_id: str | None
) -> None:
    target = platform.match(url)
    if target is None and post_id is not None:
        target = platform.target_for_id(url)  # an embed id (``durov/68``), not a URL
    assert (target.id if target else None) == post_id


@pytest.mark.parametrize(
    ("url", "platform", "post_id", "canonical"),
    [
        (
            "https://youtu.be/dQw4w9WgXcQ?t=1",
            "youtube",
            "dQw4w9WgXcQ",
            "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        ),
        (
            "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ?rel=0",
            "youtube",
            "dQw4w9WgXcQ",
            "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        ),
        (
            "https://player.vimeo.com/video/235352744",
            "vimeo",
            "235352744",
            "https://vimeo.com/235352744",
        ),
        (
            "https://www.tiktok.com/@scout2015/video/6718335390845095173?lang=en",
            "tiktok",
            "6718335390845095173",
            "https://www.tiktok.com/@scout2015/video/6718335390845095173",
        ),
        (
            "https://www.instagram.com/reel/C1a2B3c4D5e/",
            "instagram",
            "C1a2B3c4D5e",
            "https://www.instagram.com/p/C1a2B3c4D5e/",
        ),
        (
            "https://m.facebook.com/egypt.mohp/posts/139298604287427?ref=x",
            "facebook",
            "egypt.mohp/posts/139298604287427",
            "https://www.facebook.com/egypt.mohp/posts/139298604287427",
        ),
        (
            "https://www.facebook.com/photo.php?fbid=10207393772231779&set=a.1&type=3",
            "facebook",
            "10207393772231779",
            "https://www.facebook.com/photo.php?fbid=10207393772231779",
        ),
        (
            "https://www.threads.net/@zuck/post/CuXFPIeLLod",
            "threads",
            "CuXFPIeLLod",
            "https://www.threads.com/@zuck/post/CuXFPIeLLod",
        ),
        (
            "https://old.reddit.com/r/aww/comments/90BU6W/title/e2o6u1s/",
            "reddit",
            "90bu6w",
            "https://www.reddit.com/r/aww/comments/90bu6w/",
        ),
        (
            "https://dai.ly/x8j2k3l",
            "dailymotion",
            "x8j2k3l",
            "https://www.dailymotion.com/video/x8j2k3l",
        ),
        (
            "https://open.spotify.com/intl-de/track/4uLU6hMCjMI75M1A2tKUQC",
            "spotify",
            "track/4uLU6hMCjMI75M1A2tKUQC",
            "https://open.spotify.com/track/4uLU6hMCjMI75M1A2tKUQC",
        ),
        (
            "https://truthsocial.com/@realDonaldTrump/posts/116431297579272777",
            "truthsocial",
            "116431297579272777",
            "https://truthsocial.com/@realDonaldTrump/116431297579272777",
        ),
    ],
)
def test_every_form_of_a_post_url_gives_one_canonical_url_and_id(
    url: str, platform: str, post_id: str, canonical: str
) -> None:
    d = only(detect_html(page(f'<p><a href="{url}">{url}</a></p>'), ALL))
    assert (d.platform, d.id, d.url, d.markup) == (platform, post_id, canonical, "link")


# --- oEmbed blockquotes and their rendered copies ----------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "platform", "post_id"),
    [
        (
            "embed-snippet-instagram-media-blockquote-v7-from-usmagazine-fixture.html",
            "instagram",
            "BNpLF8LD0GD",
        ),
        ("embed-snippet-text-post-media-blockquote-DVdP2dCE_kf.html", "threads", "DVdP2dCE_kf"),
        (
            "embed-snippet-bluesky-embed-blockquote-raymondcamden-3mgpk65ei7d2u.html",
            "bluesky",
            "did:plc:4tan3ugu55i2u3hmtblu7wf5/3mgpk65ei7d2u",
        ),
        (
            "embed-snippet-mastodon-embed-blockquote-v4.3-raymondcamden-116205264348332986.html",
            "mastodon",
            "mastodon.social/116205264348332986",
        ),
    ],
)
def test_real_oembed_blockquotes_are_blockquote_embeds(
    fixture: str, platform: str, post_id: str
) -> None:
    d = only(detect_html(page((FIXTURES / fixture).read_text(encoding="utf-8")), ALL))
    assert (d.platform, d.id, d.markup) == (platform, post_id, "blockquote")


def test_instagram_blockquote_keeps_its_author_and_date() -> None:
    fixture = "embed-snippet-instagram-media-blockquote-v7-from-usmagazine-fixture.html"
    d = only(detect_html(page((FIXTURES / fixture).read_text(encoding="utf-8")), ALL))
    assert (d.handle, d.author, d.date) == ("ladygaga", "xoxo, Gaga", "2016-12-05")


def test_tiktok_blockquote_is_found_by_its_cite_not_its_profile_or_music_links() -> None:
    html = page(
        '<blockquote class="tiktok-embed" cite="https://www.tiktok.com/@scout2015/video/6718335390845095173"'
        ' data-video-id="6718335390845095173" style="max-width: 605px;min-width: 325px;"><section>'
        '<a target="_blank" title="@scout2015" href="https://www.tiktok.com/@scout2015?refer=embed">'
        "@scout2015</a><p>Scramble up ur name</p>"
        '<a target="_blank" href="https://www.tiktok.com/music/original-sound-6689804660171082501">'
        "♬ original sound</a></section></blockquote>"
        '<script async src="https://www.tiktok.com/embed.js"></script>'
    )
    d = only(detect_html(html, ALL))
    assert (d.platform, d.id, d.markup) == ("tiktok", "6718335390845095173", "blockquote")
    assert d.url == "https://www.tiktok.com/@scout2015/video/6718335390845095173"


def test_reddit_blockquote_names_its_thread() -> None:
    html = page(
        '<blockquote class="reddit-embed-bq" data-embed-height="546">'
        '<a href="https://www.reddit.com/r/aww/comments/90bu6w/heat_index_was_110/">Heat index was 110</a>'
        '<br> by<a href="https://www.reddit.com/user/GarlicoinAccount/">u/GarlicoinAccount</a> in'
        '<a href="https://www.reddit.com/r/aww/">aww</a></blockquote>'
        '<script async src="https://embed.reddit.com/widgets.js" charset="UTF-8"></script>'
    )
    assert found(html) == [("reddit", "90bu6w", "blockquote")]


@pytest.mark.parametrize("cls", ["fb-post", "fb-video"])
def test_xfbml_divs_with_data_href_are_embeds(cls: str) -> None:
    html = page(
        f'<div class="{cls}" data-href="https://www.facebook.com/Sozialdemokratie/posts/928812574504508/"'
        ' data-width="500"><blockquote cite="https://www.facebook.com/Sozialdemokratie/posts/928812574504508/"'
        ' class="fb-xfbml-parse-ignore">Post by SPÖ</blockquote></div>'
    )
    assert found(html) == [("facebook", "Sozialdemokratie/posts/928812574504508", "blockquote")]


# --- iframes, lazy iframes, script widgets ------------------------------------------------------


@pytest.mark.parametrize(
    ("frame", "platform", "post_id"),
    [
        (
            '<iframe src="https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ?rel=0&amp;start=3"></iframe>',
            "youtube",
            "dQw4w9WgXcQ",
        ),
        (
            '<iframe data-src="https://www.youtube.com/embed/dQw4w9WgXcQ" class="lazyload"></iframe>',
            "youtube",
            "dQw4w9WgXcQ",
        ),
        (
            '<iframe data-lazy-src="//www.youtube.com/embed/dQw4w9WgXcQ?feature=oembed" src="about:blank"></iframe>',
            "youtube",
            "dQw4w9WgXcQ",
        ),
        (
            '<noscript><iframe src="https://www.youtube.com/embed/dQw4w9WgXcQ"></iframe></noscript>',
            "youtube",
            "dQw4w9WgXcQ",
        ),
        (
            '<iframe src="https://player.vimeo.com/video/235352744?h=0123abcd89&amp;title=0"></iframe>',
            "vimeo",
            "235352744",
        ),
        (
            '<iframe src="https://www.tiktok.com/embed/v2/6718335390845095173?lang=en-US"></iframe>',
            "tiktok",
            "6718335390845095173",
        ),
        (
            '<iframe src="https://www.instagram.com/p/BNpLF8LD0GD/embed/captioned/"></iframe>',
            "instagram",
            "BNpLF8LD0GD",
        ),
        (
            '<iframe src="https://www.facebook.com/plugins/video.php?href=https%3A%2F%2Fwww.facebook.com%2Fcnn%2Fvideos%2F10155012345678901%2F&amp;show_text=0"></iframe>',
            "facebook",
            "cnn/videos/10155012345678901",
        ),
        (
            '<iframe src="https://t.me/durov/68?embed=1&amp;userpic=true"></iframe>',
            "telegram",
            "durov/68",
        ),
        (
            '<iframe src="https://geo.dailymotion.com/player/x1abcd.html?video=x8j2k3l"></iframe>',
            "dailymotion",
            "x8j2k3l",
        ),
        (
            '<iframe src="https://www.dailymotion.com/embed/video/x8j2k3l"></iframe>',
            "dailymotion",
            "x8j2k3l",
        ),
        ('<iframe src="https://rumble.com/embed/v4dsm6m/?pub=4"></iframe>', "rumble", "v4dsm6m"),
        (
            '<iframe src="https://w.soundcloud.com/player/?url=https%3A//api.soundcloud.com/tracks/367477112&amp;auto_play=false"></iframe>',
            "soundcloud",
            "367477112",
        ),
        (
            '<iframe src="https://open.spotify.com/embed/episode/0Q86acNRm6V9GYx55SXKwf?utm_source=generator"></iframe>',
            "spotify",
            "episode/0Q86acNRm6V9GYx55SXKwf",
        ),
        (
            '<iframe class="truthsocial-embed" src="https://truthsocial.com/@realDonaldTrump/116431297579272777/embed"></iframe>',
            "truthsocial",
            "116431297579272777",
        ),
        (
            '<iframe src="https://embed.reddit.com/r/aww/comments/90bu6w/heat_index/?embed=true"></iframe>',
            "reddit",
            "90bu6w",
        ),
        (
            '<iframe src="https://cdn.embedly.com/widgets/media.html?src=x&amp;url=https%3A%2F%2Fwww.youtube.com%2Fwatch%3Fv%3DdQw4w9WgXcQ&amp;type=text%2Fhtml"></iframe>',
            "youtube",
            "dQw4w9WgXcQ",
        ),
        (
            '<amp-iframe src="https://player.vimeo.com/video/235352744" width="16" height="9"></amp-iframe>',
            "vimeo",
            "235352744",
        ),
    ],
)
def test_player_and_post_frames_are_iframe_embeds(frame: str, platform: str, post_id: str) -> None:
    assert found(page(frame)) == [(platform, post_id, "iframe")]


@pytest.mark.parametrize(
    "fixture",
    [
        "embed-snippet-plugins-post-php-iframe-from-aol-fixture.html",
        "embed-snippet-legacy-iframe-botsin-space-superjoycat-109439745302574877.html",
    ],
)
def test_real_frame_snippets_are_iframe_embeds(fixture: str) -> None:
    d = only(detect_html(page((FIXTURES / fixture).read_text(encoding="utf-8")), ALL))
    assert d.markup == "iframe" and d.id in ("10207393772231779", "botsin.space/109439745302574877")


def test_telegram_widget_script_is_a_script_embed() -> None:
    snippet = (FIXTURES / "embed-snippet-widget-script-official-docs-durov-68.html").read_text()
    d = only(detect_html(page(snippet), ALL))
    assert (d.platform, d.id, d.url, d.markup) == (
        "telegram",
        "durov/68",
        "https://t.me/durov/68",
        "script",
    )


def test_real_pages_with_frames_and_blockquotes() -> None:
    aol = (FIXTURES / "aol-facebook-plugins-post-iframes.html").read_text(encoding="utf-8")
    assert [d.id for d in detect_html(aol, ALL)] == [
        "10207393772231779",
        "10207375395892382",
        "10207351005242631",
    ]
    usmag = (FIXTURES / "usmagazine-instagram-embed.html").read_text(encoding="utf-8")
    assert found(usmag) == [("instagram", "BNpLF8LD0GD", "blockquote")]


# --- AMP ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("element", "platform", "post_id"),
    [
        (
            '<amp-youtube data-videoid="dQw4w9WgXcQ" layout="responsive" width="480" height="270"></amp-youtube>',
            "youtube",
            "dQw4w9WgXcQ",
        ),
        (
            '<amp-instagram data-shortcode="B1mHd6sHGXK" data-captioned width="400" height="400"></amp-instagram>',
            "instagram",
            "B1mHd6sHGXK",
        ),
        (
            '<amp-tiktok width="325" height="575" data-src="6718335390845095173"></amp-tiktok>',
            "tiktok",
            "6718335390845095173",
        ),
        (
            '<amp-tiktok width="325" height="575" data-src="https://www.tiktok.com/@scout2015/video/6718335390845095173"></amp-tiktok>',
            "tiktok",
            "6718335390845095173",
        ),
        (
            '<amp-facebook width="552" height="310" data-href="https://www.facebook.com/zuck/posts/10102593740125791"></amp-facebook>',
            "facebook",
            "zuck/posts/10102593740125791",
        ),
        (
            '<amp-vimeo data-videoid="235352744" width="500" height="281"></amp-vimeo>',
            "vimeo",
            "235352744",
        ),
        (
            '<amp-dailymotion data-videoid="x8j2k3l" width="500" height="281"></amp-dailymotion>',
            "dailymotion",
            "x8j2k3l",
        ),
        (
            '<amp-reddit data-src="https://www.reddit.com/r/aww/comments/90bu6w/heat/" data-embedtype="post"></amp-reddit>',
            "reddit",
            "90bu6w",
        ),
    ],
)
def test_amp_elements_are_amp_embeds(element: str, platform: str, post_id: str) -> None:
    assert found(page(element)) == [(platform, post_id, "amp")]


def test_amp_custom_element_scripts_alone_are_not_embeds() -> None:
    html = page("<p>No embeds.</p>").replace(
        "</head>",
        '<script async custom-element="amp-youtube" src="https://cdn.ampproject.org/v0/amp-youtube-0.1.js">'
        "</script></head>",
    )
    assert found(html) == []


# --- CMS wrappers, placeholders, embed code as text ---------------------------------------------


@pytest.mark.parametrize(
    ("wrapper", "platform", "post_id"),
    [
        (
            '<figure class="wp-block-embed is-type-video is-provider-youtube wp-block-embed-youtube"><div class="wp-block-embed__wrapper"><iframe title="A video" src="https://www.youtube.com/embed/hMDQpHehAzw?feature=oembed"></iframe></div></figure>',
            "youtube",
            "hMDQpHehAzw",
        ),
        (
            '<div class="embed-consent" data-embed-url="https://www.instagram.com/p/Cy6H6RGR4aK/"><button>Load Instagram</button></div>',
            "instagram",
            "Cy6H6RGR4aK",
        ),
        (
            '<div class="social-embed" data-url="https://vimeo.com/235352744"></div>',
            "vimeo",
            "235352744",
        ),
        (
            '<div class="privacy-placeholder" data-href="https://www.facebook.com/egypt.mohp/posts/139298604287427"></div>',
            "facebook",
            "egypt.mohp/posts/139298604287427",
        ),
        (
            '<figure data-oembed-url="https://www.tiktok.com/@scout2015/video/6718335390845095173"><p>Loading…</p></figure>',
            "tiktok",
            "6718335390845095173",
        ),
        (
            '<div class="rll-youtube-player" data-src="https://www.youtube.com/embed/Iuobpte4ndQ" data-id="Iuobpte4ndQ" data-query=""></div>',
            "youtube",
            "Iuobpte4ndQ",
        ),
        (
            '<div class="video-embed youtube" data-id="Iuobpte4ndQ"><img src="/thumb.jpg" alt=""></div>',
            "youtube",
            "Iuobpte4ndQ",
        ),
        (
            '<lite-youtube videoid="Iuobpte4ndQ" playlabel="Play"></lite-youtube>',
            "youtube",
            "Iuobpte4ndQ",
        ),
        ('<div data-embed-type="vimeo" data-embed-id="235352744"></div>', "vimeo", "235352744"),
    ],
)
def test_cms_wrappers_and_consent_placeholders_are_found(
    wrapper: str, platform: str, post_id: str
) -> None:
    assert [(p, i) for p, i, _ in found(page(wrapper))] == [(platform, post_id)]


def test_platform_named_id_attributes_are_found() -> None:
    html = page('<div class="js-video" data-youtube-id="Iuobpte4ndQ"></div>')
    assert found(html) == [("youtube", "Iuobpte4ndQ", "other")]


def test_embed_code_parked_in_a_consent_attribute_is_found() -> None:
    code = '<iframe src="https://player.vimeo.com/video/235352744"></iframe>'
    html = page(f'<div class="consent" data-embed-html="{code.replace(chr(34), "&quot;")}"></div>')
    assert found(html) == [("vimeo", "235352744", "other")]


def test_an_instagram_feed_grid_is_not_a_row_of_embeds() -> None:
    tiles = "".join(
        f'<div class="tile"><a href="https://www.instagram.com/p/{code}/"><img src="/{code}.jpg"></a></div>'
        for code in ("BpWxLP7HzN3", "ChU_YJRONWN", "CyZCJRjLf8T", "CJKOVf3lQ8B")
    )
    assert found(page(f'<div class="insta-grid">{tiles}</div>')) == []


def test_screenshot_fallbacks_between_paragraphs_are_still_embeds() -> None:
    shots = "".join(
        f'<p>{LONG_TEXT}</p><div class="fallback"><a href="https://twitter.com/a/status/{n}">'
        '<img src="/shot.png"></a></div>'
        for n in (111111111, 222222222, 333333333)
    )
    assert [i for _, i, _ in found(page(shots))] == ["111111111", "222222222", "333333333"]


def test_a_linked_headline_alone_in_its_paragraph_is_a_teaser_not_an_embed() -> None:
    html = page('<p><a href="https://youtu.be/dQw4w9WgXcQ">Watch: the full interview</a></p>')
    assert found(html) == []


def test_a_url_alone_in_a_list_item_is_a_source_list_not_an_embed() -> None:
    html = page(
        '<ul><li><a href="https://youtu.be/dQw4w9WgXcQ">https://youtu.be/dQw4w9WgXcQ</a></li></ul>'
    )
    assert found(html) == []


def test_a_bare_id_without_a_platform_name_is_nothing() -> None:
    assert found(page('<div class="player" data-id="Iuobpte4ndQ"></div>')) == []


def test_embed_code_inside_a_textarea_is_an_other_embed() -> None:
    code = (
        '<blockquote class="instagram-media" data-instgrm-permalink="https://www.instagram.com/p/'
        'BpWxLP7HzN3/?utm_source=ig_embed"><a href="https://www.instagram.com/p/BpWxLP7HzN3/">'
        "View this post</a></blockquote>"
    )
    escaped = code.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    html = page(f'<textarea class="embed-code" readonly>{escaped}</textarea>')
    d = only(detect_html(html, ALL))
    assert (d.platform, d.id, d.markup) == ("instagram", "BpWxLP7HzN3", "other")
    assert html[d.offset :].startswith("<textarea")


def test_consent_gated_embed_code_in_a_template_script_is_a_script_embed() -> None:
    html = page(
        '<div class="consent-box"><script type="text/template">'
        '<iframe src="https://www.youtube.com/embed/dQw4w9WgXcQ"></iframe></script></div>'
    )
    assert found(html) == [("youtube", "dQw4w9WgXcQ", "script")]


def test_json_payloads_in_scripts_are_not_embeds() -> None:
    html = page(
        '<script type="application/json">{"playlist": [{"link": '
        '"https://www.tiktok.com/@a/video/7312345678901234567"}, '
        '{"link": "https://www.youtube.com/watch?v=dQw4w9WgXcQ"}]}</script>'
    )
    assert found(html) == []


# --- any other video site, through the generic yt-dlp platform ----------------------------------


@pytest.mark.skipif(by_name("video") is None, reason="the generic yt-dlp platform is not listed")
def test_other_video_sites_are_found_as_frames_and_standalone_links_only() -> None:
    frame = page('<iframe src="https://streamable.com/e/moo"></iframe>')
    assert found(frame) == [("video", "streamable:moo", "iframe")]
    alone = page('<p><a href="https://streamable.com/moo">https://streamable.com/moo</a></p>')
    assert found(alone) == [("video", "streamable:moo", "link")]
    # A bookmark widget's data-url and a badge linking an image are not embeds.
    assert found(page('<div class="bookmark" data-url="https://streamable.com/moo"></div>')) == []
    assert found(page('<p><a href="https://streamable.com/moo"><img src="/b.png"></a></p>')) == []


def test_links_and_frames_to_the_pages_own_site_are_not_embeds() -> None:
    html = page(
        '<p><a href="https://www.youtube.com/watch?v=dQw4w9WgXcQ">https://www.youtube.com/watch?v=dQw4w9WgXcQ</a></p>'
    ).replace("</head>", '<link rel="canonical" href="https://www.youtube.com/about/press"></head>')
    assert found(html) == []


# --- one item, many forms ----------------------------------------------------------------------


def test_the_same_video_twice_is_reported_once_at_its_best_markup() -> None:
    html = page(
        '<div class="rll-youtube-player" data-src="https://www.youtube.com/embed/Iuobpte4ndQ"></div>'
        '<noscript><iframe src="https://www.youtube.com/embed/Iuobpte4ndQ"></iframe></noscript>'
        '<p><a href="https://youtu.be/Iuobpte4ndQ">https://youtu.be/Iuobpte4ndQ</a></p>'
        '<amp-youtube data-videoid="Iuobpte4ndQ"></amp-youtube>'
    )
    assert found(html) == [("youtube", "Iuobpte4ndQ", "amp")]


def test_a_post_link_in_a_sentence_is_a_citation_not_an_embed() -> None:
    html = page(
        '<p>As the minister <a href="https://www.facebook.com/parcoabruzzo/posts/2395361813834269">'
        "https://www.facebook.com/parcoabruzzo/posts/2395361813834269</a> wrote, the park is open."
        '</p><p>He <a href="https://www.youtube.com/watch?v=mhURLBMFbF0">asked</a> again.</p>'
    )
    assert found(html) == []


# --- content, not chrome -----------------------------------------------------------------------


def test_share_follow_profile_and_channel_links_are_not_embeds() -> None:
    body = (
        '<div class="share-buttons"><a href="https://www.facebook.com/sharer/sharer.php?u=https%3A%2F%2Fx.org">'
        "Share</a><a href='https://bsky.app/intent/compose?text=x'>Bluesky</a>"
        '<a href="https://t.me/share/url?url=https://x.org">Telegram</a></div>'
        '<p><a href="https://www.youtube.com/@NASA">https://www.youtube.com/@NASA</a></p>'
        '<p><a href="https://www.instagram.com/ladygaga/">https://www.instagram.com/ladygaga/</a></p>'
        '<p><a href="https://www.tiktok.com/@scout2015">https://www.tiktok.com/@scout2015</a></p>'
        '<p><a href="https://bsky.app/profile/nasa.gov">https://bsky.app/profile/nasa.gov</a></p>'
        '<p><a href="https://t.me/durov">https://t.me/durov</a></p>'
        '<div class="fb-page" data-href="https://www.facebook.com/SomeNewsroom" data-tabs="timeline"></div>'
        '<iframe src="https://www.facebook.com/plugins/like.php?href=https%3A%2F%2Fwww.facebook.com%2Fa%2Fposts%2F123456"></iframe>'
        '<iframe src="https://www.youtube.com/embed/videoseries?list=PL4qTakKkQATKOyZPJG_cAMnRtF7fAIdST"></iframe>'
    )
    assert found(page(body)) == []


@pytest.mark.parametrize(
    "chrome",
    [
        '<aside class="sidebar"><div class="live-widget"><iframe src="https://www.youtube.com/embed/P-CeRGiDLis"></iframe></div></aside>',
        '<div class="widget-area"><div class="widget_media_video"><iframe src="https://www.youtube.com/embed/P-CeRGiDLis"></iframe></div></div>',
        '<div class="related-videos"><iframe src="https://player.vimeo.com/video/235352744"></iframe></div>',
        '<section id="comments"><blockquote class="twitter-tweet"><a href="https://twitter.com/a/status/123456789">x</a></blockquote></section>',
        '<footer><blockquote class="instagram-media" data-instgrm-permalink="https://www.instagram.com/p/BNpLF8LD0GD/"></blockquote></footer>',
        '<nav><iframe src="https://www.youtube.com/embed/P-CeRGiDLis"></iframe></nav>',
        '<div role="complementary"><amp-youtube data-videoid="P-CeRGiDLis"></amp-youtube></div>',
        '<div class="outbrain-widget"><iframe src="https://www.dailymotion.com/embed/video/x8j2k3l"></iframe></div>',
    ],
)
def test_sidebars_rails_comments_and_footers_are_chrome(chrome: str) -> None:
    assert found(page("<p>Body.</p>", after=chrome)) == []
    assert found(page("<p>Body.</p>", chrome=chrome)) == []


def test_teaser_articles_outside_the_main_article_are_not_its_embeds() -> None:
    html = page(
        '<iframe src="https://www.youtube.com/embed/dQw4w9WgXcQ"></iframe>',
        after='<div class="more"><article class="card"><p>Another story.</p>'
        '<iframe src="https://www.youtube.com/embed/P-CeRGiDLis"></iframe></article></div>',
    )
    assert found(html) == [("youtube", "dQw4w9WgXcQ", "iframe")]


def test_the_articles_own_header_may_hold_its_lead_video() -> None:
    html = page("").replace(
        "<article>\n",
        '<article><header><h1>Title</h1><iframe src="https://www.youtube.com/embed/dQw4w9WgXcQ">'
        "</iframe></header>\n",
    )
    assert found(html) == [("youtube", "dQw4w9WgXcQ", "iframe")]


def test_itemprop_article_body_bounds_the_article() -> None:
    html = (
        "<html><body><div class='layout'><div class='story'>"
        '<div class="lead"><iframe src="https://www.youtube.com/embed/dQw4w9WgXcQ"></iframe></div>'
        "<div itemprop='articleBody'>" + LONG_TEXT + "</div></div>"
        '<div class="box"><p>Another story, told at some length so it is clearly not the lead '
        "video's caption but other text of the page.</p>"
        '<iframe src="https://www.youtube.com/embed/P-CeRGiDLis"></iframe></div>'
        "</div></body></html>"
    )
    # The lead video beside the marked text is the article's; the other story's is not.
    assert found(html) == [("youtube", "dQw4w9WgXcQ", "iframe")]


def test_a_chrome_word_on_a_layout_wrapper_holding_the_article_does_not_hide_it() -> None:
    html = (
        "<html><body><div class='has-sidebar sidebar-layout'><div class='content'>"
        + LONG_TEXT * 3
        + '<iframe src="https://www.youtube.com/embed/dQw4w9WgXcQ"></iframe></div></div>'
        "</body></html>"
    )
    assert found(html) == [("youtube", "dQw4w9WgXcQ", "iframe")]


def test_a_marked_article_body_inside_a_sidebar_of_the_article_is_still_read() -> None:
    # The survey leaves site chrome out unread, except chrome holding part of the region.
    html = (
        "<html><body><div itemprop='articleBody'>"
        + LONG_TEXT
        + "<aside class='sidebar'>"
        + LONG_TEXT
        + "<div itemprop='articleBody'>"
        + LONG_TEXT
        + '<iframe src="https://www.youtube.com/embed/dQw4w9WgXcQ"></iframe></div>'
        '<iframe src="https://www.youtube.com/embed/P-CeRGiDLis"></iframe></aside>'
        "</div></body></html>"
    )
    assert found(html) == [("youtube", "dQw4w9WgXcQ", "iframe")]


def test_a_bare_url_after_a_comment_is_read() -> None:
    html = page("<p><!-- pasted from the CMS -->https://x.com/a/status/123456</p>")
    assert found(html) == [("twitter", "123456", "link")]


def test_the_survey_keeps_texts_in_document_order_around_chrome_it_leaves_out() -> None:
    html = page(
        "<div><nav><p>https://x.com/a/status/1</p><p>menu</p></nav>https://x.com/b/status/2"
        "<p>https://x.com/c/status/3</p></div>"
    )
    root = parse(utf8(html))
    assert root is not None
    scope = Scope(root)
    seen = survey(scope.walks(root), ALL, scope)
    assert [text for _, text in seen.texts] == [
        "https://x.com/b/status/2",
        "https://x.com/c/status/3",
    ]


def test_taxonomy_classes_that_happen_to_say_comments_do_not_hide_the_article() -> None:
    html = (
        '<html><body><section class="post tag-comentarios category-comments">'
        + LONG_TEXT
        + '<blockquote class="twitter-tweet"><a href="https://twitter.com/a/status/123456789">'
        "May 1, 2022</a></blockquote></section></body></html>"
    )
    assert [i for _, i, _ in found(html)] == ["123456789"]


# --- plain text -------------------------------------------------------------------------------


def test_plain_text_finds_bare_urls_of_every_platform() -> None:
    text = (
        "Watch youtu.be/dQw4w9WgXcQ and https://vimeo.com/235352744, then "
        "https://www.tiktok.com/@scout2015/video/6718335390845095173.\n"
        "Also www.instagram.com/p/BNpLF8LD0GD/ and https://t.me/durov/68 and "
        "https://bsky.app/profile/nasa.gov/post/3k7qmjev5lr2s and "
        "https://mastodon.social/@Gargron/103270115826048975 and "
        "https://www.facebook.com/egypt.mohp/posts/139298604287427 and "
        "https://www.threads.net/@zuck/post/CuXFPIeLLod and "
        "https://www.reddit.com/r/aww/comments/90bu6w/heat/ and https://dai.ly/x8j2k3l"
    )
    got = {(d.platform, d.id) for d in detect_text(text, ALL)}
    assert got == {
        ("youtube", "dQw4w9WgXcQ"),
        ("vimeo", "235352744"),
        ("tiktok", "6718335390845095173"),
        ("instagram", "BNpLF8LD0GD"),
        ("telegram", "durov/68"),
        ("bluesky", "nasa.gov/3k7qmjev5lr2s"),
        ("mastodon", "mastodon.social/103270115826048975"),
        ("facebook", "egypt.mohp/posts/139298604287427"),
        ("threads", "CuXFPIeLLod"),
        ("reddit", "90bu6w"),
        ("dailymotion", "x8j2k3l"),
    }


def test_textified_instagram_embed_with_and_without_date() -> None:
    text = (
        "The singer posted on Monday.\n\n"
        "At 30 Rockefeller center my charity offers a place to send kind letters.\n"
        "A post shared by xoxo, Gaga (@ladygaga) on Dec 5, 2016 at 9:10am PST\n\n"
        "Then the museum answered.\n\n"
        "View this post on Instagram\n\nA post shared by MoMA (@themuseumofmodernart)\n"
    )
    posts = [d for d in detect_text(text, ALL) if d.platform == "instagram"]
    assert [(d.handle, d.author, d.date, d.markup) for d in posts] == [
        ("ladygaga", "xoxo, Gaga", "2016-12-05", "text"),
        ("themuseumofmodernart", "MoMA", None, "text"),
    ]
    assert (
        posts[0].text == "At 30 Rockefeller center my charity offers a place to send kind letters."
    )


def test_textified_tiktok_embed() -> None:
    text = (
        "Intro of the story.\n\n@scout2015\nScramble up ur name & I’ll try to guess it😍❤️ "
        "#foryoupage\n♬ original sound - Handsome Cutie\n\nThe story goes on."
    )
    d = only([d for d in detect_text(text, ALL) if d.platform == "tiktok"])
    assert (d.handle, d.markup, d.id) == ("scout2015", "text", None)
    assert d.text == "Scramble up ur name & I’ll try to guess it😍❤️ #foryoupage"


def test_bluesky_blockquote_text_leaves_out_the_media_placeholder() -> None:
    # The snippet links the post's image to the post itself as "[image or embed]".
    fixture = "embed-snippet-bluesky-embed-blockquote-raymondcamden-3mgpk65ei7d2u.html"
    d = only(detect_html(page((FIXTURES / fixture).read_text(encoding="utf-8")), ALL))
    assert d.text == (
        "Good morning good people - just a quick test from my Astro app that posts to Mastodon "
        "and Bluesky at the same time."
    )
    assert "[image or embed]" in d.snippet


@pytest.mark.parametrize("placeholder", ["", "\n[image or embed]"])
def test_textified_bluesky_embed(placeholder: str) -> None:
    text = (
        f"The developer wrote:\n\nGood morning good people - just a quick test.{placeholder}\n"
        "— Raymond Camden (@raymondcamden.com) March 10, 2026 at 9:06 AM\n\nMore."
    )
    d = only([d for d in detect_text(text, ALL) if d.platform == "bluesky"])
    assert (d.handle, d.author, d.date) == ("raymondcamden.com", "Raymond Camden", "2026-03-10")
    assert d.text == "Good morning good people - just a quick test."


# --- the labelled corpus (../shared/corpus beside the clone) -------------------------------------


@pytest.mark.skipif(not SHARED_CORPUS.exists(), reason="../shared/corpus is not beside the clone")
def test_labelled_corpus_meets_the_detection_targets() -> None:
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        import detection  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(REPO / "benchmarks"))
    score, _, articles, _ = detection.run(SHARED_CORPUS, repeat=1)
    assert articles >= 30
    assert detection.meets_targets(score), detection.table(score, 1.0, articles, 1)


def test_corpus_label_platforms_are_scored_by_name_or_as_other() -> None:
    labels = SHARED_CORPUS / "labels.jsonl"
    if not labels.exists():
        pytest.skip("../shared/corpus is not beside the clone")
    names = {
        e["platform"]
        for line in labels.read_text().splitlines()
        for e in json.loads(line)["embeds"]
    }
    known = {p.name for p in ALL} | {"other"}
    assert names <= known
