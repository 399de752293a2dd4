"""Webhooks out: events recorded as deliveries, signed per Standard Webhooks,
POSTed to the owner's URLs, retried with backoff, and a hook that keeps
failing switched off with an e-mail to its owner (see docs/api.md).

Nothing here queues work: `record_event` returns the deliveries to queue,
`attempt` returns the delay before the next try (or None), and blog/tasks.py
queues them after commit."""

import base64
import hashlib
import hmac
import http.client
import json
import secrets
import time
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from blog.models import Webhook, WebhookDelivery
from blog.shared import outbound
from blog.shared.emails import Message, build_message
from blog.shared.site import absolute

ACTIVE_EVENTS_KEY = "webhooks:active-events"
USER_AGENT = "Dispatch-Webhooks/1"
EVENTS = [event for event in Webhook.Event if event != Webhook.Event.TEST]


class TargetRefused(Exception):
    """The URL is not one Dispatch will POST to (private, loopback, bad scheme)."""


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def sign(secret: str, message_id: str, timestamp: int, body: str) -> str:
    """`webhook-signature` per Standard Webhooks: v1, base64 of HMAC-SHA256 over id.timestamp.body."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{message_id}.{timestamp}.{body}".encode()
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


# --- Registering hooks ---------------------------------------------------------


def check_url(url: str) -> None:
    """Refuse a URL that resolves to an address inside the site's own network."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetRefused("Use an http:// or https:// address.")
    resolve_public(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))


def resolve_public(host: str, port: int) -> str:
    """The address to connect to, checked after DNS resolution (blog/shared/outbound.py), so that a
    name pointing at 127.0.0.1 or 10.x is refused like the address itself."""
    allow = outbound.EVERYWHERE if settings.WEBHOOK_ALLOW_PRIVATE_TARGETS else ()
    try:
        return outbound.checked_addresses(host, port, allow)[0]
    except outbound.Unresolved as unresolved:
        raise TargetRefused(f"{host} does not resolve.") from unresolved
    except outbound.Refused as refused:
        raise TargetRefused(f"{host} resolves to a private or local address ({refused.address}).") from None


def create_hook(user: Any, url: str, events: list[str]) -> Webhook:
    unknown = set(events) - set(Webhook.Event.values)
    if not events or unknown:
        raise ValidationError("Choose at least one event from the list.")
    try:
        check_url(url)
    except TargetRefused as refused:
        raise ValidationError(str(refused)) from None
    hook = Webhook.objects.create(url=url, events=sorted(set(events)), secret=new_secret(), created_by=user)
    forget_active_events()
    return hook


def delete_hook(hook: Webhook) -> None:
    hook.delete()
    forget_active_events()


def enable_hook(hook: Webhook) -> None:
    Webhook.objects.filter(pk=hook.pk).update(is_active=True, consecutive_failures=0, disabled_reason="")
    forget_active_events()


def forget_active_events() -> None:
    transaction.on_commit(lambda: cache.delete(ACTIVE_EVENTS_KEY))
    cache.delete(ACTIVE_EVENTS_KEY)


def active_events() -> set[str]:
    """Events some active hook listens to, from the shared cache: a like costs no query when none does."""
    found = cache.get(ACTIVE_EVENTS_KEY)
    if found is None:
        rows = Webhook.objects.filter(is_active=True).values_list("events", flat=True)
        found = sorted({event for events in rows for event in events})
        cache.set(ACTIVE_EVENTS_KEY, found, 300)
    return set(found)


# --- Recording and sending -----------------------------------------------------


def record_event(event: str, data: dict[str, Any]) -> list[int]:
    """One delivery row per active hook listening to `event`; returns their ids to queue."""
    if event not in active_events():
        return []
    hooks = [hook for hook in Webhook.objects.filter(is_active=True) if event in hook.events]
    return [_delivery(hook, event, data).pk for hook in hooks]


def _delivery(hook: Webhook, event: str, data: dict[str, Any]) -> WebhookDelivery:
    now = timezone.now()
    body = json.dumps({"type": event, "timestamp": now.isoformat(), "data": data}, separators=(",", ":"))
    return WebhookDelivery.objects.create(
        webhook=hook, message_id=f"msg_{secrets.token_hex(12)}", event=event, body=body
    )


def send_test(hook: Webhook) -> int:
    """The desk's "send test" button: a webhook.test event, whatever the hook listens to."""
    return _delivery(hook, Webhook.Event.TEST, {"webhook_id": hook.pk, "url": hook.url}).pk


