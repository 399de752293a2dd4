"""Page views counted on the server, without cookies and without keeping addresses.

Each counted view costs at most one pipelined round trip to Redis: a running total per
page and day (HINCRBY), the visitor's daily hash into a HyperLogLog (PFADD,
which keeps no hashes, only an estimate of how many there were, within
about 1%) and its source (HINCRBY). The visitor hash mixes the address,
the page and a salt derived from the secret key and the date, so it changes
every day and differs between pages. It leaves out the user agent: one
address sending 25 agents is one visitor, not 25.

Without a Redis (the embedded default: SQLite, no servers) views are counted
in the database instead, inline: the same daily rows, and each page's
visitor hashes of today and yesterday in DailyVisitor, deleted after that.

Views are handed to a background thread that sends whatever has queued up
in one pipeline, so a busy server makes fewer round trips than views and the
reader never waits for Redis.

A beat task folds the day's totals into PageViewDay and ReferrerDay rows
every minute. Redis holds running totals, not increments, so a fold copies
absolute numbers and running it twice changes nothing. If Redis is down the
view is not counted and the page is served as usual.

The contract is docs/insights.md.
"""

import atexit
import functools
import logging
import os
import queue
import re
import threading
import time
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import urlsplit

import redis
from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import F
from django.http import HttpRequest, QueryDict
from django.utils import timezone
from django.utils.crypto import salted_hmac

from blog.models import DailyVisitor, PageViewDay, Post, ReferrerDay, SlugRedirect
from blog.shared.ratelimits import client_ip

log = logging.getLogger(__name__)

HOME = "home"
# Sources that are not a host; a host always has a dot, so they never collide.
DIRECT, EMAIL, SITE = "direct", "email", "site"
SOURCE_LABELS = {DIRECT: "Direct", EMAIL: "E-mail", SITE: "This site"}
# Crawlers, link previewers, feed fetchers, monitors and HTTP libraries; matched
# against the lowercased agent (a case-blind search of this alternation costs
# more than ten times as much, on every page a reader loads).
BOT_AGENTS = re.compile(
    r"bot|crawl|spider|slurp|preview|fetch|scan|monitor|check|archiver|facebookexternalhit|embedly|"
    r"whatsapp|telegram|slack|discord|skype|quora|pinterest|vkshare|w3c_validator|lighthouse|headless|"
    r"phantomjs|curl|wget|python|java/|go-http|okhttp|axios|node-fetch|libwww|httpclient|feed|rss"
)
WEBMAIL_HOSTS = {"mail.google.com", "outlook.live.com", "outlook.office.com", "mail.yahoo.com", "mail.proton.me"}
EMAIL_UTM = {"email", "e-mail", "newsletter", "mail"}
KEEP_DAYS = 3  # Redis keys outlive their day long enough for the last folds
FOLD_DAYS = 2  # today and yesterday: a view at 23:59:59 is folded after midnight
OUTAGE_PAUSE_SECONDS = 10  # after a failure, don't try Redis for this long
SEND_BATCH = 1000  # views sent in one round trip at most
# The sender gathers views this long before a round trip: a busy worker then
# sends a few batches a second instead of one per view (each round trip costs
# the web process and Redis CPU time that the pages need).
SEND_INTERVAL_SECONDS = 0.5

_client: redis.Redis | None = None
_paused_until = 0.0


def counting() -> str:
    """Where views are counted: "redis", "database", or "" when counting is off."""
    if not settings.PAGEVIEWS_ENABLED:
        return ""
    return "redis" if settings.PAGEVIEWS_REDIS_URL else "database"


def client() -> redis.Redis | None:
    """The counting Redis, connected lazily; None when counting is off."""
    global _client
    if not settings.PAGEVIEWS_ENABLED or not settings.PAGEVIEWS_REDIS_URL:
        return None
    if _client is None:
        _client = redis.Redis.from_url(
            settings.PAGEVIEWS_REDIS_URL,
            socket_timeout=settings.PAGEVIEWS_REDIS_TIMEOUT,
            socket_connect_timeout=settings.PAGEVIEWS_REDIS_TIMEOUT,
        )
    return _client


def set_client(new: redis.Redis | None) -> None:
    """Use another Redis (tests use fakeredis)."""
    global _client, _paused_until
    _client, _paused_until = new, 0.0


