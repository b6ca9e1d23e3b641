"""Plain-text detection: copied tweets (attribution lines), status URLs and bare short links."""

from __future__ import annotations

import json
import re
from pathlib import Path

import dateparser
import pytest

from embedarchive.article import build_article
from embedarchive.detect import _links as links
from embedarchive.detect import dates, detect, detect_text
from embedarchive.detect import text as text_module
from embedarchive.detect.dates import iso_date
from embedarchive.models import Detection
from embedarchive.platforms import REGISTRY

FIXTURES = Path(__file__).parent / "fixtures" / "articles"
TEXT_CORPUS = FIXTURES / "text"

_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("January", "Januar"),
            ("February", "Februar"),
            ("March", "März"),
            ("April",),
            ("May", "Mai"),
            ("June", "Juni"),
            ("July", "Juli"),
            ("August",),
            ("September",),
            ("October", "Oktober"),
            ("November",),
            ("December", "Dezember"),
        ],
        start=1,
    )
    for name in names
}


def label_date(text: str) -> str:
    """The corpus labels' dates ("January 25, 2019", "25. September 2018") as ISO."""
    m = re.fullmatch(r"(\w+) (\d+), (\d{4})", text) or re.fullmatch(r"(\d+)\. (\w+) (\d{4})", text)
    assert m, text
    a, b, year = m.groups()
    month, day = (a, b) if not a.isdigit() else (b, a)
    return f"{year}-{_MONTHS[month]:02d}-{int(day):02d}"


