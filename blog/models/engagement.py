"""Likes, shares, re-stacks and referral visits: one row per reader action,
unique where a reader may act once (counted on Post by blog/discussion/counters.py)."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from blog.models.posts import Post


class Like(models.Model):
    """A reader's like: by account, or by a subscriber without one (from the newsletter)."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="likes")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="likes"
    )
    subscriber = models.ForeignKey(
        "blog.Subscriber", null=True, blank=True, on_delete=models.CASCADE, related_name="likes"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["post", "user"], name="one_like_per_reader"),
            models.UniqueConstraint(
                fields=["post", "subscriber"], condition=Q(user__isnull=True), name="one_like_per_subscriber"
            ),
            models.CheckConstraint(
                condition=Q(user__isnull=False) | Q(subscriber__isnull=False), name="like_has_a_reader"
            ),
        ]
        indexes = [models.Index(fields=["user", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.user or self.subscriber} likes {self.post}"


class Share(models.Model):
    class Network(models.TextChoices):
        X = "x", "X"
        FACEBOOK = "facebook", "Facebook"
        LINKEDIN = "linkedin", "LinkedIn"
        REDDIT = "reddit", "Reddit"
        BLUESKY = "bluesky", "Bluesky"
        THREADS = "threads", "Threads"
        WHATSAPP = "whatsapp", "WhatsApp"
        TELEGRAM = "telegram", "Telegram"
        MASTODON = "mastodon", "Mastodon"
        EMAIL = "email", "E-mail"
        COPY = "copy", "Copied link"
        NATIVE = "native", "Share sheet"
        RESTACK = "restack", "Re-stack"

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="shares")
    network = models.CharField(max_length=10, choices=Network.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    # A keyed hash of the visitor's IP (or account) and the day: one person
    # reloading is one share a day, and no address is stored.
    visitor_hash = models.CharField(max_length=64)
    day = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["post", "network", "visitor_hash", "day"], name="one_share_per_visitor_day")
        ]

    def __str__(self) -> str:
        return f"{self.post} on {self.network}"


class Restack(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="restacks")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="restacks")
    note = models.TextField(max_length=500, blank=True)
    note_html = models.TextField(blank=True, editable=False)
    # The comment rules decide about the note too; a held note shows only to its writer.
    note_held = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["post", "user"], name="one_restack_per_reader")]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.user} re-stacked {self.post}"


class ReferralVisit(models.Model):
    """A visit that arrived through a reader's shared link (once per visitor a day)."""

    referrer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="referral_visits")
    post = models.ForeignKey(Post, null=True, on_delete=models.SET_NULL)
    visitor_hash = models.CharField(max_length=64)
    day = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["referrer", "visitor_hash", "day"], name="one_referral_visit_per_day")
        ]

    def __str__(self) -> str:
        return f"visit via {self.referrer}"
