"""Who is subscribed: double opt-in, preferences, unsubscribing, import and export.

The subscribe answer is the same whatever the address's state, so the form
never tells anyone who subscribes. A subscriber keeps the source and consent
of their first request; every request and confirmation is a ConsentEvent. Links in emails carry signed tokens: the
confirmation link expires after seven days; preference and unsubscribe links
keep working for as long as the subscriber exists."""

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from allauth.account.models import EmailAddress
from django.contrib.auth.models import AnonymousUser
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Case, Count, Q, QuerySet, Subquery, When
from django.utils import timezone

from accounts.models import User
from blog.models import ConsentEvent, Post, Subscriber
from blog.shared import events
from blog.shared.spreadsheets import safe_row

CONFIRM_SALT = "dispatch.subscriber.confirm"
MANAGE_SALT = "dispatch.subscriber.manage"
LIKE_SALT = "dispatch.subscriber.like"
CONFIRM_MAX_AGE = timedelta(days=7)
SUPPRESSED_STATUSES = (Subscriber.Status.BOUNCED, Subscriber.Status.COMPLAINED)
CONFIRMATION_RESEND_AFTER = timedelta(days=1)
# Where a subscription came from: the boxes the templates draw (blog_tags.subscribe_box),
# "import", and "site" for anything else a visitor sends.
KNOWN_SOURCE = re.compile(r"(home|account|site|import|(profile|post-top|post-bottom):[A-Za-z0-9_-]{1,100})")


class TokenError(Exception):
    """A link that was tampered with, has expired, or names no subscriber."""


def confirm_token(subscriber: Subscriber) -> str:
    """Names the request it answers (when the e-mail went out), so that only
    the newest link confirms, and none after the address left the list."""
    sent_at = subscriber.confirmation_sent_at.timestamp() if subscriber.confirmation_sent_at else None
    return signing.dumps([subscriber.pk, subscriber.email.lower(), sent_at], salt=CONFIRM_SALT)


def manage_token(subscriber: Subscriber) -> str:
    return signing.Signer(salt=MANAGE_SALT).sign(str(subscriber.pk))


def like_token(post: Post, subscriber: Subscriber) -> str:
    """The newsletter's like button: this subscriber likes this post."""
    return signing.Signer(salt=LIKE_SALT).sign(f"{post.pk}-{subscriber.pk}")


def subscriber_for_like_token(token: str, post: Post) -> Subscriber:
    try:
        post_id, subscriber_id = map(int, signing.Signer(salt=LIKE_SALT).unsign(token).split("-"))
    except (signing.BadSignature, ValueError):
        raise TokenError("This like link is not valid. Use the button in the newest e-mail from us.") from None
    subscriber = Subscriber.objects.filter(pk=subscriber_id).first()
    if subscriber is None or post_id != post.pk:
        raise TokenError("This like link is not valid. Use the button in the newest e-mail from us.")
    return subscriber


def subscriber_for_confirm_token(token: str) -> Subscriber:
    try:
        pk, email, *rest = signing.loads(token, salt=CONFIRM_SALT, max_age=CONFIRM_MAX_AGE)
    except signing.SignatureExpired:
        raise TokenError("This confirmation link has expired. Subscribe again to get a new one.") from None
    except (signing.BadSignature, ValueError, TypeError):
        raise TokenError("This confirmation link is not valid.") from None
    subscriber = Subscriber.objects.with_email(email).filter(pk=pk).first()
    if subscriber is None:
        raise TokenError("This confirmation link is not valid.")
    if subscriber.status == Subscriber.Status.ACTIVE:
        return subscriber  # confirming twice is harmless
    sent_at = subscriber.confirmation_sent_at.timestamp() if subscriber.confirmation_sent_at else None
    if subscriber.status != Subscriber.Status.PENDING or (rest and rest[0] != sent_at):
        raise TokenError("This confirmation link is no longer valid. Subscribe again to get a new one.")
    return subscriber


def subscriber_for_manage_token(token: str) -> Subscriber:
    try:
        pk = int(signing.Signer(salt=MANAGE_SALT).unsign(token))
    except (signing.BadSignature, ValueError):
        raise TokenError("This link is not valid. Use the link in the newest email from us.") from None
    subscriber = Subscriber.objects.filter(pk=pk).first()
    if subscriber is None:
        raise TokenError("This link is not valid. Use the link in the newest email from us.")
    return subscriber


