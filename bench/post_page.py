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
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (
    CACHE_URL,
    HEADER,
    MACHINE,
    ROOT,
    Result,
    add_load_arguments,
    against_hello,
    count_queries,
    ensure_database,
    free_port,
    gunicorn,
    interleaved,
    load,
    load_by,
    page,
    prepare_demo,
    production_env,
    ratio_row,
    shell,
    temp_var_dir,
)

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
    add_load_arguments(parser)
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


SEED_SUBSCRIBERS = """
from blog.models import Subscriber
have = Subscriber.objects.filter(email__startswith="bench-sub").count()
for start in range(have, COUNT, 5000):
    Subscriber.objects.bulk_create([Subscriber(email=f"bench-sub{i}@example.com", status="active")
                                    for i in range(start, min(start + 5000, COUNT))], ignore_conflicts=True)
"""


def prepare(env: dict[str, str], subscribers: int) -> str:
    """Migrate and seed; returns a session key of a signed-in commenter."""
    prepare_demo(env)
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
        sizes = {
            name: count_queries(env, path, {"sessionid": who} if who else {}) for name, (path, who) in targets.items()
        }
        requests = {name: page(*target) for name, target in targets.items()}
        results = against_hello(env, requests, page("/", ""), args)
        shared = None
        if not args.no_shared_cache and shutil.which("varnishd") and shutil.which("nginx"):
            shared = shared_cache_pair(env, post, args)
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)
    print(f"gunicorn 2 sync workers, {load_by(args)}; cache: {args.cache_url or 'per-worker memory'}")
    print(MACHINE)
    print(
        "each target alternates with the bare Django hello (bench/hello.py), five 1 s runs each; ratio = target / hello"
    )
    print(HEADER + f" {'hello/s':>9} {'hello p99':>9} {'ratio':>7}")
    for result, floor in results:
        print(ratio_row(result, floor))
    for name, (queries, size) in sizes.items():
        print(f"{name}: {queries} SQL queries, {size // 1024} KB of HTML")
    if args.subscribers:
        print(f"{args.subscribers:,} subscribers seeded (the signed-in page looks its reader up among them)")
    if shared:
        cached, static = shared
        print("\nsigned-out post page through Varnish (config/varnish/dispatch.vcl) against nginx (2 workers)")
        print("serving the same HTML as a static file, alternating; ratio = Varnish / nginx")
        print(HEADER + f" {'nginx/s':>9} {'nginx p99':>9} {'ratio':>7}")
        print(ratio_row(cached, static))


if __name__ == "__main__":
    main()
