"""Members: the subscriber list as the people who manage subscribers see it.

Listed newest first and paged by keyset, (created_at, id) after the last row
shown, never by OFFSET, so the 2,000th page costs what the first does; each
filter (status, cadence, source, label) has an index that starts with it and
ends in that order (blog/models/subscriptions.py), and the address search on
PostgreSQL has a trigram index on LOWER(email) (migration 0015). Erasing a
member keeps the row, without the address or the consent evidence, so that
sends, likes and the desk's counts still add up. See docs/members.md.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.db.models import QuerySet
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from blog.models import Comment, Delivery, Like, Subscriber
from blog.newsletter.subscriptions import unsubscribe

PAGE_SIZE = 50
ERASED_DOMAIN = "erased.invalid"


@dataclass(frozen=True)
class MemberFilter:
    address: str = ""
    status: str = ""
    cadence: str = ""
    source: str = ""
    label: str = ""
    joined_from: date | None = None
    joined_to: date | None = None


@dataclass(frozen=True)
class MemberPage:
    members: list[Subscriber]
    next_cursor: str  # empty on the last page


def members(wanted: MemberFilter) -> QuerySet[Subscriber]:
    found = Subscriber.objects.filter(erased_at__isnull=True)
    if wanted.address:
        text = wanted.address.lower()
        # A whole address is that member (the unique LOWER(email) index); a part, anyone whose address has it.
        lookup = "email_lower" if is_whole_address(text) else "email_lower__contains"
        found = found.alias(email_lower=Lower("email")).filter(**{lookup: text})
    exact = {"status": wanted.status, "frequency": wanted.cadence, "label": wanted.label}
    found = found.filter(**{name: value for name, value in exact.items() if value})
    if wanted.source:
        found = found.filter(source__startswith=wanted.source)
    if wanted.joined_from:
        found = found.filter(created_at__gte=_day_start(wanted.joined_from))
    if wanted.joined_to:
        found = found.filter(created_at__lt=_day_start(wanted.joined_to + timedelta(days=1)))
    return found


def page(wanted: MemberFilter, cursor: str = "") -> MemberPage:
    """One page of members, newest first, after `cursor` (from the page before)."""
    found = members(wanted)
    after = read_cursor(cursor)
    if after:
        created_at, pk = after
        # The first condition is the index's range; the second only drops the rows before the cursor's.
        found = found.filter(created_at__lte=created_at).exclude(created_at=created_at, pk__gte=pk)
    by_part = bool(wanted.address) and not is_whole_address(wanted.address)
    rows = _fetch(found.order_by("-created_at", "-pk")[: PAGE_SIZE + 1], by_part=by_part)
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return MemberPage(rows, make_cursor(rows[-1]) if more else "")


def is_whole_address(text: str) -> bool:
    try:
        validate_email(text)
    except ValidationError:
        return False
    return True


def _fetch(found: QuerySet[Subscriber], *, by_part: bool) -> list[Subscriber]:
    """The rows, planned for this pattern. PostgreSQL plans a statement that is
    prepared (DATABASE_PREPARE) once for any pattern, guessing that many rows
    match, and so walks the whole newest-first index to find one address (150 ms
    in 100,000); planned for the pattern, it asks the trigram index (a few ms)."""
    if not by_part or connection.vendor != "postgresql":
        return list(found)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL plan_cache_mode = force_custom_plan")
        return list(found)


def make_cursor(member: Subscriber) -> str:
    return f"{member.created_at.isoformat()}_{member.pk}"


def read_cursor(cursor: str) -> tuple[datetime, int] | None:
    """A cursor from a link; anything unreadable means the first page."""
    stamp, _, pk = cursor.rpartition("_")
    try:
        created_at = parse_datetime(stamp)
        return (created_at, int(pk)) if created_at else None
    except ValueError:
        return None


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


# --- One member -----------------------------------------------------------------


def history(member: Subscriber) -> dict[str, Any]:
    """What the member page shows besides the row itself, each list bounded."""
    deliveries = Delivery.objects.filter(subscriber=member).select_related("send__post", "digest").order_by("-pk")[:20]
    likes = Like.objects.filter(subscriber=member, user__isnull=True).select_related("post").order_by("-pk")[:20]
    comments = (
        Comment.objects.filter(author=member.user).select_related("post").order_by("-pk")[:20] if member.user else []
    )
    return {"deliveries": deliveries, "likes": likes, "comments": comments}


def note_member(member: Subscriber, *, note: str, label: str) -> None:
    member.note, member.label = note, label
    member.save(update_fields=["note", "label"])


def unsubscribe_member(member: Subscriber) -> None:
    unsubscribe(member)


@transaction.atomic
def erase_member(member: Subscriber) -> None:
    """Forget who the member was: the address, the consent evidence, the note
    and the link to an account go; what they did stays as anonymous counts
    (deliveries, likes from e-mail, the unsubscribe in the desk's figures)."""
    now = timezone.now()
    if member.status in (Subscriber.Status.ACTIVE, Subscriber.Status.PENDING):
        member.status, member.unsubscribed_at = Subscriber.Status.UNSUBSCRIBED, now
    member.email = f"erased-{member.pk}@{ERASED_DOMAIN}"
    member.user = None
    member.consent_ip = member.confirmed_ip = None
    member.note = member.label = ""
    member.erased_at = now
    member.save()
    # A delivery's error may quote the address back (an SMTP refusal does).
    Delivery.objects.filter(subscriber=member).exclude(error="").update(error="")
