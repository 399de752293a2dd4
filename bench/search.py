"""Search latency on 10,000 posts, next to a bare Django hello in the same run.

    .venv/bin/python bench/search.py [--posts 10000] [--rounds 3] [--concurrency 2]
        [--database-url postgres://postgres@127.0.0.1:5432/dispatch_bench]

Needs PostgreSQL; the database is created if missing and migrated. It is
filled once with generated posts of realistic length (about 1,000 words in
paragraphs, a block quote, footnotes, two or three tags; words drawn from a
Zipf-like vocabulary of 30,000 words: the commonest is in about half the
posts, the rarest in a handful) and
their stored search vectors; later runs reuse them. Then gunicorn (2 sync
workers, production settings, rate limits off) answers 200 varied queries
(single words common to rare, pairs, "phrases", OR, -exclusions, names,
misses, second pages) `--rounds` times, and the bare hello (bench/bare_hello.py)
the same number of requests; it prints p50/p99 of each and their ratio.
"""

import argparse
import os
import random
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (
    HEADER,
    PYTHON,
    ROOT,
    Request,
    Result,
    ensure_database,
    get,
    gunicorn,
    load,
    manage,
    production_env,
    temp_var_dir,
)

SEED = 16
FIRST = ["Ada", "Bo", "Carla", "Dmitri", "Esther", "Farid", "Greta", "Hugo", "Ines", "Jonas", "Kemal", "Lena"]
LAST = ["Lund", "Okafor", "Marsh", "Quayle", "Ferreira", "Novak", "Haddad", "Brandt", "Ishikawa", "Costa"]

# Runs inside the bench's settings (manage.py shell), so it uses the real models and index.
FILL = """
import itertools, random, sys
from django.db import transaction
from django.utils import timezone
from taggit.models import Tag, TaggedItem
from django.contrib.contenttypes.models import ContentType
from accounts.models import User
from blog.models import Post
from blog.shared.rendering import render_markdown, text_from_html
from blog.posts.search import index_posts

WANT = {posts}
have = Post.objects.filter(slug__startswith="bench-search-").count()
if have >= WANT:
    print("reused", have)
    sys.exit(0)
Post.objects.filter(slug__startswith="bench-search-").delete()
rng = random.Random({seed})
syllables = ["ar", "bel", "cor", "dan", "el", "fen", "gor", "hal", "is", "jun", "kel", "lor", "mar", "nor",
             "ost", "pel", "quin", "ros", "sal", "tor", "ul", "ven", "wes", "yar", "zen"]
common = ("harbour council vote budget ferry port city mayor plan report public transport housing water tax "
          "school health election minister policy market price energy climate river bridge road rail strike "
          "union court law police data survey poll growth trade farm coast island fishing tourism museum").split()
invented = {{"".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))) for _ in range(40000)}}
words = common + sorted(invented - set(common))[:30000]
# Zipf with an offset: the commonest content word is in about half the posts,
# the rarest in a few (stop words, which PostgreSQL drops, are left out).
cumulative = list(itertools.accumulate(1 / (rank + 300) for rank in range(len(words))))
first, last = {first}, {last}
authors = []
for i, (f, l) in enumerate([(f, l) for f in first[:6] for l in last[:3]]):
    user, _ = User.objects.get_or_create(username=f"bench-author{{i}}", defaults={{"email": f"a{{i}}@example.com",
                                         "display_name": f"{{f}} {{l}}"}})
    authors.append(user)

def sentence(n):
    chosen = rng.choices(words, cum_weights=cumulative, k=n)
    if rng.random() < 0.2:
        chosen.insert(rng.randrange(len(chosen)), rng.choice(first) + " " + rng.choice(last))
    return " ".join(chosen).capitalize() + "."

def body():
    paragraphs = [" ".join(sentence(rng.randint(12, 28)) for _ in range(rng.randint(4, 7))) for _ in range(8)]
    paragraphs.insert(3, "> " + sentence(25) + " " + sentence(20))
    paragraphs[-1] += "[^1]"
    paragraphs.append("[^1]: " + sentence(15))
    return "\\n\\n".join(paragraphs)

now = timezone.now()
tags = [Tag.objects.get_or_create(name=w, defaults={{"slug": w}})[0] for w in common[:30]]
ct = ContentType.objects.get_for_model(Post)
for start in range(0, WANT, 500):
    batch = []
    for n in range(start, min(start + 500, WANT)):
        source = body()
        html = render_markdown(source) if n < 50 else "".join(
            f"<blockquote><p>{{p[2:]}}</p></blockquote>" if p.startswith("> ") else f"<p>{{p}}</p>"
            for p in source.split("\\n\\n"))
        batch.append(Post(author=rng.choice(authors), slug=f"bench-search-{{n}}",
                          title=sentence(rng.randint(4, 9))[:-1], subtitle=sentence(rng.randint(8, 16)),
                          body=source, body_html=html, body_text=text_from_html(html),
                          reading_minutes=5, status="published" if n % 20 else "draft",
                          published_at=now - timezone.timedelta(hours=n) if n % 20 else None))
    with transaction.atomic():
        created = Post.objects.bulk_create(batch)
        TaggedItem.objects.bulk_create([TaggedItem(tag=t, content_type=ct, object_id=p.pk)
                                        for p in created for t in rng.sample(tags, rng.randint(2, 3))])
print("indexed", index_posts(Post.objects.filter(slug__startswith="bench-search-").values_list("pk", flat=True)))
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute("VACUUM ANALYZE blog_post")
"""

