"""Earlier versions of a post, for its author to compare and restore, and the
unsaved edits of a live post, kept aside until the author updates it."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from blog.models.posts import Post

# The fields a revision keeps: the text, not the settings around it.
REVISED_FIELDS = ("title", "subtitle", "body", "excerpt")


class PostRevision(models.Model):
    class Kind(models.TextChoices):
        SAVED = "saved", "Saved"
        AUTOSAVE = "autosave", "Autosaved, not live"

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="revisions")
    saved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.SAVED)
    title = models.CharField(max_length=200)
    subtitle = models.CharField(max_length=300, blank=True)
    body = models.TextField(blank=True)
    excerpt = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["post", "-created_at"])]
        constraints = [
            # A live post's unsaved edits: one set, replaced at each autosave.
            models.UniqueConstraint(fields=["post"], condition=Q(kind="autosave"), name="one_autosave_per_post")
        ]

    def __str__(self) -> str:
        return f"{self.post_id} at {self.created_at:%Y-%m-%d %H:%M}"

    def text(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in REVISED_FIELDS}
