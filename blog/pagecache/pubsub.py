"""Each web process's copy of the page versions (blog/pagecache/), kept
current through Redis pub/sub, so that a page served from the cache needs no
round trip to Redis at all.

A change sets its new versions in Redis and then publishes them; every
process listens on one channel from a thread of its own and applies what it
hears, if newer than what it has (versions are counters, so two changes
published out of order leave every process on the later). An idle
subscription is pinged; one that stops answering is dropped. A process
trusts its copy only while that thread is subscribed: on connecting it
forgets everything it knew, and on losing the connection it stops trusting
its copy until it has connected again, so a message missed in between can
never leave a stale version behind. Versions read from Redis by a request
are added only if nothing newer was heard meanwhile.

Only with a Redis cache; with any other (tests, `make run`) every request
asks the cache, as before.
"""

import hashlib
import json
import logging
import os
import threading
import time
from collections import OrderedDict
from typing import TypedDict

import redis
from django.conf import settings

CHANNEL = "pagecache:versions"
RECONNECT_SECONDS = 1.0
# A request publishing a change waits this long for Redis at most.
SOCKET_TIMEOUT = 1.0
# The listener pings an idle subscription this often; with no answer for twice
# as long (a connection silently dead: a firewall, a failover) it stops
# trusting its copy and connects again.
HEALTH_CHECK_SECONDS = 5.0
PING = "dispatch-page-versions"
KEPT_PAGES = 1024
log = logging.getLogger(__name__)


class StoredPage(TypedDict):
    """What the cache keeps under a page's key: the versions it was rendered
    under and the key of its rendering (blog/pagecache/)."""

    versions: list[str]
    rendering: str
    stored_at: float


class _Copy:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.versions: dict[str, str] = {}
        self.pages: OrderedDict[str, StoredPage] = OrderedDict()
        self.generation = 0
        self.listening = False
        self.pid = 0
        self.listener = 0  # the current listener thread; an older one stops at its next turn
        self.client: redis.Redis | None = None


_copy = _Copy()


def _redis_url() -> str | None:
    cache = settings.CACHES["default"]
    if not cache["BACKEND"].endswith("RedisCache"):
        return None
    location: str | list[str] | tuple[str, ...] = cache["LOCATION"]
    return location[0] if isinstance(location, list | tuple) else location


def channel() -> str:
    """One channel per cache: Redis delivers a message to every subscriber on the
    server, whatever its database, so sites (or test runs) sharing a server on
    other databases or key prefixes must not hear each other's versions. Not the
    host: every web host of one site must hear the others, whatever it calls Redis."""
    cache, url = settings.CACHES["default"], _redis_url() or "redis://"
    db = redis.Redis.from_url(url).connection_pool.connection_kwargs.get("db", 0)  # connects to nothing
    scope = f"{db}|{cache.get('KEY_PREFIX', '')}|{cache.get('VERSION', 1)}"
    return f"{CHANNEL}:{hashlib.sha256(scope.encode()).hexdigest()[:16]}"


def _start() -> bool:
    """Start this process's listener if it has none (first use, or after a fork)."""
    if _copy.pid == os.getpid():
        return True
    url = _redis_url()
    if url is None:
        return False
    with _copy.lock:
        if _copy.pid != os.getpid():
            _copy.pid, _copy.listening = os.getpid(), False
            _copy.listener += 1
            _copy.versions.clear()
            _copy.pages.clear()
            _copy.client = redis.Redis.from_url(
                url, socket_timeout=SOCKET_TIMEOUT, socket_connect_timeout=SOCKET_TIMEOUT
            )
            listener = _copy.listener
            threading.Thread(target=_listen, args=(url, listener), name="page-versions", daemon=True).start()
    return True


def _current(listener: int) -> bool:
    return _copy.listener == listener