# A sample of the generated vocabulary and of real text, for the queries.
# The same 200 posts in every run, so that runs compare.
VOCABULARY = """
import random
from blog.models import Post
published = Post.objects.filter(slug__startswith="bench-search-", status="published")
chosen = random.Random({seed}).sample(sorted(published.values_list("pk", flat=True)), 200)
for text in published.filter(pk__in=chosen).order_by("pk").values_list("body_text", flat=True):
    print(" ".join(text.split()[:60]))
"""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3, help="times each of the 200 queries is sent")
    parser.add_argument("--concurrency", type=int, default=2, help="client threads")
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/dispatch_bench")
    return parser.parse_args()


def shell(env: dict[str, str], code: str) -> str:
    command = [PYTHON, "manage.py", "shell", "--no-imports", "-c", code]
    return subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True, text=True).stdout


def queries(samples: list[str]) -> list[tuple[str, str]]:
    """200 queries of the kinds readers type, drawn from the posts' own words."""
    rng = random.Random(SEED)
    words = Counter(w.strip(".,").lower() for text in samples for w in text.split() if len(w.strip(".,")) > 3)
    by_frequency = [word for word, _ in words.most_common()]
    common, rare = by_frequency[:40], by_frequency[-400:]
    middle = by_frequency[40:-400] or common

    def phrase() -> str:
        text = rng.choice(samples).split()
        start = rng.randrange(max(1, len(text) - 3))
        return '"' + " ".join(w.strip(".,") for w in text[start : start + rng.randint(2, 3)]) + '"'

    kinds: dict[str, tuple[int, Callable[[], str]]] = {
        "common word": (30, lambda: rng.choice(common)),
        "middling word": (30, lambda: rng.choice(middle)),
        "rare word": (20, lambda: rng.choice(rare)),
        "two words": (25, lambda: f"{rng.choice(common)} {rng.choice(middle)}"),
        '"phrase"': (25, phrase),
        "a OR b": (20, lambda: f"{rng.choice(middle)} OR {rng.choice(rare)}"),
        "a -b": (20, lambda: f"{rng.choice(common)} -{rng.choice(common)}"),
        "a name": (10, lambda: f"{rng.choice(FIRST)} {rng.choice(LAST)}"),
        "no match": (10, lambda: f"zzq{rng.randint(100, 999)}"),
        "page 2": (10, lambda: rng.choice(common)),
    }
    return [
        (kind, f"/search/?{urlencode({'q': make(), **({'page': 2} if kind == 'page 2' else {})})}")
        for kind, (count, make) in kinds.items()
        for _ in range(count)
    ]


def by_kind(base: str, paths: list[tuple[str, str]]) -> dict[str, Result]:
    """Each kind of query alone, one request at a time: where the tail comes from."""
    results = {}
    for kind in dict.fromkeys(k for k, _ in paths):
        mine = [path for k, path in paths if k == kind]

        def request(i: int, mine: list[str] = mine) -> Request:
            return "GET", mine[i], None, {"Host": "127.0.0.1"}

        results[kind] = load(kind, base, request, len(mine), 1)
    return results


def main() -> None:
    args = parse_args()
    ensure_database(args.database_url)
    var_dir = temp_var_dir()
    try:
        env = {**production_env(args.database_url, var_dir), "RATELIMIT_ENABLED": "0"}
        manage(env, "migrate", "--noinput")
        manage(env, "collectstatic", "--noinput")
        fill = FILL.format(posts=args.posts, seed=SEED, first=FIRST, last=LAST)
        print(shell(env, fill).strip())
        kinds = queries(shell(env, VOCABULARY.format(seed=SEED)).splitlines())
        paths = [path for _, path in kinds]
        total = len(paths) * args.rounds
        with gunicorn(env) as base:
            load("warm-up", base, lambda i: ("GET", paths[i % len(paths)], None, {"Host": "127.0.0.1"}), 100, 2)
            searched = load(
                "search, 200 queries", base, lambda i: ("GET", paths[i % len(paths)], None, {"Host": "127.0.0.1"}),
                total, args.concurrency,
            )  # fmt: skip
            kind_results = by_kind(base, kinds)
        with gunicorn(env, app="bench.bare_hello:application") as base:
            load("warm-up", base, get("/"), 100, 2)
            hello = load("bare Django hello", base, get("/"), total, args.concurrency)
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)
    report(args, [searched, hello], len(paths), kind_results)


def report(args: argparse.Namespace, results: list[Result], query_count: int, kinds: dict[str, Result]) -> None:
    searched, hello = results
    print(f"{args.posts} posts; {query_count} queries x {args.rounds} rounds; gunicorn 2 sync workers; "
          f"{args.concurrency} client threads; {os.cpu_count()} cores, client on the same machine")  # fmt: skip
    print(HEADER)
    for result in results:
        print(result.row())
    print(f"search p50 {searched.p50:.1f} ms, p99 {searched.p99:.1f} ms "
          f"(target p99 < 50 ms); throughput {searched.rate / hello.rate:.3f} of the bare hello, "
          f"p50 {searched.p50 / hello.p50:.1f}x and p99 {searched.p99 / hello.p99:.1f}x the hello's")  # fmt: skip
    print("\nEach kind alone, one request at a time:")
    print(HEADER)
    for result in kinds.values():
        print(result.row())
    print(f"load average during the run: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
