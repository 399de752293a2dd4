"""Signed-out pages, rendered once per version and shared through the cache;
and every change that makes a page go, here and in a shared cache in front.

The rules (what is served from here, what is stored, the versions, what each
change bumps and purges, how long a counter may lag) are docs/caching.md.

It is a view decorator, not a middleware, so every middleware (sessions,
CSRF, CSP) still runs for a cached page; it also sets the headers a shared
cache reads (http.py). Each web process's copy of the page versions is pubsub.py;
purging Varnish, Fastly or Cloudflare after commit is purgers.py.

Signed-in readers of a post (filled_shell) get one rendering per version and
per reader state (their like, re-stack and subscription, and the post's
counters), with mark(name) where each reader's own values go (their account
links, their comment buttons and held comments, their share link and
address, their form token), filled in per request. The post's author,
editors and moderators, and a reader with a message to show, get their page
live.
"""

import hashlib
import re
import time
from collections import OrderedDict
from collections.abc import Callable
from functools import wraps
from typing import Any, TypedDict
from uuid import uuid4

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import Signal, receiver
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.http import quote_etag
from django.utils.safestring import SafeString, mark_safe

from accounts.models import User
from blog.models import Post, Restack, SlugRedirect
from blog.pagecache import http, pubsub, purgers
from blog.pagecache.pubsub import StoredPage

COUNTER_LAG = 60
FRESH_COOKIE = "fresh"
CAMPAIGN_PARAMS = frozenset({"utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"})
LISTINGS = "listings"
SITE = "site"
# Renderings each process keeps in its own memory (they never change, so never go stale).
RECENT_RENDERINGS = 64
# How long a second request for a page being rendered waits for that rendering.
RENDER_WAIT = 1.0
# This long before a rendering's lag runs out, one request renders the next
# while every other is served the current one: no stall at the expiry.
REFRESH_AHEAD = 10

_CSRF = "csrf-token"
_MARKS = re.compile("\x00([a-z0-9_:-]+)\x00")
_CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([A-Za-z0-9]+)"')

View = Callable[..., HttpResponse]
_recent: OrderedDict[str, Any] = OrderedDict()
_refresh_asked: set[str] = set()  # renderings whose refresh this process has asked for


def post_scope(slug: str) -> str:
    return f"post:{slug}"