def _listen(url: str, listener: int) -> None:
    while _current(listener):
        try:
            client = redis.Redis.from_url(url, socket_connect_timeout=SOCKET_TIMEOUT, socket_keepalive=True)
            pubsub = client.pubsub()
            pubsub.subscribe(channel())
            _follow(pubsub, listener)
            pubsub.close()
            return  # another listener took over
        except Exception:
            if not _current(listener):
                return
            log.warning("Page versions: lost the subscription; asking Redis until it is back", exc_info=True)
        _forget(listening=False)
        time.sleep(RECONNECT_SECONDS)


def _follow(pubsub: redis.client.PubSub, listener: int) -> None:
    """Apply what is heard; ping when idle, and give up on a connection that stops answering."""
    heard = pinged = time.monotonic()
    while _current(listener):
        message = pubsub.get_message(timeout=HEALTH_CHECK_SECONDS / 5)
        now = time.monotonic()
        if message is not None:
            heard = now
            if message["type"] == "subscribe":
                _forget(listening=True)
            elif message["type"] == "message":
                _apply(json.loads(message["data"]))
        if now - heard > 2 * HEALTH_CHECK_SECONDS:
            raise redis.ConnectionError(f"no answer from Redis for {now - heard:.1f} s")
        if now - max(heard, pinged) > HEALTH_CHECK_SECONDS:
            pubsub.ping(PING)
            pinged = now


def _apply(versions: dict[str, str]) -> None:
    """Keep each version unless this process already has a later one: two changes
    published out of order must not leave it on the older (versions are counters)."""
    with _copy.lock:
        for key, value in versions.items():
            if _newer(value, _copy.versions.get(key)):
                _copy.versions[key] = value


def _newer(value: str, than: str | None) -> bool:
    return than is None or not (value.isdigit() and than.isdigit()) or int(value) > int(than)


def _forget(listening: bool) -> None:
    with _copy.lock:
        _copy.versions.clear()
        _copy.pages.clear()
        _copy.generation += 1
        _copy.listening = listening


# --- What pagecache asks -----------------------------------------------------


def generation() -> int:
    """Taken before reading Redis, given back to remember() with what was read."""
    return _copy.generation


def known(keys: list[str]) -> list[str] | None:
    """The versions under `keys` if this process knows them all and may trust them."""
    if not _start() or not _copy.listening:
        return None
    try:
        return [_copy.versions[key] for key in keys]
    except KeyError:
        return None


def page(key: str) -> StoredPage | None:
    return _copy.pages.get(key) if _copy.listening else None


def remember(since: int, versions: dict[str, str], page_key: str = "", page: StoredPage | None = None) -> None:
    """Keep what a request read from Redis, unless the copy was reset since it began
    reading; a version heard from the channel meanwhile is newer and stays."""
    with _copy.lock:
        if since != _copy.generation or not _copy.listening:
            return
        for key, value in versions.items():
            _copy.versions.setdefault(key, value)
        if page_key and page is not None:
            _copy.pages[page_key] = page
            _copy.pages.move_to_end(page_key)
            while len(_copy.pages) > KEPT_PAGES:
                _copy.pages.popitem(last=False)


def publish(versions: dict[str, str]) -> None:
    """Tell every process (this one at once) the versions a change has just set in Redis."""
    if not _start():
        return
    _apply(versions)
    try:
        assert _copy.client is not None
        _copy.client.publish(channel(), json.dumps(versions))
    except redis.RedisError:
        # The other processes would keep old versions: make every copy start over.
        log.exception("Page versions: could not publish a change")
        _forget(listening=_copy.listening)
        raise


def forget() -> None:
    """Drop this process's copy (tests empty the cache between them)."""
    _forget(listening=_copy.listening)


def stop() -> None:
    """Stop this process's listener; the next use starts another (tests that
    point it at a Redis of their own, and take that away)."""
    with _copy.lock:
        _copy.listener += 1
        _copy.pid, _copy.listening = 0, False
