"""The five-host drill: Dispatch on Linux network namespaces of this machine (root needed).

    .venv/bin/python bench/drill.py [--subscribers 10000] [--skip-sends] [--skip-throughput]

Builds a bridge (10.77.0.1/24 on this host's side) and five namespaces, each reachable only at its
own address: a Varnish host (10.77.0.10), web hosts A and B (gunicorn, .11 and .12) and worker hosts
A and B (Celery, .21 and .22; beat on A). PostgreSQL (forwarded from loopback), a Redis of the drill's
own, moto's S3 server and an aiosmtpd sink run on this host, on the bridge address. Then it checks,
printing figures: publish-through-A shows through Varnish; a cover uploaded through A is served by B;
a newsletter sent by both worker hosts with one's link cut for 30 s, and again with one killed; a
due post published once with beat's host killed; a 5-per-minute limit across both web hosts; and
throughput through Varnish and through both web hosts against one host. Everything it made is torn
down at the end, also on failure or Ctrl-C.
"""

import argparse
import asyncio
import contextlib
import functools
import io
import logging
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import PYTHON, ROOT, WRK, Request, Result, ensure_database, free_port, production_env, run_wrk

BRIDGE, HOST = "drill-br", "10.77.0.1"
HOSTS = {"varnish": "10.77.0.10", "web-a": "10.77.0.11", "web-b": "10.77.0.12",
         "worker-a": "10.77.0.21", "worker-b": "10.77.0.22"}  # fmt: skip
DATABASE = "postgres://postgres@127.0.0.1:5432/dispatch_h25_drill"
PASSWORD = secrets.token_urlsafe(12)
S3_KEY = secrets.token_hex(8)  # moto takes any key pair
VCL = ROOT / "config" / "varnish" / "dispatch.vcl"


def sh(*command: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, check=check, capture_output=True, text=True)


def ns(name: str) -> str:
    return f"drill-{name}"


def link(name: str) -> str:
    return f"dr-{name}"  # the host's end of the namespace's cable (at most 15 characters)


# --- The network ---------------------------------------------------------------------------------


def build_network() -> None:
    sh("ip", "link", "add", BRIDGE, "type", "bridge")
    sh("ip", "addr", "add", f"{HOST}/24", "dev", BRIDGE)
    sh("ip", "link", "set", BRIDGE, "up")
    for name, address in HOSTS.items():
        sh("ip", "netns", "add", ns(name))
        sh("ip", "link", "add", link(name), "type", "veth", "peer", "name", "eth0", "netns", ns(name))
        sh("ip", "link", "set", link(name), "master", BRIDGE, "up")
        sh("ip", "-n", ns(name), "addr", "add", f"{address}/24", "dev", "eth0")
        sh("ip", "-n", ns(name), "link", "set", "eth0", "up")
        sh("ip", "-n", ns(name), "link", "set", "lo", "up")


def tear_down_network() -> None:
    for name in HOSTS:
        pids = sh("ip", "netns", "pids", ns(name), check=False).stdout.split()
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(pid), signal.SIGKILL)
        sh("ip", "netns", "del", ns(name), check=False)
    sh("ip", "link", "del", BRIDGE, check=False)


# --- Services on this host, on the bridge address -----------------------------------------------------


class Forward:
    """A TCP forwarder from the bridge address to a loopback service (PostgreSQL listens on loopback)."""

    def __init__(self, port: int, target: int) -> None:
        self.loop = asyncio.new_event_loop()
        self.port, self.target = port, target
        ready = threading.Event()
        threading.Thread(target=self._run, args=(ready,), daemon=True).start()
        ready.wait(10)

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)

        async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError):
                while data := await reader.read(65536):
                    writer.write(data)
                    await writer.drain()
            writer.close()

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target)
            except OSError:
                writer.close()
                return
            await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

        server = self.loop.run_until_complete(asyncio.start_server(handle, HOST, self.port))
        ready.set()
        with contextlib.suppress(RuntimeError):
            self.loop.run_until_complete(server.serve_forever())

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)


class Sink:
    """Every message the workers send: who got how many."""

    def __init__(self) -> None:
        self.received: Counter[str] = Counter()
        self.lock = threading.Lock()

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        with self.lock:
            self.received.update(getattr(envelope, "rcpt_tos", []))
        return "250 OK"

    def reset(self) -> None:
        with self.lock:
            self.received.clear()


