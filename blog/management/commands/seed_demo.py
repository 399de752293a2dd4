"""Demo content for `make run`: four people, a handful of posts and an argument
in the comments of the analysis.

Idempotent: people are looked up by handle, posts by slug, and the discussion
is added only to an analysis without comments; whatever exists already is
left exactly as it is, so a second run adds no rows and
moves no timestamps."""

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from accounts.roles import MODERATORS, PUBLISHERS
from blog.models import (
    Comment,
    CommentLike,
    Delivery,
    LinkClick,
    PageViewDay,
    Post,
    ReferrerDay,
    Send,
    Share,
    Subscriber,
)
from blog.posts.publishing import schedule_post
from blog.shared.rendering import render_markdown

PASSWORD = "dispatch-demo-pass"  # noqa: S105 - printed for the demo on purpose
ANALYSIS_SLUG = "the-harbour-bill-what-the-reports-leave-out"
POSTS_DIR = Path(__file__).parent / "demo_posts"


@dataclass(frozen=True)
class DemoPerson:
    handle: str
    email: str
    name: str
    role: str | None  # a group from accounts.roles; readers have none
    bio: str = ""


@dataclass(frozen=True)
class DemoPost:
    slug: str
    title: str
    body: str
    subtitle: str = ""
    tags: tuple[str, ...] = ()
    # From the time of seeding: in the past is published, in the future is
    # scheduled, None is a draft.
    offset: timedelta | None = None


PEOPLE = [
    DemoPerson("author", "author@example.com", "Ada Whitlock", PUBLISHERS, "Ports, budgets and the people in between."),
    DemoPerson("moderator", "moderator@example.com", "Milo Grant", MODERATORS, "Keeps the comments civil."),
    DemoPerson("reader", "reader@example.com", "Rosa Lind", None),
    DemoPerson("jonah", "jonah@example.com", "Jonah Pike", None, "Nights on the east berth."),
]


@dataclass(frozen=True)
class DemoComment:
    handle: str
    body: str
    hours: float  # after the post was published
    reply_to: int | None = None  # index of the answered comment in DISCUSSION
    liked_by: tuple[str, ...] = ()
    pinned: bool = False


DISCUSSION = [
    DemoComment(
        "reader",
        "The baseline-quarter table is the heart of this. A quarter with a two-week storm closure in it "
        "should have been the first question anyone asked.",
        hours=2,
        liked_by=("author", "jonah"),
    ),
    DemoComment(
        "author",
        "It should have been. To be fair to the consultancy, appendix B does name the quarter it used. "
        "It is on page 41, and I could not find a report that quoted page 41.",
        hours=3,
        reply_to=0,
        liked_by=("reader",),
    ),
    DemoComment(
        "jonah",
        "I work nights on the east berth. Sixteen per cent sounds about right to me: most of the waiting "
        "is for pilots and tugs, not for cranes.",
        hours=5,
        reply_to=1,
        liked_by=("author", "reader"),
    ),
    DemoComment(
        "jonah",
        "Four per cent for retraining, and still a no. The word *guarantee* is doing all the work in that section.",
        hours=6,
        liked_by=("author", "reader", "moderator"),
        pinned=True,
    ),
    DemoComment(
        "reader",
        "Devil's advocate: a guarantee written into law is hard to undo if the savings never arrive. "
        "Isn't that a fair worry for the Authority?",
        hours=7,
        reply_to=3,
    ),
    DemoComment(
        "jonah",
        "Then tie it to savings that *do* arrive. That is what the amendment did; see the capital "
        "programme in footnote 5.",
        hours=8,
        reply_to=4,
        liked_by=("reader",),
    ),
    DemoComment(
        "moderator",
        "A reminder for this thread: argue with the figures, not with each other. Links to the primary "
        "documents are the most useful thing you can add.",
        hours=9,
    ),
]

