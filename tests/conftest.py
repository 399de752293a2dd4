"""Shared fixtures: real services when the environment names them.

Unit tests run on SQLite with Celery eager and Django's locmem mailer. Tests
marked `integration` use PostgreSQL, Redis, a real Celery worker process and
an aiosmtpd SMTP sink; `browser` tests drive Debian's Chromium. A missing
service skips those tests with the reason, unless REQUIRE_SERVICES=1 (CI),
where it fails them.
"""

import asyncio
import email.policy
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

os.environ.setdefault("TESTING", "1")
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import pytest

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parent.parent


def require(name: str, available: bool, how: str) -> None:
    """Skip when a service is missing, or fail under REQUIRE_SERVICES=1."""
    if available:
        return
    reason = f"{name} is not available: {how}"
    if os.environ.get("REQUIRE_SERVICES") == "1":
        pytest.fail(reason + " (REQUIRE_SERVICES=1)")
    pytest.skip(reason)


@pytest.fixture
def require_service() -> Callable[[str, bool, str], None]:
    return require


def _reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port), timeout=1):
            return True
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(autouse=True)
def eager_celery():
    """Run tasks inline unless a test asks for the real worker."""
    from config.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield app
    app.conf.task_always_eager = False


@pytest.fixture(autouse=True, scope="session")
def _static_files_found_on_request() -> None:
    """WhiteNoise lists every static file through the finders each time its
    middleware starts, which is once per test client (about 10 ms, in most
    tests). With autorefresh it finds a file when one is asked for instead,
    from the same finders, so what is served is the same."""
    from django.conf import settings

    settings.WHITENOISE_AUTOREFRESH = True


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PRIVATE_ROOT = tmp_path / "private"


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters must not leak from one test into the next."""
    from django.core.cache import cache

    from blog import pagecache
    from blog.pagecache import pubsub
    from blog.shared import sitesettings

    cache.clear()
    pubsub.forget()  # what this process knew of the page versions went with the cache
    pagecache._recent.clear()  # and the renderings and rows it kept under them
    sitesettings.forget()  # and of the site settings


@pytest.fixture(autouse=True)
def _steady_rate_windows(monkeypatch):
    """Rate limits count in fixed windows; a test that crossed a window's edge
    would see its count restart. Each test runs inside one window (a test may
    still set its own clock)."""
    from blog.shared import ratelimits

    monkeypatch.setattr(ratelimits, "time", SimpleNamespace(time=lambda: 1_000 * 86_400.0 + 1))


# --- Named people -------------------------------------------------------------


@pytest.fixture
def ada(db):
    """An author."""
    from accounts.roles import AUTHORS
    from tests.factories import make_user

    return make_user("ada", role=AUTHORS, display_name="Ada Whitlock")


@pytest.fixture
def bo(db):
    """Another author."""
    from accounts.roles import AUTHORS
    from tests.factories import make_user

    return make_user("bo", role=AUTHORS)


@pytest.fixture
def rosa(db):
    """A reader."""
    from tests.factories import make_user

    return make_user("rosa")


@pytest.fixture
def sam(db):
    """Staff who runs the publication: an editor and moderator who manages
    subscribers, by explicit permissions (the staff flag alone grants none)."""
    from django.contrib.auth.models import Group

    from accounts.roles import EDITORS, MODERATORS
    from tests.factories import grant, make_user

    sam = make_user("sam", is_staff=True)
    sam.groups.add(*Group.objects.filter(name__in=[EDITORS, MODERATORS]))
    return grant(sam, "blog.manage_subscribers")


@pytest.fixture
def kit(db):
    """Staff and nothing more: the admin's door opens, no permission behind it."""
    from tests.factories import make_user

    return make_user("kit", is_staff=True)


@pytest.fixture
def lena(db):
    """An editor: may edit and publish every author's post."""
    from accounts.roles import EDITORS
    from tests.factories import make_user

    return make_user("lena", role=EDITORS)


@pytest.fixture
def milo(db):
    """A moderator."""
    from accounts.roles import MODERATORS
    from tests.factories import make_user

    return make_user("milo", role=MODERATORS)


# --- SMTP sink -------------------------------------------------------------


@dataclass
class ReceivedMessage:
    envelope_from: str
    recipients: list[str]
    message: Message
    raw: bytes = b""  # as it came over the wire

    @property
    def raw_headers(self) -> bytes:
        return self.raw.split(b"\r\n\r\n", 1)[0] + b"\r\n"

    def __getitem__(self, header: str) -> str | None:
        return self.message[header]


@dataclass
class SmtpSink:
    """A real SMTP server on loopback. `reply` may answer a message with an
    SMTP status (e.g. "451 4.3.0 Try later" or "550 5.1.1 No such user")
    instead of accepting it; return None to accept. `silent` may keep a
    message and never answer its final dot. `quits` counts the sessions the
    client ended with QUIT."""

    host: str
    port: int
    messages: list[ReceivedMessage] = field(default_factory=list)
    reply: Callable[[str, list[str]], str | None] | None = None
    silent: Callable[[str, list[str]], bool] | None = None
    quits: int = 0

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    def to(self, address: str) -> list[ReceivedMessage]:
        return [m for m in self.messages if address in m.recipients]

    def wait_for(self, count: int, timeout: float = 30) -> list[ReceivedMessage]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.messages


