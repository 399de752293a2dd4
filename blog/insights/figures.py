"""The figures on the desk's insights pages, as tables a chart, a page and a CSV share.

Authors see their own posts; staff see every post and the home page. Every
query is bounded by the period or by one post, and grouped in the database:
the overview runs the same handful of queries for ten posts or ten thousand.

Unique visitors are counted per page and day (blog/insights/pageviews.py), so a
visitor who reads two posts is two visitors here: that is the price of not
following anyone from page to page.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import CharField, Count, DateField, Exists, F, OuterRef, Q, QuerySet, Sum, Value
from django.db.models.functions import Concat, TruncDate
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from blog.discussion.engagement import share_counts
from blog.insights import referrers
from blog.models import Delivery, LinkClick, PageViewDay, Post, ReferrerDay, Subscriber

PERIODS = (7, 30, 90)
DEFAULT_PERIOD = 30
TOP = 10
POST_REFERRERS = 50
# The subscribe boxes on a post page record these as the subscriber's source.
POST_SOURCES = ("post-top:", "post-bottom:")


@dataclass
class Table:
    """Numbers with their headings; `links` holds an optional URL per row for the page."""

    name: str
    caption: str
    headers: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    links: list[str | None] = field(default_factory=list)

    def column(self, index: int) -> list[Any]:
        return [row[index] for row in self.rows]

    def linked_rows(self) -> list[tuple[str | None, list[Any]]]:
        return list(zip(self.links or [None] * len(self.rows), self.rows, strict=True))


def period_days(end: date, days: int) -> list[date]:
    return [end - timedelta(days=n) for n in range(days - 1, -1, -1)]


DeskUser = User | AnonymousUser


def _own(queryset: QuerySet[Any], user: DeskUser, post_field: str = "post") -> QuerySet[Any]:
    """Rows about the user's own posts, or every row (the home page's too) for editors."""
    if user.has_perm("blog.change_any_post"):
        return queryset
    return queryset.filter(**{f"{post_field}__author": user})


def post_link(pk: int) -> str:
    return reverse("blog:post_insights", args=[pk])


# --- Overview --------------------------------------------------------------


def overview(user: DeskUser, days: int, today: date | None = None) -> dict[str, Table]:
    today = today or timezone.localdate()
    start = today - timedelta(days=days - 1)
    events = subscriber_events(start)
    return {
        "daily": daily_views(user, start, today),
        "subscribers": subscribers_over_time(events, start, today),
        "top_views": top_posts_by_views(user, start),
        "top_subscribers": top_posts_by_subscribers(user, events),
        "referrers": top_referrers(user, start),
        "sends": sends_table(user, start),
    }


def daily_views(user: DeskUser, start: date, today: date) -> Table:
    rows = _own(PageViewDay.objects.filter(day__gte=start, day__lte=today), user)
    totals = {
        day: (views, visitors)
        for day, views, visitors in rows.values("day")
        .annotate(views=Sum("views"), visitors=Sum("visitors"))
        .values_list("day", "views", "visitors")
        .order_by()
    }
    table = Table("daily", "Views and unique visitors per day", ["Day", "Views", "Unique visitors"])
    for day in period_days(today, (today - start).days + 1):
        views, visitors = totals.get(day, (0, 0))
        table.rows.append([day.isoformat(), views, visitors])
    return table


Events = dict[tuple[str, date | None], int]


def subscribers_over_time(events: Events, start: date, today: date) -> Table:
    """Active subscribers at the end of each day, walked back from today's
    count through the day's new, unsubscribed and bounced addresses."""
    active = events.get(("active", None), 0)
    table = Table("subscribers", "Subscribers per day", ["Day", "Subscribers", "New", "Unsubscribed", "Bounced"])
    for day in reversed(period_days(today, (today - start).days + 1)):
        new, left, bounced = (events.get((kind, day), 0) for kind in ("new", "unsubscribed", "bounced"))
        table.rows.append([day.isoformat(), active, new, left, bounced])
        active = active - new + left + bounced
    table.rows.reverse()
    return table