POSTS = [
    DemoPost(
        slug=ANALYSIS_SLUG,
        title="The Harbour Bill: what the reports leave out",
        subtitle="The vote was about cranes. The argument should have been about people.",
        body=(POSTS_DIR / "analysis.md").read_text(),
        tags=("Politics", "Ports", "Analysis"),
        offset=timedelta(days=-2),
    ),
    DemoPost(
        slug="a-note-on-sources",
        title="A note on sources",
        subtitle="How this site cites, and why every claim gets a footnote",
        body=(
            "Every factual claim here links to where it came from.[^1] When a source is paywalled, "
            "the footnote says so.\n\n> A citation is a promise that the reader can check.\n\n"
            "If you find a claim without one, say so in the comments.\n\n"
            "[^1]: Dispatch style notes, https://example.org/style"
        ),
        tags=("Meta",),
        offset=timedelta(days=-20),
    ),
    DemoPost(
        slug="the-budget-in-four-numbers",
        title="The budget in four numbers",
        subtitle="What actually changed, stripped of the speeches",
        body=(
            "The speeches were long; the changes were short.\n\n"
            "| Line | Last year | This year |\n|---|---|---|\n"
            "| Transport | 4.1 bn | 4.6 bn |\n| Health | 11.2 bn | 11.9 bn |\n"
            "| Housing | 2.0 bn | 1.7 bn |\n| Debt interest | 3.3 bn | 3.8 bn |\n\n"
            "Housing is the only line that fell, and nobody mentioned it from the dispatch box."
        ),
        tags=("Budget", "Economy"),
        offset=timedelta(days=-12),
    ),
    DemoPost(
        slug="how-to-read-a-consultancy-study",
        title="How to read a consultancy study",
        subtitle="Three questions to ask before quoting the headline figure",
        body=(
            "Public bodies buy studies to justify decisions they have mostly made. "
            "That does not make the studies wrong, but it tells you where to look.\n\n"
            "1. **What is the baseline?** A bad quarter makes any change look good.\n"
            "2. **What is left out?** Transition costs are the usual absentee.\n"
            "3. **Who asked the question?** The brief shapes the answer more than the method.\n\n"
            "If the study's appendix answers all three, quote it. If not, quote the appendix."
        ),
        tags=("Method",),
        offset=timedelta(days=-8),
    ),
    DemoPost(
        slug="why-committee-minutes-matter",
        title="Why committee minutes matter",
        subtitle="The boring documents where decisions actually happen",
        body=(
            "Votes make the news; minutes make the law. Most amendments die in committee, "
            "and the minutes are the only public record of who killed them.\n\n"
            "Read them. They are shorter than you think."
        ),
        tags=("Politics",),
        offset=timedelta(days=-5),
    ),
    DemoPost(
        slug="draft-what-the-regulations-should-say",
        title="What the regulations should say",
        body="A draft: the retraining fund, in numbers.",
    ),
    DemoPost(
        slug="the-transport-committee-returns",
        title="The transport committee returns",
        subtitle="A preview of next month's session",
        body="Scheduled for the morning of the session.",
        tags=("Politics",),
        offset=timedelta(days=3),
    ),
]


def seed_person(person: DemoPerson) -> User:
    user = User.objects.filter(username=person.handle).first()
    if user is None:
        user = User.objects.create_user(person.handle, person.email, PASSWORD, display_name=person.name, bio=person.bio)
    if person.role:  # also on a demo seeded before the role existed (adding it twice adds nothing)
        user.groups.add(Group.objects.get(name=person.role))
    # Verified and primary, so that the demo logins work without a confirmation email.
    EmailAddress.objects.get_or_create(user=user, email=person.email, defaults={"verified": True, "primary": True})
    return user


def seed_post(author: User, spec: DemoPost, now: datetime) -> bool:
    """Create the post unless its slug exists; returns whether it was created."""
    when = None if spec.offset is None else now + spec.offset
    # publish_post dates a post "now", and the demo wants a spread of past
    # dates, so back-dated posts are created published directly.
    published = when is not None and when <= now
    post, created = Post.objects.get_or_create(
        slug=spec.slug,
        defaults={
            "author": author,
            "title": spec.title,
            "subtitle": spec.subtitle,
            "body": spec.body,
            "status": Post.Status.PUBLISHED if published else Post.Status.DRAFT,
            "published_at": when if published else None,
        },
    )
    if created:
        post.tags.add(*spec.tags)
        if when is not None and not published:
            schedule_post(post, when)
    return created


def seed_discussion(post: Post, users: dict[str, User]) -> int:
    """The analysis's comment threads, unless it has comments already."""
    if post.comments.exists():
        return 0
    made: list[Comment] = []
    for spec in DISCUSSION:
        parent = made[spec.reply_to] if spec.reply_to is not None else None
        comment = Comment.objects.create(
            post=post,
            author=users[spec.handle],
            reply_to=parent,
            parent=parent,
            level=parent.level + 1 if parent else 1,
            body=spec.body,
            body_html=render_markdown(spec.body, comment=True),
            created_at=(post.published_at or timezone.now()) + timedelta(hours=spec.hours),
            like_count=len(spec.liked_by),
            is_pinned=spec.pinned,
        )
        CommentLike.objects.bulk_create(CommentLike(comment=comment, user=users[h]) for h in spec.liked_by)
        made.append(comment)
    return len(made)


HISTORY_DAYS = 30
# Where readers of the demo come from, and how often (weights).
DEMO_SOURCES = {
    "direct": 30,
    "email": 25,
    "site": 15,
    "news.ycombinator.com": 10,
    "google.com": 8,
    "bsky.app": 6,
    "utm:mastodon": 4,
    "reddit.com": 2,
}
DEMO_LINKS = ["https://example.org/harbour-bill.pdf", "https://example.org/appendix-b", "https://example.org/minutes"]


def post_day_views(rng: random.Random, age: int, peak: int) -> int:
    """A post's views `age` days after publication: a launch peak that fades to a long tail."""
    return max(0, round(peak * (0.55**age + 0.04) * rng.uniform(0.8, 1.2)))


