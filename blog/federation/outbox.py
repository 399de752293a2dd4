"""What we send, to whom, exactly once (the newsletter's rules, blog/newsletter/delivery.py).

A post going live records the publication's Create{Article} to the
publication's followers and the author's Announce of it to the author's
followers; an edit of a live post an Update, unpublishing a Delete (to
both); each with one FederatedDelivery per distinct inbox (a follower's
shared inbox when it has one), unique per activity and inbox, written in the
same transaction as the change. Nothing non-public is ever recorded:
only live posts become activities, and a Delete carries only the id.

Sending: a task's batch is claimed (queued -> sending, only rows still queued
and due) in one transaction before its POSTs, and each delivery is marked sent
right after its own POST; a worker killed meanwhile leaves the rest "sending",
and `requeue_stuck` puts them back after FEDERATION_STUCK_AFTER_SECONDS, so a
kill delays the batch and repeats at most the one POST in flight (receivers
drop a repeated activity id). 5xx, 429 and connection errors are retried with exponential
backoff (Retry-After honoured) up to FEDERATION_MAX_ATTEMPTS; 4xx other than
429 fail at once, as Ghost does. Nothing here queues work: the tasks module
queues the deliveries of each new activity (tasks.py, on_commit)."""

import json
import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.urls import reverse
from django.utils import timezone

from blog.federation import actors, network
from blog.federation.actors import CONTEXT, PUBLIC, LocalActor
from blog.models import BlockedInstance, FederatedDelivery, OutboundActivity, Post, RemoteActor
from blog.shared.site import absolute

log = logging.getLogger(__name__)
Status = FederatedDelivery.Status
PERMANENT = {400, 401, 403, 404, 405, 410, 422, 501}


@dataclass(frozen=True)
class Retry:
    delivery_ids: list[int]
    delay: float


def activity_uri() -> str:
    return absolute(reverse("federation:activity", args=[uuid.uuid4().hex]))


def _inboxes(names: list[str]) -> list[str]:
    blocked = BlockedInstance.objects.values("domain")
    remotes = RemoteActor.objects.filter(follows__local__in=names).exclude(domain__in=blocked)
    return sorted({remote.delivery_inbox for remote in remotes.only("inbox", "shared_inbox")})


def record(
    kind: str, actor: LocalActor, payload: dict[str, Any], inboxes: list[str], post: Post | None
) -> OutboundActivity:
    """The activity and its deliveries, in one transaction."""
    now = timezone.now()
    with transaction.atomic():
        activity = OutboundActivity.objects.create(
            uri=payload["id"], kind=kind, actor=actor.name, post=post, payload=payload
        )
        FederatedDelivery.objects.bulk_create(
            (FederatedDelivery(activity=activity, inbox=inbox, due_at=now) for inbox in inboxes),
            batch_size=1000,
            ignore_conflicts=True,
        )
    return activity


def _post_activity(kind: str, post: Post, obj: Any, *, with_authors: bool = True) -> OutboundActivity | None:
    """`kind` of the Article from the publication, to its followers (and its author's, `with_authors`)."""
    if not settings.FEDERATION_ENABLED:
        return None
    me = actors.publication()
    names = [me.name, post.author.username] if with_authors else [me.name]
    payload = {
        "@context": CONTEXT, "id": activity_uri(), "type": kind, "actor": me.id,
        "published": timezone.now().isoformat(), "to": [PUBLIC],
        "cc": [absolute(reverse("federation:followers", args=[me.name]))], "object": obj,
    }  # fmt: skip
    return record(kind, me, payload, _inboxes(names), post)


def post_published(post: Post) -> OutboundActivity | None:
    """Create{Article} to every follower; called by publishing.publish_post when the post went live now."""
    if not post.is_live:
        return None
    created = _post_activity("Create", post, actors.article(post), with_authors=False)
    _author_announces(post)
    return created


def _author_announces(post: Post) -> OutboundActivity | None:
    """The author boosts the publication's Article to their own followers: a server shows a
    post in a timeline only from an account it follows, and receivers require a Create's
    object to be by its sender, so the author's followers get an Announce, not a second Create."""
    inboxes = _inboxes([post.author.username])
    if not settings.FEDERATION_ENABLED or not inboxes:
        return None
    author = actors.of_user(post.author)
    payload = {
        "@context": CONTEXT, "id": activity_uri(), "type": "Announce", "actor": author.id,
        "published": timezone.now().isoformat(), "to": [PUBLIC],
        "cc": [absolute(reverse("federation:followers", args=[author.name]))], "object": actors.article_id(post),
    }  # fmt: skip
    return record("Announce", author, payload, inboxes, post)


def post_updated(post: Post) -> OutboundActivity | None:
    """Update{Article} for an edit of a post that was sent before."""
    if not post.is_live or not OutboundActivity.objects.filter(post=post, kind="Create").exists():
        return None
    return _post_activity("Update", post, actors.article(post))


def post_unpublished(post: Post) -> OutboundActivity | None:
    """Delete of an Article that was sent: only its id and a Tombstone leave."""
    if not OutboundActivity.objects.filter(post=post, kind="Create").exists():
        return None
    tombstone = {"id": actors.article_id(post), "type": "Tombstone"}
    return _post_activity("Delete", post, tombstone)


