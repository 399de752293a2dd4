"""The publication's integrations: API keys for its own tools, and webhooks
that tell other systems what happened (see docs/api.md)."""

from django.conf import settings
from django.db import models


class ApiKey(models.Model):
    """A key one integration sends as `Authorization: Bearer dsp_<prefix>_<secret>`.

    Only a SHA-256 of the whole key is kept: the key is shown once, when made.
    A plain hash is enough here (unlike a password) because the secret is 32
    random bytes, not something a person chose."""

    class Scope(models.TextChoices):
        READ = "read", "Read (a higher rate limit)"
        WRITE_POSTS = "write_posts", "Write posts"
        MANAGE_SUBSCRIBERS = "manage_subscribers", "Manage subscribers"
        MODERATE = "moderate", "Moderate comments"

    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, unique=True)
    hashed_key = models.CharField(max_length=64)
    scopes = models.JSONField(default=list)
    # Subscribers it adds are active at once (their consent was collected elsewhere), as an import's are.
    trusted_import = models.BooleanField(
        "trusted to import", default=False, help_text="Subscribers it adds skip the confirmation e-mail."
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        permissions = [("manage_integrations", "Can create and revoke API keys and webhooks")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes


class Webhook(models.Model):
    class Event(models.TextChoices):
        POST_PUBLISHED = "post.published", "Post published"
        POST_UPDATED = "post.updated", "Published post updated"
        POST_UNPUBLISHED = "post.unpublished", "Post unpublished"
        SUBSCRIBER_ADDED = "subscriber.added", "Subscriber added"
        SUBSCRIBER_CONFIRMED = "subscriber.confirmed", "Subscriber confirmed"
        SUBSCRIBER_UNSUBSCRIBED = "subscriber.unsubscribed", "Subscriber unsubscribed"
        SUBSCRIBER_BOUNCED = "subscriber.bounced", "Subscriber bounced or complained"
        COMMENT_POSTED = "comment.posted", "Comment posted"
        COMMENT_APPROVED = "comment.approved", "Comment approved"
        POST_LIKED = "post.liked", "Post liked"
        POST_RESTACKED = "post.restacked", "Post re-stacked"
        TEST = "webhook.test", "Test"

    url = models.URLField(max_length=500)
    events = models.JSONField(default=list)
    # "whsec_" and base64 of 24 random bytes (Standard Webhooks); kept in clear: every delivery is signed with it.
    secret = models.CharField(max_length=60)
    is_active = models.BooleanField(default=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    disabled_reason = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhooks")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    """One event sent to one hook: retried with the same id and body until it succeeds or gives up."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Delivered"
        FAILED = "failed", "Failed"

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    message_id = models.CharField(max_length=40, unique=True)
    event = models.CharField(max_length=40)
    body = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["webhook", "-created_at"]), models.Index(fields=["status", "last_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.event} to {self.webhook}"


class ProviderEvent(models.Model):
    """A bounce, complaint or unsubscribe an e-mail provider reported (django-anymail), as the send page lists it."""

    provider = models.CharField(max_length=30)
    event_type = models.CharField(max_length=20)
    event_id = models.CharField(max_length=200, blank=True)
    recipient = models.EmailField(max_length=254)
    reason = models.CharField(max_length=300, blank=True)
    subscriber = models.ForeignKey(
        "blog.Subscriber", null=True, blank=True, on_delete=models.SET_NULL, related_name="provider_events"
    )
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.provider} {self.event_type} for {self.recipient}"