def subscriber_events(start: date) -> Events:
    """In one query, counts by (kind, day): "new", "unsubscribed" and "bounced"
    per day since `start`; ("active", None) today; and ("source:<source>", None)
    for the period's new subscribers by the subscribe box they used."""

    def per_day(queryset: QuerySet[Any], kind: str, when: str, counted: str = "pk") -> QuerySet[Any, Any]:
        grouped: QuerySet[Any, Any] = (
            queryset.filter(**{f"{when}__date__gte": start})
            .annotate(kind=Value(kind), day=TruncDate(when))
            .values_list("kind", "day")
            .annotate(n=Count(counted, distinct=True))
            .order_by()
        )
        return grouped

    new = per_day(Subscriber.objects.all(), "new", "confirmed_at")
    left = per_day(Subscriber.objects.all(), "unsubscribed", "unsubscribed_at")
    bounced_deliveries = Delivery.objects.filter(
        status=Delivery.Status.FAILED, subscriber__status=Subscriber.Status.BOUNCED
    )
    bounced = per_day(bounced_deliveries, "bounced", "claimed_at", "subscriber")
    active = (
        Subscriber.objects.active()
        .annotate(kind=Value("active"), day=Value(None, output_field=DateField()))
        .values_list("kind", "day")
        .annotate(n=Count("pk", distinct=True))
        .order_by()
    )
    sources = (
        Subscriber.objects.filter(confirmed_at__date__gte=start, source__startswith="post-")
        .annotate(kind=Concat(Value("source:"), "source", output_field=CharField()), day=Value(None, DateField()))
        .values_list("kind", "day")
        .annotate(n=Count("pk", distinct=True))
        .order_by()
    )
    return {(kind, day): n for kind, day, n in new.union(left, bounced, active, sources, all=True)}


def top_posts_by_views(user: DeskUser, start: date) -> Table:
    posts = (
        Post.objects.editable_by(user)
        .filter(view_days__day__gte=start)
        .annotate(period_views=Sum("view_days__views"), period_visitors=Sum("view_days__visitors"))
        .order_by("-period_views", "-pk")
        .values_list("pk", "title", "period_views", "period_visitors")[:TOP]
    )
    table = Table("top-views", "Top posts by views", ["Post", "Views", "Unique visitors"])
    for pk, title, views, visitors in posts:
        table.rows.append([title, views, visitors])
        table.links.append(post_link(pk))
    return table


def top_posts_by_subscribers(user: DeskUser, events: Events) -> Table:
    gained: dict[str, int] = {}
    for (kind, _), n in events.items():
        source = kind.removeprefix("source:")
        if kind.startswith("source:") and source.startswith(POST_SOURCES):
            slug = source.split(":", 1)[1]
            gained[slug] = gained.get(slug, 0) + n
    posts = Post.objects.editable_by(user).filter(slug__in=gained).values_list("slug", "pk", "title")
    ranked = sorted(posts, key=lambda post: (-gained[post[0]], post[2]))[:TOP]
    table = Table("top-subscribers", "Top posts by subscribers gained", ["Post", "Subscribers gained"])
    for slug, pk, title in ranked:
        table.rows.append([title, gained[slug]])
        table.links.append(post_link(pk))
    return table


def top_referrers(user: DeskUser, start: date) -> Table:
    table = Table("referrers", "Top referrers", ["Source", "Views"])
    table.rows = _referrer_rows(_own(ReferrerDay.objects.filter(day__gte=start), user), TOP)
    return table


def _referrer_rows(days: QuerySet[ReferrerDay], top: int) -> list[list[Any]]:
    """Sources normalised and capped (blog/insights/referrers.py), in two queries however many there are."""
    grouped = days.values_list("source").annotate(total=Sum("views")).order_by("-total", "source")
    total = days.aggregate(total=Sum("views"))["total"] or 0
    rows = referrers.capped(grouped[: referrers.READ_AT_MOST], total, top)
    return [[referrers.label(source), views] for source, views in rows]


# --- E-mail ----------------------------------------------------------------

SEND_FIGURES = [
    ("sent", "Sent"),
    ("delivered", "Delivered"),
    ("bounced", "Bounced"),
    ("failed", "Failed"),
    ("unsubscribed", "Unsubscribed after it"),
    ("complaints", "Marked as spam after it"),
]