def shared_page(scope: Callable[..., str], params: frozenset[str] = frozenset()) -> Callable[[View], View]:
    """View decorator: serve signed-out readers one rendering per version.

    `scope(**view_kwargs)` names the version the page belongs to; `params`
    are the query parameters that select a different page (?page=, ?sort=)."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not _shareable(request, params):
                return http.private(view(request, *args, **kwargs))
            page_scope = scope(**kwargs)
            response = _cached(request, page_scope, lambda: view(request, *args, **kwargs))
            if not _storable(request, response):
                return http.private(response)
            return http.shared(request, response, [page_scope, SITE])

        return wrapper

    return decorator


def _shareable(request: HttpRequest, params: frozenset[str]) -> bool:
    cookies = request.COOKIES
    return (
        request.method == "GET"
        and settings.SESSION_COOKIE_NAME not in cookies
        and CookieStorage.cookie_name not in cookies
        and FRESH_COOKIE not in cookies
        and set(request.GET) <= params | CAMPAIGN_PARAMS
    )


def _version_key(scope: str) -> str:
    return f"pagecache:version:{scope}"


def _page_key(request: HttpRequest) -> str:
    # Times on a page are in the reader's zone (blog/middleware.py), so a rendering is per zone.
    page = f"{request.get_full_path()}|{timezone.get_current_timezone_name()}"
    return "pagecache:page:" + hashlib.sha256(page.encode()).hexdigest()


def _body_key(rendering: str) -> str:
    return f"pagecache:body:{rendering}"


def _cached(
    request: HttpRequest,
    scope: str,
    render: Callable[[], HttpResponse],
    key: str = "",
    parts: dict[str, str] | None = None,
) -> HttpResponse:
    key, version_keys = key or _page_key(request), [_version_key(SITE), _version_key(scope)]
    read, since = _read_versions(request), pubsub.generation()
    # The view read them before the database (see versions()), or this process knows them.
    known = read.get(scope) or pubsub.known(version_keys)
    versions: list[str | None]
    if known is not None:  # on a hit, often no round trip at all
        versions, local = list(known), pubsub.page(key)
        if local is not None and not _current(local, versions):
            local = None  # out of date here; another process may have stored the next one
        page = local or cache.get(key)
    else:
        found = cache.get_many([key, *version_keys])  # one round trip, a few bytes, on a hit
        versions, page, local = [_text(found.get(k)) for k in version_keys], found.get(key), None
        pubsub.remember(since, {k: v for k, v in zip(version_keys, versions, strict=True) if v})
    serving = _body(page["rendering"]) if page and _current(page, versions) else None
    if serving:
        if local is None:
            pubsub.remember(since, {}, key, page)
        if not _refreshes(page):
            return _serve(request, serving, parts)
    # Read the versions before the database: a change committed after this
    # point bumps them, so what is rendered now is never served after it.
    current: list[str] = [v or _start_version(k) for k, v in zip(version_keys, versions, strict=True)]
    read[scope] = current
    lock = f"{key}:rendering:{':'.join(current)}"
    took_lock = cache.add(lock, 1, timeout=int(RENDER_WAIT * 10))
    if not took_lock:
        body = serving or _wait_for(key, current)
        if body:
            return _serve(request, body, parts)
    try:
        response = render()
        storable = _storable(request, response)
        if storable or parts is not None:
            body = _template(request, response)
            if storable:
                _store(key, current, body)
            if parts is not None:  # the rendering is a shell: fill in this reader's parts
                response = _keeping_headers(response, _serve(request, body, parts))
    finally:
        if took_lock:  # never another worker's, who is still rendering
            cache.delete(lock)
    response["X-Page-Cache"] = "miss"
    return response


def _keeping_headers(rendered: HttpResponse, served: HttpResponse) -> HttpResponse:
    """The view's own headers and cookies on the filled-in shell."""
    for header, value in rendered.items():
        if header not in ("Content-Type", "Content-Length"):
            served[header] = value
    served.cookies = rendered.cookies
    return served


class Rendering(TypedDict):
    """A page's rendering as stored: the response cut at its marks (see _template())."""

    pieces: list[Any]  # bytes between the marks, the marks' names (str) at the odd places
    marks: set[str]
    content_type: str
    etag: str  # of a rendering without marks, so that a hit hashes nothing (http.shared)


def _text(version: object) -> str | None:
    """Versions are counters in the cache (see changed()), compared as text."""
    return None if version is None else str(version)


def _refreshes(page: StoredPage) -> bool:
    """Whether this request renders the next copy of a page whose current one
    nears the end of its lag: the first to ask, across processes."""
    if page["stored_at"] + COUNTER_LAG - REFRESH_AHEAD > time.time() or page["rendering"] in _refresh_asked:
        return False
    if len(_refresh_asked) > 10_000:
        _refresh_asked.clear()
    _refresh_asked.add(page["rendering"])  # one round trip per process and rendering, not per request
    return cache.add(f"pagecache:refresh:{page['rendering']}", 1, timeout=COUNTER_LAG)


def _current(page: StoredPage, versions: list[str | None]) -> bool:
    """Stored under these versions, and within the counters' lag (a copy kept in
    this process outlives its entry in the shared cache otherwise)."""
    fresh = page.get("stored_at", 0) + COUNTER_LAG > time.time()
    return fresh and None not in versions and page["versions"] == versions


def versions(request: HttpRequest, scope: str) -> list[str]:
    """The site's and `scope`'s versions, read once per request. A view that
    renders for filled_shell() reads them before the database, as the decorator
    does, so that what it renders is never stored under a later version."""
    read = _read_versions(request)
    if scope not in read:
        keys, since = [_version_key(SITE), _version_key(scope)], pubsub.generation()
        found = pubsub.known(keys)
        if found is None:
            stored = cache.get_many(keys)
            found = [_text(stored.get(key)) or _start_version(key) for key in keys]
            pubsub.remember(since, dict(zip(keys, found, strict=True)))
        read[scope] = found
    return read[scope]


