"""Reading pages under load, against bare Django in the same run.

    .venv/bin/python bench/post_page.py [--seconds 5] [--concurrency 32]
        [--database-url postgres://postgres@127.0.0.1:5432/dispatch_bench]
        [--cache-url redis://127.0.0.1:6379/1]

Needs PostgreSQL; the database is created if missing, migrated and seeded with
the demo content. Runs gunicorn (2 sync workers) with production settings
over plain HTTP and loads each page with wrk -t2 -c32 (Python threads when
wrk is missing): the long demo analysis, the home page, a tag, an author's
page and the archive signed out, and a post with 500 approved comments in
threads signed out and signed in. Then the bare Django hello
(bench/hello.py: one view, no middleware) on the same gunicorn with the same
options. Prints requests/s, p50/p99 latency, each page's share of the hello's
throughput, and the SQL queries each page runs (second request, so a signed-
out page shows what a reader served from the page cache costs).
With --cache-url (Redis) the workers share one cache, as in production.
"""

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (
    CACHE_URL,
    DATABASE_URL,
    HEADER,
    PYTHON,
    ROOT,
    WRK,
    ensure_database,
    gunicorn,
    hello,
    interleaved,
    load,
    manage,
    production_env,
    temp_var_dir,
)

# Run in the bench's own settings, so the count is the production page's.
COUNT_QUERIES = """
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
client = Client(HTTP_HOST="127.0.0.1")
session = "SESSION"
if session:
    client.cookies["sessionid"] = session
client.get("PATH")
with CaptureQueriesContext(connection) as queries:
    response = client.get("PATH")
assert response.status_code == 200, response.status_code
print(len(queries), len(response.content))
"""
COMMENTED_SLUG = "bench-500-comments"
CSRF_SECRET = "c" * 32  # a well-formed CSRF cookie (an unmasked secret)
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"
# 500 approved comments: 100 threads, each a root and replies four deep.
SEED_COMMENTS = """
from django.test import Client
from django.utils import timezone
from accounts.models import User
from blog.models import Comment, Post
Post.objects.filter(slug="SLUG").delete()
author = User.objects.get(username="author")
readers = [User.objects.get_or_create(username=f"bench-reader{i}", defaults={"email": f"r{i}@example.com"})[0]
           for i in range(20)]
post = Post.objects.create(author=author, slug="SLUG", title="A busy discussion", status="published",
                           published_at=timezone.now(), body="Short post, long discussion.\\n\\n" * 5)
for thread in range(100):
    parent = None
    for depth in range(5):
        body = f"Comment {thread}.{depth}: " + "a point worth making, with *emphasis*. " * 4
        parent = Comment.objects.create(post=post, author=readers[(thread + depth) % 20], body=body,
            body_html=f"<p>{body}</p>", parent=parent, reply_to=parent, level=depth + 1)
reader = Client()
reader.force_login(readers[0])
print(reader.cookies["sessionid"].value)
"""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5, help="wrk duration per target")
    parser.add_argument("--requests", type=int, default=2000, help="requests per target without wrk")
    parser.add_argument("--concurrency", type=int, default=32, help="connections")
    parser.add_argument("--database-url", default=DATABASE_URL)
    parser.add_argument("--cache-url", default=CACHE_URL, help="shared cache; default: each worker's own memory")
    parser.add_argument("--only", default="", help="run only the targets whose name contains this")
    return parser.parse_args()


def shell(env: dict[str, str], code: str) -> str:
    command = [PYTHON, "manage.py", "shell", "--no-imports", "-c", code]
    return subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True, text=True).stdout


def prepare(env: dict[str, str]) -> str:
    """Migrate and seed; returns a session key of a signed-in commenter."""
    manage(env, "migrate", "--noinput")
    manage(env, "seed_demo", "--force", "--verbosity", "0")
    manage(env, "collectstatic", "--noinput")
    return shell(env, SEED_COMMENTS.replace("SLUG", COMMENTED_SLUG)).split()[-1]


DEMO_PATHS = """
from blog.management.commands.seed_demo import ANALYSIS_SLUG
from blog.models import Post
post = Post.objects.select_related("author").get(slug=ANALYSIS_SLUG)
print(post.get_absolute_url(), post.author.get_absolute_url(), "/t/" + post.tags.order_by("slug")[0].slug + "/")
"""


def count_queries(env: dict[str, str], path: str, session: str) -> tuple[int, int]:
    """A page's SQL queries and HTML size on its second load (signed in if a session is given)."""
    queries, size = shell(env, COUNT_QUERIES.replace("PATH", path).replace("SESSION", session)).split()[-2:]
    return int(queries), int(size)


def page(path: str, session: str):
    # What a browser sends, so that page-view counting (blog/pageviews.py) runs as for a reader.
    headers = {"Host": "127.0.0.1", "User-Agent": BROWSER, "Accept": "text/html", "Accept-Language": "en"}
    if session:  # and the CSRF cookie the site set on their first page, as a browser keeps it
        headers["Cookie"] = f"sessionid={session}; csrftoken={CSRF_SECRET}"
    return lambda _i: ("GET", path, None, headers)


def run(env: dict[str, str], targets: dict[str, tuple[str, str]], args: argparse.Namespace) -> list[tuple]:
    """Each target alternating with the hello: the machine is shared, so each ratio is taken in one stretch."""
    pairs = []
    with gunicorn(env) as base, hello(env) as hello_base:
        for path, session in targets.values():  # warm both workers' template and URL caches first
            load("warm-up", base, page(path, session), 40, 4)
        load("warm-up", hello_base, page("/", ""), 200, 4)
        for name, target in targets.items():
            pairs.append(interleaved((name, base, page(*target)), ("hello", hello_base, page("/", "")),
                                     args.seconds, args.concurrency, total=args.requests))  # fmt: skip
    return pairs


def main() -> None:
    args = parse_args()
    ensure_database(args.database_url)
    var_dir = temp_var_dir()
    try:
        env = production_env(args.database_url, var_dir, args.cache_url)
        session = prepare(env)
        post, author, tag = shell(env, DEMO_PATHS).split()[-3:]
        commented = f"/p/{COMMENTED_SLUG}/"
        targets = {
            "post page (analysis), signed out": (post, ""),
            "home, signed out": ("/", ""),
            "tag, signed out": (tag, ""),
            "author, signed out": (author, ""),
            "archive, signed out": ("/archive/", ""),
            "500 comments, signed out": (commented, ""),
            "500 comments, signed in": (commented, session),
        }
        targets = {name: target for name, target in targets.items() if args.only in name}
        sizes = {name: count_queries(env, path, who) for name, (path, who) in targets.items()}
        results = run(env, targets, args)
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)
    load_by = f"wrk -t2 -c{args.concurrency} -d{args.seconds:g}s" if WRK else f"{args.concurrency} Python threads"
    print(f"gunicorn 2 sync workers, {load_by}; cache: {args.cache_url or 'per-worker memory'}")
    print(f"machine: {os.cpu_count()} cores; the load generator runs on the same machine")
    print(
        "each target alternates with the bare Django hello (bench/hello.py), five 1 s runs each; ratio = target / hello"
    )
    print(HEADER + f" {'hello/s':>9} {'hello p99':>9} {'ratio':>7}")
    for result, floor in results:
        print(result.row() + f" {floor.rate:>9.0f} {floor.p99:>9.1f} {result.rate / floor.rate:>7.3f}")
    for name, (queries, size) in sizes.items():
        print(f"{name}: {queries} SQL queries, {size // 1024} KB of HTML")


if __name__ == "__main__":
    main()
