from pathlib import Path

import pytest

from embedarchive.errors import ConfigError
from embedarchive.settings import describe, load_settings


def test_env_overrides_default_and_records_source() -> None:
    loaded = load_settings(
        environ={"EMBEDARCHIVE_TWITTER_OEMBED_URL": "http://mirror.example/oembed"}
    )
    assert loaded.settings.twitter_oembed_url == "http://mirror.example/oembed"
    assert loaded.sources["twitter_oembed_url"] == "env EMBEDARCHIVE_TWITTER_OEMBED_URL"
    assert loaded.sources["twitter_syndication_url"] == "default"


def test_command_line_beats_env_and_file(tmp_path: Path) -> None:
    config = tmp_path / "embedarchive.toml"
    config.write_text('read_timeout = 5\ntwitter_methods = ["oembed"]\n')
    loaded = load_settings(
        {"read_timeout": 7}, environ={"EMBEDARCHIVE_READ_TIMEOUT": "6"}, config_file=config
    )
    assert loaded.settings.read_timeout == 7.0
    assert loaded.sources["read_timeout"] == "command line"
    assert loaded.settings.twitter_methods == ("oembed",)
    assert loaded.sources["twitter_methods"].startswith("file ")


def test_config_file_in_archive_folder_is_found(tmp_path: Path) -> None:
    (tmp_path / "embedarchive.toml").write_text('user_agent = "desk/1"\n')
    loaded = load_settings({"archive_dir": tmp_path}, environ={})
    assert loaded.settings.user_agent == "desk/1"


def test_methods_list_from_env_keeps_order() -> None:
    loaded = load_settings(environ={"EMBEDARCHIVE_TWITTER_METHODS": "fxtwitter, syndication"})
    assert loaded.settings.twitter_methods == ("fxtwitter", "syndication")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"EMBEDARCHIVE_READ_TIMEOUT": "soon"}, "read_timeout"),
        ({"EMBEDARCHIVE_ALLOW_PRIVATE_NETWORK": "maybe"}, "allow_private_network"),
        ({"EMBEDARCHIVE_TWITTER_METHODS": "syndication,carrier-pigeon"}, "carrier-pigeon"),
        ({"EMBEDARCHIVE_FXTWITTER_URL": "file:///etc/passwd"}, "fxtwitter_url"),
        ({"EMBEDARCHIVE_JOBS": "0"}, "jobs must be a number more than 0, got 0"),
        ({"EMBEDARCHIVE_MAX_ARTICLE_BYTES": "-1"}, "max_article_bytes must be a number more"),
        ({"EMBEDARCHIVE_PER_HOST_RATE": "-5"}, "per_host_rate must be a number 0 or more"),
        ({"EMBEDARCHIVE_TOTAL_TIMEOUT": "nan"}, "total_timeout must be a number more than 0"),
        ({"EMBEDARCHIVE_READ_TIMEOUT": "inf"}, "read_timeout must be a number more than 0"),
        ({"EMBEDARCHIVE_RECOVER_MIN_SIMILARITY": "1.5"}, "recover_min_similarity is a ratio"),
        # A thread per job: 23 digits of them filled 24 GB before the kernel killed the run.
        ({"EMBEDARCHIVE_JOBS": "99999999999999999999999"}, "jobs must be at most 1024"),
        ({"EMBEDARCHIVE_PER_HOST_CONNECTIONS": "5000"}, "per_host_connections must be at most"),
        ({"EMBEDARCHIVE_TWITTER_METHODS": ""}, "twitter_methods names no method"),
        ({"EMBEDARCHIVE_TWITTER_METHODS": ","}, "twitter_methods names no method"),
        ({"EMBEDARCHIVE_TWITTER_SYNDICATION_URL": "http://"}, "twitter_syndication_url must be"),
    ],
)
def test_invalid_values_are_config_errors(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(environ=env)


@pytest.mark.parametrize("line", ["jobs = 4.5", "jobs = true", "read_timeout = true"])
def test_a_toml_value_of_the_wrong_type_is_refused_not_rounded(tmp_path: Path, line: str) -> None:
    config = tmp_path / "c.toml"
    config.write_text(line + "\n")
    with pytest.raises(ConfigError, match="has an invalid value"):
        load_settings(environ={}, config_file=config)


def test_zero_means_none_or_no_limit_where_it_can() -> None:
    zeros = ("MAX_REDIRECTS", "PER_HOST_RATE", "HTTP_RETRIES", "RETRY_BASE_DELAY")
    loaded = load_settings(environ={f"EMBEDARCHIVE_{name}": "0" for name in zeros})
    assert (loaded.settings.max_redirects, loaded.settings.per_host_rate) == (0, 0)


def test_unknown_key_in_file_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text("colour = 'blue'\n")
    with pytest.raises(ConfigError, match="colour"):
        load_settings(environ={}, config_file=config)


def test_every_endpoint_is_a_documented_setting() -> None:
    rows = describe(load_settings(environ={}))
    urls = [r for r in rows if r["name"].endswith("_url")]
    assert {r["name"] for r in urls} >= {
        "twitter_syndication_url",
        "twitter_oembed_url",
        "fxtwitter_url",
        "twitter_pic_url",
        "twitter_tco_url",
    }
    assert all(r["doc"] and r["env"].startswith("EMBEDARCHIVE_") for r in rows)
