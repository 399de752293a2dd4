"""Federation fan-out: a post to N followers on M shared inboxes, through real workers, across a kill.

    .venv/bin/python bench/federation.py [--followers 10000] [--inboxes 500] [--concurrency 2]

PostgreSQL, Celery workers on Redis consuming the `federation` queue, and a
sink on loopback serving M inboxes (an HTTP server counting every POST by
inbox and activity id). Two sends:

1. a clean one: seconds from publishing the post to the last inbox reached,
   beside a plain loop in this process that signs and POSTs the same body
   to the same M inboxes over http.client (the floor any Python sender pays);
2. one where the worker is killed (SIGKILL, the whole process group) after
   a fifth of the inboxes got the post; a new worker starts and the sweeper
   (`blog.federation.tasks.requeue_stuck`, every minute from beat in
   production) runs once FEDERATION_STUCK_AFTER_SECONDS have passed.

For both it prints the inboxes reached, missed, and POSTs received twice
(a POST in flight when the worker died is repeated: the receiver drops a
repeated activity id, as Mastodon does).
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import DATABASE_URL, PYTHON, ROOT, ensure_database, manage, production_env, temp_var_dir

SETUP = """
from accounts.models import User
from blog.models import ActorKey, FederatedDelivery, Follower, OutboundActivity, Post, RemoteActor
OutboundActivity.objects.all().delete()
Follower.objects.all().delete()
RemoteActor.objects.all().delete()
User.objects.filter(username__startswith="fedi-bench-").delete()
Post.objects.filter(slug__startswith="bench-federation").delete()
from django.utils import timezone
now = timezone.now()
users = User.objects.bulk_create(
    (User(username=f"fedi-bench-{i}", email=f"fedi-bench-{i}@federated.invalid", password="!") for i in range(N)),
    batch_size=5000)
actors = RemoteActor.objects.bulk_create(
    (RemoteActor(uri=f"SINK/users/{i}", key_id=f"SINK/users/{i}#main-key", public_key_pem="-",
                 inbox=f"SINK/users/{i}/inbox", shared_inbox=f"SINK/i/{i % M}/inbox", domain="DOMAIN",
                 preferred_username=f"reader{i}", user=user, fetched_at=now)
     for i, user in enumerate(users)), batch_size=5000)
Follower.objects.bulk_create((Follower(remote=actor, local="publication") for actor in actors), batch_size=5000)
author, _ = User.objects.get_or_create(username="bench-author", defaults={"email": "bench-author@example.com"})
body = ("A paragraph of analysis. " * 40 + "\\n\\n") * 8
for run in ("clean", "kill"):
    post = Post.objects.create(author=author, slug=f"bench-federation-{run}", title=f"Bench {run}", body=body)
    print(post.pk)
"""

PUBLISH = """
import time
from blog.models import Post
from blog.posts.publishing import publish_post
print("started", time.time())
publish_post(Post.objects.get(pk=PK))
"""

SWEEP = """
from blog.federation.tasks import requeue_stuck
requeue_stuck.delay()
"""

REPORT = """
from django.db.models import Count
from blog.models import FederatedDelivery
print(dict(FederatedDelivery.objects.filter(activity__post_id=PK).values_list("status").annotate(n=Count("pk"))))
"""

FLOOR = """
import http.client, json, sys, time
from blog.federation import actors, signatures
from blog.models import Post
post = Post.objects.get(pk=PK)
body = json.dumps({"id": "floor", "type": "Create", "object": actors.article(post)}).encode()
key_id, pem = actors.signing_key("publication")
started = time.monotonic()
for n in range(M):
    url = f"SINK/floor/{n}/inbox"
    headers = {"Content-Type": "application/activity+json", **signatures.sign("POST", url, body, key_id, pem)}
    connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
    connection.request("POST", f"/floor/{n}/inbox", body=body, headers=headers)
    connection.getresponse().read()
    connection.close()
