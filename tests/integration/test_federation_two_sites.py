"""Two Dispatch sites federating over loopback under different host names.

Site A (http://localhost:<port>) publishes; site B (http://127.0.0.1:<port>)
has a reader who follows A's publication. Each site is its own web server
with its own PostgreSQL schema and its own Redis cache database; each
delivers inline (Celery eager), so every step is a real signed HTTP request
from one site to the other. The flow: follow, publish, receive, like,
boost, reply, the reply held on A, approved by A's moderator, unfollow."""

import http.cookiejar
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import _free_port, _reachable, require

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "a-long-pass-phrase"

SEED_A = """
from django.contrib.auth.models import Group
from allauth.account.models import EmailAddress
from accounts.models import User
from blog.models import ModerationSettings, Post
for handle, role in (("ada", "Authors"), ("milo", "Moderators")):
    user = User.objects.create_user(handle, f"{handle}@a.example", "PASSWORD")
    user.groups.add(Group.objects.get(name=role))
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
ModerationSettings.objects.update_or_create(pk=1, defaults={"min_seconds_to_submit": 0})
ada = User.objects.get(username="ada")
Post.objects.create(author=ada, title="Tides of the North Sea", body="The *tides* came in.")
""".replace("PASSWORD", PASSWORD)

SEED_B = """
from allauth.account.models import EmailAddress
from accounts.models import User
user = User.objects.create_user("rosa", "rosa@b.example", "PASSWORD", display_name="Rosa")
EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
""".replace("PASSWORD", PASSWORD)


@dataclass
class Site:
    url: str
    env: dict[str, str]
    process: subprocess.Popen | None = None

    def manage(self, *args: str) -> str:
        done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True,
                              text=True, timeout=300)  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    def start(self) -> None:
        port = urllib.parse.urlsplit(self.url).port
        log = open(Path(self.env["VAR_DIR"]) / "server.log", "w")  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while not _reachable(self.url, 80):
            assert time.monotonic() < deadline and self.process.poll() is None, "site did not start"
            time.sleep(0.2)

    def stop(self) -> None:
        if self.process:
            self.process.terminate()
            self.process.wait(timeout=10)


