"""Newsletter fan-out: publish a post to N subscribers through the real workers.

    .venv/bin/python bench/fanout.py [--subscribers 10000] [--concurrency 2]

PostgreSQL, Celery workers on Redis, and an aiosmtpd sink on loopback. Prints
e-mails per second for the whole send (from the call to publish the post to
the last message at the sink) and, in the same run, the rate of a plain
smtplib loop sending the same number of copies of the message a worker sends
(byte for byte) over one connection to the same sink: the floor that any
Python sender on this machine pays. Also prints what each message cost the
sink's CPU in both, since the sink shares the machine. Also prints how
many distinct subscribers the sink heard from (missing, duplicates) and the
peak memory (VmHWM) of each worker process.
"""

import argparse
import os
import signal
import smtplib
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from bench.harness import (
    DATABASE_URL,
    PYTHON,
    ROOT,
    ensure_database,
    free_port,
    manage,
    production_env,
    temp_var_dir,
)

SETUP = """
from accounts.models import User
from blog.models import Delivery, Post, Send, Subscriber
Send.objects.all().delete()
Subscriber.objects.all().delete()
Post.objects.filter(slug="bench-fanout").delete()
author, _ = User.objects.get_or_create(username="bench-author", defaults={"email": "bench-author@example.com"})
Subscriber.objects.bulk_create(
    (Subscriber(email=f"reader{i}@example.com", status="active") for i in range(N)), batch_size=5000)
body = ("A paragraph of analysis. " * 40 + "\\n\\n") * 8  # about 8 KB, a typical long post
post = Post.objects.create(author=author, slug="bench-fanout", title="Bench fan-out", body=body)
print(post.pk)
"""

PUBLISH = """
import time
from blog.models import Post
from blog.posts.publishing import publish_post
from blog.tasks import queue_send
post = Post.objects.get(pk=PK)
print("started", time.time())  # the send starts here, not when this shell's Python started
if publish_post(post):
    queue_send([post.pk])
"""

# Byte for byte what a worker sends the first subscriber: the sink's cost is
# per line, so the loop must send the same lines (a message object built by
# the email package has a 7bit text part of long lines, 207 lines where the
# send's quoted-printable copy has 359, and costs the sink a third less).
SAMPLE = """
import sys
from blog.newsletter import emails
from blog.models import Post, Subscriber
post = Post.objects.get(pk=PK)
subscriber = Subscriber.objects.order_by("pk").first()
prepared = emails.prepare_newsletter(emails.render_post(post))
links = emails.subscriber_links(subscriber, post)
sys.stdout.buffer.write(prepared.for_subscriber(subscriber.email, links, emails.message_id_for(1)))
"""


class Counting:
    def __init__(self) -> None:
        self.count = 0
        self.recipients: set[str] = set()
        self.lock = threading.Lock()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        with self.lock:
            self.count += 1
            self.recipients.update(envelope.rcpt_tos)
        return "250 OK"


def peak_memory(group: int) -> dict[int, int]:
    """Peak resident memory (VmHWM, in KB) of every process in a process group."""
    peaks = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[2]) != group:
                continue
            status = (entry / "status").read_text()
        except (OSError, IndexError, ValueError):
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                peaks[int(entry.name)] = int(line.split()[1])
    return peaks


def shell(env: dict[str, str], code: str) -> bytes:
    command = [PYTHON, "manage.py", "shell", "--no-imports", "-c", code]
    return subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True).stdout


def wait_for(sink: Counting, n: int, timeout: float) -> float:
    deadline = time.time() + timeout
    while sink.count < n:
        if time.time() > deadline:
            raise SystemExit(f"only {sink.count} of {n} messages arrived within {timeout:.0f} s")
        time.sleep(0.05)
    return time.time()


