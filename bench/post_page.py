"""Post page throughput against gunicorn, next to a trivial view in the same run.

    .venv/bin/python bench/post_page.py [--requests 2000] [--concurrency 16]
        [--database-url postgres://postgres@127.0.0.1:5432/dispatch_bench]

Needs PostgreSQL; the database is created if missing, migrated and seeded with
the demo content. Runs gunicorn (2 sync workers) with production settings
over plain HTTP, then prints requests/s and p50/p99 latency for the long demo
analysis post, for a post with 500 approved comments in threads (signed out
and signed in), and for /robots.txt, their ratios, and the SQL queries each
post page runs.
/robots.txt is the trivial view rather than /healthz because it touches neither
the database nor a template, so it measures what Django and gunicorn cost on
their own; /healthz runs a query.
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
client = Client(HTTP_HOST="127.0.0.1")
session = "SESSION"
if session:
    client.cookies["sessionid"] = session
client.get("/p/SLUG/")
with CaptureQueriesContext(connection) as queries:
    response = client.get("/p/SLUG/")
assert response.status_code == 200, response.status_code
print(len(queries), len(response.content))
"""
COMMENTED_SLUG = "bench-500-comments"
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
    parser.add_argument("--requests", type=int, default=2000, help="requests per target")
    parser.add_argument("--concurrency", type=int, default=16, help="client threads")
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/dispatch_bench")
    return parser.parse_args()


def shell(env: dict[str, str], code: str) -> str:
    command = [PYTHON, "manage.py", "shell", "--no-imports", "-c", code]
    return subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True, text=True).stdout


def prepare(env: dict[str, str]) -> str:
    """Migrate and seed; returns a session key of a signed-in commenter."""
    manage(env, "migrate", "--noinput")
    manage(env, "seed_demo", "--verbosity", "0")
    manage(env, "collectstatic", "--noinput")
    return shell(env, SEED_COMMENTS.replace("SLUG", COMMENTED_SLUG)).split()[-1]


def count_queries(env: dict[str, str], slug: str, session: str) -> tuple[int, int]:
    """The post page's SQL queries and HTML size (signed in if a session is given)."""
    queries, size = shell(env, COUNT_QUERIES.replace("SLUG", slug).replace("SESSION", session)).split()[-2:]
    return int(queries), int(size)


def page(path: str, session: str):
    if not session:
        return get(path)
    return lambda _i: ("GET", path, None, {"Host": "127.0.0.1", "Cookie": f"sessionid={session}"})


def measure(env: dict[str, str], targets: dict[str, tuple[str, str]], total: int, concurrency: int) -> list[Result]:
    with gunicorn(env) as base:
        for path, session in targets.values():  # warm both workers' template and URL caches first
            load("warm-up", base, page(path, session), 50, 4)
        return [load(name, base, page(*target), total, concurrency) for name, target in targets.items()]


def main() -> None:
    args = parse_args()
    ensure_database(args.database_url)
    var_dir = temp_var_dir()
    try:
        env = production_env(args.database_url, var_dir)
        session = prepare(env)
        analysis = shell(env, "from blog.management.commands.seed_demo import ANALYSIS_SLUG; print(ANALYSIS_SLUG)")
        # Signed-out readers share one cached rendering of the comments; a
        # signed-in reader's list (their likes, their held comments) is rendered each time.
        posts = {
            "post page (long analysis)": (analysis.split()[-1], ""),
            "500 comments, signed out": (COMMENTED_SLUG, ""),
            "500 comments, signed in": (COMMENTED_SLUG, session),
        }
        sizes = {name: count_queries(env, slug, who) for name, (slug, who) in posts.items()}
        targets = {name: (f"/p/{slug}/", who) for name, (slug, who) in posts.items()}
        targets[f"trivial view ({TRIVIAL_PATH})"] = (TRIVIAL_PATH, "")
        results = measure(env, targets, args.requests, args.concurrency)
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)
    trivial = results[-1]
    print(f"gunicorn 2 sync workers, {args.requests} requests per target, {args.concurrency} concurrent clients")
    print(f"machine: {os.cpu_count()} cores; the load generator runs on the same machine")
    print(HEADER)
    for result in results:
        print(result.row())
    for result in results[:-1]:
        queries, size = sizes[result.name]
        print(f"{result.name}: {result.rate / trivial.rate:.2f} of the trivial view; "
              f"{queries} SQL queries, {size // 1024} KB of HTML")  # fmt: skip


if __name__ == "__main__":
    main()
