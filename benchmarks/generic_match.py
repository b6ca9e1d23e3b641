"""How fast the generic yt-dlp platform rejects links that are not videos (and accepts those that are).

    .venv/bin/python benchmarks/generic_match.py [N]

Builds N (default 10,000) distinct non-video URLs — article, section, profile and asset links on
news and social hosts, the links an article body is full of — times one warm-up pass (which
builds the extractor index and compiles the regexes yt-dlp's ``suitable`` needs), then times
a second pass over the same URLs plus a pass over a few hundred video URLs. The non-video URLs
that still match are listed by extractor: news sites whose yt-dlp extractor is typed "video" and
claims every undated page of the site (see ``platforms/generic.py``).
"""

from __future__ import annotations

import sys
import time
from collections import Counter

from embedarchive.platforms.generic import GenericVideo, extractor_index

HOSTS = (
    "www.nytimes.com www.theguardian.com www.bbc.com www.bbc.co.uk edition.cnn.com "
    "www.reuters.com apnews.com www.aljazeera.com www.washingtonpost.com telex.hu index.hu "
    "www.spiegel.de www.lemonde.fr www.nbcnews.com www.npr.org www.dw.com www.euronews.com "
    "www.france24.com www.tagesschau.de nos.nl www.abc.net.au www.cbsnews.com abcnews.go.com "
    "www.vox.com www.wired.com www.rferl.org kyivindependent.com www.pravda.com.ua "
    "www.haaretz.com www.timesofisrael.com www.axios.com www.politico.com www.bloomberg.com "
    "www.corriere.it elpais.com www.lefigaro.fr www.zeit.de www.faz.net www.repubblica.it "
    "www.nzz.ch twitter.com x.com www.facebook.com www.instagram.com t.me github.com "
    "en.wikipedia.org www.linkedin.com www.reddit.com medium.com substack.com example.com"
).split()
PATHS = (
    "/2024/05/{n}/world/europe/story-{n}.html",
    "/news/world-{n}",
    "/politik/ausland/artikel-a-{n}.html",
    "/article/{n}/some-headline",
    "/author/someone-{n}/",
    "/tag/election-{n}",
    "/",
    "/images/photo-{n}.jpg",
    "/share?url=https%3A%2F%2Fexample.org%2F{n}",
)
VIDEOS = (
    "https://www.youtube.com/watch?v=dQw4w9WgXc{c}",
    "https://vimeo.com/7697987{d}",
    "https://www.dailymotion.com/video/x8abcd{d}",
    "https://rumble.com/v4f5c{d}-some-title.html",
    "https://streamable.com/abc12{d}",
)


def main(n: int) -> None:
    urls = [f"https://{HOSTS[i % len(HOSTS)]}{PATHS[i % len(PATHS)].format(n=i)}" for i in range(n)]
    platform = GenericVideo()
    t0 = time.perf_counter()
    extractor_index()
    t1 = time.perf_counter()
    warm = sum(platform.match(u) is not None for u in urls)
    t2 = time.perf_counter()
    hot = sum(platform.match(u) is not None for u in urls)
    t3 = time.perf_counter()
    videos = [v.format(c="ABCDEFGHIJ"[i % 10], d=i % 10) for i, v in enumerate(VIDEOS * 60)]
    found = sum(platform.match(v) is not None for v in videos)
    t4 = time.perf_counter()
    print(f"index built in {t1 - t0:.3f}s ({len(extractor_index().extractors)} extractors)")
    print(f"warm-up pass: {n} non-video URLs in {t2 - t1:.3f}s, {warm} matched")
    print(f"second pass:  {n} non-video URLs in {t3 - t2:.3f}s, {hot} matched")
    print(f"video URLs:   {found}/{len(videos)} matched in {t4 - t3:.3f}s")
    matched = Counter(t.id.split(":")[0] for u in urls if (t := platform.match(u)) is not None)
    print("non-video URLs matched, by extractor:", dict(matched.most_common()))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
