"""Who gets which email, exactly once.

A published post gets one Send and one Delivery row per active each-post
subscriber (unique per send and subscriber). Workers send deliveries in
batches over one SMTP connection. Each delivery is claimed by a conditional
UPDATE (queued -> sending); over SMTP its message is written but for the
final dot (smtpwire), then the dot and, right after it, one UPDATE that marks
it sent and claims the next (a claim grown old is marked first, only while
still this worker's, and dropped if not). A killed worker repeats a message
if killed between those two writes (or, for a message sent whole through an
HTTP provider, between the provider's answer and the mark), and loses one
only if killed between an old claim's mark and its dot;
`requeue_stuck_deliveries` puts back what it left. docs/email.md, "Exactly
once", has the contract and a table of what each kill or failure leaves. A
post is rendered once per batch and its copies differ only in a few bytes
(emails.Prepared). Temporary SMTP failures are retried with backoff,
permanent ones fail the delivery (and a hard bounce suppresses the address);
a send with too many permanent failures pauses and says why.

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
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from anymail.exceptions import AnymailRecipientsRefused
from django.conf import settings
from django.core import mail
from django.db import DatabaseError, IntegrityError, transaction
from django.db import connection as db
from django.db.models import Count, F, Q
from django.utils import timezone

from blog.models import Delivery, Digest, Post, Send, Subscriber
from blog.newsletter import emails, smtpwire, subscriptions
from blog.shared.sqlnames import spelled

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
# The exactly-once contract (claim, mark, the split DATA) is docs/email.md's
# "Exactly once: the claim, the mark and the final dot".


def retry_delay(attempts: int) -> float:
    base, most = float(settings.DELIVERY_RETRY_BASE_SECONDS), float(settings.DELIVERY_RETRY_MAX_SECONDS)
    return min(base * pow(2.0, max(attempts - 1, 0)), most)


@dataclass
class _InFlight:
    """A claimed delivery, from its claim until it is marked sent.

    `claimed_at` and the delivery's `attempts` are this worker's claim: a row requeued by the sweeper and claimed again
    has others. `held`: its DATA is written but for the final dot (SMTP);
    False once it went out whole (an HTTP provider, a test backend)."""

    delivery: Delivery
    claimed_at: datetime
    held: bool = False
    dot_first: bool = False  # its final dot went before its mark (a young claim: see `_young`)


# Marks one delivery sent and claims the next (queued -> sending) in one
# UPDATE, written out: the ORM spends longer building it than the database
# running it. Its twin is `_claim_orm`.
_CLAIM = """
UPDATE {deliveries} SET
    {deliveries.status} = CASE WHEN {deliveries.id} = %(mark)s THEN %(sent)s ELSE %(sending)s END,
    {deliveries.sent_at} = CASE WHEN {deliveries.id} = %(mark)s THEN %(now)s ELSE {deliveries.sent_at} END,
    {deliveries.error} = CASE WHEN {deliveries.id} = %(mark)s THEN '' ELSE {deliveries.error} END,
    {deliveries.claimed_at} = CASE WHEN {deliveries.id} = %(mark)s THEN {deliveries.claimed_at} ELSE %(now)s END,
    {deliveries.attempts} = CASE WHEN {deliveries.id} = %(mark)s
        THEN {deliveries.attempts} ELSE {deliveries.attempts} + 1 END
WHERE ({deliveries.id} = %(mark)s AND (%(whole)s = 1 OR (
        {deliveries.status} = %(sending)s AND {deliveries.attempts} = %(attempts)s
        AND {deliveries.claimed_at} = %(claimed_at)s
    )))
    OR ({deliveries.id} = %(claim)s AND {deliveries.status} = %(queued)s AND EXISTS (
        SELECT 1 FROM {subscribers} WHERE {subscribers}.{subscribers.id} = {deliveries}.{deliveries.subscriber}
        AND {subscribers}.{subscribers.status} = %(active)s
    ))