def request_subscription(
    email: str, *, source: str, ip: str | None, referred_by: User | None = None, verified_user: User | None = None,
    honeypot: str = "",
) -> Subscriber | None:  # fmt: skip
    """Handle the subscribe form. Returns the subscriber that needs a
    confirmation email now, or None (already active, asked within the day,
    suppressed, or a bot that filled in the hidden `honeypot` field). The
    visitor sees the same answer in every case.

    `verified_user` is a signed-in reader whose address allauth verified:
    they become active at once (one click), no confirmation needed."""
    if honeypot:
        return None  # people never see the field; bots fill it in
    email = email.strip()
    now = timezone.now()
    with transaction.atomic():
        subscriber = Subscriber.objects.select_for_update().with_email(email).first()
        if subscriber is None:
            try:
                with transaction.atomic():
                    subscriber = Subscriber.objects.create(
                        email=email, source=source, consent_ip=ip, referred_by=referred_by
                    )
            except IntegrityError:  # a concurrent request created it first
                return None
            events.subscriber_event(events.Event.SUBSCRIBER_ADDED, subscriber)
        # The row keeps the first source and consent; this request is kept beside it.
        ConsentEvent.objects.create(subscriber=subscriber, kind=ConsentEvent.Kind.REQUESTED, source=source, ip=ip)
        if verified_user is not None:
            _activate(subscriber, user=verified_user, ip=ip)
            return None  # active at once: no confirmation e-mail
        if subscriber.status in (Subscriber.Status.ACTIVE, Subscriber.Status.COMPLAINED):
            return None
        recently = subscriber.confirmation_sent_at and now - subscriber.confirmation_sent_at < CONFIRMATION_RESEND_AFTER
        if subscriber.status == Subscriber.Status.PENDING and recently:
            return None
        subscriber.status = Subscriber.Status.PENDING
        subscriber.confirmation_sent_at = now
        subscriber.save(update_fields=["status", "confirmation_sent_at"])
    return subscriber


def add_subscriber(email: str, *, frequency: str, source: str, confirmed: bool) -> tuple[Subscriber, bool]:
    """An integration adds an address (the API); returns the subscriber and
    whether a confirmation e-mail must go out. Double opt-in as on the site's
    form, unless `confirmed` (a key trusted to import, whose tool collected
    consent): then a new address is active at once, and one already known
    keeps its state, so nobody who left or complained is signed up again."""
    email = email.strip()
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError(f"“{email}” is not a valid e-mail address.") from None
    if not confirmed:
        to_confirm = request_subscription(email, source=source, ip=None)
        if to_confirm is not None:
            Subscriber.objects.filter(pk=to_confirm.pk).update(frequency=frequency)
        return Subscriber.objects.with_email(email).get(), to_confirm is not None
    existing = Subscriber.objects.with_email(email).first()
    if existing is not None:
        return existing, False
    with transaction.atomic():
        subscriber = Subscriber.objects.create(email=email, source=source, frequency=frequency)
        events.subscriber_event(events.Event.SUBSCRIBER_ADDED, subscriber)
        ConsentEvent.objects.create(subscriber=subscriber, kind=ConsentEvent.Kind.REQUESTED, source=source)
        _activate(subscriber)
    return subscriber, False


def _activate(subscriber: Subscriber, *, user: User | None = None, ip: str | None = None) -> None:
    """Active now, the confirmation kept as a consent event. A reader's
    verified address links their account to it (unless another one is)."""
    subscriber.status = Subscriber.Status.ACTIVE
    subscriber.confirmed_at = timezone.now()
    subscriber.unsubscribed_at = None
    fields = ["status", "confirmed_at", "unsubscribed_at"]
    if user is not None and subscriber.user_id in (None, user.pk):
        subscriber.user = user
        fields.append("user")
    subscriber.save(update_fields=fields)
    ConsentEvent.objects.create(subscriber=subscriber, kind=ConsentEvent.Kind.CONFIRMED, ip=ip)
    events.subscriber_event(events.Event.SUBSCRIBER_CONFIRMED, subscriber)


def confirm(subscriber: Subscriber, *, ip: str | None = None) -> bool:
    """The subscriber pressed the button in their confirmation email. Only a
    waiting address is activated; the address that pressed it is kept with
    the consent record."""
    if subscriber.status == Subscriber.Status.ACTIVE:
        return True
    if subscriber.status != Subscriber.Status.PENDING:
        return False
    _activate(subscriber, ip=ip)
    subscriber.confirmed_ip = ip
    subscriber.save(update_fields=["confirmed_ip"])
    return True


def claim_welcome(subscriber_id: int) -> Subscriber | None:
    """The subscriber to welcome now, or None: each active subscriber is welcomed
    once at most, however often the confirmation is pressed or the task runs."""
    claimed = Subscriber.objects.filter(
        pk=subscriber_id, status=Subscriber.Status.ACTIVE, welcomed_at__isnull=True
    ).update(welcomed_at=timezone.now())
    return Subscriber.objects.get(pk=subscriber_id) if claimed else None