def text_labels() -> list[dict]:
    lines = (TEXT_CORPUS / "text-labels.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def only(detections: list[Detection]) -> Detection:
    assert len(detections) == 1, detections
    return detections[0]


def assert_offsets_point_at_text(text: str, detections: list[Detection]) -> None:
    for d in detections:
        assert 0 <= d.offset < len(text)
        assert text.startswith(d.snippet, d.offset)
        if d.text:
            assert text.startswith(d.text, d.offset)


# --- the seed -------------------------------------------------------------------------------


def test_seed_article_yields_exactly_the_trhaber_post() -> None:
    text = (FIXTURES / "seed-article-hu.txt").read_text(encoding="utf-8")
    d = only(detect_text(text))
    assert (d.platform, d.kind, d.markup) == ("twitter", "post", "text")
    assert (d.handle, d.author, d.date) == ("trhaber_com", "TRHaber", "2025-11-14")
    assert d.links == ("pic.twitter.com/sto5JNQDWw",)
    assert d.url is None and d.id is None
    assert d.text is not None
    assert d.text.startswith("Rus ordusunun Ukrayna'ya")
    # Documented choice: the post text is kept as shown, including its pic link.
    assert d.text.endswith("Bakanlığı'na çağrıldı. pic.twitter.com/sto5JNQDWw")
    assert "következményeit" not in d.text  # the article's lead-in paragraph is not the post's
    assert text[d.offset :].startswith("Rus ordusunun")
    assert d.snippet.endswith("(@trhaber_com) November 14, 2025")
    assert_offsets_point_at_text(text, [d])


def test_detect_reads_a_text_article_as_text() -> None:
    text = (FIXTURES / "seed-article-hu.txt").read_text(encoding="utf-8")
    article = build_article(
        text.encode("utf-8"), source="seed-article-hu.txt", source_kind="file", is_html=False
    )
    assert detect(article) == detect_text(text)
    assert only(detect(article)).handle == "trhaber_com"


# --- the labelled corpus ----------------------------------------------------------------------


@pytest.mark.parametrize("label", text_labels(), ids=lambda lab: lab["file"])
def test_every_labelled_copied_tweet_is_found_with_handle_date_and_links(label: dict) -> None:
    text = (TEXT_CORPUS / label["file"]).read_text(encoding="utf-8")
    detections = detect_text(text)
    posts = [d for d in detections if d.platform == "twitter" and d.markup == "text"]
    remaining = list(posts)
    for embed in label["embeds"]:
        wanted = (embed["handle"].lstrip("@"), label_date(embed["date"]), tuple(embed["links"]))
        match = next((d for d in remaining if (d.handle, d.date, d.links) == wanted), None)
        assert match is not None, f"{wanted} not in {[(d.handle, d.date, d.links) for d in posts]}"
        assert match.author == embed["display_name"]
        remaining.remove(match)
    # Labels list a post shown twice once ("occurrences": 2); so must we. Nothing else is found.
    assert remaining == []
    assert_offsets_point_at_text(text, detections)


def test_a_post_text_stops_at_the_previous_attribution() -> None:
    text = (TEXT_CORPUS / "016.txt").read_text(encoding="utf-8")
    by_handle = {d.handle: d for d in detect_text(text)}
    assert by_handle["harris_wins"].text == "BREAKING: Twitter."
    assert by_handle["SethAbramson"].text == (
        "LOL the Elon-Trump space is broken no one can get in apparently\n\n"
        "This app is a flaming poop salad"
    )
    assert by_handle["PaulRudnickNY"].text is not None
    assert by_handle["PaulRudnickNY"].text.startswith("The Musk/Trump interview crashed because:")


def test_article_paragraphs_between_two_posts_are_not_taken_for_the_post() -> None:
    text = (TEXT_CORPUS / "073.txt").read_text(encoding="utf-8")
    texts = [d.text for d in detect_text(text)]
    assert texts == [
        "Friendly faces everywhere, humble folks without temptation pic.twitter.com/f2ersnzQxd",
        "Heading up to Denver, gonna see if I can’t unwind pic.twitter.com/30SifoLRX1",
    ]


# --- variants -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shown", "iso"),
    [
        ("November 14, 2025", "2025-11-14"),
        ("25. September 2018", "2018-09-25"),
        ("14 novembre 2025", "2025-11-14"),
        ("2025年11月14日", "2025-11-14"),
        ("26 de abril de 2022", "2022-04-26"),
        ("14 ноября 2025 г.", "2025-11-14"),
        ("2025. november 14.", "2025-11-14"),
        ("14 Kasım 2025", "2025-11-14"),
    ],
)
def test_dates_in_any_language_become_iso(shown: str, iso: str) -> None:
    text = (
        f"Intro.\n\nA post. pic.twitter.com/Ab12Cd34Ef\n\n— Some One (@some_one) {shown}\n\nMore."
    )
    d = only(detect_text(text))
    assert (d.handle, d.author, d.date) == ("some_one", "Some One", iso)
    assert d.text == "A post. pic.twitter.com/Ab12Cd34Ef"


@pytest.mark.parametrize("dash", ["—", "–", "-", "&mdash;"])
def test_any_dash_introduces_the_attribution(dash: str) -> None:
    text = f"Article text.\n\nHello world https://t.co/XyZ987abCD\n{dash} Jane Doe (@JaneDoe) March 3, 2021\n"
    d = only(detect_text(text))
    assert (d.handle, d.author, d.date) == ("JaneDoe", "Jane Doe", "2021-03-03")
    assert d.links == ("https://t.co/XyZ987abCD",)


def test_several_posts_in_one_text_come_out_in_order() -> None:
    text = (
        "Reactions poured in.\n\n"
        "First post text pic.twitter.com/AAAaaa1111\n\n"
        "— Alpha (@alpha) January 1, 2024\n\n"
        "Meanwhile the minister said nothing. Critics were quick to respond, and the debate\n"
        "went on for days in the press and in parliament.\n\n"
        "Second post text\n\n"
        "— Beta (@beta_2) 2. Januar 2024\n\n"
        "Third one https://t.co/CCCccc3333\n"
        "— Gamma (@Gamma) 3 janvier 2024\n"
    )
    detections = detect_text(text)
    assert [(d.handle, d.date) for d in detections] == [
        ("alpha", "2024-01-01"),
        ("beta_2", "2024-01-02"),
        ("Gamma", "2024-01-03"),
    ]
    assert [d.text for d in detections] == [
        "First post text pic.twitter.com/AAAaaa1111",
        "Second post text",
        "Third one https://t.co/CCCccc3333",
    ]
    assert [d.offset for d in detections] == sorted(d.offset for d in detections)
    assert_offsets_point_at_text(text, detections)


