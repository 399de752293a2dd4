"""E-mail providers' reports in: django-anymail's tracking webhooks turned
into the suppression the SMTP 5xx path uses (subscriptions.suppress).

anymail checks each request (WEBHOOK_SECRET basic auth, plus the provider's
signature for Mailgun, SendGrid, Postal, ...) and normalises it; here its
`tracking` signal is received. A hard bounce suppresses the address as
bounced, a complaint as complained, a provider-side unsubscribe as
unsubscribed; soft bounces and everything else are ignored (the SMTP path
retries those itself). See docs/email.md."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from anymail import urls as anymail_urls
from anymail.signals import AnymailTrackingEvent, EventType, RejectReason
from django.conf import settings
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import URLPattern, path

from blog.models import ProviderEvent, Send, Subscriber
from blog.newsletter import subscriptions

# Events some providers report as "bounced" although the address may work tomorrow.
SOFT_BOUNCES: dict[str, Callable[[dict[str, Any]], bool]] = {
    "amazon_ses": lambda esp: (esp.get("bounce") or {}).get("bounceType") != "Permanent",
    "postmark": lambda esp: "HardBounce" not in (esp.get("Type"), esp.get("SuppressionReason")),
    "brevo": lambda esp: esp.get("event") not in ("hard_bounce", "invalid_email"),
    "sendinblue": lambda esp: esp.get("event") not in ("hard_bounce", "invalid_email"),
    "sendgrid": lambda esp: esp.get("type", "bounce") != "bounce",
}
PERMANENT_REJECTIONS = {RejectReason.BOUNCED, RejectReason.INVALID}


def suppression_for(provider: str, event: AnymailTrackingEvent) -> Subscriber.Status | None:
    """Which suppression a provider's event calls for, if any."""
    esp = event.esp_event if isinstance(event.esp_event, dict) else {}
    if event.event_type == EventType.COMPLAINED:
        return Subscriber.Status.COMPLAINED
    if event.event_type == EventType.UNSUBSCRIBED:
        return Subscriber.Status.UNSUBSCRIBED
    if event.event_type == EventType.BOUNCED:
        soft = SOFT_BOUNCES.get(provider)
        return None if soft and soft(esp) else Subscriber.Status.BOUNCED
    if event.event_type == EventType.REJECTED and event.reject_reason in PERMANENT_REJECTIONS:
        return Subscriber.Status.BOUNCED
    return None


def record(provider: str, event: AnymailTrackingEvent) -> ProviderEvent | None:
    """Suppress the subscriber the event names, and keep the event for the send page."""
    status = suppression_for(provider, event)
    if status is None or not event.recipient:
        return None
    recipient = str(event.recipient)
    subscribers = Subscriber.objects.filter(email__iexact=recipient)
    subscriptions.suppress(subscribers, status)
    reason = event.mta_response or event.description or event.reject_reason or ""
    return ProviderEvent.objects.create(
        provider=provider, event_type=str(event.event_type), event_id=str(event.event_id or "")[:200],
        recipient=recipient[:254], reason=str(reason)[:300], subscriber=subscribers.first(),
    )  # fmt: skip


def on_tracking(sender: object, event: AnymailTrackingEvent, esp_name: str, **kwargs: Any) -> None:
    """anymail's tracking signal. An error here answers 400 and the provider sends again."""
    record(esp_name.lower().replace(" ", "_"), event)


def tracking_urls() -> list[URLPattern]:
    """anymail's tracking webhooks only (not its inbound mail)."""
    return [
        path(str(pattern.pattern), _secret_required(pattern.callback), name=pattern.name)
        for pattern in anymail_urls.urlpatterns
        if isinstance(pattern, URLPattern) and (pattern.name or "").endswith("_tracking_webhook")
    ]


def _secret_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Without a WEBHOOK_SECRET anymail only warns and accepts anything, which
    would let anyone unsubscribe anyone: the endpoints are then not there."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not settings.ANYMAIL.get("WEBHOOK_SECRET"):
            raise Http404("No provider webhooks are configured.")
        return view(request, *args, **kwargs)

    return wrapper


def for_send(send: Send) -> QuerySet[ProviderEvent]:
    """What providers reported about this send's recipients since it started, for its send page."""
    recipients = send.deliveries.values("subscriber_id")
    return ProviderEvent.objects.filter(subscriber_id__in=recipients, received_at__gte=send.created_at)[:200]
