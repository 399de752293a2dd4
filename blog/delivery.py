"""Who gets which email, exactly once.

A published post gets one Send and one Delivery row per active each-post
subscriber (unique per send and subscriber). Workers send deliveries in
batches over one SMTP connection. Each delivery is claimed by a conditional
UPDATE (queued -> sending) just before its SMTP call, and marked sent by the
same UPDATE that claims the next one (or at the end of the batch): one round
trip a message, and a worker that dies loses nothing and repeats at most the
one message it had in flight; `requeue_stuck_deliveries` puts back what a
dead worker left. A post is rendered once per batch and its copies differ
only in a few bytes (emails.Prepared). Temporary SMTP failures are retried with backoff, permanent ones
fail the delivery (and a hard bounce suppresses the address); a send with too
many permanent failures pauses and says why.

Nothing here queues work: each function returns the delivery ids (in
`batches`) or the `Retry`s that must go on the queue, and blog/tasks.py
queues them.
"""

import contextlib
import logging
import smtplib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from anymail.exceptions import AnymailRecipientsRefused
from django.conf import settings
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import DatabaseError, IntegrityError, transaction
from django.db import connection as db
from django.db.models import Count, Q
from django.utils import timezone

from blog import emails, subscriptions
from blog.models import Delivery, Digest, Post, Send, Subscriber

log = logging.getLogger(__name__)

HARD_BOUNCE_CODES = {550, 551, 553, 554}
# The server answered this message with an SMTP code (4xx: later; 5xx: never).
# An HTTP provider (django-anymail) refusing the only recipient, e.g. one on its suppression list.
REFUSALS = (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused, AnymailRecipientsRefused)
# Anything else (smtplib's errors are OSErrors too): the connection is gone.
CONNECTION_ERRORS = (OSError,)


@dataclass(frozen=True)
class Retry:
    """Deliveries to send again after `delay` seconds."""

    delivery_ids: list[int]
    delay: float


def batches(delivery_ids: list[int]) -> list[list[int]]:
    """Delivery ids cut into batches of DELIVERY_BATCH_SIZE, one task (and one SMTP connection) each."""
    size = settings.DELIVERY_BATCH_SIZE
    return [delivery_ids[i : i + size] for i in range(0, len(delivery_ids), size)]


# --- Creating the work -----------------------------------------------------


def create_send(post: Post) -> Send:
    """One send per post, with a queued delivery for every active each-post subscriber."""
    with transaction.atomic():
        send, created = Send.objects.get_or_create(post=post)
        if created:
            recipients = Subscriber.objects.active().filter(frequency=Subscriber.Frequency.EACH_POST)
            now = timezone.now()
            Delivery.objects.bulk_create(
                (
                    Delivery(send=send, subscriber_id=pk, enqueued_at=now)
                    for pk in recipients.values_list("pk", flat=True)
                ),
                batch_size=2000,
                ignore_conflicts=True,
            )
    return send


def queued_ids(send: Send) -> list[int]:
    return list(send.deliveries.filter(status=Delivery.Status.QUEUED).order_by("pk").values_list("pk", flat=True))


def period_for(subscriber: Subscriber, now: datetime) -> str | None:
    """The digest period due now for this subscriber, or None if their hour has not come."""
    local = now.astimezone(ZoneInfo(subscriber.timezone))
    if local.hour < subscriber.digest_hour:
        return None
    if subscriber.frequency == Subscriber.Frequency.DAILY:
        return f"daily:{local.date().isoformat()}"
    if local.weekday() != subscriber.digest_weekday:
        return None
    year, week, _ = local.isocalendar()
    return f"weekly:{year}-W{week:02d}"


def create_due_digests(now: datetime | None = None) -> list[int]:
    """Digests for every digest subscriber whose hour has come; returns delivery ids.

    Posts published since their last digest (or since they confirmed); none means no digest."""
    now = now or timezone.now()
    created = []
    candidates = Subscriber.objects.active().filter(
        frequency__in=[Subscriber.Frequency.DAILY, Subscriber.Frequency.WEEKLY]
    )
    # Subscribers served by the same earlier run share its time as `since`:
    # one query per distinct time, not one per subscriber.
    posts_since: dict[datetime, list[int]] = {}
    for subscriber in candidates.iterator():
        period = period_for(subscriber, now)
        if period is None:
            continue
        since = subscriber.last_digest_at or subscriber.confirmed_at or subscriber.created_at
        if since not in posts_since:
            published = Post.objects.published().filter(
                published_at__gt=since,
                published_at__lte=now,
                email_subscribers=True,  # web-only posts stay out
            )
            posts_since[since] = list(published.values_list("pk", flat=True))
        posts = posts_since[since]
        if not posts:
            continue
        try:
            with transaction.atomic():
                digest = Digest.objects.create(subscriber=subscriber, period=period)
                digest.posts.set(posts)
                delivery = Delivery.objects.create(digest=digest, subscriber=subscriber, enqueued_at=now)
                Subscriber.objects.filter(pk=subscriber.pk).update(last_digest_at=now)
        except IntegrityError:
            continue  # this period's digest exists already
        created.append(delivery.pk)
    return created