RETURNING {deliveries.id}, {deliveries.attempts}
"""


@cache
def _claim_statement() -> str:
    return spelled(_CLAIM, deliveries=Delivery, subscribers=Subscriber)


def _claim(delivery: Delivery | None, mark: _InFlight | None = None) -> tuple[_InFlight | None, bool]:
    """Claim `delivery` (only if still queued and its subscriber still active)
    and mark `mark` sent, in one statement: one round trip a message.

    Returns the claim (None if someone else has the row, or it was skipped)
    and whether the mark took. A held message is marked only while the row is
    still this worker's claim; one that went out whole, or whose dot went
    first, is marked regardless."""
    now = timezone.now()
    adapt = db.ops.adapt_datetimefield_value
    params: dict[str, Any] = {
        "claim": delivery.pk if delivery is not None else -1,
        "mark": mark.delivery.pk if mark is not None else -1,
        "whole": 0 if mark is not None and mark.held and not mark.dot_first else 1,
        "attempts": mark.delivery.attempts if mark is not None else -1,
        "claimed_at": adapt(mark.claimed_at if mark is not None else now),
        "now": adapt(now), "sent": Delivery.Status.SENT.value, "sending": Delivery.Status.SENDING.value,
        "queued": Delivery.Status.QUEUED.value, "active": Subscriber.Status.ACTIVE.value,
    }  # fmt: skip
    with db.cursor() as cursor:
        cursor.execute(_claim_statement(), params)
        changed = dict(cursor.fetchall())
    claim = None
    if delivery is not None and delivery.pk in changed:
        delivery.attempts = changed[delivery.pk]  # counted at the claim: a message that kills its worker is parked
        claim = _InFlight(delivery, now)
    return claim, mark is not None and mark.delivery.pk in changed


def _claim_orm(delivery: Delivery | None, mark: _InFlight | None = None) -> tuple[_InFlight | None, bool]:
    """`_claim`'s rule as the ORM says it, in two UPDATEs: the statement's
    readable twin, which tests/blog/test_sql_twins.py holds it to."""
    now = timezone.now()
    with transaction.atomic():
        marked = 0
        if mark is not None:
            rows = Delivery.objects.filter(pk=mark.delivery.pk)
            if mark.held and not mark.dot_first:
                rows = rows.filter(
                    status=Delivery.Status.SENDING, attempts=mark.delivery.attempts, claimed_at=mark.claimed_at
                )
            marked = rows.update(status=Delivery.Status.SENT, sent_at=now, error="")
        if delivery is None:
            return None, bool(marked)
        claimable = Delivery.objects.filter(
            pk=delivery.pk, status=Delivery.Status.QUEUED, subscriber__status=Subscriber.Status.ACTIVE
        )
        if not claimable.update(status=Delivery.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1):
            return None, bool(marked)
    delivery.attempts = Delivery.objects.values_list("attempts", flat=True).get(pk=delivery.pk)
    return _InFlight(delivery, now), bool(marked)


def _fail(delivery_id: int, error: str) -> None:
    # sent_at cleared: a refusal after the final dot comes to a row already marked sent.
    Delivery.objects.filter(pk=delivery_id).update(status=Delivery.Status.FAILED, error=error[:500], sent_at=None)


def _requeue(delivery_id: int, error: str, delay: float) -> None:
    # enqueued_at is when the retry is due, so the sweeper leaves it alone until then.
    due = timezone.now() + timedelta(seconds=delay)
    Delivery.objects.filter(pk=delivery_id).update(
        status=Delivery.Status.QUEUED, error=error[:500], enqueued_at=due, sent_at=None
    )


def _smtp_code(exc: Exception) -> int | None:
    if isinstance(exc, AnymailRecipientsRefused):
        return 550  # refused for good, as an SMTP 550 is; the provider's webhook says why
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return next(iter(exc.recipients.values()))[0]
    return getattr(exc, "smtp_code", None)


class _Renderer:
    """Renders each post once per batch, with the bytes its copies share; a digest for its one reader."""

    def __init__(self) -> None:
        self.posts: dict[int, smtpwire.Rendering] = {}

    def __call__(self, delivery: Delivery) -> smtpwire.Rendering:
        if delivery.digest is not None:
            return smtpwire.Rendering(emails.render_digest(delivery.digest), None, None, emails.SubscriberLinks())
        send = delivery.send
        assert send is not None, "a delivery carries a digest or belongs to a send"
        if send.post_id not in self.posts:
            post = Post.objects.select_related("author").get(pk=send.post_id)
            rendered = emails.render_post(post)
            prepared = emails.prepare_newsletter(rendered)
            self.posts[send.post_id] = smtpwire.Rendering(rendered, prepared, post, emails.SubscriberLinks(post))
        return self.posts[send.post_id]


@contextlib.contextmanager
def _commits_without_flush_wait() -> Iterator[None]:
    """The batch's commits do not wait for the disk (PostgreSQL's synchronous_commit = off).

    A worker killed mid-batch loses no commit by it: what it committed is in
    the server. Only a crash of the database server itself can lose its last
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
    everything = list(deliveries)
    pending = [d for d in everything if d.send_id not in paused]
    connection = mail.mailers.default  # one connection for the whole batch
    try:
        connection.open()
    except CONNECTION_ERRORS as exc:
        log.warning("SMTP connection failed: %s; retrying the batch", exc)
        return [Retry(delivery_ids, retry_delay(1))]
    sender, render = smtpwire.Sender(connection), _Renderer()
    retries: list[Retry] = []
    in_flight: _InFlight | None = None  # claimed and not yet marked sent
    try:
        # Each turn: the message in flight gets its final dot (while its claim
        # is young); one statement marks it sent and claims the next; the
        # server's answer is read; the next is written up to its own dot.
        # The last turn only marks.
        for index, delivery in enumerate([*pending, None]):
            if in_flight is not None and in_flight.held and _young(in_flight):
                try:
                    sender.write_dot()
                    in_flight.dot_first = True
                except CONNECTION_ERRORS as exc:  # never sent: the server drops it
                    rest = [in_flight.delivery.pk, *(d.pk for d in pending[index:])]
                    return [*retries, _hand_back(rest, in_flight, exc)]
            claim, marked = _claim_marking(sender, delivery, in_flight)
            ended, in_flight = in_flight, None
            try:
                if ended is not None and ended.held:
                    retries += _end(sender, ended, marked)
                if claim is None:
                    continue
                claim.held = sender.begin(claim.delivery, render(claim.delivery))
                in_flight = claim
            except REFUSALS as exc:  # to MAIL, RCPT or DATA: the row is still ours, "sending"
                assert claim is not None
                retries += _handle_refusal(claim.delivery, exc)
            except CONNECTION_ERRORS as exc:
                # The connection is gone: what was claimed goes back, the rest to a later task.
                rest = [d.pk for d in ([ended.delivery] if ended else []) + pending[index:]]
                return [*retries, _hand_back(rest, claim, exc)]
    finally:
        try:
            _leave(sender, in_flight)
        finally:
            sender.close()
    _update_sends({d.send_id for d in everything if d.send_id})
    return retries


