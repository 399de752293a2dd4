"""Likes under load: 100 signed-in readers toggling likes on one post at once.

    .venv/bin/python bench/likes.py [--seconds 5] [--readers 100]
        [--database-url ...] [--cache-url redis://127.0.0.1:6379/1]

gunicorn with 2 sync workers on PostgreSQL, production settings plus one
bench-only address (bench/settings.py): an authenticated trivial view that
loads the session and the user and does nothing else. wrk -t2 -c<readers>
(Python threads without wrk) sends each reader's like toggles, then the same
readers' requests to the trivial view, then the bare Django hello; prints
requests/s, p50 and p99, the ratios, the SQL queries one like runs (session
included), and checks that the like count equals the like rows afterwards.
Rate limits are off (RATELIMIT_ENABLED=0): every request comes from one
address, and the limiter is measured by its own tests.
"""

import argparse
import json
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
    Request,
    ensure_database,
    get,
    gunicorn,
    hello,
    interleaved,
    load,
    manage,
    measure,
    production_env,
    temp_var_dir,
)

CSRF = "b" * 32  # an unmasked CSRF secret: the same value in cookie and header

SETUP = """
import json
from django.test import Client
from accounts.models import User
from blog.models import Like, Post
author, _ = User.objects.get_or_create(username="bench-author", defaults={"email": "bench-author@example.com"})
post, _ = Post.objects.get_or_create(slug="bench-likes", defaults={
    "author": author, "title": "Bench likes", "body": "Like me.", "status": "published"})
Post.objects.filter(pk=post.pk).update(published_at="2020-01-01T00:00:00Z", like_count=0)
Like.objects.filter(post=post).delete()
sessions = []
for i in range(READERS):
    user, _ = User.objects.get_or_create(username=f"bench{i}", defaults={"email": f"bench{i}@example.com"})
    client = Client()
    client.force_login(user)
    sessions.append(client.cookies["sessionid"].value)
print(json.dumps({"slug": post.slug, "sessions": sessions}))
"""

COUNT_QUERIES = """
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
client = Client(HTTP_HOST="127.0.0.1")
client.cookies["sessionid"] = "SESSION"
for _ in range(2):
    with CaptureQueriesContext(connection) as queries:
        response = client.post("/p/bench-likes/like/", {"position": "top"}, headers={"Accept": "application/json"})
    assert response.status_code == 200, response.status_code
    print(len(queries))
"""

CHECK = """
from blog.models import Like, Post
post = Post.objects.get(slug="bench-likes")
print(post.like_count, Like.objects.filter(post=post).count())
"""


def shell(env: dict[str, str], code: str) -> str:
    command = [PYTHON, "manage.py", "shell", "--no-imports", "-c", code]
    return subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True, text=True).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5, help="wrk duration per target")
    parser.add_argument("--requests", type=int, default=4050, help="requests per target without wrk")
    parser.add_argument("--readers", type=int, default=100)
    parser.add_argument("--database-url", default=DATABASE_URL)
    parser.add_argument("--cache-url", default=CACHE_URL, help="shared cache and sessions (Redis in production)")
    args = parser.parse_args()

    ensure_database(args.database_url)
    env = production_env(args.database_url, temp_var_dir(), args.cache_url)
    env["RATELIMIT_ENABLED"] = "0"
    env["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    manage(env, "migrate", "--noinput")
    manage(env, "collectstatic", "--noinput")
    setup = json.loads(shell(env, SETUP.replace("READERS", str(args.readers))).splitlines()[-1])
    sessions, slug = setup["sessions"], setup["slug"]
    queries = shell(env, COUNT_QUERIES.replace("SESSION", sessions[0])).split()[-2:]

    def headers(i: int) -> dict[str, str]:
        cookie = f"sessionid={sessions[i % len(sessions)]}; csrftoken={CSRF}"
        return {"Host": "127.0.0.1", "Cookie": cookie, "X-CSRFToken": CSRF}

    def like(i: int) -> Request:
        extra = {"Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded"}
        return "POST", f"/p/{slug}/like/", b"position=top", headers(i) | extra

    def whoami(i: int) -> Request:
        return "GET", "/bench/whoami", None, headers(i)

    n, c, s = args.requests, args.readers, args.seconds
    with gunicorn(env) as base, hello(env) as hello_base:
        load("warm-up", base, whoami, 200, 10)
        load("warm-up", hello_base, get("/"), 200, 10)
        likes, trivial = interleaved(
            ("like toggle (POST)", base, like), ("authenticated trivial view", base, whoami), s, c,
            variants=len(sessions), total=n,
        )  # fmt: skip
        floor = measure("bare Django hello", hello_base, get("/"), n, c, s)

    count, rows = map(int, shell(env, CHECK).split()[-2:])
    load_by = f"wrk -t2 -c{c} -d{s:g}s" if WRK else f"{c} Python threads"
    print(
        f"gunicorn 2 sync workers, PostgreSQL; {load_by}; {args.readers} readers; cache: {args.cache_url or 'memory'}"
    )
    print(HEADER)
    for result in (likes, trivial, floor):
        print(result.row())
    print(f"like toggle / authenticated trivial view: {likes.rate / trivial.rate:.2f}")
    print(f"like toggle / bare Django hello: {likes.rate / floor.rate:.2f}")
    print(f"SQL queries per like, session included: {' and '.join(queries)} (like, then unlike)")
    print(f"like count {count}, like rows {rows}: {'consistent' if count == rows else 'DRIFTED'}")
    if count != rows or likes.errors:
        sys.exit(1)


if __name__ == "__main__":
    main()
