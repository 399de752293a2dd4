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
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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
    Result,
    ensure_database,
    free_port,
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
    parser.add_argument(
        "--subscribers",
        type=int,
        default=0,
        help="seed this many subscribers first (the signed-in page looks a reader up among them)",
    )
    parser.add_argument(
        "--no-shared-cache",
        action="store_true",
        help="skip the post page through Varnish against nginx serving it as a static file",
    )
    return parser.parse_args()


def shell(env: dict[str, str], code: str) -> str:
    command = [PYTHON, "manage.py", "shell", "--no-imports", "-c", code]
    return subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True, text=True).stdout


SEED_SUBSCRIBERS = """
from blog.models import Subscriber
have = Subscriber.objects.filter(email__startswith="bench-sub").count()
for start in range(have, COUNT, 5000):
    Subscriber.objects.bulk_create([Subscriber(email=f"bench-sub{i}@example.com", status="active")
                                    for i in range(start, min(start + 5000, COUNT))], ignore_conflicts=True)
"""


def prepare(env: dict[str, str], subscribers: int) -> str:
    """Migrate and seed; returns a session key of a signed-in commenter."""
    manage(env, "migrate", "--noinput")
    manage(env, "seed_demo", "--force", "--verbosity", "0")
    manage(env, "collectstatic", "--noinput")
    if subscribers:
        shell(env, SEED_SUBSCRIBERS.replace("COUNT", str(subscribers)))
    return shell(env, SEED_COMMENTS.replace("SLUG", COMMENTED_SLUG)).split()[-1]


VCL = ROOT / "config" / "varnish" / "dispatch.vcl"


@contextmanager
def varnish(backend: str) -> Iterator[str]:
    """The shipped VCL in front of `backend` (gunicorn); yields Varnish's base URL."""
    workdir = Path(tempfile.mkdtemp(prefix="bench-varnish-"))
    workdir.chmod(0o755)  # varnishd's own users read the VCL and work in here
    port, backend_port = free_port(), backend.rsplit(":", 1)[1]
    (workdir / "dispatch.vcl").write_text(VCL.read_text().replace('.port = "8000";', f'.port = "{backend_port}";'))
    command = ["varnishd", "-F", "-n", str(workdir / "n"), "-a", f"127.0.0.1:{port}", "-T", "none",
               "-f", str(workdir / "dispatch.vcl"), "-s", "malloc,64m"]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, start_new_session=True)
    try:
        yield _ready(f"http://127.0.0.1:{port}", "/healthz", process)
    finally:
        process.terminate()
        process.wait(timeout=20)
        shutil.rmtree(workdir, ignore_errors=True)


NGINX_CONF = """
worker_processes 2;
pid DIR/nginx.pid;
error_log DIR/error.log;
events { worker_connections 1024; }
http {
    access_log off;
    default_type text/html;
    server {
        listen 127.0.0.1:PORT;
        root DIR/html;
        location / { try_files $uri $uri/index.html =404; }
    }
}
"""


@contextmanager
def nginx(path: str, html: bytes) -> Iterator[str]:
    """nginx (2 workers) serving `html` as a static file at `path`; yields its base URL."""
    workdir = Path(tempfile.mkdtemp(prefix="bench-nginx-"))
    workdir.chmod(0o755)
    page = workdir / "html" / path.strip("/") / "index.html"
    page.parent.mkdir(parents=True)
    page.write_bytes(html)
    for folder in [workdir, *page.parents]:
        if str(folder).startswith(str(workdir)):
            folder.chmod(0o755)
    page.chmod(0o644)
    port = free_port()
    (workdir / "nginx.conf").write_text(NGINX_CONF.replace("DIR", str(workdir)).replace("PORT", str(port)))
    command = ["nginx", "-p", str(workdir), "-c", str(workdir / "nginx.conf"), "-g", "daemon off;"]
    process = subprocess.Popen(command, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        yield _ready(f"http://127.0.0.1:{port}", path, process)
    finally:
        process.terminate()
        process.wait(timeout=20)
        shutil.rmtree(workdir, ignore_errors=True)


def _ready(base: str, path: str, process: "subprocess.Popen[bytes]") -> str:
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(base + path, timeout=2)
            return base
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"{base} did not come up") from None
            time.sleep(0.2)


def shared_cache_pair(env: dict[str, str], path: str, args: argparse.Namespace) -> tuple[Result, Result]:
    """The signed-out post page through Varnish, against nginx serving the same HTML as a static file."""
    with gunicorn(env) as base, varnish(base) as cached:
        html = urllib.request.urlopen(urllib.request.Request(cached + path, headers={"Host": "127.0.0.1"})).read()
        with nginx(path, html) as static:
            load("warm-up", cached, page(path, ""), 200, 4)
            load("warm-up", static, page(path, ""), 200, 4)
            return interleaved(("post page through Varnish", cached, page(path, "")),
                               ("nginx, the same HTML as a file", static, page(path, "")),
                               args.seconds, args.concurrency, total=args.requests)  # fmt: skip


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


def page(path: str, session: str) -> Callable[[int], Request]:
    # What a browser sends, so that page-view counting (blog/pageviews.py) runs as for a reader.
    headers = {"Host": "127.0.0.1", "User-Agent": BROWSER, "Accept": "text/html", "Accept-Language": "en"}
    if session:  # and the CSRF cookie the site set on their first page, as a browser keeps it
        headers["Cookie"] = f"sessionid={session}; csrftoken={CSRF_SECRET}"
    return lambda _i: ("GET", path, None, headers)


def run(
    env: dict[str, str], targets: dict[str, tuple[str, str]], args: argparse.Namespace
) -> list[tuple[Result, Result]]:
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
        session = prepare(env, args.subscribers)
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
        shared = None
        if not args.no_shared_cache and shutil.which("varnishd") and shutil.which("nginx"):
            shared = shared_cache_pair(env, post, args)
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
    if args.subscribers:
        print(f"{args.subscribers:,} subscribers seeded (the signed-in page looks its reader up among them)")
    if shared:
        cached, static = shared
        print("\nsigned-out post page through Varnish (config/varnish/dispatch.vcl) against nginx (2 workers)")
        print("serving the same HTML as a static file, alternating; ratio = Varnish / nginx")
        print(HEADER + f" {'nginx/s':>9} {'nginx p99':>9} {'ratio':>7}")
        print(cached.row() + f" {static.rate:>9.0f} {static.p99:>9.1f} {cached.rate / static.rate:>7.3f}")


if __name__ == "__main__":
    main()