# --- What counts -----------------------------------------------------------


def is_browser(request: HttpRequest, accept: str = "text/html") -> bool:
    """A person's browser loading a page (or, with accept="image/", a page's view
    beacon): not a bot, previewer or prefetch, and sending the headers every
    browser sends."""
    agent = request.headers.get("User-Agent", "")
    if not agent.startswith("Mozilla/") or BOT_AGENTS.search(agent.lower()):
        return False
    if accept not in request.headers.get("Accept", "") or not request.headers.get("Accept-Language"):
        return False
    prefetch = request.headers.get("Sec-Purpose", "") + request.headers.get("Purpose", "")
    return "prefetch" not in prefetch and request.headers.get("X-Moz") != "prefetch"


def is_excluded_reader(request: HttpRequest, page: str) -> bool:
    """Staff and the post's own author are not readers."""
    user = getattr(request, "user", None)  # absent if a cache answered before authentication
    if user is None or not user.is_authenticated:
        return False
    if user.is_staff:
        return True
    # Roles come from the cache (accounts/backends.py): only authors cost a query.
    return page != HOME and user.is_author and Post.objects.filter(slug=page[5:], author_id=user.pk).exists()


def referrer_source(request: HttpRequest) -> str:
    """utm_source if the page's link was tagged, else the page's referring host;
    e-mail, this site and no referrer at all are sources of their own.

    The beacon's own Referer is the page's address (its campaign tags); the
    page's referrer comes as `?r=` when the page's script could send it."""
    page_query = QueryDict(urlsplit(request.headers.get("Referer", "")).query)
    tagged = page_query.get("utm_source", "").strip().lower()[:100]
    if tagged:
        return EMAIL if tagged in EMAIL_UTM else f"utm:{tagged}"
    if page_query.get("utm_medium", "").lower() in EMAIL_UTM:
        return EMAIL
    referer = request.GET.get("r", "")
    host = (urlsplit(referer).hostname or "") if referer else ""
    if not host:
        return DIRECT
    if host in (request.get_host().split(":")[0], urlsplit(settings.SITE_URL).hostname):
        return SITE
    if host in WEBMAIL_HOSTS:
        return EMAIL
    return host.removeprefix("www.")[:200]


@functools.lru_cache(maxsize=4)
def daily_salt(day: date) -> str:
    """Changes every day and is never stored: derived from the secret key and the date."""
    return salted_hmac("dispatch.pageviews.salt", day.isoformat(), algorithm="sha256").hexdigest()


def visitor_hash(request: HttpRequest, page: str, day: date) -> str:
    """The address and the page, keyed by the day's salt. Not the user agent,
    which any script can change on every request."""
    value = f"{client_ip(request)}|{page}"
    return salted_hmac(daily_salt(day), value, algorithm="sha256").hexdigest()[:32]


# --- Counting --------------------------------------------------------------


def views_key(day: date) -> str:
    return f"pv:{day.isoformat()}:views"


def visitors_key(day: date, page: str) -> str:
    return f"pv:{day.isoformat()}:visitors:{page}"


def sources_key(day: date, page: str) -> str:
    return f"pv:{day.isoformat()}:sources:{page}"


@dataclass(frozen=True)
class View:
    day: date
    page: str
    visitor: str
    source: str


def count_view(request: HttpRequest, page: str) -> bool:
    """Count a reader's view of `page` ('home' or 'post:<slug>') reported by the
    page's beacon (blog/views/seen.py), which every copy of the page loads,
    whoever served it; True if counted.

    The view goes to Redis from a background thread, so the reader never
    waits for Redis, and views that arrive together share one round trip."""
    if not is_browser(request, accept="image/") or is_excluded_reader(request, page):
        return False
    where = counting()
    if not where or (where == "redis" and (client() is None or time.monotonic() < _paused_until)):
        return False
    day = timezone.localdate()
    view = View(day, page, visitor_hash(request, page, day), referrer_source(request))
    if where == "database":
        return record_views([view])
    if settings.PAGEVIEWS_IN_BACKGROUND:
        _sender.put(view)
        return True
    return send_views([view])