# --- Sending ---------------------------------------------------------------


def retry_delay(attempts: int) -> float:
    base, most = float(settings.DELIVERY_RETRY_BASE_SECONDS), float(settings.DELIVERY_RETRY_MAX_SECONDS)
    return min(base * pow(2.0, max(attempts - 1, 0)), most)


# The claim runs once a message: as SQL written out, since the ORM spends
# longer building this UPDATE than the database spends running it.
_CLAIM = """
UPDATE blog_delivery SET
    status = CASE WHEN id = %(sent)s THEN %(sent_status)s ELSE %(sending)s END,
    sent_at = CASE WHEN id = %(sent)s THEN %(now)s ELSE sent_at END,
    error = CASE WHEN id = %(sent)s THEN '' ELSE error END,
    claimed_at = CASE WHEN id = %(sent)s THEN claimed_at ELSE %(now)s END,
    attempts = CASE WHEN id = %(sent)s THEN attempts ELSE attempts + 1 END
WHERE id = %(sent)s OR (
    id = %(claim)s AND status = %(queued)s
    AND EXISTS (SELECT 1 FROM blog_subscriber WHERE id = subscriber_id AND status = %(active)s)
)
"""


def _claim(delivery_id: int, sent_id: int | None = None) -> bool:
    """queued -> sending, only if still queued and the subscriber still active.

    `sent_id`, the delivery sent just before, is marked sent in the same
    UPDATE: one round trip a message, and a worker killed at any moment has
    at most one message sent and not marked, the one it had in flight."""
    params = {
        "claim": delivery_id, "sent": sent_id if sent_id is not None else -1,
        "now": db.ops.adapt_datetimefield_value(timezone.now()),
        "sent_status": Delivery.Status.SENT.value, "sending": Delivery.Status.SENDING.value,
        "queued": Delivery.Status.QUEUED.value, "active": Subscriber.Status.ACTIVE.value,
    }  # fmt: skip
    with db.cursor() as cursor:
        cursor.execute(_CLAIM, params)
        return bool(cursor.rowcount == (1 if sent_id is None else 2))


def _finish(delivery_id: int, status: str, error: str = "") -> None:
    fields: dict[str, object] = {"status": status, "error": error[:500]}
    if status == Delivery.Status.SENT:
        fields["sent_at"] = timezone.now()
    Delivery.objects.filter(pk=delivery_id).update(**fields)


def _requeue(delivery_id: int, error: str, delay: float) -> None:
    # enqueued_at is when the retry is due, so the sweeper leaves it alone until then.
    due = timezone.now() + timedelta(seconds=delay)
    Delivery.objects.filter(pk=delivery_id).update(status=Delivery.Status.QUEUED, error=error[:500], enqueued_at=due)


def _smtp_code(exc: Exception) -> int | None:
    if isinstance(exc, AnymailRecipientsRefused):
        return 550  # refused for good, as an SMTP 550 is; the provider's webhook says why
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return next(iter(exc.recipients.values()))[0]
    return getattr(exc, "smtp_code", None)


@dataclass(frozen=True)
class Rendering:
    """What every copy of one post (or one digest) is made from; `post` is None
    for a digest, and `prepared` is its bytes for the fast path (emails.Prepared)."""

    rendered: emails.Rendered
    prepared: emails.Prepared | None
    post: Post | None
    links: emails.SubscriberLinks


class _Renderer:
    """Renders each post once per batch, with the bytes its copies share; a digest for its one reader."""

    def __init__(self) -> None:
        self.posts: dict[int, Rendering] = {}

    def __call__(self, delivery: Delivery) -> Rendering:
        if delivery.digest is not None:
            return Rendering(emails.render_digest(delivery.digest), None, None, emails.SubscriberLinks())
        send = delivery.send
        assert send is not None, "a delivery carries a digest or belongs to a send"
        if send.post_id not in self.posts:
            post = Post.objects.select_related("author").get(pk=send.post_id)
            rendered = emails.render_post(post)
            prepared = emails.prepare_newsletter(rendered)
            self.posts[send.post_id] = Rendering(rendered, prepared, post, emails.SubscriberLinks(post))
        return self.posts[send.post_id]