class _SinkHandler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.sink.reply and (answer := self.sink.reply(envelope.mail_from, list(envelope.rcpt_tos))):
            return answer
        message = message_from_bytes(envelope.content, policy=email.policy.default)  # headers decoded
        received = ReceivedMessage(envelope.mail_from, list(envelope.rcpt_tos), message, envelope.original_content)
        self.sink.messages.append(received)
        if self.sink.silent and self.sink.silent(envelope.mail_from, list(envelope.rcpt_tos)):
            await asyncio.Event().wait()  # until the client gives up and hangs up
        return "250 OK"

    async def handle_QUIT(self, server, session, envelope) -> str:
        self.sink.quits += 1
        return "221 Bye"


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    from aiosmtpd.controller import Controller

    sink = SmtpSink("127.0.0.1", _free_port())
    controller = Controller(_SinkHandler(sink), hostname=sink.host, port=sink.port)
    controller.start()
    yield sink
    controller.stop()


# --- Celery worker ---------------------------------------------------------


@dataclass
class WorkerProcess:
    """A real `celery worker` subprocess; kill() and start() simulate crashes."""

    env: dict[str, str]
    log_path: Path
    concurrency: int = 2
    starts: int = 0
    process: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> None:
        log = self.log_path.open("ab")
        command = [
            sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=prefork", "-c", str(self.concurrency),
            "-n", f"test-{uuid.uuid4().hex[:6]}@%h", "--without-gossip", "--without-mingle", "-l", "info",
            "-Q", "celery,imports",
        ]  # fmt: skip
        self.process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log, stderr=log, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.log_path.read_bytes().count(b"ready.") > self.starts:
                self.starts += 1
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        raise RuntimeError(f"Celery worker did not start:\n{self.log_path.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL the whole worker (parent and pool children), as a crash would."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


def _database_url(settings_dict: dict) -> str:
    return (
        f"postgres://{settings_dict['USER']}:{settings_dict.get('PASSWORD', '')}@"
        f"{settings_dict['HOST'] or '127.0.0.1'}:{settings_dict['PORT'] or 5432}/{settings_dict['NAME']}"
    )


@pytest.fixture
def worker_env() -> dict[str, str]:
    """Extra environment for the worker; override in a test module to tune settings."""
    return {}


@pytest.fixture
def celery_worker_process(transactional_db, smtp_sink, tmp_path, worker_env) -> Iterator[WorkerProcess]:
    """A real worker on the Redis broker, using the test database and the SMTP sink.

    Tests using it must commit their data (transactional_db or live_server)."""
    from django.db import connection

    from config.celery import app

    broker = os.environ.get("CELERY_BROKER_URL", "")
    require(
        "Redis broker", broker.startswith("redis://") and _reachable(broker, 6379), "set CELERY_BROKER_URL=redis://"
    )
    require("PostgreSQL", connection.vendor == "postgresql", "set DATABASE_URL=postgres://... for a worker to share")
    app.control.purge()  # no stale task from an earlier run may reach this database
    env = {
        **os.environ,
        "TESTING": "1",
        "DATABASE_URL": _database_url(connection.settings_dict),
        "EMAIL_URL": smtp_sink.url,
        "CONN_MAX_AGE": "0",
        # The worker is another host: it shares the test's storage (here both on local disk), as it
        # would share the bucket in production.
        "MEDIA_ROOT": str(tmp_path / "media"),
        "PRIVATE_ROOT": str(tmp_path / "private"),
        **worker_env,
    }
    worker = WorkerProcess(env=env, log_path=tmp_path / "worker.log", concurrency=int(worker_env.get("CONCURRENCY", 2)))
    app.conf.task_always_eager = False
    worker.start()
    try:
        yield worker
    finally:
        worker.stop()


# --- Browser ---------------------------------------------------------------


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    require("Chromium", Path(CHROMIUM).exists() or bool(shutil.which("chromium")), "apt-get install -y chromium")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
        ],
    }  # fmt: skip


try:
    from moto.server import ThreadedMotoServer
except ImportError:  # moto[server] is in requirements-dev.txt
    ThreadedMotoServer = None


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A real S3-compatible HTTP server (moto's server mode) on a free port, for the whole run."""
    require("moto", ThreadedMotoServer is not None, "pip install -r requirements-dev.txt (moto[server])")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_buckets(s3_endpoint, settings) -> dict[str, str]:
    """Fresh public and private buckets, and the site's storages pointed at them."""
    names = {"public": f"media-{uuid.uuid4().hex[:8]}", "private": f"private-{uuid.uuid4().hex[:8]}"}
    import boto3
    import environ

    from config.settings import s3_storages

    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1",
                          aws_access_key_id="test", aws_secret_access_key="test")  # fmt: skip
    for name in names.values():
        client.create_bucket(Bucket=name)
    values = environ.Env()
    values.ENVIRON = {
        "MEDIA_S3_ENDPOINT_URL": s3_endpoint, "MEDIA_S3_BUCKET": names["public"],
        "MEDIA_S3_PRIVATE_BUCKET": names["private"], "MEDIA_S3_ACL": "public-read",
        "MEDIA_S3_ACCESS_KEY_ID": "test", "MEDIA_S3_SECRET_ACCESS_KEY": "test",
    }  # fmt: skip
    settings.STORAGES = {**settings.STORAGES, **s3_storages(values, settings.MEDIA_CACHE_CONTROL)}
    return names
