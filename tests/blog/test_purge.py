"""Purging the shared cache in front after a change commits (blog/pagecache/purgers.py),
against a local HTTP stand-in that records what each purger sends."""

import json
import threading
from collections.abc import Iterator
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import redis
from celery.exceptions import Retry
from django.core import mail
from django.test import Client

from blog.models import Post
from blog.pagecache import pubsub
from blog.posts import publishing
from blog.tasks import purge_pages
from tests.factories import comment_as, make_post, relax_moderation

pytestmark = pytest.mark.django_db


class StandIn(ThreadingHTTPServer):
    """Answers every request with `status` and keeps (method, path, headers, body)."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Recorder)
        self.calls: list[tuple[str, str, Message, bytes]] = []
        self.status = 200

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Recorder(BaseHTTPRequestHandler):
    server: StandIn

    def _record(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.calls.append((self.command, self.path, self.headers, body))  # headers: case-blind
        self.send_response(self.server.status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_PURGE = do_POST = do_GET = _record

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def stand_in() -> Iterator[StandIn]:
    server = StandIn()
    # shutdown() waits out one poll: 0.05 s, not the default 0.5 s, after every test
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def draft(ada) -> Post:
    return make_post(ada, "Harbour vote", status=Post.Status.DRAFT)


def use(settings, purger: str, url: str, token: str = "") -> None:
    settings.PAGE_CACHE_PURGER, settings.PAGE_CACHE_PURGE_URLS, settings.PAGE_CACHE_PURGE_TOKEN = purger, [url], token


def test_without_a_purger_nothing_is_sent(stand_in, draft, settings, django_capture_on_commit_callbacks) -> None:
    settings.PAGE_CACHE_PURGE_URLS = [stand_in.url]
    with django_capture_on_commit_callbacks(execute=True):
        publishing.publish_post(draft)
    assert stand_in.calls == []


def test_varnish_gets_a_purge_naming_the_keys(stand_in, draft, settings, django_capture_on_commit_callbacks) -> None:
    use(settings, "varnish", stand_in.url + "/")
    with django_capture_on_commit_callbacks(execute=True):
        publishing.publish_post(draft)
    [(method, path, headers, _body)] = stand_in.calls
    assert (method, path) == ("PURGE", "/")
    assert headers["xkey-purge"] == "listings post-harbour-vote"


def test_fastly_gets_a_purge_by_surrogate_key(stand_in, draft, settings, django_capture_on_commit_callbacks) -> None:
    use(settings, "fastly", stand_in.url + "/service/SVC/purge", token="fastly-token")
    with django_capture_on_commit_callbacks(execute=True):
        publishing.publish_post(draft)
    [(method, path, headers, _body)] = stand_in.calls
    assert (method, path) == ("POST", "/service/SVC/purge")
    assert headers["Surrogate-Key"] == "listings post-harbour-vote" and headers["Fastly-Key"] == "fastly-token"


def test_cloudflare_gets_a_purge_by_cache_tag(stand_in, draft, settings, django_capture_on_commit_callbacks) -> None:
    use(settings, "cloudflare", stand_in.url + "/zones/Z/purge_cache", token="cf-token")
    with django_capture_on_commit_callbacks(execute=True):
        publishing.publish_post(draft)
    [(method, path, headers, body)] = stand_in.calls
    assert (method, path) == ("POST", "/zones/Z/purge_cache")
    assert headers["Authorization"] == "Bearer cf-token"
    assert json.loads(body) == {"tags": ["listings", "post-harbour-vote"]}


def test_a_failing_purge_asks_celery_to_retry_and_a_later_try_gets_through(stand_in, settings) -> None:
    use(settings, "varnish", stand_in.url)
    stand_in.status = 503
    with pytest.raises(Retry):  # eager in tests: a worker would run it again after a backoff
        purge_pages.delay(["post-harbour-vote"])
    stand_in.status = 200
    purge_pages.delay(["post-harbour-vote"])
    assert [call[2]["xkey-purge"] for call in stand_in.calls] == ["post-harbour-vote"] * 2


@pytest.mark.django_db(transaction=True)
def test_a_failing_purge_fails_no_request_and_drops_no_other_work(stand_in, ada, rosa, settings) -> None:
    """Committed at once (no test transaction): the hooks run inside the request, as in production."""
    relax_moderation()
    post = make_post(ada, "Quiet post")
    use(settings, "varnish", stand_in.url)
    stand_in.status = 500
    comment_as(rosa, post, "A fair point")  # asserts the 302
    assert stand_in.calls  # the purge was tried
    assert [m.to for m in mail.outbox] == [[ada.email]]  # queued after the purge, in the same transaction


@pytest.mark.django_db(transaction=True)
def test_redis_failing_at_commit_drops_no_other_work(ada, rosa, monkeypatch) -> None:
    """A page-version bump that cannot reach Redis is logged; the comment notice queued after it is still sent."""
    relax_moderation()
    post = make_post(ada, "Quiet post")

    def down(*args: object, **kwargs: object) -> None:
        raise redis.ConnectionError("Redis is down")

    monkeypatch.setattr(pubsub, "publish", down)
    comment_as(rosa, post, "A fair point")
    assert [m.to for m in mail.outbox] == [[ada.email]]
    assert "A fair point" in Client().get(post.get_absolute_url()).content.decode()