def release_welcome(subscriber_id: int) -> None:
    Subscriber.objects.filter(pk=subscriber_id).update(welcomed_at=None)


def post_audience() -> dict[str, int]:
    """Who a post published now reaches: each-post subscribers at once, digest subscribers later."""
    counts = dict(Subscriber.objects.active().values_list("frequency").annotate(n=Count("pk")).order_by())
    each_post = counts.pop(Subscriber.Frequency.EACH_POST.value, 0)
    return {"each_post": each_post, "digest": sum(counts.values())}


def unsubscribe(subscriber: Subscriber) -> None:
    """Stop every email at once, including digests and sends under way (the
    delivery worker checks the status when it claims each message)."""
    left = Subscriber.objects.filter(
        pk=subscriber.pk, status__in=[Subscriber.Status.ACTIVE, Subscriber.Status.PENDING]
    ).update(status=Subscriber.Status.UNSUBSCRIBED, unsubscribed_at=timezone.now())
    subscriber.refresh_from_db()
    if left:
        events.subscriber_event(events.Event.SUBSCRIBER_UNSUBSCRIBED, subscriber)


# Who may no longer be written to, and what may still overwrite it: a complaint
# beats everything, a bounce everything but a complaint.
SUPPRESSED_BY: dict[str, list[Subscriber.Status]] = {
    Subscriber.Status.COMPLAINED: [s for s in Subscriber.Status if s != Subscriber.Status.COMPLAINED],
    Subscriber.Status.BOUNCED: [s for s in Subscriber.Status if s not in SUPPRESSED_STATUSES],
    Subscriber.Status.UNSUBSCRIBED: [Subscriber.Status.ACTIVE, Subscriber.Status.PENDING],
}


def suppress(subscribers: QuerySet[Subscriber], status: str) -> list[Subscriber]:
    """Stop all mail to these subscribers after a hard bounce (the SMTP 5xx
    answer, or a provider's report), a complaint, or an unsubscribe the
    provider received. Returns those whose status changed (once each)."""
    changed = []
    with transaction.atomic():
        for subscriber in subscribers.select_for_update().filter(status__in=SUPPRESSED_BY[status]):
            subscriber.status = status
            fields = ["status"]
            if status == Subscriber.Status.UNSUBSCRIBED:
                subscriber.unsubscribed_at = timezone.now()
                fields.append("unsubscribed_at")
            subscriber.save(update_fields=fields)
            changed.append(subscriber)
            event = events.Event.SUBSCRIBER_UNSUBSCRIBED
            if status != Subscriber.Status.UNSUBSCRIBED:
                event = events.Event.SUBSCRIBER_BOUNCED
            events.subscriber_event(event, subscriber)
    return changed


def resubscribe(subscriber: Subscriber, *, ip: str | None = None) -> bool:
    """Someone who unsubscribed asks again from a link sent to their own address
    (that link is the proof of the mailbox a confirmation e-mail would ask for).
    Bounced and complained addresses are never turned back on this way."""
    if subscriber.status == Subscriber.Status.ACTIVE:
        return True
    if subscriber.status != Subscriber.Status.UNSUBSCRIBED:
        return False
    _activate(subscriber)
    subscriber.confirmed_ip = ip
    subscriber.save(update_fields=["confirmed_ip"])
    return True


def verified_email(user: User | AnonymousUser) -> str | None:
    """A signed-in reader's verified address: enough consent for a one-click subscribe."""
    if not user.is_authenticated:
        return None
    address = EmailAddress.objects.filter(user=user, verified=True, primary=True).first()
    return address.email if address else None


def box_state(user: User | AnonymousUser) -> dict[str, object]:
    """What the subscribe box shows a reader: subscribed, or a one-click subscribe
    (subscriber_for_user and verified_email in one query)."""
    if not user.is_authenticated:
        return {"subscribed": False, "verified_email": None}
    mine = Subscriber.objects.of_user(user.pk, user.email)
    status = mine.order_by(Case(When(user=user, then=0), default=1), "pk").values("status")[:1]
    address = EmailAddress.objects.filter(user=user, verified=True, primary=True).order_by("pk").values("email")[:1]
    state = User.objects.filter(pk=user.pk).values(subscriber_status=Subquery(status), verified_email=Subquery(address))
    found: dict[str, Any] = dict(state.first() or {})
    return {
        "subscribed": found.get("subscriber_status") == Subscriber.Status.ACTIVE,
        "verified_email": found.get("verified_email"),
    }