print("floor", time.monotonic() - started)
"""


class Sink:
    def __init__(self) -> None:
        self.posts: Counter[tuple[str, str]] = Counter()
        self.lock = threading.Lock()

    def inboxes_reached(self, activity_prefix: str) -> int:
        with self.lock:
            return len({path for path, activity in self.posts if activity.startswith(activity_prefix)})

    def repeats(self) -> int:
        with self.lock:
            return sum(n - 1 for n in self.posts.values())


def serve(sink: Sink) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            activity = json.loads(body).get("id", "")
            post = json.loads(body).get("object", {}).get("id", "") if activity != "floor" else "floor"
            with sink.lock:
                sink.posts[(self.path, f"{post} {activity}")] += 1
            self.send_response(202)
            self.send_header("Content-Length", "0")
            self.end_headers()

    class Server(ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request: object, client_address: object) -> None:
            pass  # a worker killed mid-request resets its connection: expected here

    server = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def shell(env: dict[str, str], code: str) -> str:
    command = [PYTHON, "manage.py", "shell", "--no-imports", "-c", code]
    return subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True, text=True).stdout


def start_worker(env: dict[str, str], concurrency: int) -> "subprocess.Popen[bytes]":
    return subprocess.Popen(
        [PYTHON, "-m", "celery", "-A", "config", "worker", "-Q", "federation,celery", "-c", str(concurrency),
         "-l", "warning", "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def stop(worker: "subprocess.Popen[bytes]", sig: int = signal.SIGTERM) -> None:
    try:
        os.killpg(worker.pid, sig)
    except ProcessLookupError:
        return
    worker.wait(timeout=60)


def wait_until(check: Callable[[], object], timeout: float, what: str) -> float:
    deadline = time.time() + timeout
    while not check():
        if time.time() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.02)
    return time.time()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--followers", type=int, default=10_000)
    parser.add_argument("--inboxes", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--stuck-after", type=int, default=5, help="FEDERATION_STUCK_AFTER_SECONDS for the run")
    parser.add_argument("--database-url", default=DATABASE_URL)
    parser.add_argument("--broker-url", default=os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/12"))
    args = parser.parse_args()

    sink = Sink()
    server = serve(sink)
    port = server.server_address[1]
    base = f"http://127.0.0.1:{port}"
    ensure_database(args.database_url)
    env = production_env(args.database_url, temp_var_dir())
    env.update(
        CELERY_BROKER_URL=args.broker_url, CELERY_TASK_ALWAYS_EAGER="0", FEDERATION_ALLOW_PRIVATE_ADDRESSES="1",
        FEDERATION_BATCH_SIZE=str(args.batch_size), FEDERATION_STUCK_AFTER_SECONDS=str(args.stuck_after),
    )  # fmt: skip
    manage(env, "migrate", "--noinput")
    setup = SETUP.replace("SINK", base).replace("DOMAIN", f"127.0.0.1:{port}")
    setup = setup.replace("range(N)", f"range({args.followers})").replace("% M", f"% {args.inboxes}")
    clean_pk, kill_pk = shell(env, setup).split()[-2:]
    subprocess.run([PYTHON, "-m", "celery", "-A", "config", "purge", "-f", "-Q", "federation,celery"], cwd=ROOT,
                   env=env, check=True, capture_output=True)  # fmt: skip
    floor = float(shell(env, FLOOR.replace("SINK", base).replace("PORT", str(port)).replace("PK", clean_pk)
                              .replace("range(M)", f"range({args.inboxes})")).split()[-1])  # fmt: skip
    article = f"{env['SITE_URL']}/ap/articles/"

    worker = start_worker(env, args.concurrency)
    try:
        time.sleep(4)  # let the worker connect
        started = float(shell(env, PUBLISH.replace("PK", clean_pk)).split()[1])
        finished = wait_until(
            lambda: sink.inboxes_reached(article + clean_pk + " ") >= args.inboxes, 300, "the clean send"
        )
        clean_seconds = finished - started
        time.sleep(1)
        clean_repeats = sink.repeats()

        started = float(shell(env, PUBLISH.replace("PK", kill_pk)).split()[1])
        wait_until(
            lambda: sink.inboxes_reached(article + kill_pk + " ") >= args.inboxes // 5, 300, "a fifth of the send"
        )
        stop(worker, signal.SIGKILL)
        at_kill = sink.inboxes_reached(article + kill_pk + " ")
        worker = start_worker(env, args.concurrency)
        time.sleep(args.stuck_after + 1)
        shell(env, SWEEP)
        finished = wait_until(lambda: sink.inboxes_reached(article + kill_pk + " ") >= args.inboxes, 300, "the rest")
        kill_seconds = finished - started
        time.sleep(2)  # anything sent twice arrives now
        statuses = shell(env, REPORT.replace("PK", kill_pk)).strip()
    finally:
        stop(worker)
        server.shutdown()
    kill_repeats = sink.repeats() - clean_repeats

    print(f"{args.followers} followers on {args.inboxes} shared inboxes, {args.concurrency} worker processes, "
          f"batches of {args.batch_size}; sink, broker, database and workers share {os.cpu_count()} cores")  # fmt: skip
    print(f"{'sender':<48} {'seconds':>8} {'inboxes/s':>10}")
    print(
        f"{'Dispatch, clean (publish to last inbox)':<48} {clean_seconds:>8.2f} {args.inboxes / clean_seconds:>10.0f}"
    )
    print(f"{'plain loop: sign and POST, one process':<48} {floor:>8.2f} {args.inboxes / floor:>10.0f}")
    print(f"Dispatch / plain loop (time): {clean_seconds / floor:.2f}")
    print(
        f"clean send: inboxes reached {sink.inboxes_reached(article + clean_pk + ' ')}, "
        f"missed {args.inboxes - sink.inboxes_reached(article + clean_pk + ' ')}, POSTs repeated {clean_repeats}"
    )
    print(
        f"killed send: worker killed after {at_kill} inboxes; all reached {kill_seconds:.2f} s after publishing "
        f"(including the {args.stuck_after} s a delivery must be stuck before the sweep)"
    )
    reached = sink.inboxes_reached(article + kill_pk + " ")
    print(f"killed send: inboxes reached {reached}, missed {args.inboxes - reached}, POSTs repeated {kill_repeats}")
    print(f"killed send: delivery rows by status {statuses}")


if __name__ == "__main__":
    main()