class _Sender:
    """The batch's one connection. When the backend speaks SMTP, a post's copy
    goes out as prepared bytes on its smtplib connection; otherwise (tests, the
    console backend) as a message object."""

    def __init__(self, connection: BaseEmailBackend) -> None:
        self.connection = connection
        smtp = getattr(connection, "connection", None)
        self.smtp = smtp if isinstance(smtp, smtplib.SMTP) else None
        self.sender = connection.prep_address(settings.DEFAULT_FROM_EMAIL) if self.smtp else ""  # type: ignore[attr-defined]

    def send(self, delivery: Delivery, rendering: Rendering) -> None:
        """A post's copy has the subscriber's own like link; a digest's has none."""
        subscriber, message_id = delivery.subscriber, emails.message_id_for(delivery.pk)
        if self.smtp is not None and rendering.prepared is not None and subscriber.email.isascii():
            wire = rendering.prepared.for_subscriber(subscriber.email, rendering.links(subscriber), message_id)
            self.smtp.sendmail(self.sender, [subscriber.email], wire)
        else:
            message = emails.newsletter_message(rendering.rendered, subscriber, message_id, rendering.post)
            self.connection.send_messages([message])


@contextlib.contextmanager
def _commits_without_flush_wait() -> Iterator[None]:
    """The batch's commits do not wait for the disk (PostgreSQL's synchronous_commit = off).

    A worker killed mid-batch loses nothing by it: what it committed is in the
    server. Only a crash of the database server itself can lose its last
    fraction of a second of commits, and a lost claim or mark only makes
    those messages go again (duplicates after a server crash, never a miss)."""
    if db.vendor != "postgresql":
        yield
        return
    with db.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
    try:
        yield
    finally:
        with contextlib.suppress(DatabaseError), db.cursor() as cursor:
            cursor.execute("RESET synchronous_commit")  # a broken connection is replaced with the default


def send_deliveries(delivery_ids: list[int]) -> list[Retry]:
    """Send a batch over one connection; returns what must be tried again later.

    Called by the worker; safe to run twice."""
    with _commits_without_flush_wait():
        return _send_batch(delivery_ids)


def _send_batch(delivery_ids: list[int]) -> list[Retry]:
    skip_inactive(delivery_ids)
    deliveries = (
        Delivery.objects.filter(pk__in=delivery_ids, status=Delivery.Status.QUEUED)
        .select_related("subscriber", "send", "digest")  # the post once per batch, not once per row
        .order_by("pk")
    )
    paused = set(Send.objects.filter(status=Send.Status.PAUSED).values_list("pk", flat=True))
    render = _Renderer()
    connection = mail.mailers.default  # one connection for the whole batch
    try:
        connection.open()
    except CONNECTION_ERRORS as exc:
        log.warning("SMTP connection failed: %s; retrying the batch", exc)
        return [Retry(delivery_ids, retry_delay(1))]
    sender = _Sender(connection)
    retries: list[Retry] = []
    sent: int | None = None  # sent and not yet marked: marked by the next claim, or at the end
    try:
        pending = list(deliveries)
        for index, delivery in enumerate(pending):
            if delivery.send_id in paused:
                continue
            claimed, sent = _claim(delivery.pk, sent), None
            if not claimed:
                continue
            try:
                sender.send(delivery, render(delivery))
            except REFUSALS as exc:
                retries += _handle_refusal(delivery, exc)
                continue
            except CONNECTION_ERRORS as exc:
                # The connection is gone: put this one back and hand the rest to a later task.
                delay = retry_delay(delivery.attempts + 1)
                _requeue(delivery.pk, f"connection lost: {exc}", delay)
                return [*retries, Retry([d.pk for d in pending[index:]], delay)]
            sent = delivery.pk
    finally:
        if sent is not None:
            _finish(sent, Delivery.Status.SENT)
        with contextlib.suppress(*CONNECTION_ERRORS):
            connection.close()
    _update_sends({d.send_id for d in deliveries if d.send_id})
    return retries


