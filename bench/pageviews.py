"""What counting page views costs, and what the insights overview costs.

    .venv/bin/python bench/pageviews.py [--requests 2000] [--concurrency 16]
        [--database-url postgres://postgres@127.0.0.1:5432/dispatch_bench]
        [--redis-url redis://127.0.0.1:6379/15]

Needs PostgreSQL and Redis (the Redis database given is flushed). Runs two
gunicorns (2 sync workers each) with production settings over the seeded demo,
one counting page views into Redis and one not, and loads the signed-out
analysis page with a browser's headers on each in alternating rounds, so both
figures come from the same run. Then folds the counts and checks that every
request to the counting server was counted. Last, it adds 1,000 posts with a
year of daily rows each and prints the SQL queries and time of the staff
overview for 90 days.
"""

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

import redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (
    HEADER,
    PYTHON,
    ROOT,
    Result,
    ensure_database,
    gunicorn,
    load,
    manage,
    production_env,
    temp_var_dir,
)

BROWSER_HEADERS = {
    "Host": "127.0.0.1",
    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
    "Accept": "text/html,application/xhtml+xml,*/*;q=0.8",
    "Accept-Language": "en-GB,en;q=0.9",
}
ROUNDS = 4
WARM_UP = 50
# Today's row of the post starts empty, like Redis; after the load, the fold fills it.
FORGET_TODAY = """
from django.utils import timezone
from blog.models import PageViewDay
PageViewDay.objects.filter(post__slug="SLUG", day=timezone.localdate()).delete()
"""
COUNTED = """
from django.utils import timezone
from blog import pageviews
from blog.models import PageViewDay
pageviews.fold()
print(PageViewDay.objects.filter(post__slug="SLUG", day=timezone.localdate()).first().views)
"""
# 1,000 posts by the demo author with a year of daily views each, a few
# referrers a day for the publication and subscribers from the posts' boxes.
SEED_YEAR = """
import random
from datetime import timedelta
from django.utils import timezone
from accounts.models import User
from blog.models import PageViewDay, Post, ReferrerDay, Subscriber
rng = random.Random(1)
author = User.objects.get(username="author")
Post.objects.filter(slug__startswith="bench-year-").delete()
now, today = timezone.now(), timezone.localdate()
posts = Post.objects.bulk_create(
    Post(author=author, title=f"Bench post {n}", slug=f"bench-year-{n}", body="Text.", body_html="<p>Text.</p>",
         status="published", published_at=now - timedelta(days=365)) for n in range(1000))
PageViewDay.objects.bulk_create(
    (PageViewDay(post=post, day=today - timedelta(days=d), views=rng.randint(0, 500), visitors=rng.randint(0, 400))
     for post in posts for d in range(365)), batch_size=5000)
ReferrerDay.objects.bulk_create(
    (ReferrerDay(post=post, day=today - timedelta(days=d), source=f"site{s}.example", views=rng.randint(1, 50))
     for post in posts[:100] for d in range(0, 365, 3) for s in range(5)), batch_size=5000)
Subscriber.objects.bulk_create(
    (Subscriber(email=f"bench-{n}@example.com", status="active", source=f"post-top:bench-year-{n % 1000}",
                confirmed_at=now - timedelta(days=n % 365)) for n in range(5000)),
    batch_size=5000, ignore_conflicts=True)
print(PageViewDay.objects.count())
"""
OVERVIEW = """
import time
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from accounts.models import User
staff = User.objects.get(username="author")
staff.is_staff = True
staff.save(update_fields=["is_staff"])
client = Client(HTTP_HOST="127.0.0.1")
client.force_login(staff)
client.get("/write/insights/?days=90")
with CaptureQueriesContext(connection) as queries:
    response = client.get("/write/insights/?days=90")
assert response.status_code == 200, response.status_code
count = len(queries)  # now: the next request clears the log it reads
times = []
for _ in range(5):
    started = time.perf_counter()
    client.get("/write/insights/?days=90")
    times.append(time.perf_counter() - started)
print(count, sorted(times)[2] * 1000)
"""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000, help="requests per server, over all rounds")
    parser.add_argument("--concurrency", type=int, default=16, help="client threads")
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/dispatch_bench")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/15", help="flushed before the run")
    return parser.parse_args()


def shell(env: dict[str, str], code: str) -> str:
    command = [PYTHON, "manage.py", "shell", "--no-imports", "-c", code]
    return subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True, text=True).stdout


def browser_get(path: str):
    return lambda _i: ("GET", path, None, BROWSER_HEADERS)


def alternate(bases: dict[str, str], path: str, total: int, concurrency: int) -> dict[str, list[Result]]:
    """Load each server in turn, ROUNDS times; each server's rounds."""
    for base in bases.values():
        load("warm-up", base, browser_get(path), WARM_UP, 4)
    rounds: dict[str, list[Result]] = {name: [] for name in bases}
    for _ in range(ROUNDS):
        for name, base in bases.items():
            rounds[name].append(load(name, base, browser_get(path), total // ROUNDS, concurrency))
    return rounds


def rate(results: list[Result]) -> float:
    return sum(r.requests for r in results) / sum(r.seconds for r in results)


def main() -> None:
    args = parse_args()
    ensure_database(args.database_url)
    redis.Redis.from_url(args.redis_url).flushdb()
    var_dir = temp_var_dir()
    try:
        env = production_env(args.database_url, var_dir)
        env["PAGEVIEWS_REDIS_URL"] = args.redis_url
        manage(env, "migrate", "--noinput")
        manage(env, "seed_demo", "--verbosity", "0")
        manage(env, "collectstatic", "--noinput")
        slug = shell(env, "from blog.management.commands.seed_demo import ANALYSIS_SLUG; print(ANALYSIS_SLUG)").split()[
            -1
        ]
        shell(env, FORGET_TODAY.replace("SLUG", slug))
        on, off = {**env, "PAGEVIEWS_ENABLED": "1"}, {**env, "PAGEVIEWS_ENABLED": "0"}
        with gunicorn(off) as base_off, gunicorn(on) as base_on:
            bases = {"counting off": base_off, "counting on": base_on}
            results = alternate(bases, f"/p/{slug}/", args.requests, args.concurrency)
        counted = int(shell(env, COUNTED.replace("SLUG", slug)).split()[-1])
        rows = int(shell(env, SEED_YEAR).split()[-1])
        queries, milliseconds = shell(env, OVERVIEW).split()[-2:]
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)
    served = sum(r.requests - r.errors for r in results["counting on"]) + WARM_UP
    print(f"gunicorn, 2 sync workers per server, {args.requests} requests per server in {ROUNDS} alternating rounds")
    print(f"{args.concurrency} concurrent clients; {os.cpu_count()} cores, load generator on the same machine")
    print(HEADER)
    for off_round, on_round in zip(results["counting off"], results["counting on"], strict=True):
        print(off_round.row())
        print(on_round.row())
    off_rate, on_rate = rate(results["counting off"]), rate(results["counting on"])
    print(f"all rounds: counting off {off_rate:.0f} req/s, counting on {on_rate:.0f} req/s")
    print(f"counting on / counting off: {on_rate / off_rate:.2f}")
    print(f"views counted after the fold: {counted} of {served} served by the counting server (warm-up included)")
    print(f"overview, 90 days, staff, {rows} daily rows: {queries} SQL queries, {float(milliseconds):.0f} ms (median)")


if __name__ == "__main__":
    main()