def _read_versions(request: HttpRequest) -> dict[str, list[str]]:
    if not hasattr(request, "_page_versions"):
        request._page_versions = {}  # type: ignore[attr-defined]  # kept on the request for its lifetime
    read: dict[str, list[str]] = request._page_versions  # type: ignore[attr-defined]  # set just above
    return read


def _start_version(key: str) -> str:
    cache.add(key, _first_version(), timeout=None)
    return str(cache.get(key))


def _first_version() -> int:
    """Counters start at the time in microseconds: after the cache lost them (a
    restart, a flush) new versions are still above any a process may remember."""
    return time.time_ns() // 1000


def _wait_for(key: str, versions: list[str]) -> Rendering | None:
    """Another process is rendering this page version: wait briefly for it."""
    deadline = time.monotonic() + RENDER_WAIT
    while time.monotonic() < deadline:
        time.sleep(0.02)
        page = cache.get(key)
        if page and page["versions"] == versions:
            return _body(page["rendering"])
    return None


def _storable(request: HttpRequest, response: HttpResponse) -> bool:
    session = getattr(request, "session", None)
    return (
        response.status_code == 200
        and not response.streaming
        and response.get("Content-Type", "").startswith("text/html")
        and not response.cookies
        and not (session is not None and session.modified)
    )


def _template(request: HttpRequest, response: HttpResponse) -> Rendering:
    """The response cut at its marks. A shell's CSRF token (signed in: its forms
    carry one) is the rendering reader's, so it is left out too; signed-out
    pages carry no token and no nonce at all (blog/shared/origins.py)."""
    html = response.content.decode(response.charset)
    for token in set(_CSRF_INPUT.findall(html)):
        html = html.replace(token, mark(_CSRF))
    pieces: list[Any] = _MARKS.split(html)  # odd pieces are the marks' names
    pieces[::2] = [piece.encode(response.charset) for piece in pieces[::2]]
    marks = set(pieces[1::2])
    etag = "" if marks else quote_etag(hashlib.md5(b"".join(pieces), usedforsecurity=False).hexdigest())
    return {"pieces": pieces, "marks": marks, "content_type": response["Content-Type"], "etag": etag}


def _store(key: str, versions: list[str], body: Rendering) -> None:
    rendering, since = uuid4().hex, pubsub.generation()
    page: StoredPage = {"versions": versions, "rendering": rendering, "stored_at": time.time()}
    cache.set(_body_key(rendering), body, COUNTER_LAG)
    cache.set(key, page, COUNTER_LAG)
    keep_local_copy(_body_key(rendering), body)
    pubsub.remember(since, {}, key, page)


def _body(rendering: str) -> Rendering | None:
    body: Rendering | None = local_copy(_body_key(rendering))
    return body


def local_copy(key: str) -> Any:
    """A value that never changes under its key (a rendering, a versioned list, a
    post's row), from this process's memory for COUNTER_LAG seconds at most (so a
    missed version cannot keep it forever), else from the shared cache (then kept)."""
    kept = _recent.get(key)
    if kept is not None and kept[0] > time.time():
        return kept[1]
    value = cache.get(key)
    if value is not None:
        keep_local_copy(key, value)
    return value


def keep_local_copy(key: str, value: Any) -> None:
    _recent[key] = (time.time() + COUNTER_LAG, value)
    _recent.move_to_end(key)
    while len(_recent) > RECENT_RENDERINGS:
        _recent.popitem(last=False)


def _serve(request: HttpRequest, body: Rendering, parts: dict[str, str] | None = None) -> HttpResponse:
    pieces, marks = body["pieces"], body["marks"]
    if marks:  # odd pieces are the marks
        values = dict(parts or {})
        encoded = {name: values[name].encode() for name in marks}
        pieces = [encoded[piece] if i % 2 else piece for i, piece in enumerate(pieces)]
    response = HttpResponse(b"".join(pieces), content_type=body["content_type"])
    if body.get("etag"):
        response["ETag"] = body["etag"]
    response["X-Page-Cache"] = "hit"  # shared_page() says Vary: Cookie (http.py)
    return response


def mark(name: str) -> SafeString:
    """Where a reader's own part goes in a shell (see filled_shell)."""
    return mark_safe(f"\x00{name}\x00")