def _handle_refusal(delivery: Delivery, exc: Exception) -> list[Retry]:
    code = _smtp_code(exc) or 0
    reason = f"{code} {getattr(exc, 'smtp_error', exc)!s}"[:500]
    attempts = delivery.attempts + 1  # _claim counted this attempt in the database
    if 400 <= code < 500 and attempts < settings.DELIVERY_MAX_ATTEMPTS:
        delay = retry_delay(attempts)
        _requeue(delivery.pk, reason, delay)
        return [Retry([delivery.pk], delay)]
    if 400 <= code < 500:
        reason = f"gave up after {attempts} temporary failures: {reason}"
    _finish(delivery.pk, Delivery.Status.FAILED, reason)
    if code in HARD_BOUNCE_CODES:
        subscriptions.suppress(Subscriber.objects.filter(pk=delivery.subscriber_id), Subscriber.Status.BOUNCED)
    return []


def skip_inactive(delivery_ids: list[int]) -> None:
    """Deliveries to people who unsubscribed or bounced since they were queued."""
    Delivery.objects.filter(pk__in=delivery_ids, status=Delivery.Status.QUEUED).exclude(
        subscriber__status=Subscriber.Status.ACTIVE
    ).update(status=Delivery.Status.SKIPPED, error="no longer subscribed")


def _update_sends(send_ids: set[int]) -> None:
    """Pause a send with too many failures, or mark it done: two indexed queries, not a count of every row."""
    for send in Send.objects.filter(pk__in=send_ids, status=Send.Status.SENDING):
        failed = send.deliveries.filter(status=Delivery.Status.FAILED).count()
        if failed >= settings.SEND_PAUSE_AFTER_FAILURES:
            Send.objects.filter(pk=send.pk).update(
                status=Send.Status.PAUSED,
                paused_reason=f"Paused after {failed} failed deliveries: check the mail server settings.",
            )
        elif not send.deliveries.filter(status__in=[Delivery.Status.QUEUED, Delivery.Status.SENDING]).exists():
            Send.objects.filter(pk=send.pk, status=Send.Status.SENDING).update(status=Send.Status.DONE)


# --- Watching and repairing ------------------------------------------------


def send_counts(send: Send) -> dict[str, int]:
    totals = {status: 0 for status in Delivery.Status.values}
    for row in send.deliveries.values("status").annotate(n=Count("pk")):
        totals[row["status"]] = row["n"]
    totals["bounced"] = send.deliveries.filter(subscriber__status=Subscriber.Status.BOUNCED).count()
    totals["total"] = sum(totals[s] for s in Delivery.Status.values)
    done = totals["sent"] + totals["failed"] + totals["skipped"]
    totals["percent"] = round(100 * done / totals["total"]) if totals["total"] else 100
    return totals


def masked_address(email: str) -> str:
    """`grace@example.com` -> `g…@example.com`: enough to tell failures apart."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}…@{domain}"


def retry_failed(send: Send) -> list[int]:
    """The author's button: queue failed deliveries again (not to bounced addresses)."""
    now = timezone.now()
    failed = send.deliveries.filter(status=Delivery.Status.FAILED, subscriber__status=Subscriber.Status.ACTIVE)
    ids = list(failed.values_list("pk", flat=True))
    Delivery.objects.filter(pk__in=ids).update(status=Delivery.Status.QUEUED, attempts=0, error="", enqueued_at=now)
    Send.objects.filter(pk=send.pk).update(status=Send.Status.SENDING, paused_reason="")
    return ids


def requeue_stuck_deliveries(now: datetime | None = None) -> list[int]:
    """Deliveries a dead worker left behind: "sending" or "queued" for too long.

    A delivery claimed this many times without finishing kills its worker
    every time; it is parked as failed instead of looping forever."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.DELIVERY_STUCK_AFTER_SECONDS)
    # Queued rows count as stuck only when their send has made no progress for
    # a while: a long send still working through its queue is not stuck.
    progressing = Delivery.objects.filter(claimed_at__gte=cutoff, send__isnull=False).values("send_id")
    stuck = Delivery.objects.filter(
        Q(status=Delivery.Status.SENDING, claimed_at__lt=cutoff)
        | (Q(status=Delivery.Status.QUEUED, enqueued_at__lt=cutoff) & ~Q(send_id__in=progressing))
    ).exclude(send__status=Send.Status.PAUSED)
    stuck.filter(attempts__gte=settings.DELIVERY_MAX_ATTEMPTS).update(
        status=Delivery.Status.FAILED, error="gave up: the worker stopped while sending it too many times"
    )
    ids = list(stuck.filter(attempts__lt=settings.DELIVERY_MAX_ATTEMPTS).values_list("pk", flat=True))
    Delivery.objects.filter(pk__in=ids).update(status=Delivery.Status.QUEUED, enqueued_at=now)
    return ids
