"""Post page throughput against gunicorn, next to a trivial view in the same run.

    .venv/bin/python bench/post_page.py [--requests 2000] [--concurrency 16]
        [--database-url postgres://postgres@127.0.0.1:5432/dispatch_bench]

Needs PostgreSQL; the database is created if missing, migrated and seeded with
the demo content. Runs gunicorn (2 sync workers) with production settings
over plain HTTP, then prints requests/s and p50/p99 latency for the long demo
analysis post and for /robots.txt, their ratio, and the SQL queries the post
page runs. /robots.txt is the trivial view rather than /healthz because it
touches neither the database nor a template, so it measures what Django and
gunicorn cost on their own; /healthz runs a query.
"""

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (
    HEADER,
    PYTHON,
    ROOT,
    Result,
    ensure_database,
    get,
    gunicorn,
    load,
    manage,
    production_env,
    temp_var_dir,
)

TRIVIAL_PATH = "/robots.txt"
# Run in the bench's own settings, so the count is the production page's.
COUNT_QUERIES = """
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from blog.management.commands.seed_demo import ANALYSIS_SLUG
client = Client(HTTP_HOST="127.0.0.1")
client.get(f"/p/{ANALYSIS_SLUG}/")
with CaptureQueriesContext(connection) as queries:
    response = client.get(f"/p/{ANALYSIS_SLUG}/")
assert response.status_code == 200, response.status_code
print(len(queries), len(response.content), ANALYSIS_SLUG)
"""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000, help="requests per target")
    parser.add_argument("--concurrency", type=int, default=16, help="client threads")
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/dispatch_bench")
    return parser.parse_args()


def prepare(env: dict[str, str]) -> None:
    manage(env, "migrate", "--noinput")
    manage(env, "seed_demo", "--verbosity", "0")
    manage(env, "collectstatic", "--noinput")


def count_queries(env: dict[str, str]) -> tuple[int, int, str]:
    """The anonymous post page's SQL queries and HTML size, and the post's slug."""
    shell = [PYTHON, "manage.py", "shell", "--no-imports", "-c", COUNT_QUERIES]
    output = subprocess.run(shell, cwd=ROOT, env=env, check=True, capture_output=True, text=True).stdout
    queries, size, slug = output.split()[-3:]
    return int(queries), int(size), slug


def measure(env: dict[str, str], slug: str, total: int, concurrency: int) -> tuple[Result, Result]:
    with gunicorn(env) as base:
        # Warm both workers' template and URL caches before timing anything.
        load("warm-up", base, get(f"/p/{slug}/"), 100, 4)
        load("warm-up", base, get(TRIVIAL_PATH), 100, 4)
        post = load("post page (long analysis)", base, get(f"/p/{slug}/"), total, concurrency)
        trivial = load(f"trivial view ({TRIVIAL_PATH})", base, get(TRIVIAL_PATH), total, concurrency)
    return post, trivial


def report(args: argparse.Namespace, post: Result, trivial: Result, queries: int, size: int) -> None:
    print(f"gunicorn 2 sync workers, {args.requests} requests per target, {args.concurrency} concurrent clients")
    print(f"machine: {os.cpu_count()} cores; the load generator runs on the same machine")
    print(HEADER)
    print(post.row())
    print(trivial.row())
    print(f"post page / trivial view throughput: {post.rate / trivial.rate:.2f}")
    print(f"post page: {queries} SQL queries, {size // 1024} KB of HTML")


def main() -> None:
    args = parse_args()
    ensure_database(args.database_url)
    var_dir = temp_var_dir()
    try:
        env = production_env(args.database_url, var_dir)
        prepare(env)
        queries, size, slug = count_queries(env)
        post, trivial = measure(env, slug, args.requests, args.concurrency)
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)
    report(args, post, trivial, queries, size)


if __name__ == "__main__":
    main()
