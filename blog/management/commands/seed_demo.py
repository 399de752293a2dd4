"""Demo content for `make run`: three people and a handful of posts.

Idempotent: what exists already is left exactly as it is."""

from datetime import timedelta
from pathlib import Path

from allauth.account.models import EmailAddress
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.roles import AUTHORS, MODERATORS
from blog.models import Post

PASSWORD = "dispatch-demo-pass"  # noqa: S105 - printed for the demo on purpose
ANALYSIS_SLUG = "the-harbour-bill-what-the-reports-leave-out"
POSTS_DIR = Path(__file__).parent / "demo_posts"

PEOPLE = [
    ("author", "author@example.com", "Ada Whitlock", AUTHORS, "Writes about ports, budgets and the people in between."),
    ("moderator", "moderator@example.com", "Milo Grant", MODERATORS, "Keeps the comments civil."),
    ("reader", "reader@example.com", "Rosa Lind", None, ""),
]

SHORT_POSTS = [
    {
        "slug": "a-note-on-sources",
        "title": "A note on sources",
        "subtitle": "How this site cites, and why every claim gets a footnote",
        "days_ago": 20,
        "tags": ["Meta"],
        "body": (
            "Every factual claim here links to where it came from.[^1] When a source is paywalled, "
            "the footnote says so.\n\n> A citation is a promise that the reader can check.\n\n"
            "If you find a claim without one, say so in the comments.\n\n"
            "[^1]: See the style notes at https://example.org/style"
        ),
    },
    {
        "slug": "the-budget-in-four-charts",
        "title": "The budget in four numbers",
        "subtitle": "What actually changed, stripped of the speeches",
        "days_ago": 12,
        "tags": ["Budget", "Economy"],
        "body": (
            "The speeches were long; the changes were short.\n\n"
            "| Line | Last year | This year |\n|---|---|---|\n"
            "| Transport | 4.1 bn | 4.6 bn |\n| Health | 11.2 bn | 11.9 bn |\n"
            "| Housing | 2.0 bn | 1.7 bn |\n| Debt interest | 3.3 bn | 3.8 bn |\n\n"
            "Housing is the only line that fell, and nobody mentioned it from the dispatch box."
        ),
    },
    {
        "slug": "why-committee-minutes-matter",
        "title": "Why committee minutes matter",
        "subtitle": "The boring documents where decisions actually happen",
        "days_ago": 5,
        "tags": ["Politics"],
        "body": (
            "Votes make the news; minutes make the law. Most amendments die in committee, "
            "and the minutes are the only public record of who killed them.\n\n"
            "Read them. They are shorter than you think."
        ),
    },
]


class Command(BaseCommand):
    help = "Create demo users and posts (idempotent)."

    @transaction.atomic
    def handle(self, *args, **options) -> None:
        people = {handle: self.person(handle, email, name, role, bio) for handle, email, name, role, bio in PEOPLE}
        author = people["author"]
        now = timezone.now()
        self.post(
            author,
            slug=ANALYSIS_SLUG,
            title="The Harbour Bill: what the reports leave out",
            subtitle="The vote was about cranes. The argument should have been about people.",
            body=(POSTS_DIR / "analysis.md").read_text(),
            published_at=now - timedelta(days=2),
            tags=["Politics", "Ports", "Analysis"],
        )
        for spec in SHORT_POSTS:
            self.post(author, **{k: v for k, v in spec.items() if k != "days_ago"},
                      published_at=now - timedelta(days=spec["days_ago"]))  # fmt: skip
        self.post(
            author,
            slug="draft-what-the-regulations-should-say",
            title="What the regulations should say",
            body="A draft: the retraining fund, in numbers.",
            status=Post.Status.DRAFT,
        )
        self.post(
            author,
            slug="the-transport-committee-returns",
            title="The transport committee returns",
            subtitle="A preview of next month's session",
            body="Scheduled for the morning of the session.",
            status=Post.Status.SCHEDULED,
            published_at=now + timedelta(days=3),
            tags=["Politics"],
        )
        if options["verbosity"]:
            self.stdout.write(f"Demo accounts (password for all: {PASSWORD}):")
            for handle, email, _, role, _ in PEOPLE:
                self.stdout.write(f"  {email:<24} {role or 'Reader'}  /@{handle}/")

    def person(self, handle: str, email: str, name: str, role: str | None, bio: str) -> User:
        user, created = User.objects.get_or_create(
            username=handle, defaults={"email": email, "display_name": name, "bio": bio}
        )
        if created:
            user.set_password(PASSWORD)
            user.save(update_fields=["password"])
            if role:
                user.groups.add(Group.objects.get(name=role))
        EmailAddress.objects.get_or_create(user=user, email=email, defaults={"verified": True, "primary": True})
        return user

    def post(self, author: User, *, slug: str, tags: list[str] = (), status: str = Post.Status.PUBLISHED,
             **fields) -> Post:  # fmt: skip
        post, created = Post.objects.get_or_create(slug=slug, defaults={"author": author, "status": status, **fields})
        if created and tags:
            post.tags.add(*tags)
        return post