def send_views(views: list[View]) -> bool:
    """One pipelined round trip to Redis for any number of views."""
    global _paused_until
    redis_client = client()
    if redis_client is None:
        return False
    pipe = redis_client.pipeline(transaction=False)
    per_page: dict[tuple[date, str], list[View]] = {}
    for view in views:
        per_page.setdefault((view.day, view.page), []).append(view)
    expire = KEEP_DAYS * 86400
    for (day, page), group in per_page.items():
        pipe.hincrby(views_key(day), page, len(group))
        pipe.pfadd(visitors_key(day, page), *{view.visitor for view in group})
        for source in {view.source for view in group}:
            pipe.hincrby(sources_key(day, page), source, sum(view.source == source for view in group))
        for key in (views_key(day), visitors_key(day, page), sources_key(day, page)):
            pipe.expire(key, expire)
    try:
        pipe.execute()
    except redis.RedisError as exc:
        _paused_until = time.monotonic() + OUTAGE_PAUSE_SECONDS
        log.warning("%d page views not counted, Redis failed: %s", len(views), exc)
        return False
    return True


class Sender:
    """A daemon thread per process that sends queued views in batches.

    A process that dies loses at most the views of the last half second; one
    that exits normally sends them first."""

    def __init__(self) -> None:
        self.queue: queue.Queue[View] = queue.Queue()
        self.lock = threading.Lock()
        self.pid = 0

    def put(self, view: View) -> None:
        if self.pid != os.getpid():  # first view in this (perhaps forked) process
            with self.lock:
                if self.pid != os.getpid():
                    self.queue = queue.Queue()
                    threading.Thread(target=self.run, name="pageviews", daemon=True).start()
                    self.pid = os.getpid()
        self.queue.put(view)

    def run(self) -> None:
        while True:
            batch = [self.queue.get()]
            time.sleep(SEND_INTERVAL_SECONDS)
            while len(batch) < SEND_BATCH:
                try:
                    batch.append(self.queue.get_nowait())
                except queue.Empty:
                    break
            try:
                if client() is not None:
                    send_views(batch)
            except Exception:
                log.exception("Page views not counted")
            finally:
                for _ in batch:
                    self.queue.task_done()

    def flush(self) -> None:
        """Wait until every queued view has been sent (tests, process exit)."""
        if self.pid == os.getpid():
            self.queue.join()


_sender = Sender()
flush = _sender.flush
atexit.register(flush)


# --- Counting in the database (no Redis) -----------------------------------

_purged_before: date | None = None


def record_views(views: list[View]) -> bool:
    """Add views straight to the daily rows: the default install has no Redis.

    A visitor is new when their hash is not yet among the page's DailyVisitor
    rows of the day; rows older than yesterday are deleted once a day."""
    posts = posts_by_page(sorted({view.page for view in views}))
    for view in views:
        if view.page not in posts:  # a post unpublished since the page was served
            continue
        post_id = posts[view.page]
        _, new = DailyVisitor.objects.get_or_create(day=view.day, page=view.page, visitor=view.visitor)
        _add(PageViewDay, {"post_id": post_id, "day": view.day}, views=1, visitors=int(new))
        _add(ReferrerDay, {"post_id": post_id, "day": view.day, "source": view.source}, views=1)
    _purge_old_visitors(max(view.day for view in views) - timedelta(days=1) if views else None)
    return True


def _add(model: type[models.Model], keys: dict[str, object], **amounts: int) -> None:
    """Add to a daily row's counters, creating the row on its first view."""
    rows = model._default_manager.filter(**keys)
    if rows.update(**{name: F(name) + n for name, n in amounts.items()}):
        return
    try:
        with transaction.atomic():
            model._default_manager.create(**keys, **amounts)
    except IntegrityError:  # created by a concurrent view in between
        rows.update(**{name: F(name) + n for name, n in amounts.items()})


def _purge_old_visitors(before: date | None) -> None:
    global _purged_before
    if before is not None and before != _purged_before:
        DailyVisitor.objects.filter(day__lt=before).delete()
        _purged_before = before


# --- Folding into the database ---------------------------------------------


