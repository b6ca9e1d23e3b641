"""End to end in a real headless Chromium (Playwright driving Debian's /usr/bin/chromium).

The server is the real ``embedarchive serve`` in a subprocess, on an archive made by the CLI
from the seed article and a round-up, plus the hostile post of ``test_web_security``.
Screenshots go to each test's tmp folder; with ``EMBEDARCHIVE_SCREENSHOTS=docs/screenshots``
the four README screenshots are written there too. ``playwright install`` is never needed:
only the system Chromium is used, and without it these tests are skipped.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .test_web import ROUNDUP, build_archive, start_server
from .test_web_security import hostile_archive

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="browser tests need Debian's Chromium at /usr/bin/chromium "
    "(apt-get install chromium; .ci/run installs it)",
)
sync_api = pytest.importorskip("playwright.sync_api", reason="needs the playwright package")


def serving(folder: Path) -> Iterator[str]:
    proc, base = start_server(folder)
    try:
        yield base.rstrip("/")
    finally:  # a failing test must not leave its server running
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def server(fake_platform: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    folder = build_archive(fake_platform, tmp_path_factory.mktemp("browser") / "archive")
    for base in serving(folder):
        yield {"base": base}


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    folder, pk = hostile_archive(tmp_path_factory.mktemp("hostile") / "archive")
    for base in serving(folder):
        yield {"base": base, "post": pk}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


class Watched:
    """A page that records every request it makes and every console error (CSP violations)."""

    def __init__(self, browser: Any, base: str, width: int = 1280) -> None:
        self.context = browser.new_context(viewport={"width": width, "height": 900}, base_url=base)
        self.page = self.context.new_page()
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))


@pytest.fixture
def watched(browser: Any, server: dict) -> Iterator[Watched]:
    w = Watched(browser, server["base"])
    yield w
    w.context.close()


def shoot(page: Any, tmp_path: Path, name: str) -> None:
    page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)
    docs = os.environ.get("EMBEDARCHIVE_SCREENSHOTS")
    if docs and name in ("home", "search", "article", "post"):
        Path(docs).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(docs) / f"{name}.png"), full_page=True)


def test_fact_checker_finds_the_seed_post_compares_it_and_plays_its_video(
    watched: Watched, server: dict, tmp_path: Path
) -> None:
    page = watched.page
    page.goto("/")
    assert page.locator("h1").inner_text() == "Archived embeds"
    shoot(page, tmp_path, "home")

    page.fill("#home-q", "ordusunun")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/search\?q=ordusunun"))
    results = page.locator(".result")
    assert results.count() == 1
    assert "ordusunun" in results.locator("mark").first.inner_text()
    shoot(page, tmp_path, "search")

    results.locator("a.result-title").click()
    page.wait_for_url(re.compile(r"/posts/\d+$"))
    compare = page.locator(".compare").first
    headers = compare.locator(".compare-header").inner_text()
    assert "As the article showed it" in headers and "As captured" in headers
    assert "Matches the capture" in compare.inner_text()
    author = re.compile(r"^\s*TRHaber\s*$")
    assert compare.locator(".compare-cell").filter(has_text=author).count() == 2

    video = page.locator("video").first
    assert video.evaluate("v => v.canPlayType('video/mp4; codecs=\"avc1.42E01E\"')") != ""
    video.evaluate("v => { v.muted = true; return v.play(); }")
    page.wait_for_function(
        "() => { const v = document.querySelector('video'); "
        "return v.readyState >= 2 && v.currentTime > 0.1; }",
        timeout=15_000,
    )
    video.evaluate("v => { v.pause(); v.currentTime = 0.5; }")
    page.wait_for_function(
        "() => { const v = document.querySelector('video'); "
        "return !v.seeking && Math.abs(v.currentTime - 0.5) < 0.05 && v.readyState >= 2; }"
    )
    shoot(page, tmp_path, "post")

    compare.locator(".compare-source a").click()
    page.wait_for_url(re.compile(r"/articles/\d+#embed-\d+$"))
    assert page.locator(".embed").count() == 1
    shoot(page, tmp_path, "article")

    outside = [u for u in watched.requests if not u.startswith(server["base"] + "/")]
    assert outside == [], "pages must never contact another server"
    assert watched.errors == []


def test_differences_are_highlighted_for_the_other_account(
    watched: Watched, tmp_path: Path
) -> None:
    page = watched.page
    page.goto("/search?q=mattcarrollcode")
    page.locator("a.result-title").first.click()
    page.wait_for_url(re.compile(r"/posts/\d+$"))  # count() does not wait for the new page
    flagged = page.locator(".compare-row.differs")
    assert flagged.count() == 1 and "Handle" in flagged.inner_text()
    assert page.locator(".compare .flag").inner_text().startswith("Differs from the capture")
    shoot(page, tmp_path, "post-differs")


def test_hostile_archived_text_is_inert_in_the_browser(
    browser: Any, hostile_server: dict, tmp_path: Path
) -> None:
    watched = Watched(browser, hostile_server["base"])
    page = watched.page
    for path in (
        f"/posts/{hostile_server['post']}",
        "/articles/1",
        "/search?q=hostile",
        "/archive/posts",
    ):
        page.goto(path)
        page.wait_for_load_state("load")
        assert page.evaluate("() => window.pwned") is None, path
        assert page.locator("img[onerror], svg[onload]").count() == 0, path
        assert page.locator("a[href^='javascript:']").count() == 0, path
    assert watched.dialogs == [] and watched.errors == []
    page.goto(f"/posts/{hostile_server['post']}")
    assert "<script>window.pwned = 1;" in page.locator(".card-full .post-text").inner_text()
    page.screenshot(path=str(tmp_path / "hostile.png"), full_page=True)
    watched.context.close()


def test_phone_layout_has_no_sideways_scrolling(browser: Any, server: dict, tmp_path: Path) -> None:
    phone = Watched(browser, server["base"], width=390)
    try:
        for path in ("/", "/search?q=roundup", "/articles/2", "/posts/3", "/posts/1"):
            phone.page.goto(path)
            width = phone.page.evaluate("() => document.documentElement.scrollWidth")
            assert width <= 390, (path, width)
        shoot(phone.page, tmp_path, "post-phone")
    finally:
        phone.context.close()


def test_a_long_fediverse_handle_does_not_widen_a_phone_page(
    browser: Any, fake_platform: Any, tmp_path: Path
) -> None:
    """``@raymondcamden@mastodon.social`` in the post's heading made a 360 px page 434 px wide."""
    from click.testing import CliRunner
    from sqlite_utils import Database

    from embedarchive.cli import cli

    from .helpers import ARTICLES, cli_env

    folder = tmp_path / "archive"
    article = str(ARTICLES / "social-telegram-bluesky-mastodon.html")
    assert CliRunner().invoke(cli, ["archive", article], env=cli_env(fake_platform, folder)).exit_code == 0  # fmt: skip
    pks = [p["id"] for p in Database(folder / "archive.db")["posts"].rows]
    for base in serving(folder):
        phone = Watched(browser, base, width=360)
        try:
            for pk in pks:
                phone.page.goto(f"/posts/{pk}")
                width = phone.page.evaluate("() => document.documentElement.scrollWidth")
                assert width <= 360, (pk, width)
        finally:
            phone.context.close()


def test_keyboard_skip_link_and_slash_to_search(watched: Watched) -> None:
    page = watched.page
    page.goto("/posts/1")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    page.keyboard.press("/")
    assert page.evaluate("() => document.activeElement.id") == "top-q"
    page.keyboard.type("roundup")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/search\?q=roundup"))
    assert page.locator(".result").count() == ROUNDUP.count("https://twitter.com/")