def send_figures(deliveries: QuerySet[Delivery], *group: str) -> QuerySet[Delivery, dict[str, Any]]:
    """Per send, in one query: sent (handed to the mail server), delivered
    (accepted by it), bounced, failed, and the readers it lost: those who
    unsubscribed, or complained, with this as the last e-mail they had got."""
    sent, failed = Delivery.Status.SENT, Delivery.Status.FAILED
    bounced = Q(subscriber__status=Subscriber.Status.BOUNCED)
    later = Delivery.objects.filter(subscriber=OuterRef("subscriber"), status=sent, sent_at__gt=OuterRef("sent_at"))
    later_before_leaving = later.filter(sent_at__lte=OuterRef("subscriber__unsubscribed_at"))
    left = Q(status=sent, subscriber__status=Subscriber.Status.UNSUBSCRIBED)
    left &= Q(subscriber__unsubscribed_at__gte=F("sent_at")) & ~Q(Exists(later_before_leaving))
    complained = Q(status=sent, subscriber__status=Subscriber.Status.COMPLAINED) & ~Q(Exists(later))
    figures: QuerySet[Delivery, dict[str, Any]] = (
        deliveries.filter(send__isnull=False)
        .values("send", *group)
        .annotate(
            sent=Count("pk", filter=Q(status__in=[sent, failed])),
            delivered=Count("pk", filter=Q(status=sent)),
            bounced=Count("pk", filter=Q(status=failed) & bounced),
            failed=Count("pk", filter=Q(status=failed) & ~bounced),
            unsubscribed=Count("pk", filter=left),
            complaints=Count("pk", filter=complained),
        )
        .order_by()
    )
    return figures


def sends_table(user: DeskUser, start: date) -> Table:
    """The period's sends and what each lost, newest first."""
    deliveries = Delivery.objects.filter(
        send__created_at__date__gte=start, send__post__in=Post.objects.editable_by(user)
    )
    rows = send_figures(deliveries, "send__post_id", "send__post__title", "send__created_at")
    table = Table("sends", "E-mail sends", ["Post", "Date", *(label for _, label in SEND_FIGURES)])
    for row in sorted(rows, key=lambda row: row["send__created_at"], reverse=True)[:TOP]:
        date_sent = timezone.localdate(row["send__created_at"]).isoformat()
        table.rows.append([row["send__post__title"], date_sent, *(row[key] for key, _ in SEND_FIGURES)])
        table.links.append(post_link(row["send__post_id"]))
    return table


def post_email(post: Post) -> Table:
    """The figures of the post's e-mail; no rows if it was not sent."""
    figures = send_figures(Delivery.objects.filter(send__post=post)).first()
    table = Table("email", "The e-mail to subscribers", ["Measure", "Count"])
    if figures is not None:
        table.rows = [[label, figures[key]] for key, label in SEND_FIGURES]
    return table


# --- One post --------------------------------------------------------------


def post_figures(post: Post, today: date | None = None) -> dict[str, Table]:
    today = today or timezone.localdate()
    daily = post_daily_views(post, today)
    return {
        "daily": daily,
        "referrers": post_referrers(post),
        "engagement": post_engagement(post, sum(daily.column(1))),
        "shares": post_shares(post),
        "clicks": post_clicks(post),
        "email": post_email(post),
    }


def post_daily_views(post: Post, today: date) -> Table:
    totals = {
        day: (views, visitors)
        for day, views, visitors in PageViewDay.objects.filter(post=post).values_list("day", "views", "visitors")
    }
    first = timezone.localdate(post.published_at) if post.published_at else today
    first = min([first, *totals]) if totals else first
    table = Table("daily", "Views and unique visitors per day since publication", ["Day", "Views", "Unique visitors"])
    for day in period_days(today, max((today - first).days + 1, 1)):
        views, visitors = totals.get(day, (0, 0))
        table.rows.append([day.isoformat(), views, visitors])
    return table


def post_referrers(post: Post) -> Table:
    table = Table("referrers", "Referrers", ["Source", "Views"])
    table.rows = _referrer_rows(ReferrerDay.objects.filter(post=post), POST_REFERRERS)
    return table


def post_engagement(post: Post, views: int) -> Table:
    public = Q(status="approved", is_deleted=False)
    comments = post.comments.filter(public).count()
    sources = [prefix + post.slug for prefix in POST_SOURCES]
    gained = Subscriber.objects.filter(source__in=sources, confirmed_at__isnull=False).count()
    table = Table("engagement", "Readers' responses", ["Measure", "Count"])
    table.rows = [
        ["Views", views],
        ["Likes", post.like_count],
        ["Shares", post.share_count],
        ["Re-stacks", post.restack_count],
        ["Comments", comments],
        ["Subscribers gained", gained],
    ]
    return table


def post_shares(post: Post) -> Table:
    table = Table("shares", "Shares by network", ["Network", "Shares"])
    table.rows = [[network, n] for network, n in share_counts(post).items()]
    return table


def post_clicks(post: Post) -> Table:
    table = Table("clicks", "Newsletter clicks per link", ["Link", "Clicks"])
    rows = LinkClick.objects.filter(post=post).order_by("-clicks", "url").values_list("url", "clicks")
    table.rows = [[url, clicks] for url, clicks in rows]
    return table