def filled_shell(
    request: HttpRequest,
    scope: str,
    variant: str,
    render: Callable[[], HttpResponse],
    parts: dict[str, str],
    csrf_token: str,
) -> HttpResponse:
    """A signed-in reader's page: the shell that every reader of this `variant`
    shares, rendered once per version with mark(name) where `parts[name]` goes,
    and this reader's parts filled in. The caller renders with marks, not with
    this reader's values, for everything in `parts`; `csrf_token` is the token
    their parts carry, so the page carries one."""
    key = f"{_page_key(request)}:{variant}"
    return _cached(request, scope, render, key=key, parts={**parts, _CSRF: csrf_token})


# --- What changes a page -----------------------------------------------------


pages_changed = Signal()  # sent after commit with `keys`, the surrogate keys to purge (blog/tasks.py)


def changed(*scopes: str) -> None:
    """Drop the renderings of these scopes once the current transaction commits,
    here and, when one is configured, in the shared cache in front.

    Robust hooks: a Redis or broker failure is logged, and the hooks queued
    after this one in the same transaction (a newsletter's send, comment
    notices) still run. A version left unbumped by a failure ages out within
    COUNTER_LAG."""
    keys = [_version_key(scope) for scope in scopes]

    def bump() -> None:
        new = {key: _next_version(key) for key in keys}
        pubsub.publish(new)  # then every process knows, without asking Redis per page

    transaction.on_commit(bump, robust=True)
    if purgers.is_configured():
        surrogate_keys = sorted({http.surrogate_key(scope) for scope in scopes})
        transaction.on_commit(lambda: pages_changed.send(sender=None, keys=surrogate_keys), robust=True)


def _next_version(key: str) -> str:
    """A counter, so that a process that hears two changes out of order keeps the later (pubsub)."""
    cache.add(key, _first_version(), timeout=None)
    return str(cache.incr(key))


def site_changed() -> None:
    """Something every page shows changed (a setting, a name): every page goes."""
    changed(SITE)


def post_changed(post_id: int) -> None:
    """A post's page and the listings showing it changed (its comments, say)."""
    slug = Post.objects.filter(pk=post_id).values_list("slug", flat=True).first()
    changed(*([post_scope(slug)] if slug else []), LISTINGS)


def saw_own_action(response: HttpResponse) -> HttpResponse:
    """A signed-out reader changed a counter: show them live pages while others may lag."""
    response.set_cookie(FRESH_COOKIE, "1", max_age=COUNTER_LAG, httponly=True, samesite="Lax")
    return response


@receiver([post_save, post_delete], sender=Post, dispatch_uid="pagecache.post")
def _post_saved(sender: type, instance: Post, **kwargs: Any) -> None:
    changed(post_scope(instance.slug), LISTINGS)


@receiver(m2m_changed, sender=Post.tags.through, dispatch_uid="pagecache.post_tags")
def _post_tagged(sender: type, instance: object, **kwargs: Any) -> None:
    if isinstance(instance, Post):
        changed(post_scope(instance.slug), LISTINGS)
    else:
        site_changed()


@receiver([post_save, post_delete], sender=Restack, dispatch_uid="pagecache.restack")
def _restacked(sender: type, instance: Restack, **kwargs: Any) -> None:
    post_changed(instance.post_id)


@receiver(post_save, sender=SlugRedirect, dispatch_uid="pagecache.slug_redirect")
def _renamed_post(sender: type, instance: SlugRedirect, **kwargs: Any) -> None:
    changed(post_scope(instance.old_slug))  # the old address now redirects


# What of a person other pages show: their name and avatar on every page they
# wrote or commented on; their bio on their profile, a listing. Their e-mail
# switches show nowhere.
SHOWN_EVERYWHERE = frozenset({"username", "display_name", "avatar", "is_active"})
SHOWN_ON_PROFILE = frozenset({"bio"})


@receiver(post_save, sender=User, dispatch_uid="pagecache.user")
def _user_saved(
    sender: type, instance: User, created: bool, update_fields: frozenset[str] | None, **kwargs: Any
) -> None:
    """Bump what shows what changed; a save that does not say which fields
    changed (the admin's, say) may have changed the name."""
    if created:
        return
    if update_fields is None or update_fields & SHOWN_EVERYWHERE:
        site_changed()
    elif update_fields & SHOWN_ON_PROFILE:
        changed(LISTINGS)