# --- The hosts -------------------------------------------------------------------------------------


class Drill:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.work = Path(tempfile.mkdtemp(prefix="dispatch-drill-"))
        self.work.chmod(0o755)  # varnishd reads the VCL as its own user
        self.redis_port, self.s3_port, self.smtp_port = free_port(), free_port(), free_port()
        self.varnish = f"http://{HOSTS['varnish']}:6081"
        self.env: dict[str, str] = {}
        self.sink = Sink()
        self.keep = False

    # Services -----------------------------------------------------------------------------------

    def start_services(self) -> None:
        from aiosmtpd.controller import Controller
        from moto.server import ThreadedMotoServer

        ensure_database(DATABASE)
        self.forward = Forward(5432, 5432)
        self.redis = subprocess.Popen(
            ["redis-server", "--bind", HOST, "--port", str(self.redis_port), "--save", "", "--appendonly", "no",
             "--protected-mode", "no"],  # bound only to the drill's own bridge
            stdout=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        self.s3 = ThreadedMotoServer(ip_address=HOST, port=self.s3_port, verbose=False)
        self.s3.start()
        self.smtp = Controller(self.sink, hostname=HOST, port=self.smtp_port)
        self.smtp.start()
        import boto3

        client = boto3.client("s3", endpoint_url=f"http://{HOST}:{self.s3_port}", region_name="us-east-1",
                              aws_access_key_id=S3_KEY, aws_secret_access_key=S3_KEY)  # fmt: skip
        for bucket in ("drill-media", "drill-private"):
            client.create_bucket(Bucket=bucket)
        env = production_env(f"postgres://postgres@{HOST}:5432/dispatch_h25_drill", str(self.work / "var"))
        env.update(
            CACHE_URL=f"redis://{HOST}:{self.redis_port}/1",
            CELERY_BROKER_URL=f"redis://{HOST}:{self.redis_port}/0",
            CELERY_TASK_ALWAYS_EAGER="0",
            EMAIL_URL=f"smtp://{HOST}:{self.smtp_port}",
            RATELIMIT_ENABLED="1",
            ALLOWED_HOSTS="*",
            SITE_URL=self.varnish,
            MEDIA_STORAGE="s3",
            MEDIA_S3_ENDPOINT_URL=f"http://{HOST}:{self.s3_port}",
            MEDIA_S3_BUCKET="drill-media",
            MEDIA_S3_PRIVATE_BUCKET="drill-private",
            MEDIA_S3_ACL="public-read",
            MEDIA_S3_ACCESS_KEY_ID=S3_KEY,
            MEDIA_S3_SECRET_ACCESS_KEY=S3_KEY,
            PAGE_CACHE_PURGER="varnish",
            PAGE_CACHE_PURGE_URLS=self.varnish,
            # A killed host's claimed rows come back within the drill, after longer than the 30 s cut, so
            # that the cut host finishes its own rows rather than dropping them (docs/email.md, "Exactly once").
            DELIVERY_STUCK_AFTER_SECONDS="45",
            CELERY_WORKER_CONCURRENCY="2",
            TRUSTED_PROXY_COUNT="1",
        )
        self.env = env
        local = {**env, "DATABASE_URL": DATABASE, "CACHE_URL": f"redis://{HOST}:{self.redis_port}/1"}
        for command in (["migrate", "--noinput"], ["collectstatic", "--noinput"]):
            subprocess.run([PYTHON, "manage.py", *command], cwd=ROOT, env=local, check=True,
                           stdout=subprocess.DEVNULL)  # fmt: skip
        self.session = self.shell(SETUP.replace("PASSWORD", PASSWORD)).split()[-1]

    def shell(self, code: str) -> str:
        local = {**self.env, "DATABASE_URL": DATABASE}
        command = [PYTHON, "manage.py", "shell", "--no-imports", "-c", code]
        done = subprocess.run(command, cwd=ROOT, env=local, check=True, capture_output=True, text=True)
        return done.stdout.strip()

    def spawn(self, name: str, host: str, command: list[str]) -> None:
        log = (self.work / f"{name}.log").open("w")
        self.processes[name] = subprocess.Popen(
            ["ip", "netns", "exec", ns(host), *command], cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip

    def stop(self, name: str, sig: int = signal.SIGTERM) -> None:
        process = self.processes.pop(name, None)
        if process and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=30)

    def start_hosts(self) -> None:
        for web in ("web-a", "web-b"):
            self.spawn(web, web, [PYTHON, "-m", "gunicorn", "config.wsgi", "-w", "2", "-b", f"{HOSTS[web]}:8000",
                                  "--log-level", "warning"])  # fmt: skip
        self.start_worker("worker-a")
        self.start_worker("worker-b")
        self.spawn("beat", "worker-a", [PYTHON, "-m", "celery", "-A", "config", "beat", "-l", "warning",
                                        "-s", str(self.work / "beat-a")])  # fmt: skip
        vcl = VCL.read_text()
        backends = "".join(
            f'backend {web.replace("-", "_")} {{ .host = "{HOSTS[web]}"; .port = "8000"; .connect_timeout = 2s; '
            f'.first_byte_timeout = 30s; .probe = {{ .url = "/healthz"; .interval = 1s; .timeout = 1s; '
            f".window = 3; .threshold = 2; .initial = 2; }} }}\n"
            for web in ("web-a", "web-b")
        )
        start, end = vcl.index("backend dispatch {"), vcl.index("\nacl purgers {")
        vcl = (
            vcl[:start]
            + backends
            + (
                "import directors;\nsub vcl_init { new web = directors.round_robin(); web.add_backend(web_a); "
                "web.add_backend(web_b); }\nsub vcl_recv { set req.backend_hint = web.backend(); }\n\n"
            )
            + vcl[end:]
        )
        vcl = vcl.replace('"::1";', '"::1";\n    "10.77.0.0"/24;')
        (self.work / "drill.vcl").write_text(vcl)
        self.spawn("varnish", "varnish", ["varnishd", "-F", "-n", str(self.work / "varnish"), "-a",
                                          f"{HOSTS['varnish']}:6081", "-f", str(self.work / "drill.vcl"),
                                          "-s", "malloc,64m", "-T", "none"])  # fmt: skip
        for base in (f"http://{HOSTS['web-a']}:8000", f"http://{HOSTS['web-b']}:8000", self.varnish):
            wait_for(functools.partial(_ready, base), 60, f"{base}/readyz")

    def start_worker(self, host: str) -> None:
        self.spawn(host, host, [PYTHON, "-m", "celery", "-A", "config", "worker", "-l", "warning", "-n",
                                f"{host}@%h", "--without-gossip", "--without-mingle"])  # fmt: skip


# --- HTTP ------------------------------------------------------------------------------------------


def _ready(base: str) -> bool:
    return fetch(base + "/readyz")[0] == 200


def fetch(
    url: str, data: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, bytes, dict[str, str]]:
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers)
    except OSError:
        return 0, b"", {}