def subscriber_for_user(user: User) -> Subscriber | None:
    return Subscriber.objects.filter(user=user).first() or Subscriber.objects.with_email(user.email).first()


def audience_growth() -> dict[str, int]:
    """Subscriber totals for the writing desk. "Joined" counts everyone who
    confirmed in the window, whether they stayed or not, so that joined minus
    left is the change in active subscribers over it."""
    now = timezone.now()
    everyone = Subscriber.objects.all()
    joined_30 = everyone.filter(confirmed_at__gte=now - timedelta(days=30)).count()
    left_30 = everyone.filter(unsubscribed_at__gte=now - timedelta(days=30)).count()
    return {
        "active": Subscriber.objects.active().count(),
        "pending": everyone.filter(status=Subscriber.Status.PENDING).count(),
        "joined_7_days": everyone.filter(confirmed_at__gte=now - timedelta(days=7)).count(),
        "joined_30_days": joined_30,
        "left_30_days": left_30,
        "net_30_days": joined_30 - left_30,
    }


# --- Import and export (staff) ---------------------------------------------


def own_subscribers(author: User) -> QuerySet[Subscriber]:
    """The subscribers an author brought: who first subscribed from the boxes
    of their posts and profile and confirmed it, or whom they imported.
    Authors see only these; the whole list takes blog.manage_subscribers.

    Anyone can send the form with an author's source and any address, so an
    address that never confirmed is nobody's: otherwise an author could type
    addresses into their own form and learn from their list which were new."""
    slugs = Post.objects.filter(author=author).values_list("slug", flat=True)
    sources = [f"{box}:{slug}" for slug in slugs for box in ("post-top", "post-bottom")]
    boxes = Q(source__in=[*sources, f"profile:{author.username}"], confirmed_at__isnull=False)
    return Subscriber.objects.filter(boxes | Q(source=import_source(author)))


def import_source(author: User) -> str:
    return f"import:{author.username}"


def status_totals(subscribers: QuerySet[Subscriber] | None = None) -> dict[str, int]:
    """Subscribers per status (all of them, or those given), in one query."""
    subscribers = Subscriber.objects.all() if subscribers is None else subscribers
    counts = dict(subscribers.values_list("status").annotate(n=Count("pk")).order_by())
    return {status.label: counts.get(status.value, 0) for status in Subscriber.Status}


@dataclass
class ImportReport:
    added: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line, reason)


def import_subscribers(data: str, *, dry_run: bool, source: str = "import") -> ImportReport:
    """Rows of `email[,frequency]`, a header row allowed. Imported addresses
    are active: the site they came from collected their consent."""
    report = ImportReport()
    seen: set[str] = set()
    rows = list(csv.reader(io.StringIO(data)))
    existing = {e.lower() for e in Subscriber.objects.values_list("email", flat=True)}
    to_create = []
    for line, row in enumerate(rows, start=1):
        if not row or not row[0].strip() or (line == 1 and row[0].strip().lower() == "email"):
            continue
        email = row[0].strip()
        frequency = row[1].strip().lower() if len(row) > 1 and row[1].strip() else Subscriber.Frequency.EACH_POST
        try:
            validate_email(email)
        except ValidationError:
            report.errors.append((line, f"“{email}” is not a valid e-mail address"))
            continue
        if frequency not in Subscriber.Frequency.values:
            report.errors.append((line, f"unknown frequency “{frequency}” (use post, daily or weekly)"))
            continue
        if email.lower() in existing or email.lower() in seen:
            report.skipped.append(email)
            continue
        seen.add(email.lower())
        report.added.append(email)
        to_create.append(
            Subscriber(
                email=email,
                frequency=frequency,
                status=Subscriber.Status.ACTIVE,
                source=source,
                confirmed_at=timezone.now(),
            )
        )
    if not dry_run and not report.errors:
        Subscriber.objects.bulk_create(to_create, batch_size=1000)
    return report


def known_source(value: str) -> str:
    """The form's `source`, or "site" when it is not one of ours."""
    value = value.strip()
    return value if KNOWN_SOURCE.fullmatch(value) else "site"


def export_subscribers(subscribers: QuerySet[Subscriber] | None = None) -> str:
    subscribers = Subscriber.objects.all() if subscribers is None else subscribers
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["email", "status", "frequency", "source", "created_at", "confirmed_at", "unsubscribed_at"])
    for s in subscribers.order_by("pk").iterator():
        row = [s.email, s.status, s.frequency, s.source, s.created_at.isoformat(),
               s.confirmed_at.isoformat() if s.confirmed_at else "",
               s.unsubscribed_at.isoformat() if s.unsubscribed_at else ""]  # fmt: skip
        writer.writerow(safe_row(row))
    return out.getvalue()
