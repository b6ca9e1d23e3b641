"""The post page's verdicts, history and evidence, on archives made by the CLI.

Findings are the one source of truth for "as shown vs as captured": the seed post is edited
(``fake_platform.tweets``) and re-checked, then deleted and re-checked, and the pages, the
search's ``changed`` status and the article's cards follow the findings and ``post_changes``.
Recovered embeds and Wayback captures come from the fake Wayback Machine of ``test_recover``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlite_utils import Database

from embedarchive.cli import cli

from .fakeplatform import SEED_ID
from .fakewayback import FakeWayback
from .helpers import SEED, cli_env
from .test_recheck import SEED_JSON, edited_seed
from .test_recover import GONE_ARTICLE, gone_snapshots, seed_without_link, trhaber_timeline
from .test_web import Client, pk_of
from .test_web_search import result_pks
from .test_web_security import IMG, SCRIPT


@pytest.fixture(scope="module")
def wayback_server() -> Iterator[FakeWayback]:
    with FakeWayback() as server:
        yield server


@pytest.fixture
def wayback(wayback_server: FakeWayback) -> FakeWayback:
    wayback_server.reset()
    return wayback_server


def run(args: list[str], env: dict[str, str]) -> None:
    result = CliRunner().invoke(cli, args, env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output


def test_an_edit_then_a_deletion_drive_verdict_history_and_search(
    fake_platform, archive_dir: Path
) -> None:
    env = cli_env(fake_platform, archive_dir)
    run(["archive", str(SEED)], env)
    client = Client(archive_dir / "archive.db")
    pk = pk_of(archive_dir, SEED_ID)
    db = Database(archive_dir / "archive.db")
    assert result_pks(client.get("/search?status=changed").text) == []
    video = next(db["media"].rows_where("kind = 'video'"))["sha256"]

    fake_platform.tweets[SEED_ID] = edited_seed()
    run(["recheck"], env)
    html = client.get(f"/posts/{pk}").text
    assert "Differs from the capture: text edited" in html
    assert 'badge-finding badge-edited">edited' in html
    assert 'Judged against capture <a href="#capture-2">#2</a>' in html
    assert re.search(r'<mark class="del">düştü\.', html) and re.search(r'<mark class="ins">isabet', html)  # fmt: skip
    history = html[html.index('id="history-h"') : html.index('id="prov-h"')]
    assert "text edited" in history and "since capture #1" in history
    assert "media changed" in history and f'removed <code class="sha">{video}</code>' in history
    assert result_pks(client.get("/search?status=changed").text) == [pk]
    article = client.get("/articles/1").text
    assert 'badge-finding badge-edited">edited' in article
    shown = article[article.index('class="as-shown"') :]
    assert "As the article showed it" in shown and "düştü." in shown  # the words it printed
    # The video the edit removed still plays on the post's page, not only as a download.
    earlier = html[html.index("Media of earlier captures") : html.index('id="compare-h"')]
    assert f'<video src="/media/{video}" controls' in earlier and 'href="#capture-1"' in earlier

    fake_platform.tweets[SEED_ID] = None
    run(["recheck"], env)
    html = client.get(f"/posts/{pk}").text
    assert "Post no longer available" in html and 'badge-deleted">deleted' in html
    history = html[html.index('id="history-h"') : html.index('id="prov-h"')]
    assert "now unavailable" in history and "(available at capture #2)" in history
    assert result_pks(client.get("/search?status=changed").text) == [pk]  # it was edited

    del fake_platform.tweets[SEED_ID]
    run(["recheck"], env)
    html = client.get(f"/posts/{pk}").text
    assert "Matches the capture" in html and "back again" in html
    client.close()


def test_an_embed_without_a_finding_is_not_compared_yet(fake_platform, archive_dir: Path) -> None:
    run(["archive", str(SEED)], cli_env(fake_platform, archive_dir))
    pk = pk_of(archive_dir, SEED_ID)
    db = Database(archive_dir / "archive.db")
    db["detections"].insert(
        {"article_id": 1, "platform": "twitter", "kind": "post", "markup": "text",
         "offset": 10_000, "author": "Someone Else", "text": "Completely different words.",
         "resolution": "direct", "post_pk": pk}
    )  # fmt: skip
    db.conn.commit()
    client = Client(archive_dir / "archive.db")
    html = client.get(f"/posts/{pk}").text
    assert "Not compared yet" in html and "Matches the capture" in html
    assert 'class="compare-row differs"' not in html  # nothing flagged without a finding
    assert 'badge-uncompared">not compared yet' in client.get("/articles/1").text
    assert result_pks(client.get("/search?status=changed").text) == []
    client.close()


def test_edited_text_in_the_history_stays_inert(fake_platform, archive_dir: Path) -> None:
    env = cli_env(fake_platform, archive_dir)
    run(["archive", str(SEED)], env)
    tweet = json.loads(SEED_JSON)
    tweet["text"] = f"{SCRIPT} {IMG} javascript:alert(1)"
    tweet["user"]["name"] = IMG
    fake_platform.tweets[SEED_ID] = json.dumps(tweet)
    run(["recheck"], env)
    client = Client(archive_dir / "archive.db")
    html = client.get(f"/posts/{pk_of(archive_dir, SEED_ID)}").text
    assert "text edited" in html and "different author" in html
    for payload in (SCRIPT, IMG, "<script>", "<img src=x"):
        assert payload not in html
    assert "&lt;script&gt;window.pwned" in html and 'href="javascript' not in html
    client.close()


def test_a_recovered_embed_shows_method_score_and_candidates(
    fake_platform, wayback: FakeWayback, archive_dir: Path, tmp_path: Path
) -> None:
    trhaber_timeline(fake_platform, wayback)
    env = {**cli_env(fake_platform, archive_dir), **wayback.env()}
    run(["archive", str(seed_without_link(tmp_path))], env)
    run(["recover"], env)
    client = Client(archive_dir / "archive.db")
    article = client.get("/articles/1").text
    assert 'badge-recovered">recovered' in article
    assert "Found from the article's handle, date and text alone" in article
    assert "similarity 1.000 (threshold 0.9)" in article and "5 candidates" in article
    post = client.get(f"/posts/{pk_of(archive_dir, SEED_ID)}").text
    assert "similarity 1.000" in post and "5 candidates" in post
    client.close()


def test_wayback_captures_are_marked_in_history_and_comparison(
    fake_platform, wayback: FakeWayback, archive_dir: Path, tmp_path: Path
) -> None:
    gone_snapshots(wayback)
    env = {**cli_env(fake_platform, archive_dir), **wayback.env()}
    article = tmp_path / "gone.html"
    article.write_text(GONE_ARTICLE)
    run(["archive", str(article)], env)
    run(["recover"], env)
    client = Client(archive_dir / "archive.db")
    html = client.get("/posts/1").text
    history = html[html.index('id="history-h"') : html.index('id="prov-h"')]
    assert history.count('<tr class="wayback">') == 2
    assert history.count("via web.archive.org") >= 3  # the recovery note and both rows
    assert "2025-03-10T18:00:00Z" in history
    assert "Post no longer available" in html  # the live verdict
    assert "Wayback Machine snapshot, via web.archive.org" in html  # the snapshot's verdict
    assert html.count("Matches the capture") == 1
    client.close()


def test_a_sealed_chain_is_shown_on_each_capture(fake_platform, archive_dir: Path, tsa) -> None:
    env = cli_env(fake_platform, archive_dir, EMBEDARCHIVE_TSA_URL=tsa.url)
    run(["archive", str(SEED)], env)
    run(["seal"], env)
    db = Database(archive_dir / "archive.db")
    stamp = next(db["timestamps"].rows)
    client = Client(archive_dir / "archive.db")
    html = client.get(f"/posts/{pk_of(archive_dir, SEED_ID)}").text
    assert "not sealed" not in html and "not yet" not in html
    assert f'href="/archive/timestamps/{stamp["id"]}"' in html
    assert stamp["tsa_url"] in html and stamp["gen_time"][:10] in html
    assert "(later in the chain, so it covers this one)" in html
    client.close()