def test_a_post_quoted_inside_a_sentence_starts_after_the_lead_in() -> None:
    text = (
        "Az ügyről a minisztérium is megszólalt. Ahogy a szóvivő írta: A nagykövetség épülete "
        "megsérült. pic.twitter.com/QwErTy1234 — Szóvivő Iroda (@szovivo) 14 novembre 2025. "
        "A cikk itt folytatódik.\n"
    )
    d = only(detect_text(text))
    assert d.text == "A nagykövetség épülete megsérült. pic.twitter.com/QwErTy1234"
    assert (d.handle, d.author, d.date) == ("szovivo", "Szóvivő Iroda", "2025-11-14")
    assert text[d.offset :].startswith("A nagykövetség")
    assert "folytatódik" not in d.snippet


def test_a_post_in_quote_marks_inside_a_sentence_is_the_quoted_part() -> None:
    text = (
        "Musk replied, “Still working on it” — Elon Musk (@elonmusk) September 9, 2016, and left."
    )
    d = only(detect_text(text))
    assert d.text == "Still working on it"
    assert d.date == "2016-09-09"


def test_latin2_article_decoded_upstream_is_read_like_any_text() -> None:
    # Latin-2 has no em dash, so such pages attribute with a hyphen.
    raw = (
        "Előzmények: a kormányszóvivő így reagált:\n\n"
        "Őszintén szólva ez felháborító. pic.twitter.com/GyoR0ut7Ab"
        "\n\n- Kormányszóvivő Ügynökség (@kormany_hu) 2025. november 14.\n\n"
        "Győr és Székesfehérvár is érintett.\n"
    ).encode("iso-8859-2")
    text = raw.decode("iso-8859-2")
    d = only(detect_text(text))
    assert (d.handle, d.author, d.date) == ("kormany_hu", "Kormányszóvivő Ügynökség", "2025-11-14")
    assert d.text == "Őszintén szólva ez felháborító. pic.twitter.com/GyoR0ut7Ab"
    assert d.links == ("pic.twitter.com/GyoR0ut7Ab",)


def test_a_blank_line_wider_than_the_articles_joins_post_paragraphs() -> None:
    text = (
        "Para one of the article.\n\nPara two of the article.\n\nAs shown below\n\n"
        "Post line one.\n\n\n\nPost line two. pic.twitter.com/Zz9Yy8Xx7W — Acct (@acct) May 5, 2020\n\n"
        "Para three.\n"
    )
    d = only(detect_text(text))
    assert d.text == "Post line one.\n\n\n\nPost line two. pic.twitter.com/Zz9Yy8Xx7W"


# --- links ----------------------------------------------------------------------------------


def test_bare_short_links_outside_a_post_are_detections_of_their_own() -> None:
    text = "See pic.twitter.com/XyZ123abcD and https://t.co/AbCdE12345 for the footage."
    detections = detect_text(text)
    assert [(d.platform, d.markup, d.url, d.id, d.links) for d in detections] == [
        ("twitter", "text", None, None, ("pic.twitter.com/XyZ123abcD",)),
        ("twitter", "text", None, None, ("https://t.co/AbCdE12345",)),
    ]
    assert_offsets_point_at_text(text, detections)


def test_short_links_glued_to_words_keep_their_case_and_scheme() -> None:
    text = "under this administrationhttps://t.co/WcgraWqkiA pic.twitter.com/6IIMTmurg9\n"
    assert [d.links for d in detect_text(text)] == [
        ("https://t.co/WcgraWqkiA",),
        ("pic.twitter.com/6IIMTmurg9",),
    ]