class Browser:
    """A signed-in person on one site: cookies, CSRF token, form posts."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, path: str, accept: str = "text/html") -> tuple[int, str]:
        request = urllib.request.Request(self.site.url + path, headers={"Accept": accept})
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def post(self, path: str, data: dict[str, str | list[str]]) -> tuple[int, str]:
        token = next(cookie.value for cookie in self.jar if cookie.name == "csrftoken")
        body = urllib.parse.urlencode({**data, "csrfmiddlewaretoken": token}, doseq=True).encode()
        request = urllib.request.Request(self.site.url + path, data=body, headers={"Referer": self.site.url + path})
        try:
            with self.opener.open(request, timeout=60) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def log_in(self, email: str) -> None:
        self.get("/accounts/login/")
        status, page = self.post("/accounts/login/", {"login": email, "password": PASSWORD})
        assert status == 200 and "Sign out" in page, page[:2000]


def wait_for(check: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.3)


def _site(name: str, host: str, schema: str, database_url: str, cache_url: str, tmp_path: Path) -> Site:
    port = _free_port()
    url = f"http://{host}:{port}"
    var = tmp_path / name
    var.mkdir()
    env = {
        **os.environ, "TESTING": "1", "DEBUG": "0", "SITE_URL": url, "SITE_NAME": f"Site {name.upper()}",
        "ALLOWED_HOSTS": host, "DATABASE_URL": f"{database_url}?options=-c%20search_path%3D{schema}",
        "CACHE_URL": cache_url, "CELERY_TASK_ALWAYS_EAGER": "1", "FEDERATION_ALLOW_PRIVATE_ADDRESSES": "1",
        "VAR_DIR": str(var), "MEDIA_ROOT": str(var / "media"), "RATELIMIT_ENABLED": "0",
    }  # fmt: skip
    env.pop("PYTEST_CURRENT_TEST", None)
    return Site(url, env)


def fresh_schemas(database_url: str, *schemas: str) -> str:
    """Empty schemas for the sites' tables in DATABASE_URL's database, which is
    created first if missing (a fresh machine has only pytest's test database)."""
    import psycopg

    base = database_url.split("?", 1)[0]
    server, name = base.rsplit("/", 1)
    with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
        if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            connection.execute(f'CREATE DATABASE "{name}"')
    with psycopg.connect(base, autocommit=True) as connection:
        for schema in schemas:
            connection.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            connection.execute(f"CREATE SCHEMA {schema}")
    return base


@pytest.fixture
def two_sites(tmp_path: Path) -> Iterator[tuple[Site, Site]]:
    database_url, redis_url = os.environ.get("DATABASE_URL", ""), os.environ.get("CACHE_URL", "")
    require("PostgreSQL", database_url.startswith("postgres") and _reachable(database_url, 5432), "set DATABASE_URL")
    require("Redis", redis_url.startswith("redis") and _reachable(redis_url, 6379), "set CACHE_URL")
    base = fresh_schemas(database_url, "fed_a", "fed_b")
    redis_base = redis_url.rsplit("/", 1)[0]
    a = _site("a", "localhost", "fed_a", base, f"{redis_base}/4", tmp_path)
    b = _site("b", "127.0.0.1", "fed_b", base, f"{redis_base}/5", tmp_path)
    for site, seed in ((a, SEED_A), (b, SEED_B)):
        site.manage("migrate", "--noinput")
        site.manage("shell", "-c", seed)
        site.start()
    yield a, b
    for site in (a, b):
        site.stop()


def test_a_reader_on_one_site_follows_likes_boosts_and_replies_to_a_publication_on_another(two_sites) -> None:
    a, b = two_sites
    a_host = urllib.parse.urlsplit(a.url).netloc
    b_host = urllib.parse.urlsplit(b.url).netloc

    # B's reader follows A's publication by its address.
    rosa = Browser(b)
    rosa.log_in("rosa@b.example")
    status, page = rosa.post("/fediverse/follow/", {"address": f"@publication@{a_host}"})
    assert status == 200 and f"@publication@{a_host}" in page, page[:3000]
    followers = lambda: Browser(a).get("/ap/actors/publication/followers", "application/activity+json")[1]  # noqa: E731
    wait_for(lambda: '"totalItems": 1' in followers(), "A to count the follower")
    wait_for(lambda: "waiting for them to accept" not in rosa.get("/fediverse/")[1], "A's Accept on B")

    # A publishes (web only); B receives the Article.
    ada = Browser(a)
    ada.log_in("ada@a.example")
    post_pk = re.search(r"/write/(\d+)/", ada.get("/write/")[1]).group(1)
    ada.get(f"/write/{post_pk}/publish/")
    status, _ = ada.post(f"/write/{post_pk}/publish/", {"delivery": "web"})
    assert status == 200
    wait_for(lambda: "Tides of the North Sea" in rosa.get("/fediverse/")[1], "the Article on B")
    page = rosa.get("/fediverse/")[1]
    assert "<em>tides</em>" in page
    article_pk = re.search(r"/fediverse/posts/(\d+)/like/", page).group(1)

    # B likes, boosts and replies.
    for action, data in (("like", {}), ("boost", {}), ("reply", {"body": "A fine piece about *tides*."})):
        status, page = rosa.post(f"/fediverse/posts/{article_pk}/{action}/", data)
        assert status == 200, page[:2000]

    # A shows the like and the re-stack with the remote account, and holds the reply.
    milo = Browser(a)
    milo.log_in("milo@a.example")
    slug = "tides-of-the-north-sea"
    wait_for(lambda: "Like, 1 like" in milo.get(f"/p/{slug}/")[1], "the like on A")
    wait_for(lambda: f"@rosa@{b_host}" in milo.get(f"/p/{slug}/")[1], "the re-stack on A")
    wait_for(lambda: "A fine piece about" in milo.get("/moderation/")[1], "the held reply in A's queue")
    assert "A fine piece about" not in Browser(a).get(f"/p/{slug}/")[1]

    # A's moderator approves it; the reply is public on A.
    queue = milo.get("/moderation/")[1]
    comment_id = re.search(r'name="ids" value="(\d+)"', queue).group(1)
    status, _ = milo.post("/moderation/", {"action": "approve", "ids": [comment_id]})
    assert status == 200
    wait_for(lambda: "A fine piece about" in Browser(a).get(f"/p/{slug}/")[1], "the approved reply on A")

    # B's reader unfollows; A no longer counts the follower.
    following_pk = re.search(r"/fediverse/following/(\d+)/unfollow/", rosa.get("/fediverse/")[1]).group(1)
    status, _ = rosa.post(f"/fediverse/following/{following_pk}/unfollow/", {})
    assert status == 200
    wait_for(lambda: '"totalItems": 0' in followers(), "A to drop the follower")
