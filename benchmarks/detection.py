"""Detection benchmark: run the detector over the labelled corpus and score (platform, id) pairs.

    .venv/bin/python benchmarks/detection.py [CORPUS_DIR] [--repeat N] [--details]

CORPUS_DIR defaults to ``../shared/corpus`` beside the repository (``articles/*.html`` and
``labels.jsonl``). Label platforms outside the named set (Spotify, SoundCloud, Dailymotion,
Truth Social…) are ``other``; detections of platforms outside that set are scored as ``other``
too. Speed counts detection only (decoding the file is the article stage's work), as the
best of ``--repeat`` passes.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from embedarchive.article import build_article
from embedarchive.detect import detect
from embedarchive.models import Article

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = REPO.parent / "shared" / "corpus"
NAMED = frozenset(
    "twitter youtube vimeo tiktok instagram facebook telegram bluesky mastodon threads reddit".split()
)

Pair = tuple[str, str]


def label_platform(name: str) -> str:
    return name if name in NAMED else "other"


@dataclass
class Score:
    tp: Counter[str] = field(default_factory=Counter)
    fp: Counter[str] = field(default_factory=Counter)
    fn: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)

    def add(self, file: str, wanted: set[Pair], got: set[Pair]) -> None:
        for platform, _ in got & wanted:
            self.tp[platform] += 1
        for platform, post_id in got - wanted:
            self.fp[platform] += 1
            self.errors.append(f"{file}: false positive {platform} {post_id}")
        for platform, post_id in wanted - got:
            self.fn[platform] += 1
            self.errors.append(f"{file}: missed {platform} {post_id}")


def ratio(num: int, den: int) -> float:
    return num / den if den else 1.0


def load(corpus: Path) -> list[tuple[dict, Article]]:
    labels = [
        json.loads(line)
        for line in (corpus / "labels.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    out = []
    for label in labels:
        path = corpus / "articles" / label["file"]
        raw = path.read_bytes()
        out.append((label, build_article(raw, source=str(path), source_kind="file", is_html=True)))
    return out


def run(corpus: Path, repeat: int = 1) -> tuple[Score, float, int, int]:
    """Score the corpus; returns the score, the best pass's seconds, articles and bytes."""
    items = load(corpus)
    best = float("inf")
    score = Score()
    for _ in range(max(1, repeat)):
        score = Score()
        elapsed = 0.0
        for label, article in items:
            start = time.perf_counter()
            detections = detect(article)
            elapsed += time.perf_counter() - start
            got = {(label_platform(d.platform), d.id) for d in detections if d.id}
            wanted = {(label_platform(e["platform"]), str(e["id"])) for e in label["embeds"]}
            score.add(label["file"], wanted, got)
        best = min(best, elapsed)
    size = sum(len(article.raw) for _, article in items)
    return score, best, len(items), size


def table(score: Score, seconds: float, articles: int, size: int) -> str:
    platforms = sorted(set(score.tp) | set(score.fp) | set(score.fn))
    rows = ["| platform | precision | recall | support | found | false pos. | missed |"]
    rows.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for p in platforms:
        tp, fp, fn = score.tp[p], score.fp[p], score.fn[p]
        rows.append(
            f"| {p} | {ratio(tp, tp + fp):.3f} | {ratio(tp, tp + fn):.3f} | {tp + fn} "
            f"| {tp} | {fp} | {fn} |"
        )
    tp, fp, fn = (sum(c.values()) for c in (score.tp, score.fp, score.fn))
    rows.append(
        f"| **overall** | **{ratio(tp, tp + fp):.3f}** | **{ratio(tp, tp + fn):.3f}** | {tp + fn} "
        f"| {tp} | {fp} | {fn} |"
    )
    rows.append("")
    rows.append(
        f"{articles} articles, {size / 1e6:.1f} MB in {seconds:.2f} s: "
        f"{articles / seconds:.1f} articles/s, {size / 1e6 / seconds:.2f} MB/s"
    )
    return "\n".join(rows)


def meets_targets(score: Score) -> bool:
    """Overall precision ≥ 0.98 and recall ≥ 0.95, and no platform below 0.9 in either."""
    tp, fp, fn = (sum(c.values()) for c in (score.tp, score.fp, score.fn))
    if ratio(tp, tp + fp) < 0.98 or ratio(tp, tp + fn) < 0.95:
        return False
    for p in set(score.tp) | set(score.fp) | set(score.fn):
        t = score.tp[p]
        if ratio(t, t + score.fp[p]) < 0.9 or ratio(t, t + score.fn[p]) < 0.9:
            return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--repeat", type=int, default=3, help="timed passes (best is shown)")
    parser.add_argument("--details", action="store_true", help="list every miss and false hit")
    args = parser.parse_args(argv)
    if not (args.corpus / "labels.jsonl").exists():
        print(f"no labels.jsonl in {args.corpus}", file=sys.stderr)
        return 2
    score, seconds, articles, size = run(args.corpus, args.repeat)
    print(table(score, seconds, articles, size))
    if args.details:
        print("\n".join(score.errors))
    ok = meets_targets(score)
    print("targets met" if ok else "targets NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