@pytest.mark.parametrize(
    ("shown", "post_id", "url"),
    [
        (
            "https://twitter.com/SomeUser/status/1234567890123456789",
            "1234567890123456789",
            "https://twitter.com/SomeUser/status/1234567890123456789",
        ),
        ("https://x.com/AbC_9/status/42/photo/1", "42", "https://twitter.com/AbC_9/status/42"),
        ("mobile.twitter.com/dev/status/77?s=20&t=XyZ", "77", "https://twitter.com/dev/status/77"),
        ("https://fxtwitter.com/Dev/status/78/video/1", "78", "https://twitter.com/Dev/status/78"),
        ("https://vxtwitter.com/dev/status/79", "79", "https://twitter.com/dev/status/79"),
        ("https://fixupx.com/dev/status/80", "80", "https://twitter.com/dev/status/80"),
        ("https://nitter.net/dev/status/81#m", "81", "https://twitter.com/dev/status/81"),
        ("https://twitter.com/i/web/status/82", "82", "https://twitter.com/i/status/82"),
    ],
)
def test_status_urls_in_text_are_link_detections(shown: str, post_id: str, url: str) -> None:
    text = f"Source: {shown} (accessed today)."
    d = only(detect_text(text))
    assert (d.platform, d.markup, d.id, d.url) == ("twitter", "link", post_id, url)
    assert text[d.offset :].startswith(d.snippet)


def test_a_status_url_shown_cut_short_names_no_post() -> None:
    """X shows long links cut with "…": the digits before it are not the post's id."""
    text = "See https://x.com/trhaber_com/status/19892736472837… for more."
    assert [d for d in detect_text(text) if d.markup == "link"] == []


def test_hosts_that_merely_end_like_x_com_are_not_twitter() -> None:
    assert detect_text("see linux.com/a/status/123 and box.com/b/status/456") == []


def test_a_status_link_of_the_same_account_inside_the_post_gives_it_url_and_id() -> None:
    text = (
        "Text before.\n\nOur statement: twitter.com/acme/status/555 pic.twitter.com/AAbbCC1122\n\n"
        "— Acme (@acme) June 1, 2023\n"
    )
    d = only(detect_text(text))
    assert (d.markup, d.id, d.url) == ("text", "555", "https://twitter.com/acme/status/555")
    assert d.links == ("twitter.com/acme/status/555", "pic.twitter.com/AAbbCC1122")


def test_the_same_copied_post_twice_is_reported_once() -> None:
    post = "Same words pic.twitter.com/DupDup1234\n\n— Dup (@dup) July 7, 2022\n\n"
    text = "Intro.\n\n" + post + "Middle of the article, long enough to be prose.\n\n" + post
    d = only(detect_text(text))
    assert d.offset == text.index("Same words")


def test_the_same_status_url_twice_is_reported_once() -> None:
    text = "https://x.com/a/status/9 and again https://twitter.com/a/status/9?s=20"
    d = only(detect_text(text))
    assert d.offset == 0


def test_an_attribution_without_a_date_is_not_a_post() -> None:
    assert detect_text("Thanks to everyone.\n\n— John Smith (@jsmith)\n") == []


def test_article_dashes_and_handles_in_prose_are_not_posts() -> None:
    text = "The ministry – said the agency – was silent; @someone (@someone) replied in 2024.\n"
    assert detect_text(text) == []


