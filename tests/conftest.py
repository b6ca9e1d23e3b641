"""Shared fixtures: the fake X/Twitter platform, a per-test archive folder, the ``network`` marker.

Only plain data (dicts, paths) is exposed, and ``embedarchive`` is not imported here, so any test
can build its own ``Settings`` from ``fake_settings`` / ``fake_env``.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

try:  # tests/ is a package (tests/__init__.py) ...
    from .fakeplatform import FakePlatform
    from .faketsa import FakeTSA
except ImportError:  # ... or a plain folder that pytest puts on sys.path
    from fakeplatform import FakePlatform
    from faketsa import FakeTSA

NETWORK_ENV = "EMBEDARCHIVE_NETWORK_TESTS"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``network`` need the live internet: skipped unless the env var is "1"."""
    if os.environ.get(NETWORK_ENV) == "1":
        return
    skip = pytest.mark.skip(reason=f"needs the live internet; set {NETWORK_ENV}=1 to run")
    for item in items:
        if item.get_closest_marker("network") is not None:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def fake_platform() -> Iterator[FakePlatform]:
    """One fake X/Twitter server for the session; its log and toggles are reset before each test."""
    with FakePlatform() as platform:
        yield platform


@pytest.fixture(scope="session")
def tsa() -> Iterator[FakeTSA]:
    """One local RFC 3161 Time-Stamping Authority for the session (``seal``)."""
    with FakeTSA() as server:
        yield server


@pytest.fixture(autouse=True)
def _reset_fake_platform(request: pytest.FixtureRequest) -> None:
    if "fake_platform" in request.fixturenames:
        platform: FakePlatform = request.getfixturevalue("fake_platform")
        platform.start()
        platform.reset()


@pytest.fixture
def archive_dir(tmp_path: Path) -> Path:
    """Where a test's archive goes; not created, so tests also see the tool create it."""
    return tmp_path / "archive"


@pytest.fixture
def fake_settings(fake_platform: FakePlatform, archive_dir: Path) -> dict[str, Any]:
    """Settings overrides (a plain dict) pointing embedarchive at the fake and at ``archive_dir``."""
    return {**fake_platform.settings_overrides(), "archive_dir": archive_dir}


@pytest.fixture
def fake_env(fake_platform: FakePlatform, archive_dir: Path) -> dict[str, str]:
    """The same as ``EMBEDARCHIVE_*`` environment variables, e.g. for click's CliRunner."""
    return {**fake_platform.env(), "EMBEDARCHIVE_ARCHIVE_DIR": str(archive_dir)}


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 8 MB tmpfs mounted for the test (root only; skipped otherwise)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs (needs root): {done.stderr.strip()}")
    try:
        yield mount
    finally:
        # Lazily: a connection still open (Datasette keeps its own) would make it "busy".
        subprocess.run(["umount", "--lazy", str(mount)], check=False)
