"""Post page throughput against gunicorn, next to a trivial view in the same run.

    .venv/bin/python bench/post_page.py [--requests 2000] [--concurrency 16]

Needs PostgreSQL (--database-url). Prints requests/s and p50/p99 latency for
the long demo analysis post and for /robots.txt (a view that touches neither
the database nor a template, so it measures the cost of Django itself), their
ratio, and the SQL queries the post page runs.
"""

import argparse
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (
    HEADER,
    PYTHON,
    ROOT,
    ensure_database,
    get,
    gunicorn,
    load,
    manage,
    production_env,
    temp_var_dir,
)

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/dispatch_bench")
    args = parser.parse_args()

    ensure_database(args.database_url)
    env = production_env(args.database_url, temp_var_dir())
    manage(env, "migrate", "--noinput")
    manage(env, "seed_demo", "--verbosity", "0")
    manage(env, "collectstatic", "--noinput")
    shell = [PYTHON, "manage.py", "shell", "--no-imports", "-c", COUNT_QUERIES]
    output = subprocess.run(shell, cwd=ROOT, env=env, check=True, capture_output=True, text=True).stdout
    queries, size, slug = output.split()[-3:]

    with gunicorn(env) as base:
        load("warm-up", base, get(f"/p/{slug}/"), 100, 4)
        post = load("post page (long analysis)", base, get(f"/p/{slug}/"), args.requests, args.concurrency)
        trivial = load("trivial view (/robots.txt)", base, get("/robots.txt"), args.requests, args.concurrency)

    print(f"gunicorn 2 sync workers, {args.requests} requests per target, {args.concurrency} concurrent clients")
    print(f"machine: {os.cpu_count()} cores; the load generator runs on the same machine")
    print(HEADER)
    print(post.row())
    print(trivial.row())
    print(f"post page / trivial view throughput: {post.rate / trivial.rate:.2f}")
    print(f"post page: {queries} SQL queries, {int(size) // 1024} KB of HTML")


if __name__ == "__main__":
    main()
