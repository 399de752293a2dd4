"""Finding a member among 100,000, against bare Django in the same run.

    .venv/bin/python bench/members.py [--seconds 5] [--concurrency 4] [--members 100000]
        [--database-url postgres://postgres@127.0.0.1:5432/dispatch_bench]

Needs PostgreSQL (the address search uses its trigram index); the database is
created if missing, migrated, seeded with the demo content and filled with
`--members` subscribers in one INSERT (kept for the next run). Runs gunicorn
(2 sync workers) with production settings and loads the members page signed
in as the demo publisher, cycling through 50 different requests per target:
a part of an address that one member has, a whole address, status and cadence
filters, and a page deep in the list (keyset). Then the bare Django hello
(bench/hello.py) on the same gunicorn, alternating with each target. Few
connections: this is the owner (and a colleague or two) looking people up,
not a crowd; the target is a p99 under 200 ms. Prints requests/s, p50/p99,
the ratio of each target's p99 to the hello's p99 and of throughputs, and the
SQL each request runs.
"""

import argparse
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (
    HEADER,
    MACHINE,
    Request,
    add_load_arguments,
    against_hello,
    count_queries,
    ensure_database,
    get,
    load_by,
    prepare_demo,
    production_env,
    shell,
    temp_var_dir,
)

TARGET_P99_MS = 200
VARIANTS = 50
# Addresses member000000@... to member099999@..., over 40 domains; statuses,
# cadences, sources and join dates spread like a list built over four years.
FILL = """
from django.db import connection
from blog.models import Subscriber
wanted = WANTED
have = Subscriber.objects.filter(email__startswith="member").count()
if have < wanted:
    with connection.cursor() as cursor:
        cursor.execute('''
            INSERT INTO blog_subscriber (email, status, frequency, digest_hour, digest_weekday, timezone, source,
                                         created_at, note, label)
            SELECT 'member' || lpad(i::text, 6, '0') || '@mail' || mod(i, 40) || '.example',
                   (ARRAY['active','active','active','active','active','active','unsubscribed','pending',
                          'bounced','complained'])[1 + mod(i, 10)],
                   (ARRAY['post','post','daily','weekly'])[1 + mod(i, 4)], 8, 0, 'UTC',
                   (ARRAY['post-top:tides','post-bottom:tides','profile:author','import:author','home'])[1 + mod(i, 5)],
                   now() - (i * interval '20 minutes'), '', CASE WHEN mod(i, 97) = 0 THEN 'press' ELSE '' END
            FROM generate_series(%s, %s - 1) AS i
            ON CONFLICT DO NOTHING''', [have, wanted])
        cursor.execute("ANALYZE blog_subscriber")
print(Subscriber.objects.count())
"""
SIGN_IN = """
from django.test import Client
from accounts.models import User
client = Client()
client.force_login(User.objects.get(username="author"))
print(client.cookies["sessionid"].value)
"""
CURSOR = """
from blog.newsletter import members
found = members.members(members.MemberFilter())
row = found.order_by("-created_at", "-pk")[60000]
print(members.make_cursor(row))
"""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_load_arguments(parser, requests=500, concurrency=2)
    parser.add_argument("--members", type=int, default=100_000)
    return parser.parse_args()


def member_page(session: str, queries: list[str]) -> Callable[[int], Request]:
    headers = {"Host": "127.0.0.1", "Accept": "text/html", "Cookie": f"sessionid={session}"}
    return lambda i: ("GET", "/write/members/?" + queries[i % len(queries)], None, headers)


def targets(members: int, cursor: str) -> dict[str, list[str]]:
    step = members // VARIANTS
    return {
        "part of an address (one match)": [f"q=member{i * step + 7:06d}" for i in range(VARIANTS)],
        "whole address": [f"q=member{i * step + 3:06d}%40mail{(i * step + 3) % 40}.example" for i in range(VARIANTS)],
        "a domain, active, weekly": [f"q=mail{i % 40}.example&status=active&cadence=weekly" for i in range(VARIANTS)],
        "label press, source import": ["label=press&source=import"] * VARIANTS,
        "page 1,200 of the list (keyset)": [f"after={cursor.replace('+', '%2B')}"] * VARIANTS,
    }


def main() -> None:
    args = parse_args()
    ensure_database(args.database_url)
    var_dir = temp_var_dir()
    try:
        env = production_env(args.database_url, var_dir)
        prepare_demo(env)
        total = shell(env, FILL.replace("WANTED", str(args.members)))
        session = shell(env, SIGN_IN).split()[-1]
        cursor = shell(env, CURSOR).split()[-1]
        wanted = targets(args.members, cursor)
        queries = {
            name: count_queries(env, "/write/members/?" + qs[0], {"sessionid": session}, expect="/write/members/")[0]
            for name, qs in wanted.items()
        }
        requests = {name: member_page(session, qs) for name, qs in wanted.items()}
        results = against_hello(env, requests, get("/"), args, variants=VARIANTS, warm_up=(20, 100, 2))
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)
    print(f"{total} subscribers; gunicorn 2 sync workers, {load_by(args)}; signed in as the demo publisher")
    print(MACHINE)
    print("each target alternates with the bare Django hello (bench/hello.py), five runs each")
    print(HEADER + f" {'hello p99':>9} {'p99 ratio':>9} {'rate ratio':>10} {'SQL':>4}")
    worst = 0.0
    for result, floor in results:
        worst = max(worst, result.p99)
        ratios = f" {floor.p99:>9.1f} {result.p99 / floor.p99:>9.1f} {result.rate / floor.rate:>10.3f}"
        print(result.row() + ratios + f" {queries[result.name]:>4}")
    verdict = "met" if worst < TARGET_P99_MS else "NOT met"
    print(f"worst p99 {worst:.1f} ms: target of {TARGET_P99_MS} ms {verdict}")


if __name__ == "__main__":
    main()