@pytest.mark.parametrize(
    "text",
    [
        # An aside: a dash, a handle, then the date after words of its own.
        "The claim was repeated by the party leader – John Smith (@jsmith) – on 14 November 2025"
        " in a post that was later deleted.",
        '"We will not back down," wrote the minister — Jane Doe (@janedoe) — on Friday, '
        "November 14, 2025.",
        "The post — written by John Smith (@jsmith) on November 14, 2025 — was deleted.",
        # Bylines, credits and lists: a comma, a bar or a dash before the date, or no date.
        "Text of the article.\n\n— John Smith (@jsmith) | Updated November 14, 2025 09:41",
        "Text of the article.\n\n— John Smith (@jsmith), November 14, 2025",
        "Text.\n\nJohn Smith - Senior reporter (@jsmith) - 14.11.2025",
        "Text of article.\n\n- Photo by John Smith (@jsmith), 14 November 2025",
        "Speakers:\n- Peter Nagy (@peternagy) 12 years at the paper, joined 2013",
        # Instagram's words in a sentence, not its embed's line of their own.
        "A post shared by Taylor Swift (@taylorswift) on Instagram on Tuesday announced the tour.",
        "Ein Beitrag geteilt von Lena Meyer (@lenameyer) sorgte am Montag für Aufregung.",
    ],
)
def test_asides_bylines_and_credits_with_a_handle_are_not_posts(text: str) -> None:
    assert [d for d in detect_text(text) if d.markup == "text"] == []


@pytest.mark.parametrize(
    ("label", "attribution", "handle"),
    [
        ("View this post on Instagram", "A post shared by National Geographic (@natgeo)", "natgeo"),
        ("Diesen Beitrag auf Instagram ansehen", "Ein Beitrag geteilt von BTS (@bts)", "bts"),
        (
            "Ver essa foto no Instagram",
            "Um post compartilhado por LEVIATAN (@leviatangg)",
            "leviatangg",
        ),
        ("Lihat postingan ini di Instagram", "Sebuah kiriman dibagikan oleh BTS (@bts)", "bts"),
        # The name first: Hungarian (the seed article's language), Turkish, Japanese.
        (
            "Instagram-bejegyzés megtekintése",
            "ATTILA (@attilapt) által megosztott bejegyzés",
            "attilapt",
        ),  # fmt: skip
        (
            "Bu gönderiyi Instagram'da gör",
            "Zaxe 3D Yazıcı (@zaxe3d)'in paylaştığı bir gönderi",
            "zaxe3d",
        ),  # fmt: skip
        ("この投稿をInstagramで見る", "NOBBY(@fnkmdns)がシェアした投稿", "fnkmdns"),
    ],
)
def test_a_copied_instagram_embed_without_a_caption_has_no_text(
    label: str, attribution: str, handle: str
) -> None:
    """Its only words are the embed's link ("View this post on Instagram"): not the post's."""
    [d] = detect_text(f"The singer announced a tour.\n\n{label}\n\n{attribution}\n\nMore.")
    assert (d.platform, d.handle, d.text) == ("instagram", handle, None)


def test_a_copied_bluesky_post_with_media_keeps_its_words() -> None:
    """Its embed writes "[image or embed]" under the words: the block above is the post's."""
    text = (
        "The singer announced the tour on Monday.\n\nThe tour starts in May.\n\n"
        "[image or embed]\n\n— Some Band (@someband.bsky.social) November 14, 2025 at 9:06 AM"
        "\n\nTickets go on sale next week."
    )
    [d] = detect_text(text)
    assert (d.platform, d.handle, d.date) == ("bluesky", "someband.bsky.social", "2025-11-14")
    assert d.text == "The tour starts in May."


@pytest.mark.parametrize(
    "copied",
    [
        # A browser's copy of TikTok's own embed code: the handle's link is inline.
        "@tinycircuits Coding Thumby for Jimin’s birthday. #jimin #fyp ♬ original sound - TinyCircuits",
        "@tinycircuits\nCoding Thumby for Jimin’s birthday. #jimin #fyp\n♬ original sound - TinyCircuits",
        # WordPress's oEmbed copy: blank lines around the caption; and CRLF line ends.
        "@tinycircuits\n\nCoding Thumby for Jimin’s birthday. #jimin #fyp\n\n♬ original sound - TinyCircuits",
        "@tinycircuits\r\nCoding Thumby for Jimin’s birthday. #jimin #fyp\r\n♬ original sound - TinyCircuits",
    ],
)
def test_a_copied_tiktok_embed_is_found_in_each_layout(copied: str) -> None:
    [d] = detect_text(f"Intro paragraph.\n\n{copied}\n\nMore text.")
    assert (d.platform, d.handle) == ("tiktok", "tinycircuits")
    assert d.text == "Coding Thumby for Jimin’s birthday. #jimin #fyp"