def wait_for(condition: Callable[[], bool], seconds: float, what: str) -> float:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if condition():
            return time.monotonic() - started
        time.sleep(0.05)
    raise TimeoutError(f"{what}: not within {seconds:.0f} s")


class Browser:
    """A signed-in author: a session made in the shared database and cache (as signing in would),
    the CSRF cookie and header sent with every request, to any web host."""

    def __init__(self, session: str) -> None:
        self.cookies = {"sessionid": session, "csrftoken": secrets.token_hex(16)}
        self.opener = urllib.request.build_opener(NoRedirect())

    def request(self, url: str, fields: dict[str, str] | None = None,
                files: dict[str, tuple[str, bytes]] | None = None) -> tuple[int, bytes]:  # fmt: skip
        headers = {"User-Agent": "drill", "X-CSRFToken": self.cookies["csrftoken"],
                   "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}  # fmt: skip
        data = None
        if fields is not None or files:
            body, content_type = multipart(fields or {}, files or {})
            data, headers["Content-Type"] = body, content_type
        try:
            with self.opener.open(urllib.request.Request(url, data=data, headers=headers), timeout=30) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def cookie(self, name: str) -> str:
        return self.cookies[name]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes]]) -> tuple[bytes, str]:
    boundary = secrets.token_hex(16)
    out = io.BytesIO()
    for name, value in fields.items():
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (filename, content) in files.items():
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                  f"Content-Type: application/octet-stream\r\n\r\n".encode() + content + b"\r\n")  # fmt: skip
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


def png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "teal").save(buffer, "PNG")
    return buffer.getvalue()