def retry_delay(attempts: int) -> float:
    """10 s, 20 s, 40 s ... capped: short countdowns, which Redis keeps safely (docs/api.md)."""
    return float(min(settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** (attempts - 1), settings.WEBHOOK_RETRY_MAX_SECONDS))


def attempt(delivery_id: int) -> float | None:
    """POST one delivery once. Returns seconds until the next try, or None when done."""
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update()
            .select_related("webhook")
            .filter(pk=delivery_id, status=WebhookDelivery.Status.PENDING)
            .first()
        )
        if delivery is None or (not delivery.webhook.is_active and delivery.event != Webhook.Event.TEST):
            return None
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            attempts=F("attempts") + 1, last_attempt_at=timezone.now()
        )
    code, error = post(delivery.webhook, delivery)
    return _record_outcome(delivery, code, error)


def post(hook: Webhook, delivery: WebhookDelivery) -> tuple[int | None, str]:
    """(status code, error); redirects count as failures, as Standard Webhooks advises."""
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": delivery.message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(hook.secret, delivery.message_id, timestamp, delivery.body),
    }
    parts = urlsplit(hook.url)
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        address = resolve_public(parts.hostname or "", port)
        connection = outbound.connection(
            parts.hostname or "", port, address, https=https, timeout=settings.WEBHOOK_TIMEOUT_SECONDS
        )
        try:
            connection.request("POST", path, body=delivery.body.encode(), headers=headers)
            response = connection.getresponse()
            response.read(4096)
            return response.status, "" if 200 <= response.status < 300 else f"answered {response.status}"
        finally:
            connection.close()
    except TargetRefused as refused:
        return None, str(refused)
    except (OSError, http.client.HTTPException) as exc:
        return None, f"{type(exc).__name__}: {exc}"[:300]


def _record_outcome(delivery: WebhookDelivery, code: int | None, error: str) -> float | None:
    hook = delivery.webhook
    attempts = delivery.attempts + 1
    if code is not None and 200 <= code < 300:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=WebhookDelivery.Status.SUCCEEDED, response_code=code, error=""
        )
        Webhook.objects.filter(pk=hook.pk).update(consecutive_failures=0)
        return None
    gone = code == 410  # the receiver says the endpoint is gone for good
    final = gone or attempts >= settings.WEBHOOK_MAX_ATTEMPTS or delivery.event == Webhook.Event.TEST
    status = WebhookDelivery.Status.FAILED if final else WebhookDelivery.Status.PENDING
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status=status, response_code=code, error=error[:300])
    Webhook.objects.filter(pk=hook.pk).update(consecutive_failures=F("consecutive_failures") + 1)
    hook.refresh_from_db(fields=["consecutive_failures", "is_active"])
    if gone or hook.consecutive_failures >= settings.WEBHOOK_DISABLE_AFTER_FAILURES:
        disable(
            hook,
            "The receiver answered 410 Gone." if gone else f"{hook.consecutive_failures} failed attempts in a row.",
        )
        return None
    return None if final else retry_delay(attempts)


def stuck_deliveries(now: datetime | None = None) -> list[int]:
    """Pending deliveries whose next try is long overdue: the task carrying them
    was lost (a worker killed between attempts). Sent again, with the same id."""
    now = now or timezone.now()
    overdue = now - timedelta(seconds=settings.WEBHOOK_RETRY_MAX_SECONDS + settings.WEBHOOK_TIMEOUT_SECONDS + 60)
    pending = WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING, webhook__is_active=True)
    stuck = pending.filter(Q(last_attempt_at__lt=overdue) | Q(last_attempt_at__isnull=True, created_at__lt=overdue))
    return list(stuck.order_by("pk").values_list("pk", flat=True)[:1000])


def disable(hook: Webhook, reason: str) -> bool:
    """Switch a failing hook off once, and tell its owner by e-mail."""
    if not Webhook.objects.filter(pk=hook.pk, is_active=True).update(is_active=False, disabled_reason=reason[:300]):
        return False
    hook.deliveries.filter(status=WebhookDelivery.Status.PENDING).update(
        status=WebhookDelivery.Status.FAILED, error="not retried: the webhook was switched off"
    )
    forget_active_events()
    disabled_message(hook, reason).send()
    return True


def disabled_message(hook: Webhook, reason: str) -> Message:
    context = {"hook": hook, "reason": reason, "hooks_url": absolute(reverse("blog:webhooks"))}
    return build_message("webhook-disabled", hook.created_by.email, context)
