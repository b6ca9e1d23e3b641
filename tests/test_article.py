import io
from pathlib import Path

import pytest

from embedarchive.article import build_article, decode, load_file, load_stdin
from embedarchive.errors import InputError

HU = "Azerbajdzsán pénteken berendelte az orosz nagykövetet; a rakéta megrongálta a kijevi nagykövetséget. Őrizetben, üzenet, tűz."


def test_latin2_text_decodes_without_loss() -> None:
    text, encoding = decode(HU.encode("iso-8859-2"))
    assert text == HU
    assert encoding.lower().replace("_", "-") in {
        "iso8859-2",
        "iso-8859-2",
        "latin2",
        "cp1250",
        "windows-1250",
    }


def test_windows_1250_declared_in_meta() -> None:
    html = f'<html><head><meta charset="windows-1250"></head><body><p>{HU}</p></body></html>'
    text, encoding = decode(html.encode("cp1250"), is_html=True)
    assert HU in text
    assert encoding == "cp1250"


def test_utf8_bom_and_header_charset() -> None:
    assert decode(b"\xef\xbb\xbfhello \xc5\x91")[0] == "hello ő"
    assert decode("ő".encode("iso-8859-2"), declared="ISO-8859-2")[0] == "ő"


def test_article_keeps_exact_bytes_and_hash(tmp_path: Path) -> None:
    raw = HU.encode("iso-8859-2")
    path = tmp_path / "a.txt"
    path.write_bytes(raw)
    article = load_file(path, 10_000)
    assert article.raw == raw
    assert article.sha256 == __import__("hashlib").sha256(raw).hexdigest()
    assert not article.is_html
    assert article.text == HU


def test_a_long_first_line_is_a_title_cut_after_a_whole_word(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    lead = "Azerbajdzsán pénteken berendelte az orosz nagykövetet, " * 3
    path.write_text(lead + "\n\nMore text.\n", encoding="utf-8")
    title = load_file(path, 10_000).title
    assert title is not None and len(title) <= 120 and title.endswith("nagykövetet…")
    assert lead.startswith(title[:-1])


def test_html_file_is_html_and_has_title(tmp_path: Path) -> None:
    path = tmp_path / "a.htm"
    path.write_text("<title>Kijev &amp; Baku</title><p>x</p>", encoding="utf-8")
    article = load_file(path, 10_000)
    assert article.is_html and article.title == "Kijev & Baku"


def test_stdin_is_sniffed() -> None:
    article = load_stdin(io.BytesIO(b"<!doctype html><p>hi</p>"), 1000)
    assert article.source == "-" and article.is_html


@pytest.mark.parametrize(
    ("data", "message"),
    [(b"", "empty"), (b"  \n", "empty"), (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary")],
)
def test_bad_articles_are_input_errors(data: bytes, message: str) -> None:
    with pytest.raises(InputError, match=message):
        build_article(data, source="x", source_kind="file")


def test_missing_file_and_folder_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        load_file(tmp_path / "nope.txt", 100)
    with pytest.raises(InputError, match="folder"):
        load_file(tmp_path, 100)


def test_size_cap(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_bytes(b"a" * 101)
    with pytest.raises(InputError, match="cap"):
        load_file(path, 100)
