"""Detection compiled with mypyc: how far compiling the detector's Python (not the parser)
goes towards 300 articles/s, measured by ``detection.py`` on a compiled copy.

    .venv/bin/python benchmarks/detection_mypyc.py [detection.py's arguments]

Copies ``src/`` to a temporary folder, compiles ``embedarchive/detect`` there with mypyc
(mypy's compiler, in the test extras; it needs a C compiler) and runs ``detection.py`` with
that copy first on the path. The repository is not touched and nothing is installed: the
compiled detector is a measurement, not a way the tool is shipped (the README promises an
install with only Python and pip). Two spellings mypyc 2.x cannot compile are rewritten in the
copy: ``reversed()`` over a sequence typed ``Any`` (an internal error) and a lone surrogate in
a string literal.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_REVERSED_LOOP = re.compile(r"for (\w+) in reversed\(([\w.]+)\):")
_SURROGATES = r"\ud800-\udfff"


def compile_copy(into: Path) -> Path:
    """A copy of ``src`` with the detector compiled; returns its path."""
    src = into / "src"
    shutil.copytree(ROOT / "src", src, ignore=shutil.ignore_patterns("__pycache__"))
    for path in (src / "embedarchive" / "detect").glob("*.py"):
        text = _REVERSED_LOOP.sub(r"for \1 in list(\2)[::-1]:", path.read_text("utf-8"))
        text = text.replace(_SURROGATES, '" + chr(0xD800) + "-" + chr(0xDFFF) + "')
        path.write_text(text, "utf-8")
    # mypy's settings of pyproject.toml (untyped lxml is Any); not the file: setuptools reads it
    (src / "mypy.ini").write_text("[mypy]\nignore_missing_imports = True\n", "utf-8")
    mypyc = Path(sys.executable).with_name("mypyc")
    built = subprocess.run(
        [str(mypyc), "embedarchive/detect/"], cwd=src, capture_output=True, text=True
    )
    if built.returncode:
        sys.exit(f"mypyc failed:\n{built.stdout}{built.stderr}")
    return src


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="detect-mypyc-") as tmp:
        src = compile_copy(Path(tmp))
        command = [sys.executable, str(ROOT / "benchmarks" / "detection.py"), *sys.argv[1:]]
        env = {**os.environ, "PYTHONPATH": str(src)}
        probe = "import embedarchive.detect._tree as t; print(t.__file__)"
        where = subprocess.run(
            [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
        )
        print(f"detector loaded from {where.stdout.strip()}")
        return subprocess.run(command, env=env).returncode


if __name__ == "__main__":
    sys.exit(main())