POST_FORM = {"subtitle": "", "slug": "", "body": "Drill body.", "excerpt": "", "cover_alt": "", "tags": "",
             "comments_open": "on", "publish_at": "", "action": "save"}  # fmt: skip

SETUP = """
from django.contrib.auth.models import Group
from allauth.account.models import EmailAddress
from accounts.models import User
from blog.models import Delivery, Post, Send, Subscriber
Send.objects.all().delete(); Post.objects.all().delete(); Subscriber.objects.all().delete()
User.objects.filter(username="drill").delete()
user = User.objects.create_user("drill", "drill@example.com", "PASSWORD")
EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
user.groups.add(Group.objects.get(name="Authors"))
from importlib import import_module
from django.conf import settings
session = import_module(settings.SESSION_ENGINE).SessionStore()
session.update({"_auth_user_id": str(user.pk), "_auth_user_backend": settings.AUTHENTICATION_BACKENDS[0],
                "_auth_user_hash": user.get_session_auth_hash()})
session.create()
print(session.session_key)
"""

SUBSCRIBERS = """
from blog.models import Subscriber
Subscriber.objects.all().delete()
Subscriber.objects.bulk_create(
    (Subscriber(email=f"reader{i}@example.com", status="active") for i in range(N)), batch_size=5000)
"""


# --- The checks ------------------------------------------------------------------------------------


def check_publish_and_cover(drill: Drill, author: Browser) -> None:
    a, b = f"http://{HOSTS['web-a']}:8000", f"http://{HOSTS['web-b']}:8000"
    fetch(drill.varnish + "/")  # the home page, now in Varnish
    cached = len(fetch(drill.varnish + "/")[2].get("X-Varnish", "").split()) == 2  # two ids: a hit
    title = f"Drill {secrets.token_hex(3)}"
    status, _ = author.request(a + "/write/new/", {**POST_FORM, "title": title}, {"cover": ("cover.png", png())})
    pk = int(drill.shell(f"from blog.models import Post; print(Post.objects.get(title='{title}').pk)"))
    committed = time.monotonic()
    published, _ = author.request(a + f"/write/{pk}/publish/", {"delivery": "web"})
    if status != 302 or published != 302:
        raise RuntimeError(f"the draft with a cover answered {status}, publishing it {published}")
    shown = wait_for(lambda: title.encode() in fetch(drill.varnish + "/")[1], 10, "the post on Varnish's home")
    print(
        f"publish through A: on the home page through Varnish {shown:.2f} s after the publish answered "
        f"(the home page was {'a cache hit' if cached else 'NOT cached'} before, kept up to 60 s: purged)"
    )
    slug = drill.shell(f"from blog.models import Post; print(Post.objects.get(pk={pk}).slug)")
    for host, base in (("A", a), ("B", b)):
        status, body, _ = fetch(base + f"/p/{slug}/")
        print(f"  post page from web host {host}: {status}, title {'present' if title.encode() in body else 'MISSING'}")
    cover = drill.shell(f"from blog.models import Post; print(Post.objects.get(pk={pk}).cover.name)")
    status_b, body_b, _ = fetch(b + f"/media/{cover}")
    bucket_url = f"http://{HOST}:{drill.s3_port}/drill-media/{cover}"
    status_s3, body_s3, headers_s3 = fetch(bucket_url)
    same = body_b == body_s3 and body_b[:4] == b"\x89PNG"
    print(f"cover uploaded through A ({cover}): through web host B {status_b}, {len(body_b)} bytes, "
          f"the uploaded PNG {same}; from the bucket {status_s3}, Cache-Control "
          f"{headers_s3.get('cache-control') or headers_s3.get('Cache-Control')}")  # fmt: skip
    del committed


def check_rate_limit(drill: Drill, author: Browser) -> None:
    a, b = f"http://{HOSTS['web-a']}:8000", f"http://{HOSTS['web-b']}:8000"
    pk = drill.shell("from blog.models import Post; print(Post.objects.order_by('pk').first().pk)")
    statuses: Counter[int] = Counter()
    # The limit counts per calendar minute (blog/shared/ratelimits.py, a fixed window): 50 requests that
    # straddle a minute's end meet two windows, up to 10 through. Start them in a fresh minute.
    if (left := 60 - time.time() % 60) < 20:
        time.sleep(left + 0.5)
    started = time.monotonic()
    for i in range(50):
        status, _ = author.request((a if i % 2 == 0 else b) + f"/write/{pk}/test-email/", {})
        statuses[status] += 1
    print(f"rate limit 5/min on test e-mails, 50 POSTs alternating web hosts A and B: "
          f"{statuses[302]} let through, {statuses[429]} refused (429) in {time.monotonic() - started:.1f} s, "
          f"one calendar minute; all answers {dict(statuses)}")  # fmt: skip


