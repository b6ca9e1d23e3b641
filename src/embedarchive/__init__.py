"""embedarchive: preserve the social-media sources of news articles, with provenance."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("embedarchive")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0+source"

__all__ = ["__version__"]