# --- what makes reading fast must not change what is read ------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "November 14, 2025",
        "Nov 14, 2025",
        "Sept. 9, 2016",
        "Dec. 5, 2016",
        "March 10, 2026 at 9:06 AM",
        "14. November 2025",
        "6. März 2018",
        "29. Februar 2024",
        "February 30, 2019",
        "may 5, 2020",
        "August 13, 2024 at 12:59 PM",
    ],
)
def test_common_dates_are_read_as_dateparser_reads_them(text: str) -> None:
    parsed = dateparser.parse(text, settings=dates._SETTINGS)
    assert iso_date(text) == (parsed.date().isoformat() if parsed else None)


def test_dates_in_other_shapes_still_go_to_dateparser() -> None:
    assert iso_date("14 novembre 2025") == "2025-11-14"
    assert iso_date("2025年11月14日") == "2025-11-14"
    assert iso_date("Instagram Beitrag") is None


def test_literal_gates_change_no_match(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every platform pattern is only tried where its literal part occurs: the same links are
    found as when every pattern is tried everywhere."""
    samples = [
        "See https://twitter.com/a/status/1 and x.com/b/status/2 pic.twitter.com/AbCdEf123",
        "HTTPS://WWW.YOUTUBE.COM/watch?v=dQw4w9WgXcQ youtu.be/dQw4w9WgXcQ t.co/WcgraWqkiA",
        "at://did:plc:abcdefghijklmnopqrstuvwx/app.bsky.feed.post/3k7qmjev5lr2s",
        "https://mastodon.social/@raymondcamden/116205264348332986 ſtatus twİtter.com/a/status/3",
        "— Jörg (@jo_rg) 14. November 2022 and A post shared by Name (@name.x) on Dec 5, 2016",
        "@someone\ncaption words\n♬ original sound - someone",
    ]
    gated = [(detect_text(t), links.shown_links(t, REGISTRY)) for t in samples]
    monkeypatch.setattr(links, "literal_gate", lambda pattern: None)
    monkeypatch.setattr(text_module, "literal_gate", lambda pattern: None)
    assert [(detect_text(t), links.shown_links(t, REGISTRY)) for t in samples] == gated


@pytest.mark.parametrize(
    "link",
    [
        "https://X.COM/a/STATUS/1234567",  # upper case: the gates ignore case as the patterns do
        "https://x.com/a/\u017ftatus/1234567",  # a long s, which re takes for an s
        "pic.x.com/AbCdEf1",  # the second alternative of the short-link gate, spelt out
    ],
)
def test_a_long_text_finds_what_a_short_one_does(link: str) -> None:
    """Long texts are looked at lowered, once for all gates: that must find every link the
    case-insensitive patterns find (``str.lower`` keeps ``ſ`` and ``ı``, and turns ``İ``
    into two characters, so a text holding one is searched as before)."""
    short = f"Read this: {link}\n"
    padding = "Az orosz nagykövet ma reggel a minisztériumba ment. " * 1500  # over 64 kB
    found = [(d.platform, d.id, d.links) for d in detect_text(short)]
    assert found and found == [(d.platform, d.id, d.links) for d in detect_text(padding + short)]


def test_gates_spell_out_alternatives_of_literals() -> None:
    from embedarchive.platforms.facebook import Facebook
    from embedarchive.platforms.twitter import Twitter

    assert links.literal_gates(Twitter.short_link_patterns[0]) == ("pic.twitter.com/", "pic.x.com/")
    assert links.literal_gates(Facebook.short_link_patterns[0]) == (
        "fb.watch/",
        "facebook.com/share/",
    )
    assert links.literal_gates(Twitter.url_patterns[0]) == ("/status",)
