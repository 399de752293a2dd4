"""Each process's copy of the page versions (blog/pagecache/pubsub.py) on real
Redis: a hit asks Redis nothing, and a change made by another process shows
on the next load here once it is published."""

import json
import os
import socket
import threading
import time

import pytest
import redis
from django.conf import settings
from django.core.cache import cache
from django.test import Client, override_settings

from blog import pagecache
from blog.models import Post
from blog.pagecache import pubsub
from tests.factories import make_post

pytestmark = [pytest.mark.integration, pytest.mark.django_db]
PATH = "/p/argue-here/"


@pytest.fixture
def shared_redis(require_service) -> redis.Redis:
    url = os.environ.get("CACHE_URL", "")
    require_service("Redis", url.startswith("redis://"), "set CACHE_URL=redis://127.0.0.1:6379/<db>")
    assert settings.CACHES["default"]["BACKEND"].endswith("RedisCache")
    return redis.Redis.from_url(url)


def listening(keys: list[str]) -> list[str]:
    """Load the page until this process trusts its copy of the versions (its listener is subscribed)."""
    deadline = time.monotonic() + 5
    while (found := pubsub.known(keys)) is None:
        assert time.monotonic() < deadline, "the listener never subscribed"
        Client().get(PATH)
        time.sleep(0.05)
    return found


def redis_commands(server: redis.Redis) -> int:
    return int(server.info("stats")["total_commands_processed"])


def test_a_hit_asks_redis_nothing_and_another_process_change_shows_next(shared_redis, ada) -> None:
    post = make_post(ada, "Argue here", slug="argue-here")
    keys = ["pagecache:version:site", f"pagecache:version:{pagecache.post_scope(post.slug)}"]
    listening(keys)
    assert Client().get(PATH)["X-Page-Cache"] in {"hit", "miss"}
    assert Client().get(PATH)["X-Page-Cache"] == "hit"

    before = redis_commands(shared_redis)
    assert Client().get(PATH)["X-Page-Cache"] == "hit"
    assert redis_commands(shared_redis) - before == 1  # the INFO that counts them

    # Another process edits the post: it sets a new version in Redis, then publishes it.
    Post.objects.filter(pk=post.pk).update(title="Argue elsewhere")  # no signal here: not this process
    cache.set(keys[1], "another-process-version", timeout=None)
    shared_redis.publish(pubsub.channel(), json.dumps({keys[1]: "another-process-version"}))
    deadline = time.monotonic() + 5
    while (pubsub.known(keys) or [None, None])[1] != "another-process-version":
        assert time.monotonic() < deadline, "the change was never heard"
        time.sleep(0.01)
    assert "Argue elsewhere" in Client().get(PATH).content.decode()


def test_without_its_subscription_a_process_asks_redis(shared_redis, ada, monkeypatch) -> None:
    post = make_post(ada, "Argue here", slug="argue-here")
    keys = ["pagecache:version:site", f"pagecache:version:{pagecache.post_scope(post.slug)}"]
    listening(keys)
    Client().get(PATH)
    monkeypatch.setattr(pubsub._copy, "listening", False)  # as when the connection drops
    assert pubsub.known(keys) is None
    Post.objects.filter(pk=post.pk).update(title="Argue elsewhere")
    cache.set(keys[1], "another-process-version", timeout=None)  # published while this process was deaf
    before = redis_commands(shared_redis)
    assert "Argue elsewhere" in Client().get(PATH).content.decode()
    assert redis_commands(shared_redis) - before > 1


def wait_for(condition, seconds: float = 5) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_two_changes_heard_out_of_order_leave_the_later_version(shared_redis, ada) -> None:
    post = make_post(ada, "Argue here", slug="argue-here")
    keys = ["pagecache:version:site", f"pagecache:version:{pagecache.post_scope(post.slug)}"]
    now = int(listening(keys)[1])
    # Two processes change the post at once: the later one's version is published first.
    shared_redis.publish(pubsub.channel(), json.dumps({keys[1]: str(now + 2)}))
    shared_redis.publish(pubsub.channel(), json.dumps({keys[1]: str(now + 1)}))
    shared_redis.publish(pubsub.channel(), json.dumps({"pagecache:version:heard-last": "1"}))
    wait_for(lambda: "pagecache:version:heard-last" in pubsub._copy.versions)
    assert pubsub.known(keys)[1] == str(now + 2)


def test_versions_published_for_another_cache_database_are_never_heard(shared_redis, ada) -> None:
    post = make_post(ada, "Argue here", slug="argue-here")
    keys = ["pagecache:version:site", f"pagecache:version:{pagecache.post_scope(post.slug)}"]
    mine = listening(keys)
    server, db = settings.CACHES["default"]["LOCATION"].rsplit("/", 1)
    other = {**settings.CACHES["default"], "LOCATION": f"{server}/{int(db or 0) + 1}"}
    with override_settings(CACHES={"default": other}):
        elsewhere = pubsub.channel()
    assert elsewhere != pubsub.channel()
    # Another site on the same server, another database, changes its page with a far larger counter.
    shared_redis.publish(elsewhere, json.dumps({keys[1]: str(int(mine[1]) * 10)}))
    shared_redis.publish(pubsub.channel(), json.dumps({"pagecache:version:heard-last": "1"}))
    wait_for(lambda: "pagecache:version:heard-last" in pubsub._copy.versions)
    assert pubsub.known(keys) == mine


class Blackhole:
    """A TCP relay to Redis that can stop relaying without closing anything: a connection silently dead."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target, self.relaying = target, True
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            client, _ = self.server.accept()
            upstream = socket.create_connection(self.target)
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        while data := source.recv(65536):
            if self.relaying:
                sink.sendall(data)


def test_a_silently_dead_subscription_stops_being_trusted(shared_redis, ada, monkeypatch, request) -> None:
    host = shared_redis.connection_pool.connection_kwargs
    relay = Blackhole((host.get("host", "127.0.0.1"), host.get("port", 6379)))
    monkeypatch.setattr(pubsub, "HEALTH_CHECK_SECONDS", 1.0)
    monkeypatch.setattr(pubsub, "RECONNECT_SECONDS", 30)  # stays deaf after dropping it, for the test
    monkeypatch.setattr(pubsub, "_redis_url", lambda: f"redis://127.0.0.1:{relay.port}/{host.get('db', 0)}")
    pubsub.stop()  # a new listener, through the relay
    request.addfinalizer(pubsub.stop)  # and none left on it for the tests after this one
    post = make_post(ada, "Argue here", slug="argue-here")
    keys = ["pagecache:version:site", f"pagecache:version:{pagecache.post_scope(post.slug)}"]
    listening(keys)
    time.sleep(2.5)  # idle for longer than the health check: the pings keep it trusted
    assert pubsub.known(keys) is not None
    relay.relaying = False  # nothing comes back any more, and no error either
    wait_for(lambda: pubsub.known(keys) is None, seconds=6)
