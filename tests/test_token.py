"""The syndication token must match JavaScript's Number.toString(36) digit for digit."""

import pytest

from embedarchive.platforms.twitter import js_to_radix, orig_photo_url, syndication_token


@pytest.mark.parametrize(
    ("post_id", "token"),
    [
        # the known pairs in ../shared/real-samples/SOURCES.md
        ("20", "6dq1a2xwd93"),
        ("1641086480675225601", "3z7miaszni8"),
        ("1684218600456876032", "42z4mwgp9h8"),
        ("2023357708301455483", "4wkkd5uwebk"),
        # computed with node: ((Number(id)/1e15)*Math.PI).toString(36).replace(/(0+|\.)/g,'')
        ("1", "bhi2ay3f28n"),
        ("7", "28eig4mnxfp"),
        ("999", "8uqo9xs4uzm"),
        ("123456789012345678", "arumtis9w99"),
        ("1989331766530212129", "4tlo4ehgvg"),
    ],
)
def test_token_matches_javascript(post_id: str, token: str) -> None:
    assert syndication_token(post_id) == token


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0.5, "0.i"), (35.0, "z"), (36.0, "10"), (1.0 / 3, "0.c"), (255.5, "73.i")],
)
def test_radix_conversion_matches_v8(value: float, expected: str) -> None:
    assert js_to_radix(value) == expected


def test_orig_photo_url_replaces_size_name() -> None:
    assert (
        orig_photo_url("https://pbs.twimg.com/media/AbC.jpg")
        == "https://pbs.twimg.com/media/AbC.jpg?name=orig"
    )
    assert (
        orig_photo_url("https://pbs.twimg.com/media/AbC?format=jpg&name=small")
        == "https://pbs.twimg.com/media/AbC?format=jpg&name=orig"
    )
