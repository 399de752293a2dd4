"""The read API's post list under load, against bare Django in the same run.

    .venv/bin/python bench/api.py [--seconds 5] [--concurrency 32]
        [--database-url postgres://postgres@127.0.0.1:5432/dispatch_bench]
        [--cache-url redis://127.0.0.1:6379/1]

Needs PostgreSQL; the database is created if missing, migrated and seeded with
the demo content. Runs gunicorn (2 sync workers, production settings, rate
limits off as in every bench) and loads GET /api/v1/posts (20 posts, with
authors, tags and comment counts) signed out, then the same with a key and a
tag filter, and the home page signed out (what the pages reach, for
reference), each alternating with the bare Django hello (bench/hello.py) on
the same gunicorn; prints requests/s, p50/p99 and each one's share of the
hello's throughput (the target is 0.40), and the SQL queries of one request.
"""

import argparse
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (
    CACHE_URL,
    HEADER,
    MACHINE,
    Request,
    add_load_arguments,
    against_hello,
    count_queries,
    ensure_database,
    load_by,
    page,
    prepare_demo,
    production_env,
    ratio_row,
    shell,
    temp_var_dir,
)

MAKE_KEY = """
from accounts.models import User
from blog.integrations.apikeys import create_key
owner, _ = User.objects.get_or_create(username="bench-integrations", defaults={"email": "bi@example.com"})
print(create_key(owner, "bench", ["read"]).secret)
"""
FIRST_TAG = """
from taggit.models import Tag
print(Tag.objects.order_by("slug").values_list("slug", flat=True).first())
"""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_load_arguments(parser)
    parser.add_argument("--cache-url", default=CACHE_URL, help="shared cache; default: each worker's own memory")
    return parser.parse_args()


def api(path: str, key: str = "") -> Callable[[int], Request]:
    headers = {"Host": "127.0.0.1", "Accept": "application/json", "User-Agent": "bench"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    return lambda _i: ("GET", path, None, headers)


def request_for(name: str, path: str, key: str) -> Callable[[int], Request]:
    """The API as a tool calls it; the reference page as a browser asks for it (harness.page)."""
    return page(path, "") if name.startswith("home") else api(path, key)


def main() -> None:
    args = parse_args()
    ensure_database(args.database_url)
    var_dir = temp_var_dir()
    try:
        env = production_env(args.database_url, var_dir, args.cache_url)
        prepare_demo(env)
        key = shell(env, MAKE_KEY).split()[-1]
        tag = shell(env, FIRST_TAG).split()[-1]
        targets = {
            "GET /api/v1/posts, no key": ("/api/v1/posts", ""),
            "home page (reference), signed out": ("/", ""),
            f"GET /api/v1/posts?tag={tag}, a key": (f"/api/v1/posts?tag={tag}", key),
        }
        sizes = {
            name: count_queries(env, path, headers={"Authorization": f"Bearer {who}"} if who else {})
            for name, (path, who) in targets.items()
        }
        requests = {name: request_for(name, path, who) for name, (path, who) in targets.items()}
        results = against_hello(env, requests, api("/"), args)
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)
    print(f"gunicorn 2 sync workers, {load_by(args)}; cache: {args.cache_url or 'per-worker memory'}")
    print(MACHINE)
    print("each target alternates with the bare Django hello (bench/hello.py); ratio = target / hello (target 0.40)")
    print(HEADER + f" {'hello/s':>9} {'hello p99':>9} {'ratio':>7}")
    for result, floor in results:
        print(ratio_row(result, floor))
    for name, (queries, size) in sizes.items():
        print(f"{name}: {queries} SQL queries, {size // 1024} KB")


if __name__ == "__main__":
    main()
