"""Dispatch behind a real Varnish (Debian's varnish + varnish-modules), running the
shipped config/varnish/dispatch.vcl against the live test server: hits never reach
Django, each change purges exactly the pages it changes, signed-in readers always
reach Django, and pages Varnish serves are still counted."""

import http.client
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import fakeredis
import pytest
from django.core.signals import request_started
from django.test import Client
from django.utils import timezone

from accounts.roles import AUTHORS
from blog.discussion import moderation
from blog.insights import pageviews, referrers
from blog.models import Comment, PageViewDay, Post
from blog.posts import publishing
from tests.conftest import require
from tests.factories import make_post, make_user

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

VCL = Path(__file__).resolve().parents[2] / "config" / "varnish" / "dispatch.vcl"
BROWSER = {
    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0",
    "Accept": "text/html,application/xhtml+xml,*/*;q=0.8",
    "Accept-Language": "en",
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Varnish:
    def __init__(self, backend_port: int, workdir: Path) -> None:
        self.port = _free_port()
        vcl = VCL.read_text().replace('.port = "8000";', f'.port = "{backend_port}";')
        (workdir / "dispatch.vcl").write_text(vcl)
        command = ["varnishd", "-F", "-n", str(workdir / "varnish"), "-a", f"127.0.0.1:{self.port}",
                   "-a", f"127.0.0.2:{self.port}", "-f", str(workdir / "dispatch.vcl"), "-s", "malloc,32m",
                   "-T", "none"]  # fmt: skip
        self.log = (workdir / "varnishd.log").open("w")
        self.process = subprocess.Popen(command, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self.url = f"http://127.0.0.1:{self.port}"

    def wait(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.process.poll() is None, "varnishd exited; see varnishd.log"
            try:
                if self.get("/healthz")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise AssertionError("varnishd did not answer")

    def request(
        self, method: str, path: str, headers: dict[str, str] | None = None, source: str = "127.0.0.1"
    ) -> tuple[int, http.client.HTTPMessage, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1" if source == "127.0.0.1" else source, self.port,
                                               timeout=10, source_address=(source, 0))  # fmt: skip
        try:
            connection.request(method, path, headers={"Host": "127.0.0.1", **(headers or {})})
            response = connection.getresponse()
            return response.status, response.headers, response.read()
        finally:
            connection.close()

    def get(self, path: str, **headers: str) -> tuple[int, http.client.HTTPMessage, bytes]:
        return self.request("GET", path, headers)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


@pytest.fixture
def varnish(live_server, settings) -> Iterator[Varnish]:
    require("varnish", bool(shutil.which("varnishd")), "apt-get install -y varnish varnish-modules")
    require(
        "xkey",
        Path("/usr/lib/x86_64-linux-gnu/varnish/vmods/libvmod_xkey.so").exists()
        or bool(list(Path("/usr/lib").glob("*/varnish/vmods/libvmod_xkey.so"))),
        "apt-get install -y varnish-modules",
    )
    port = int(live_server.url.rsplit(":", 1)[1])
    workdir = Path(tempfile.mkdtemp(prefix="dispatch-varnish-"))
    workdir.chmod(0o755)  # varnishd's own users read the VCL and write their working directory in it
    server = Varnish(port, workdir)
    try:
        server.wait()
        settings.PAGE_CACHE_PURGER, settings.PAGE_CACHE_PURGE_URLS = "varnish", [server.url]
        yield server
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def django_saw() -> Iterator[list[str]]:
    """The paths of the requests that reached Django (the live server runs in this process)."""
    seen: list[str] = []

    def record(sender: object, environ: dict, **kwargs: object) -> None:
        if environ["PATH_INFO"] != "/healthz":  # Varnish's probe
            seen.append(environ["PATH_INFO"] + ("?" + environ["QUERY_STRING"] if environ.get("QUERY_STRING") else ""))

    request_started.connect(record, dispatch_uid="test_varnish.record")
    yield seen
    request_started.disconnect(dispatch_uid="test_varnish.record")


@pytest.fixture
def site(db) -> dict[str, object]:
    ada = make_user("ada", role=AUTHORS, display_name="Ada Whitlock")
    first = make_post(ada, "Harbour vote", body="The *harbour* question.")
    first.tags.add("Ports")
    second = make_post(ada, "Tram fares", body="Fares go up.")
    return {"ada": ada, "first": first, "second": second}


PAGES = {"first": "/p/harbour-vote/", "second": "/p/tram-fares/", "home": "/", "tag": "/t/ports/",
         "author": "/@ada/", "archive": "/archive/"}  # fmt: skip


def warm(varnish: Varnish) -> None:
    for name, path in PAGES.items():
        varnish.get(path)
        status, headers, _ = varnish.get(path)
        assert (status, headers["X-Cache"]) == (200, "HIT"), name


def misses(varnish: Varnish) -> set[str]:
    return {name for name, path in PAGES.items() if varnish.get(path)[1]["X-Cache"] != "HIT"}


def test_a_hit_is_served_without_reaching_django(varnish, site, django_saw) -> None:
    first = varnish.get("/p/harbour-vote/", **BROWSER)
    second = varnish.get("/p/harbour-vote/", **BROWSER)
    third = varnish.get("/p/harbour-vote/?utm_source=mastodon&utm_medium=social", **BROWSER)
    assert [r[1]["X-Cache"] for r in (first, second, third)] == ["MISS", "HIT", "HIT"]
    assert first[2] == second[2] == third[2] and b"Harbour vote" in first[2]
    assert django_saw.count("/p/harbour-vote/") == 1 and not [p for p in django_saw if "utm_" in p]
    assert "xkey" not in second[1] and "public" in second[1]["Cache-Control"]
    etag = second[1]["ETag"]
    assert varnish.get("/p/harbour-vote/", **{"If-None-Match": etag})[0] == 304


def _publish(site: dict) -> None:
    draft = make_post(site["ada"], "Ferry plan", status=Post.Status.DRAFT)
    publishing.publish_post(draft)


def _edit(site: dict) -> None:
    post = site["first"]
    post.title = "Harbour vote, the result"
    post.save()


def _unpublish(site: dict) -> None:
    publishing.unpublish_post(site["first"])


def _approve(site: dict) -> None:
    held = Comment.objects.create(post=site["first"], author=make_user("rosa"), body="Held", body_html="<p>Held</p>",
                                  status=Comment.Status.HELD)  # fmt: skip
    moderation.approve_comment(make_user("mo", is_staff=True), held)


def _delete(site: dict) -> None:
    comment = Comment.objects.create(post=site["first"], author=make_user("rosa"), body="Gone",
                                     body_html="<p>Gone</p>", status=Comment.Status.APPROVED)  # fmt: skip
    moderation.delete_comment(make_user("mo", is_staff=True), comment)


def _ban(site: dict) -> None:
    rosa = make_user("rosa")
    held = Comment.objects.create(post=site["first"], author=rosa, body="Spam", body_html="<p>Spam</p>",
                                  status=Comment.Status.HELD)  # fmt: skip
    moderation.ban_author(make_user("mo", is_staff=True), held, days=7, reason="Spam")


LISTINGS = {"home", "tag", "author", "archive"}


@pytest.mark.parametrize(
    ("change", "purged"),
    [
        (_publish, LISTINGS),
        (_edit, {"first"} | LISTINGS),
        (_unpublish, {"first"} | LISTINGS),
        (_approve, {"first"} | LISTINGS),
        (_delete, {"first"} | LISTINGS),
        (_ban, set()),  # held comments rejected: nothing a signed-out reader sees
    ],
    ids=["publish", "edit", "unpublish", "comment approval", "comment deletion", "ban"],
)
def test_each_change_purges_exactly_the_pages_it_changes(varnish, site, change, purged) -> None:
    if change is _delete:  # the comment was on the page before it was deleted
        comment = Comment.objects.create(post=site["first"], author=make_user("rosa"), body="Gone",
                                         body_html="<p>Gone</p>", status=Comment.Status.APPROVED)  # fmt: skip
        warm(varnish)
        moderation.delete_comment(make_user("mo", is_staff=True), comment)
    else:
        warm(varnish)
        change(site)
    assert misses(varnish) == purged


def test_what_a_purge_shows_is_the_change(varnish, site) -> None:
    warm(varnish)
    _publish(site)
    assert b"Ferry plan" in varnish.get("/")[2]
    assert varnish.get("/p/ferry-plan/")[0] == 200
    _unpublish(site)
    assert varnish.get("/p/harbour-vote/")[0] == 404
    assert b"Harbour vote" not in varnish.get("/archive/")[2]


def test_a_signed_in_reader_never_gets_a_cached_page(varnish, site, django_saw) -> None:
    warm(varnish)
    reader = Client()
    reader.force_login(make_user("rosa"))
    cookie = f"sessionid={reader.cookies['sessionid'].value}; csrftoken=x"
    django_saw.clear()
    for path in PAGES.values():
        for _ in range(2):
            status, headers, body = varnish.get(path, Cookie=cookie)
            assert status == 200 and headers["X-Cache"] == "MISS" and b">@rosa</a>" in body
            assert "private" in headers["Cache-Control"]
    assert len(django_saw) == 2 * len(PAGES)
    assert b">@rosa</a>" not in varnish.get("/p/harbour-vote/")[2]  # and nothing of theirs was kept


def test_a_purge_from_outside_the_app_hosts_is_refused(varnish, site) -> None:
    warm(varnish)
    status, _, _ = varnish.request("PURGE", "/", {"xkey-purge": "site"}, source="127.0.0.2")
    assert status == 403
    assert misses(varnish) == set()
    assert varnish.request("PURGE", "/", {"xkey-purge": "site"})[0] == 200
    assert misses(varnish) == set(PAGES)


def test_a_page_served_by_varnish_is_counted_in_insights(varnish, site, settings, django_saw) -> None:
    settings.PAGEVIEWS_REDIS_URL, settings.PAGEVIEWS_IN_BACKGROUND = "redis://fake", False
    pageviews.set_client(fakeredis.FakeRedis())
    try:
        for visitor in range(referrers.MIN_TAGGED_VIEWS):  # enough for the tag to have a row of its own
            headers = {**BROWSER, "User-Agent": BROWSER["User-Agent"] + f" visitor/{visitor}"}
            status, served, page = varnish.get("/p/harbour-vote/?utm_source=Mastodon", **headers)
            assert status == 200
            beacon = re.search(rb'data-view-beacon="([^"]+)"', page)[1].decode()
            image = {**headers, "Accept": "image/avif,image/webp,*/*",
                     "Referer": "http://127.0.0.1/p/harbour-vote/?utm_source=Mastodon"}  # fmt: skip
            assert varnish.get(beacon, **image)[1]["X-Cache"] == "MISS"
        assert served["X-Cache"] == "HIT" and django_saw.count("/p/harbour-vote/") == 1
        pageviews.fold()
    finally:
        pageviews.set_client(None)
    row = PageViewDay.objects.get(post=site["first"], day=timezone.localdate())
    # Agents from one address are one visitor.
    assert (row.views, row.visitors) == (referrers.MIN_TAGGED_VIEWS, 1)

    author = Client()
    author.force_login(site["ada"])
    insights = author.get(f"/write/{site['first'].pk}/insights/").content.decode()
    assert "utm:mastodon" in insights or "mastodon (utm_source)" in insights


class Origin(ThreadingHTTPServer):
    """A stand-in for Django answering every page `public` for one second, with `body`."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), OriginHandler)
        self.body = b"first"
        threading.Thread(target=self.serve_forever, daemon=True).start()


class OriginHandler(BaseHTTPRequestHandler):
    server: Origin

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Cache-Control", "public, max-age=1, s-maxage=1, stale-while-revalidate=30")
        self.send_header("Content-Length", str(len(self.server.body)))
        self.end_headers()
        self.wfile.write(self.server.body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.django_db(transaction=False)
def test_stale_pages_are_served_while_refetching_and_while_django_is_down() -> None:
    require("varnish", bool(shutil.which("varnishd")), "apt-get install -y varnish varnish-modules")
    origin = Origin()
    workdir = Path(tempfile.mkdtemp(prefix="dispatch-varnish-"))
    workdir.chmod(0o755)
    server = Varnish(origin.server_address[1], workdir)
    try:
        server.wait()
        assert server.get("/p/x/")[2] == b"first"
        origin.body = b"second"
        time.sleep(1.5)  # past s-maxage: the next reader gets the stale copy at once, Varnish refetches
        status, headers, body = server.get("/p/x/")
        assert (status, body) == (200, b"first") and headers["X-Cache"] == "HIT"
        deadline = time.monotonic() + 5
        while server.get("/p/x/")[2] != b"second":
            assert time.monotonic() < deadline, "never refetched"
            time.sleep(0.1)
        origin.shutdown()
        origin.server_close()  # Django is down: the probe fails
        time.sleep(32)  # past the 30 s a healthy backend's copies are served stale
        status, _, body = server.get("/p/x/")
        assert (status, body) == (200, b"second")
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