def seed_history(rng: random.Random, today: date) -> int:
    """A believable month of page views, referrers, subscribers and clicks up
    to yesterday (today is counted live), unless any page views exist already."""
    if PageViewDay.objects.exists():
        return 0
    views, sources = [], []
    for post in Post.objects.published():
        published = timezone.localdate(post.published_at)
        peak = 900 if post.slug == ANALYSIS_SLUG else rng.randint(150, 400)
        for age in range((today - published).days):
            count = post_day_views(rng, age, peak)
            views.append(
                PageViewDay(post=post, day=published + timedelta(days=age), views=count, visitors=count * 4 // 5)
            )
            sources += _sources(rng, post, published + timedelta(days=age), count)
    for age in range(1, HISTORY_DAYS + 1):
        count = rng.randint(60, 140)
        views.append(PageViewDay(post=None, day=today - timedelta(days=age), views=count, visitors=count * 3 // 4))
        sources += _sources(rng, None, today - timedelta(days=age), count)
    PageViewDay.objects.bulk_create(views)
    ReferrerDay.objects.bulk_create(sources)
    _seed_subscribers(rng)
    analysis = Post.objects.get(slug=ANALYSIS_SLUG)
    LinkClick.objects.bulk_create(LinkClick(post=analysis, url=url, clicks=rng.randint(20, 90)) for url in DEMO_LINKS)
    _seed_shares(rng, analysis, today)
    _seed_send(analysis)
    return len(views)


def _seed_send(post: Post) -> None:
    """The analysis went out to the demo subscribers who had joined before it; one address bounced."""
    assert post.published_at is not None
    sent_at = post.published_at + timedelta(minutes=2)
    send = Send.objects.create(post=post, status=Send.Status.DONE)
    Send.objects.filter(pk=send.pk).update(created_at=post.published_at)
    bounced = Subscriber.objects.create(
        email="demo-bounce@example.com", source="home", status=Subscriber.Status.BOUNCED,
        confirmed_at=post.published_at - timedelta(days=9),
    )  # fmt: skip
    readers = Subscriber.objects.filter(email__startswith="demo-reader-", confirmed_at__lt=post.published_at)
    Delivery.objects.bulk_create(
        [Delivery(send=send, subscriber=reader, status=Delivery.Status.SENT, sent_at=sent_at) for reader in readers]
        + [Delivery(send=send, subscriber=bounced, status=Delivery.Status.FAILED, error="550 5.1.1 No such user")]
    )


def _seed_shares(rng: random.Random, post: Post, today: date) -> None:
    networks = rng.choices(["x", "bluesky", "linkedin", "email", "copy", "whatsapp"], k=24)
    shares = [
        Share(post=post, network=network, visitor_hash=f"demo-{n}", day=today - timedelta(days=n % 2))
        for n, network in enumerate(networks)
    ]
    Share.objects.bulk_create(shares)
    Post.objects.filter(pk=post.pk).update(share_count=F("share_count") + len(shares))


def _sources(rng: random.Random, post: Post | None, day: date, count: int) -> list[ReferrerDay]:
    picked = rng.choices(list(DEMO_SOURCES), weights=list(DEMO_SOURCES.values()), k=count)
    return [ReferrerDay(post=post, day=day, source=source, views=picked.count(source)) for source in set(picked)]


def _seed_subscribers(rng: random.Random) -> None:
    """Subscribers who joined from the posts' boxes over the month; a few left."""
    now = timezone.now()
    posts = [
        (slug, published or now) for slug, published in Post.objects.published().values_list("slug", "published_at")
    ]
    subscribers = []
    for n in range(60):
        slug, published = rng.choice(posts)
        joined: datetime = published + (now - published) * rng.random() ** 2
        left = n % 12 == 0
        subscribers.append(
            Subscriber(
                email=f"demo-reader-{n}@example.com",
                source=f"{rng.choice(['post-top', 'post-bottom'])}:{slug}",
                status=Subscriber.Status.UNSUBSCRIBED if left else Subscriber.Status.ACTIVE,
                confirmed_at=joined,
                unsubscribed_at=joined + (now - joined) / 2 if left else None,
            )
        )
    Subscriber.objects.bulk_create(subscribers, ignore_conflicts=True)


class Command(BaseCommand):
    help = "Create demo users and posts; running it again changes nothing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--force", action="store_true", help="Run even with DEBUG off.")

    @transaction.atomic
    def handle(self, *args: object, **options: object) -> None:
        if not settings.DEBUG and not options["force"]:
            # Its accounts share one published password; on a live site they are open doors.
            raise CommandError("seed_demo makes accounts with a known password. With DEBUG off, add --force.")
        users = {person.handle: seed_person(person) for person in PEOPLE}
        now = timezone.now()
        created = sum(seed_post(users["author"], spec, now) for spec in POSTS)
        seed_discussion(Post.objects.get(slug=ANALYSIS_SLUG), users)
        seed_history(random.Random(15), timezone.localdate())
        if options["verbosity"]:
            self.stdout.write(f"{created} posts created, {len(POSTS) - created} already there.")
            self.stdout.write(f"Demo logins (password for all: {PASSWORD}):")
            for person in PEOPLE:
                self.stdout.write(f"  {person.email:<24} {person.role or 'Reader':<11} /@{person.handle}/")