def send_newsletter(drill: Drill, author: Browser, n: int, trouble: Callable[[], None], label: str) -> None:
    a = f"http://{HOSTS['web-a']}:8000"
    drill.sink.reset()
    title = f"Newsletter {secrets.token_hex(3)}"
    author.request(a + "/write/new/", {**POST_FORM, "title": title})
    pk = int(drill.shell(f"from blog.models import Post; print(Post.objects.get(title='{title}').pk)"))
    started = time.monotonic()
    author.request(a + f"/write/{pk}/publish/", {"delivery": "email"})
    wait_for(lambda: sum(drill.sink.received.values()) >= n // 4, 600, "a quarter of the send")
    trouble()

    def ours() -> list[str]:
        return [r for r in drill.sink.received if r.startswith("reader")]

    with contextlib.suppress(TimeoutError):
        wait_for(lambda: len(ours()) >= n, 900, "every subscriber")
    seconds = time.monotonic() - started
    time.sleep(3)  # anything sent twice arrives now
    received = {r: c for r, c in drill.sink.received.items() if r.startswith("reader")}
    missing = n - len(received)
    duplicates = sum(c - 1 for c in received.values())
    by_status = drill.shell(f"from django.db.models import Count; from blog.models import Delivery; "
                            f"print(dict(Delivery.objects.filter(send__post_id={pk}).values_list('status')"
                            f".annotate(n=Count('pk'))))")  # fmt: skip
    print(f"newsletter to {n}, {label}: {len(received)} reached in {seconds:.1f} s ({len(received) / seconds:.0f}/s), "
          f"missing {missing}, duplicates {duplicates}; deliveries {by_status}")  # fmt: skip


def check_sends(drill: Drill, author: Browser) -> None:
    n = drill.args.subscribers
    drill.shell(SUBSCRIBERS.replace("N)", f"{n})"))

    def cut_link() -> None:
        sh("ip", "link", "set", link("worker-b"), "down")
        print("  worker host B's link cut for 30 s")
        time.sleep(30)
        sh("ip", "link", "set", link("worker-b"), "up")

    send_newsletter(drill, author, n, cut_link, "worker host B's link cut for 30 s mid-send")

    def kill_host() -> None:
        drill.stop("worker-b", signal.SIGKILL)
        print("  worker host B killed (SIGKILL, every process)")

    send_newsletter(drill, author, n, kill_host, "worker host B killed mid-send")
    drill.start_worker("worker-b")


def check_beat_failover(drill: Drill, author: Browser) -> None:
    a = f"http://{HOSTS['web-a']}:8000"
    drill.sink.reset()
    drill.shell(SUBSCRIBERS.replace("N)", "50)"))
    title = f"Scheduled {secrets.token_hex(3)}"
    author.request(a + "/write/new/", {**POST_FORM, "title": title, "email_subscribers": "on"})
    when = time.time() + 5
    drill.shell(f"import datetime as d; from blog.models import Post; Post.objects.filter(title='{title}')"
                f".update(status='scheduled', email_subscribers=True, "
                f"published_at=d.datetime.fromtimestamp({when}, d.UTC))")  # fmt: skip
    drill.stop("beat", signal.SIGKILL)
    drill.stop("worker-a", signal.SIGKILL)
    print("  worker host A (beat's host) killed; beat started on worker host B")
    drill.spawn("beat", "worker-b", [PYTHON, "-m", "celery", "-A", "config", "beat", "-l", "warning",
                                     "-s", str(drill.work / "beat-b")])  # fmt: skip
    started = time.monotonic()
    with contextlib.suppress(TimeoutError):
        wait_for(lambda: len([r for r in drill.sink.received if r.startswith("reader")]) >= 50, 150, "the send")
    time.sleep(3)
    state = drill.shell(f"from blog.models import Post, Send; p = Post.objects.get(title='{title}'); "
                        f"print(p.status, Send.objects.filter(post=p).count())")  # fmt: skip
    received = {r: c for r, c in drill.sink.received.items() if r.startswith("reader")}
    print(f"due post with beat's host killed: {state.split()[0]}, sends {state.split()[1]}, "
          f"{len(received)} of 50 reached, duplicates {sum(c - 1 for c in received.values())}, "
          f"{time.monotonic() - started:.0f} s after beat moved")  # fmt: skip
    drill.start_worker("worker-a")


def check_throughput(drill: Drill, author: Browser) -> None:
    if not WRK:
        print("throughput: wrk is not installed (apt-get install -y wrk); skipped")
        return
    a, b = f"http://{HOSTS['web-a']}:8000", f"http://{HOSTS['web-b']}:8000"
    slug = drill.shell("from blog.models import Post; print(Post.objects.published().order_by('pk').first().slug)")
    page: list[Request] = [("GET", f"/p/{slug}/", None, {"Accept": "text/html"})]
    fetch(drill.varnish + f"/p/{slug}/")
    status, body, headers = fetch(drill.varnish + f"/p/{slug}/", headers={"Accept": "text/html"})
    print(f"the page measured: /p/{slug}/, {status}, {len(body)} bytes, X-Varnish {headers.get('X-Varnish')}")
    single = run_wrk("signed out, web host A alone", a, page, seconds=5)
    varnish = run_wrk("signed out, through Varnish", drill.varnish, page, seconds=5)
    cookie = {"Cookie": f"sessionid={author.cookie('sessionid')}; csrftoken={author.cookie('csrftoken')}",
              "Accept": "text/html"}  # fmt: skip
    signed: list[Request] = [("GET", f"/p/{slug}/", None, cookie)]
    one = run_wrk("signed in, web host A alone", a, signed, seconds=5, connections=16)
    results: list[Result] = []
    threads = [threading.Thread(target=lambda base=base: results.append(run_wrk("", base, signed, seconds=5,
                                                                                 connections=8)))
               for base in (a, b)]  # fmt: skip
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    both = sum(r.rate for r in results)
    print(f"signed out: {varnish.rate:.0f} req/s through Varnish (p99 {varnish.p99:.0f} ms, {varnish.errors} errors) "
          f"against {single.rate:.0f} from web host A alone (p99 {single.p99:.0f} ms, {single.errors} errors): "
          f"{varnish.rate / single.rate:.1f}x")  # fmt: skip
    errors = sum(r.errors for r in results)
    print(f"signed in: {both:.0f} req/s over web hosts A and B ({errors} errors) against {one.rate:.0f} from A alone "
          f"({one.errors} errors): "
          f"{both / one.rate:.2f}x (every host shares this machine's {os.cpu_count()} cores)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--skip-sends", action="store_true", help="leave out the two newsletters and the beat")
    parser.add_argument("--skip-throughput", action="store_true")
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("The drill builds network namespaces: run it as root.")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's server: one line per request otherwise
    drill = Drill(args)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # tear down on a kill too
    tear_down_network()  # what an earlier run left, if it was killed outright
    try:
        build_network()
        drill.start_services()
        drill.start_hosts()
        print(f"five hosts up: {', '.join(f'{n} {a}' for n, a in HOSTS.items())}; services on {HOST}")
        author = Browser(drill.session)
        checks = [check_publish_and_cover, check_rate_limit]
        if not args.skip_sends:
            checks += [check_sends, check_beat_failover]
        if not args.skip_throughput:
            checks.append(check_throughput)
        for check in checks:
            try:
                check(drill, author)
            except Exception as error:  # one failed check still lets the others report
                print(f"{check.__name__}: FAILED: {type(error).__name__}: {error} (logs kept in {drill.work})")
                drill.keep = True
    except BaseException:
        drill.keep = True
        print(f"logs kept in {drill.work}")
        raise
    finally:
        for name in list(drill.processes):
            drill.stop(name, signal.SIGKILL)
        with contextlib.suppress(Exception):
            drill.smtp.stop()
            drill.s3.stop()
            drill.forward.stop()
        with contextlib.suppress(Exception):
            drill.redis.kill()
        tear_down_network()
        if not drill.keep:
            shutil.rmtree(drill.work, ignore_errors=True)


if __name__ == "__main__":
    main()
