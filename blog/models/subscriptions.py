"""Newsletter subscribers, and the rows that make delivery exactly-once:
one Send per post, one Digest per subscriber and period, one Delivery per e-mail."""

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models.functions import Lower

from blog.models.posts import Post


class SubscriberQuerySet(models.QuerySet["Subscriber"]):
    def active(self) -> "SubscriberQuerySet":
        return self.filter(status=Subscriber.Status.ACTIVE)

    def with_email(self, email: str) -> "SubscriberQuerySet":
        """Case-blind, as LOWER(email) so PostgreSQL uses the unique index on it
        (`email__iexact` is UPPER(email::text), which no index serves)."""
        return self.alias(email_lower=Lower("email")).filter(email_lower=Lower(models.Value(email)))

    def of_user(self, user_pk: int, email: str) -> "SubscriberQuerySet":
        """Subscribed under their account, or under their address before they had one."""
        return self.alias(email_lower=Lower("email")).filter(
            models.Q(user_id=user_pk) | models.Q(email_lower=Lower(models.Value(email)))
        )


class Subscriber(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for confirmation"
        ACTIVE = "active", "Active"
        UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
        BOUNCED = "bounced", "Bounced"
        COMPLAINED = "complained", "Marked as spam"

    class Frequency(models.TextChoices):
        EACH_POST = "post", "Each new post"
        DAILY = "daily", "A daily digest"
        WEEKLY = "weekly", "A weekly digest"

    class Weekday(models.IntegerChoices):
        MONDAY = 0, "Monday"
        TUESDAY = 1, "Tuesday"
        WEDNESDAY = 2, "Wednesday"
        THURSDAY = 3, "Thursday"
        FRIDAY = 4, "Friday"
        SATURDAY = 5, "Saturday"
        SUNDAY = 6, "Sunday"

    email = models.EmailField(max_length=254)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="subscriptions"
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING, db_index=True)
    frequency = models.CharField(max_length=6, choices=Frequency.choices, default=Frequency.EACH_POST)
    digest_hour = models.PositiveSmallIntegerField(default=8, validators=[MaxValueValidator(23)])
    digest_weekday = models.PositiveSmallIntegerField(choices=Weekday.choices, default=Weekday.MONDAY)
    # One of accounts.timezones (the forms offer those; the list follows the system's tz database).
    timezone = models.CharField(max_length=64, default="UTC")
    # Consent evidence: when, where and from which address they asked, and when they confirmed.
    source = models.CharField(max_length=120, blank=True)
    consent_ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmed_ip = models.GenericIPAddressField(null=True, blank=True)
    confirmation_sent_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    last_digest_at = models.DateTimeField(null=True, blank=True)
    welcomed_at = models.DateTimeField(null=True, blank=True, editable=False)
    referred_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The members page (blog/newsletter/members.py): what the owner notes, and one label to filter by.
    note = models.TextField(blank=True, max_length=2000)
    label = models.CharField(max_length=40, blank=True)
    # Erased on request: the address and consent evidence are gone, the row stays for the counts.
    erased_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = SubscriberQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(Lower("email"), name="subscriber_email_ci_unique")]
        # Members are listed newest first and paged by (created_at, id); each filter has its own index.
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="subscriber_newest"),
            models.Index(fields=["status", "-created_at", "-id"], name="subscriber_status_newest"),
            models.Index(fields=["frequency", "-created_at", "-id"], name="subscriber_cadence_newest"),
            models.Index(fields=["source", "-created_at", "-id"], name="subscriber_source_newest"),
            models.Index(fields=["label", "-created_at", "-id"], name="subscriber_label_newest"),
        ]
        permissions = [("manage_subscribers", "Can import and export subscribers and see their addresses")]

    def __str__(self) -> str:
        return self.email


class ConsentEvent(models.Model):
    """Every request to subscribe and every confirmation, as it came.

    The subscriber row keeps the first source and consent address, which
    nobody's later request may rewrite (a form on another author's page would
    otherwise move the address to that author's list); these rows keep each
    later one beside it, for the evidence."""

    class Kind(models.TextChoices):
        REQUESTED = "requested", "Asked to subscribe"
        CONFIRMED = "confirmed", "Confirmed"

    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="consent_events")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    source = models.CharField(max_length=120, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["subscriber", "created_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} from {self.source or 'unknown'}"


class Send(models.Model):
    """One post going out to its each-post subscribers."""

    class Status(models.TextChoices):
        SENDING = "sending", "Sending"
        DONE = "done", "Sent"
        PAUSED = "paused", "Paused"

    post = models.OneToOneField(Post, on_delete=models.CASCADE, related_name="send")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.SENDING)
    paused_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"send of {self.post}"


class Digest(models.Model):
    """One digest for one subscriber and period; the unique row means at most one."""

    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="digests")
    period = models.CharField(max_length=20)  # "daily:2026-11-25" or "weekly:2026-W48"
    posts = models.ManyToManyField(Post)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["subscriber", "period"], name="one_digest_per_period")]

    def __str__(self) -> str:
        return f"{self.period} for {self.subscriber}"


class Delivery(models.Model):
    """One email to one subscriber: claimed before the SMTP call, marked sent right after."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"

    send = models.ForeignKey(Send, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries")
    digest = models.OneToOneField(Digest, null=True, blank=True, on_delete=models.CASCADE, related_name="delivery")
    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["send", "subscriber"], condition=models.Q(send__isnull=False), name="one_delivery_per_send"
            )
        ]
        indexes = [models.Index(fields=["status", "enqueued_at"]), models.Index(fields=["send", "status"])]

    def __str__(self) -> str:
        return f"{self.status} to {self.subscriber}"


class NewsletterSettings(models.Model):
    """The newsletter's welcome e-mail, edited on the writing desk (one row)."""

    welcome_enabled = models.BooleanField(
        "send a welcome e-mail", default=False, help_text="To each new subscriber, once they have confirmed."
    )
    welcome_subject = models.CharField("subject", max_length=200, default="Welcome to {site}")
    welcome_body = models.TextField(
        "message",
        default="Thank you for subscribing. New posts will arrive in this inbox.",
        help_text="Markdown. {site} is replaced by the publication's name.",
    )

    class Meta:
        verbose_name = verbose_name_plural = "newsletter settings"

    def __str__(self) -> str:
        return "Newsletter settings"

    @classmethod
    def load(cls) -> "NewsletterSettings":
        return cls.objects.get_or_create(pk=1)[0]