def _claim_marking(
    sender: smtpwire.Sender, delivery: Delivery | None, in_flight: _InFlight | None
) -> tuple[_InFlight | None, bool]:
    if delivery is None and in_flight is None:
        return None, False
    try:
        return _claim(delivery, in_flight)
    except DatabaseError:
        if sender.in_data:
            # Whether the mark committed is unknown: end the message anyway,
            # so that the worst case is a repeat after the sweep, never a row
            # marked sent for a message the server discarded.
            with contextlib.suppress(*REFUSALS, *CONNECTION_ERRORS):
                sender.end()
        raise


def _young(in_flight: _InFlight) -> bool:
    """Whether the claim is so recent that no sweep can have given the row to
    another worker: half of DELIVERY_STUCK_AFTER_SECONDS, the other half a
    margin for the clocks of this host and beat's."""
    age = (timezone.now() - in_flight.claimed_at).total_seconds()
    return age < float(settings.DELIVERY_STUCK_AFTER_SECONDS) / 2


def _end(sender: smtpwire.Sender, ended: _InFlight, marked: bool) -> list[Retry]:
    """A held message after its mark: read the answer to the dot that went
    first, or write the dot now that the mark has committed. If a mark made
    before the dot did not take, the row is someone else's: our copy is dropped."""
    if not marked and not ended.dot_first:
        log.warning("delivery %s was taken over while this worker sent it; its copy is dropped", ended.delivery.pk)
        sender.abort()
        return []
    try:
        if ended.dot_first:
            sender.answer()
        else:
            sender.end()
    except REFUSALS as exc:  # after the dot: the row, marked sent, goes back or fails
        return _handle_refusal(ended.delivery, exc)
    except CONNECTION_ERRORS as exc:
        if sender.dot_written:
            # The dot is in the socket's buffer, and TCP delivers it once the
            # link is back: the row stays sent (docs/email.md says why).
            error = f"sent; no answer to the final dot: {exc}"
            Delivery.objects.filter(pk=ended.delivery.pk).update(error=error[:500])
        else:  # the dot never left: the server drops the message, so it goes again
            _requeue(ended.delivery.pk, f"connection lost: {exc}", retry_delay(ended.delivery.attempts))
        raise
    return []


def _hand_back(rest: list[int], claim: _InFlight | None, exc: Exception) -> Retry:
    delay = retry_delay(claim.delivery.attempts if claim is not None else 1)
    if claim is not None:
        _requeue(claim.delivery.pk, f"connection lost: {exc}", delay)
    return Retry(rest, delay)


def _leave(sender: smtpwire.Sender, in_flight: _InFlight | None) -> None:
    """A batch stopped by an error: a message written but for its dot is
    dropped (its row stays "sending" until the sweep); one whose dot went, or
    sent whole, is marked. If that mark fails too (the database is down), the
    row stays "sending" and the sweep sends the message again: the batch's
    own error goes on, not this one."""
    if sender.in_data:
        sender.abort()
    elif in_flight is not None and (not in_flight.held or in_flight.dot_first):
        try:
            _claim(None, in_flight)
        except DatabaseError as exc:
            pk = in_flight.delivery.pk
            log.error("delivery %s went out but could not be marked sent (%s); it goes again after the sweep", pk, exc)


def _handle_refusal(delivery: Delivery, exc: Exception) -> list[Retry]:
    code = _smtp_code(exc) or 0
    reason = f"{code} {getattr(exc, 'smtp_error', exc)!s}"[:500]
    attempts = delivery.attempts  # _claim counted this attempt in the database
    if 400 <= code < 500 and attempts < settings.DELIVERY_MAX_ATTEMPTS:
        delay = retry_delay(attempts)
        _requeue(delivery.pk, reason, delay)
        return [Retry([delivery.pk], delay)]
    if 400 <= code < 500:
        reason = f"gave up after {attempts} temporary failures: {reason}"
    _fail(delivery.pk, reason)
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
