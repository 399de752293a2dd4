"""What counting page views costs, and what the insights overview costs.

    .venv/bin/python bench/pageviews.py [--seconds 40] [--rounds 10] [--concurrency 32]
        [--database-url postgres://postgres@127.0.0.1:5432/dispatch_bench]
        [--redis-url redis://127.0.0.1:6379/15]

Needs PostgreSQL and Redis (the Redis database given is flushed). Runs three
gunicorns (2 sync workers each) with production settings over the seeded demo:
counting off, counting on (views sent by a background thread, the default) and
counting on inline (each view waits for its own round trip). It loads the
signed-out analysis page with a browser's headers on each in turning rounds
(wrk when installed), so all figures come from the same run. Then it sends
1,000 more requests to the counting server, folds, and checks that each was
counted. Last, it adds 1,000 posts with a year of daily rows each and prints
the SQL queries and time of the 90-day overview, as their author and as staff.

On a crowded 2-core machine the background thread can make the counting server
faster, not slower: Linux shares CPU time per thread, so a process with a
second busy thread gets more of it. The inline figure is the cost without that.
"""

import argparse
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (
    HEADER,
    PYTHON,
    ROOT,
    WRK,
    Request,
    Result,
    drain,
    ensure_database,
    gunicorn,
    load,
    manage,
    measure,
    production_env,
    temp_var_dir,
)

BROWSER_HEADERS = {
    "Host": "127.0.0.1",
    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
    "Accept": "text/html,application/xhtml+xml,*/*;q=0.8",
    "Accept-Language": "en-GB,en;q=0.9",
}
WARM_UP = 50
CHECKED = 1000  # requests whose counting is checked exactly after the load
OFF, ON, INLINE = "counting off", "counting on", "counting on, inline"
# Today's row of the post starts empty, like Redis; after the load, the fold fills it.
FORGET_TODAY = """
from django.utils import timezone
from blog.models import PageViewDay
PageViewDay.objects.filter(post__slug="SLUG", day=timezone.localdate()).delete()
"""
COUNTED = """
from django.utils import timezone
from blog.insights import pageviews
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
from django.contrib.auth.models import Group
from accounts.models import User
from accounts.roles import EDITORS
author = User.objects.get(username="author")
author.is_staff = False
author.save(update_fields=["is_staff"])
staff = User.objects.get_or_create(username="bench-staff", defaults={"is_staff": True})[0]
staff.groups.add(Group.objects.get(name=EDITORS))
for user in (author, staff):
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    client.get("/write/insights/?days=90")
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/write/insights/?days=90")
    assert response.status_code == 200, (response.status_code, response.get("Location"))
    count = len(queries)  # now: the next request clears the log it reads
    times = []
    for _ in range(5):
        started = time.perf_counter()
        client.get("/write/insights/?days=90")
        times.append(time.perf_counter() - started)
    print(count, round(sorted(times)[2] * 1000))
"""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=40, help="load per server over all rounds (wrk)")
    parser.add_argument("--requests", type=int, default=2000, help="requests per server over all rounds (no wrk)")
    parser.add_argument("--rounds", type=int, default=10, help="alternating rounds")
    parser.add_argument("--concurrency", type=int, default=32, help="connections")
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/dispatch_bench")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/15", help="flushed before the run")
    return parser.parse_args()


def shell(env: dict[str, str], code: str) -> str:
    command = [PYTHON, "manage.py", "shell", "--no-imports", "-c", code]
    return subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True, text=True).stdout


def browser_get(path: str) -> Callable[[int], Request]:
    return lambda _i: ("GET", path, None, BROWSER_HEADERS)


def alternate(bases: dict[str, str], path: str, args: argparse.Namespace) -> dict[str, list[Result]]:
    """Load each server in turn, `args.rounds` times (wrk when installed), and
    wait for each backlog to drain, so the shared machine weighs on both alike."""
    for base in bases.values():
        load("warm-up", base, browser_get(path), WARM_UP, 4)
    rounds: dict[str, list[Result]] = {name: [] for name in bases}
    for n in range(args.rounds):
        # Which server goes first turns every round: the first one may inherit another's backlog.
        servers = list(bases.items())
        for name, base in servers[n % len(servers) :] + servers[: n % len(servers)]:
            per_round = args.requests // args.rounds
            rounds[name].append(
                measure(name, base, browser_get(path), per_round, args.concurrency, args.seconds / args.rounds)
            )
            drain(base)
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
        manage(env, "seed_demo", "--force", "--verbosity", "0")
        manage(env, "collectstatic", "--noinput")
        slug = shell(env, "from blog.management.commands.seed_demo import ANALYSIS_SLUG; print(ANALYSIS_SLUG)").split()[
            -1
        ]
        shell(env, FORGET_TODAY.replace("SLUG", slug))
        off = {**env, "PAGEVIEWS_ENABLED": "0"}
        on = {**env, "PAGEVIEWS_ENABLED": "1"}
        inline = {**on, "PAGEVIEWS_IN_BACKGROUND": "0"}
        with gunicorn(off) as base_off, gunicorn(on) as base_on, gunicorn(inline) as base_inline:
            bases = {OFF: base_off, ON: base_on, INLINE: base_inline}
            results = alternate(bases, f"/p/{slug}/", args)
            time.sleep(2)  # the background threads send what they still hold
            redis.Redis.from_url(args.redis_url).flushdb()  # then count only the checked requests
            shell(env, FORGET_TODAY.replace("SLUG", slug))
            load("count check", base_on, browser_get(f"/p/{slug}/"), CHECKED, 16)
        counted = int(shell(env, COUNTED.replace("SLUG", slug)).split()[-1])
        rows = int(shell(env, SEED_YEAR).split()[-1])
        # Staff must set up two-factor sign-in before using the desk; not here.
        author_queries, author_ms, staff_queries, staff_ms = shell(
            {**env, "MFA_REQUIRED_FOR_STAFF": "0"}, OVERVIEW
        ).split()[-4:]
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)
    tool = f"wrk, {args.seconds:.0f} s" if WRK else f"Python threads, {args.requests} requests"
    print(f"gunicorn, 2 sync workers per server; {tool} per server in {args.rounds} turning rounds")
    print(f"{args.concurrency} connections; {os.cpu_count()} cores, load generator on the same machine")
    print(HEADER)
    for round_results in zip(*results.values(), strict=True):
        for result in round_results:
            print(result.row())
    rates = {name: rate(parts) for name, parts in results.items()}
    print("all rounds: " + ", ".join(f"{name} {value:.0f} req/s" for name, value in rates.items()))
    print(f"{ON} / {OFF}: {rates[ON] / rates[OFF]:.2f}")
    print(f"{INLINE} / {OFF}: {rates[INLINE] / rates[OFF]:.2f}")
    print(f"views counted after the fold: {counted} of {CHECKED} requests sent to the background server")
    print(f"overview, 90 days, over {rows} daily rows of 1,000+ posts (median of 5):")
    print(f"  the author of every post: {author_queries} SQL queries, {author_ms} ms")
    print(f"  staff: {staff_queries} SQL queries, {staff_ms} ms")


if __name__ == "__main__":
    main()
