"""Likes under load: 100 signed-in readers toggling likes on one post at once.

    .venv/bin/python bench/likes.py [--requests 4050] [--readers 100]

gunicorn with 2 sync workers on PostgreSQL, production settings. Prints
requests/s, p50 and p99 latency for the like endpoint and, in the same run
and at the same concurrency, for a trivial view (/robots.txt), their ratio,
and checks that the post's like count equals its like rows afterwards.
Rate limits are switched off (RATELIMIT_ENABLED=0): every request comes from
one address, and the limiter is measured by its own tests.
"""

import argparse
import json
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
    parser.add_argument("--requests", type=int, default=4050)
    parser.add_argument("--readers", type=int, default=100)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/dispatch_bench")
    args = parser.parse_args()

    ensure_database(args.database_url)
    env = production_env(args.database_url, temp_var_dir())
    env["RATELIMIT_ENABLED"] = "0"
    manage(env, "migrate", "--noinput")
    manage(env, "collectstatic", "--noinput")
    setup = json.loads(shell(env, SETUP.replace("READERS", str(args.readers))).splitlines()[-1])
    sessions, slug = setup["sessions"], setup["slug"]

    def like(i: int) -> tuple[str, str, bytes, dict]:
        headers = {
            "Host": "127.0.0.1",
            "Cookie": f"sessionid={sessions[i % len(sessions)]}; csrftoken={CSRF}",
            "X-CSRFToken": CSRF,
            "Accept": "application/json",
            "Content-Type": "application/x-www-form-urlencoded",
        }
        return "POST", f"/p/{slug}/like/", b"position=top", headers

    with gunicorn(env) as base:
        load("warm-up", base, get("/robots.txt"), 200, 10)
        likes = load("like toggle (POST)", base, like, args.requests, args.readers)
        trivial = load("trivial view (/robots.txt)", base, get("/robots.txt"), args.requests, args.readers)

    count, rows = map(int, shell(env, CHECK).split()[-2:])
    print(f"gunicorn 2 sync workers, PostgreSQL; {args.requests} requests, {args.readers} concurrent readers")
    print(HEADER)
    print(likes.row())
    print(trivial.row())
    print(f"like toggle / trivial view throughput: {likes.rate / trivial.rate:.2f}")
    print(f"like count {count}, like rows {rows}: {'consistent' if count == rows else 'DRIFTED'}")
    if count != rows or likes.errors:
        sys.exit(1)


if __name__ == "__main__":
    main()