@dataclass
class DayTotals:
    views: dict[str, int]
    visitors: dict[str, int]
    sources: dict[str, dict[str, int]]


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def read_day(redis_client: redis.Redis, day: date) -> DayTotals:
    views = {_text(page): int(n) for page, n in redis_client.hgetall(views_key(day)).items()}
    pipe = redis_client.pipeline(transaction=False)
    for page in views:
        pipe.pfcount(visitors_key(day, page))
        pipe.hgetall(sources_key(day, page))
    answers = pipe.execute()
    visitors, sources = {}, {}
    for index, page in enumerate(views):
        visitors[page] = answers[2 * index]
        sources[page] = {_text(source): int(n) for source, n in answers[2 * index + 1].items()}
    return DayTotals(views, visitors, sources)


def posts_by_page(pages: list[str]) -> dict[str, int | None]:
    """'post:<slug>' -> post id (following renamed slugs), 'home' -> None."""
    slugs = [page[5:] for page in pages if page.startswith("post:")]
    ids = dict(Post.objects.published().filter(slug__in=slugs).values_list("slug", "pk"))
    missing = [slug for slug in slugs if slug not in ids]
    if missing:
        ids.update(SlugRedirect.objects.filter(old_slug__in=missing).values_list("old_slug", "post_id"))
    found: dict[str, int | None] = {f"post:{slug}": pk for slug, pk in ids.items()}
    if HOME in pages:
        found[HOME] = None
    return found


def fold(days: list[date] | None = None) -> int:
    """Copy Redis's totals for today and yesterday into daily rows; returns rows written."""
    DailyVisitor.objects.filter(day__lt=timezone.localdate() - timedelta(days=1)).delete()
    redis_client = client()
    if redis_client is None:
        return 0
    today = timezone.localdate()
    days = days or [today - timedelta(days=n) for n in range(FOLD_DAYS)]
    written = 0
    for day in days:
        try:
            totals = read_day(redis_client, day)
        except redis.RedisError as exc:
            log.warning("Page views not folded, Redis failed: %s", exc)
            return written
        try:
            written += store_day(day, totals)
        except IntegrityError:  # a concurrent fold created the rows first; the next one settles it
            log.warning("Page views for %s folded concurrently; skipped", day)
    return written


def store_day(day: date, totals: DayTotals) -> int:
    """Upsert the day's rows. A row never goes down: after Redis lost its data
    the new, smaller totals wait until they pass what was already stored."""
    posts = posts_by_page(list(totals.views))
    views: dict[int | None, list[int]] = {}
    sources: dict[tuple[int | None, str], int] = {}
    for page, post_id in posts.items():
        counted = views.setdefault(post_id, [0, 0])  # two old slugs of one post add up
        counted[0] += totals.views[page]
        counted[1] += totals.visitors[page]
        for source, n in totals.sources[page].items():
            sources[post_id, source] = sources.get((post_id, source), 0) + n
    with transaction.atomic():
        written = _upsert_views(day, views)
        written += _upsert_sources(day, sources)
    return written


def _upsert_views(day: date, views: dict[int | None, list[int]]) -> int:
    rows = {row.post_id: row for row in PageViewDay.objects.select_for_update().filter(day=day)}
    new, changed = [], []
    for post_id, (count, visitors) in views.items():
        row = rows.get(post_id)
        if row is None:
            new.append(PageViewDay(post_id=post_id, day=day, views=count, visitors=visitors))
        elif count > row.views or visitors > row.visitors:
            row.views, row.visitors = max(row.views, count), max(row.visitors, visitors)
            changed.append(row)
    PageViewDay.objects.bulk_create(new)
    PageViewDay.objects.bulk_update(changed, ["views", "visitors"])
    return len(new) + len(changed)


def _upsert_sources(day: date, sources: dict[tuple[int | None, str], int]) -> int:
    rows = {(row.post_id, row.source): row for row in ReferrerDay.objects.select_for_update().filter(day=day)}
    new, changed = [], []
    for (post_id, source), count in sources.items():
        row = rows.get((post_id, source))
        if row is None:
            new.append(ReferrerDay(post_id=post_id, day=day, source=source, views=count))
        elif count > row.views:
            row.views = count
            changed.append(row)
    ReferrerDay.objects.bulk_create(new)
    ReferrerDay.objects.bulk_update(changed, ["views"])
    return len(new) + len(changed)


def source_label(source: str) -> str:
    if source in SOURCE_LABELS:
        return SOURCE_LABELS[source]
    if source.startswith("utm:"):
        return f"{source[4:]} (utm_source)"
    return source