@receiver(post_save, sender=Post, dispatch_uid="federation-post-edited")
def _post_saved(sender: type[Post], instance: Post, created: bool, update_fields: Any = None, **kwargs: Any) -> None:
    # Post.save is an edit (counters and publishing use update()); status-only saves are unpublish_post's.
    if created or (update_fields and set(update_fields) <= {"status", "published_at", "updated_at", "body_html",
                                                             "body_text", "reading_minutes"}):  # fmt: skip
        return
    if instance.is_live:
        post_updated(instance)


def accept_follow(actor: LocalActor, follow: dict[str, Any], remote: RemoteActor) -> OutboundActivity:
    """Accept{Follow}, to the follower's own inbox."""
    payload = {"@context": CONTEXT, "id": activity_uri(), "type": "Accept", "actor": actor.id, "object": follow}
    return record("Accept", actor, payload, [remote.inbox], None)


def queued_ids(activity: OutboundActivity) -> list[int]:
    return list(activity.deliveries.filter(status=Status.QUEUED).order_by("pk").values_list("pk", flat=True))


def batches(delivery_ids: list[int]) -> list[list[int]]:
    size = settings.FEDERATION_BATCH_SIZE
    return [delivery_ids[i : i + size] for i in range(0, len(delivery_ids), size)]


# --- Sending ---------------------------------------------------------------------


def retry_delay(attempts: int, retry_after: str = "") -> float:
    if retry_after.isdigit():
        return min(float(retry_after), 3600.0)
    base = float(settings.FEDERATION_RETRY_BASE_SECONDS)
    return min(base * 2.0 ** max(attempts - 1, 0), 6 * 3600.0)


def _claim(delivery_ids: list[int]) -> set[int]:
    """queued -> sending for those of `delivery_ids` still queued and due, in one transaction
    (one commit for the batch: each commit waits for the disk, and a batch is 50 POSTs)."""
    now = timezone.now()
    with transaction.atomic():
        due = FederatedDelivery.objects.select_for_update(skip_locked=True)
        claimed = list(
            due.filter(pk__in=delivery_ids, status=Status.QUEUED, due_at__lte=now).values_list("pk", flat=True)
        )
        FederatedDelivery.objects.filter(pk__in=claimed).update(
            status=Status.SENDING, claimed_at=now, attempts=F("attempts") + 1
        )
    return set(claimed)


def _finish(delivery_id: int, status: str, error: str = "") -> None:
    fields: dict[str, Any] = {"status": status, "error": error[:500]}
    if status == Status.SENT:
        fields["sent_at"] = timezone.now()
    FederatedDelivery.objects.filter(pk=delivery_id).update(**fields)


def _requeue(delivery: FederatedDelivery, error: str, delay: float) -> None:
    due = timezone.now() + timedelta(seconds=delay)
    FederatedDelivery.objects.filter(pk=delivery.pk).update(status=Status.QUEUED, error=error[:500], due_at=due)


def send_deliveries(delivery_ids: list[int]) -> list[Retry]:
    """POST each claimed delivery; returns the retries to queue."""
    retries: dict[float, list[int]] = {}
    deliveries = FederatedDelivery.objects.filter(pk__in=delivery_ids).select_related("activity").order_by("pk")
    bodies: dict[int, bytes] = {}
    keys: dict[str, tuple[str, str]] = {}
    claimed = _claim(delivery_ids)
    for delivery in deliveries:
        if delivery.pk not in claimed:
            continue  # sent, failed, or claimed by another worker meanwhile
        activity = delivery.activity
        if activity.pk not in bodies:
            bodies[activity.pk] = json.dumps(activity.payload).encode()
        if activity.actor not in keys:
            keys[activity.actor] = actors.signing_key(activity.actor)
        key_id, private_pem = keys[activity.actor]
        attempts = delivery.attempts + 1
        try:
            answer = network.post_activity(delivery.inbox, bodies[activity.pk], key_id, private_pem)
        except network.RefusedAddress as error:
            _finish(delivery.pk, Status.FAILED, str(error))
            continue
        except network.NetworkError as error:
            answer = network.Response(0, str(error).encode())
        if 200 <= answer.status < 300:
            _finish(delivery.pk, Status.SENT)
        elif answer.status in PERMANENT or attempts >= settings.FEDERATION_MAX_ATTEMPTS:
            _finish(delivery.pk, Status.FAILED, f"{answer.status} {answer.body[:200]!r}")
        else:
            delay = retry_delay(attempts, answer.retry_after)
            _requeue(delivery, f"{answer.status} {answer.body[:200]!r}", delay)
            retries.setdefault(delay, []).append(delivery.pk)
    return [Retry(ids, delay) for delay, ids in retries.items()]


def requeue_stuck() -> list[int]:
    """Deliveries a dead worker left "sending", and queued ones whose task was lost: queued again."""
    now = timezone.now()
    stuck_before = now - timedelta(seconds=settings.FEDERATION_STUCK_AFTER_SECONDS)
    with transaction.atomic():
        stuck = FederatedDelivery.objects.select_for_update(skip_locked=True).filter(
            Q(status=Status.SENDING, claimed_at__lt=stuck_before) | Q(status=Status.QUEUED, due_at__lt=stuck_before)
        )
        ids = list(stuck.values_list("pk", flat=True)[:10_000])
        FederatedDelivery.objects.filter(pk__in=ids).update(status=Status.QUEUED, due_at=now)
    return ids
