"""The ``embedarchive`` command and ``python -m embedarchive``.

A separate entry so that Ctrl-C while the program is still loading (half a second of imports:
yt-dlp, dateparser, lxml) ends like Ctrl-C anywhere else, in one line and exit 130.
"""

from __future__ import annotations

import sys

INTERRUPTED = 130


def run() -> None:
    try:
        from .cli import main

        main()
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted before anything was stored\n")
        sys.exit(INTERRUPTED)


if __name__ == "__main__":
    run()