def smtplib_loop(port: int, message: bytes, n: int) -> tuple[float, float]:
    """Seconds for the loop, and the CPU seconds the loop itself took (the rest of this process's is the sink's)."""
    started, cpu = time.monotonic(), time.thread_time()
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        for i in range(n):
            smtp.sendmail("noreply@localhost", [f"reader{i}@example.com"], message)
    return time.monotonic() - started, time.thread_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=2, help="worker processes")
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--database-url", default=DATABASE_URL)
    parser.add_argument("--broker-url", default=os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/12"))
    args = parser.parse_args()

    sink = Counting()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()

    ensure_database(args.database_url)
    env = production_env(args.database_url, temp_var_dir())
    env.update(
        CELERY_BROKER_URL=args.broker_url,
        CELERY_TASK_ALWAYS_EAGER="0",
        EMAIL_URL=f"smtp://127.0.0.1:{port}",
        DELIVERY_BATCH_SIZE=str(args.batch_size),
        CELERY_WORKER_CONCURRENCY=str(args.concurrency),
    )
    manage(env, "migrate", "--noinput")
    post_id = shell(env, SETUP.replace("N)", f"{args.subscribers})")).decode().split()[-1]
    sample = shell(env, SAMPLE.replace("PK", post_id))
    subprocess.run([PYTHON, "-m", "celery", "-A", "config", "purge", "-f"], cwd=ROOT, env=env, check=True,
                   capture_output=True)  # fmt: skip

    worker = subprocess.Popen(
        [PYTHON, "-m", "celery", "-A", "config", "worker", "-l", "warning", "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        time.sleep(4)  # let the worker connect
        cpu = time.process_time()  # this process's: the sink's, and a little for waiting
        published = shell(env, PUBLISH.replace("PK", post_id)).decode()
        started = float(next(line for line in published.splitlines() if line.startswith("started")).split()[1])
        finished = wait_for(sink, args.subscribers, timeout=max(120, args.subscribers / 20))
        sink_cpu = time.process_time() - cpu
        time.sleep(2)  # anything sent twice arrives now
        peaks = peak_memory(worker.pid)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=30)
    dispatch_seconds = finished - started
    arrived, distinct = sink.count, len(sink.recipients)

    sink.count = 0
    cpu = time.process_time()
    loop_seconds, loop_cpu = smtplib_loop(port, sample, args.subscribers)
    loop_sink_cpu = time.process_time() - cpu - loop_cpu
    controller.stop()

    dispatch_rate, loop_rate = args.subscribers / dispatch_seconds, args.subscribers / loop_seconds
    size = len(sample) // 1024
    print(f"{args.subscribers} subscribers, {args.concurrency} worker processes, batches of {args.batch_size}, ")
    print(f"{size} KB messages; sink, broker, database and workers share {os.cpu_count()} cores")
    print(f"{'sender':<44} {'seconds':>9} {'e-mails/s':>10}")
    print(f"{'Dispatch (publish to last message)':<44} {dispatch_seconds:>9.1f} {dispatch_rate:>10.0f}")
    print(f"{'plain smtplib loop, one connection':<44} {loop_seconds:>9.1f} {loop_rate:>10.0f}")
    print(f"Dispatch / smtplib loop: {dispatch_rate / loop_rate:.2f}")
    print(f"messages at the sink from the send: {arrived}; subscribers reached {distinct}, "
          f"missing {args.subscribers - distinct}, duplicates {arrived - distinct}")  # fmt: skip
    n = args.subscribers
    print(f"CPU per message at the sink: {1000 * sink_cpu / n:.2f} ms in the send, {1000 * loop_sink_cpu / n:.2f} ms "
          f"in the loop; the loop's own: {1000 * loop_cpu / n:.2f} ms")  # fmt: skip
    memory = ", ".join(f"{kb / 1024:.0f} MB" for kb in sorted(peaks.values(), reverse=True))
    print(f"peak memory of the worker processes (VmHWM): {memory}")


if __name__ == "__main__":
    main()
