"""Comments and what surrounds them: likes, flags, bans, the moderation rules and log.

Which comments a reader sees and which ones a post's count counts are
decided here (`CommentQuerySet`, `counted_comments`), and nowhere else."""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from accounts.models import User

MAX_LEVEL = 4  # threads nest this deep; deeper replies sit flat under their level-4 ancestor
EDIT_WINDOW_MINUTES = 15
EDIT_WINDOW = timedelta(minutes=EDIT_WINDOW_MINUTES)


class CommentQuerySet(models.QuerySet["Comment"]):
    """Which comments a reader sees: the one place that says so."""

    def public(self) -> "CommentQuerySet":
        return self.filter(status=Comment.Status.APPROVED)

    def visible_to(self, user: User | AnonymousUser, *, placeholders: bool = False) -> "CommentQuerySet":
        """Approved comments, plus a reader's own comments awaiting moderation.

        With `placeholders`, also the comments a moderator removed, which a
        thread shows as "removed" while they have replies."""
        shown = Q(status=Comment.Status.APPROVED)
        if placeholders:
            shown |= Q(status=Comment.Status.REMOVED)
        if user.is_authenticated:
            shown |= Q(author=user, status=Comment.Status.HELD)
        return self.filter(shown)

    def counted(self) -> "CommentQuerySet":
        return self.filter(counted_comments())


class Comment(models.Model):
    class Status(models.TextChoices):
        APPROVED = "approved", "Approved"
        HELD = "held", "Awaiting moderation"
        SPAM = "spam", "Spam"
        REJECTED = "rejected", "Rejected"
        REMOVED = "removed", "Removed by a moderator"

    # Named, not imported: the post's listing counts its comments with `counted_comments` below.
    post = models.ForeignKey("blog.Post", on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="comments")
    # `reply_to` is the comment answered; `parent` is where it is shown (the
    # same, except below level 4, where replies sit under the level-4 ancestor).
    reply_to = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="answers")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="children")
    level = models.PositiveSmallIntegerField(default=1)
    body = models.TextField(max_length=10_000)
    body_html = models.TextField(editable=False)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.APPROVED, db_index=True)
    reasons = models.JSONField(default=list, blank=True)
    is_deleted = models.BooleanField(default=False)  # by its author; kept as a placeholder when it has replies
    is_pinned = models.BooleanField(default=False)
    like_count = models.PositiveIntegerField(default=0)
    flag_count = models.PositiveIntegerField(default=0)
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    edited_at = models.DateTimeField(null=True, blank=True)

    objects = CommentQuerySet.as_manager()

    # Set for display by blog/discussion/threads.py and the moderation queue; not stored.
    liked: bool
    placeholder: bool
    by_post_author: bool
    by_moderator: bool
    editable: bool
    depth: int  # 0 for a thread's first comment; set with the two below by blog.discussion.threads
    opens_replies: bool
    closes: range
    history: dict[str, int]

    class Meta:
        ordering = ["created_at", "pk"]
        permissions = [("moderate_comment", "Can moderate comments")]
        constraints = [
            models.UniqueConstraint(fields=["post"], condition=Q(is_pinned=True), name="one_pinned_comment_per_post")
        ]
        indexes = [models.Index(fields=["post", "status"]), models.Index(fields=["author", "status"])]

    def __str__(self) -> str:
        return f"comment {self.pk} by {self.author} on {self.post}"

    def get_absolute_url(self) -> str:
        return reverse("blog:comment_detail", args=[self.post.slug, self.pk])

    def is_editable_by(self, user: User | AnonymousUser) -> bool:
        """Its author may edit it within the edit window, unless it is deleted or turned down."""
        recent = timezone.now() - self.created_at <= EDIT_WINDOW
        editable = self.status in (self.Status.APPROVED, self.Status.HELD) and not self.is_deleted
        return editable and recent and self.author_id == user.pk

    @property
    def is_counted(self) -> bool:
        """In the post's comment count (the same rule as `counted_comments`)."""
        return self.status == self.Status.APPROVED and not self.is_deleted

    @property
    def is_placeholder(self) -> bool:
        """Shown only as "deleted" or "removed", to keep its replies readable."""
        return self.is_deleted or self.status == self.Status.REMOVED

    @property
    def anchor_url(self) -> str:
        """Where the comment shows on its post: the page of threads that holds it."""
        return f"{self.post.get_absolute_url()}?comment={self.pk}#comment-{self.pk}"


def counted_comments(prefix: str = "") -> Q:
    """The comments a post's comment count counts: approved and not deleted by their author.

    `prefix` reaches them from another model, e.g. "comments__" from Post."""
    return Q(**{f"{prefix}status": Comment.Status.APPROVED, f"{prefix}is_deleted": False})


class CommentRevision(models.Model):
    """A comment's text before an edit or a deletion, for the moderators."""

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="revisions")
    body = models.TextField()
    written_at = models.DateTimeField()  # when this version was written
    replaced_by = models.CharField(max_length=30, blank=True)  # handle of who changed it
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"earlier version of comment {self.comment_id}"


class CommentLike(models.Model):
    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="likes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["comment", "user"], name="one_comment_like_per_reader")]

    def __str__(self) -> str:
        return f"{self.user} likes comment {self.comment_id}"


class Flag(models.Model):
    class Reason(models.TextChoices):
        SPAM = "spam", "Spam"
        ABUSE = "abuse", "Abusive or hateful"
        OFF_TOPIC = "off_topic", "Off topic"
        OTHER = "other", "Something else"

    class Status(models.TextChoices):
        OPEN = "open", "Waiting for a moderator"
        UPHELD = "upheld", "Upheld (the comment was taken down)"
        REJECTED = "rejected", "Rejected (the comment was approved)"

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="flags")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    reason = models.CharField(max_length=10, choices=Reason.choices)
    note = models.CharField(max_length=500, blank=True)
    # Kept after a moderator decides: rejected flags are the flagger's record.
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["comment", "user"], name="one_flag_per_reader")]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} flag on comment {self.comment_id}"


GMAIL_DOMAINS = {"gmail.com", "googlemail.com"}


def email_key(email: str) -> str:
    """An address as ban matching sees it: lower case, without a `+tag`,
    and for Gmail without dots (Gmail delivers all of those to one inbox)."""
    local, _, domain = email.strip().lower().rpartition("@")
    local = local.split("+", 1)[0]
    if domain in GMAIL_DOMAINS:
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}" if local and domain else ""


class BanQuerySet(models.QuerySet["Ban"]):
    def active(self) -> "BanQuerySet":
        unexpired = Q(until__isnull=True) | Q(until__gt=timezone.now())
        return self.filter(unexpired, lifted_at__isnull=True)


class Ban(models.Model):
    """A reader (by account and normalised e-mail), or separately an IP
    address, barred from commenting, flagging, liking, re-stacking, changing
    their profile and subscribing. Outlives the account: deleting it keeps
    the e-mail, so signing up again with it is still barred."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    handle = models.CharField(max_length=30, blank=True)  # the banned account's, kept after it is deleted
    email = models.EmailField(blank=True)
    email_key = models.CharField(max_length=254, blank=True, db_index=True, editable=False)
    # On a reader's ban, where their comment came from (kept, not matched);
    # alone, an address ban (blog.discussion.bans.refusal).
    ip = models.GenericIPAddressField(null=True, blank=True)
    reason = models.CharField(max_length=300)
    until = models.DateTimeField(null=True, blank=True, help_text="Empty for a permanent ban.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    lifted_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = BanQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=False) | ~Q(email="") | Q(ip__isnull=False), name="ban_names_someone"
            )
        ]

    def __str__(self) -> str:
        return f"ban of {self.handle or self.user or self.email or self.ip}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.email:
            self.email_key = email_key(self.email)
        super().save(*args, **kwargs)

    @property
    def is_ip_ban(self) -> bool:
        return self.ip is not None and not self.email_key and self.user_id is None and not self.handle


class ModerationSettings(models.Model):
    """The rules of blog/discussion/moderation.py, editable by staff in the admin (one row)."""

    disallowed_words = models.TextField(blank=True, help_text="One word or phrase a line: comments with them are spam.")
    moderation_words = models.TextField(blank=True, help_text="One word or phrase a line: comments with them are held.")
    max_links = models.PositiveSmallIntegerField(default=2, help_text="Hold comments with more links than this.")
    hold_first_comment = models.BooleanField(default=True, help_text="Hold a reader's comments until one is approved.")
    min_seconds_to_submit = models.PositiveSmallIntegerField(
        default=3, help_text="Hold for review a comment sent faster than this after its form was shown."
    )
    comments_per_minute = models.PositiveSmallIntegerField(default=5)
    comments_per_hour = models.PositiveSmallIntegerField(default=30)
    flags_to_hide = models.PositiveSmallIntegerField(
        default=3, help_text="Hide a comment for review at this many flags."
    )
    moderators_notified_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = verbose_name_plural = "moderation settings"

    def __str__(self) -> str:
        return "Moderation settings"

    @classmethod
    def load(cls) -> "ModerationSettings":
        return cls.objects.get_or_create(pk=1)[0]

    @staticmethod
    def phrases(text: str) -> list[str]:
        return [line.strip().lower() for line in text.splitlines() if line.strip()]


class ModerationLog(models.Model):
    """Every moderation decision: who, what, when, why, and the state before and after."""

    class Action(models.TextChoices):
        # What a moderator does (the queue's and the admin's buttons).
        APPROVE = "approve", "Approve"
        REJECT = "reject", "Reject"
        SPAM = "spam", "Mark as spam"
        DELETE = "delete", "Delete"
        BAN = "ban", "Ban author"
        EDIT = "edit", "Edit comment"
        BAN_CHANGED = "ban-changed", "Change a ban"
        BAN_LIFTED = "ban-lifted", "Lift a ban"
        # What the rules do on their own.
        AUTO_APPROVED = "auto-approved", "Approved by the rules"
        AUTO_HELD = "auto-held", "Held by the rules"
        AUTO_SPAM = "auto-spam", "Marked as spam by the rules"
        AUTO_HIDDEN = "auto-hidden", "Hidden after flags"

        @classmethod
        def by_rules(cls, status: str) -> "ModerationLog.Action":
            """The rules' entry for a comment they put in `status`."""
            return cls(f"auto-{status}")

    moderator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )  # empty for the automatic rules
    # Kept as written, so that a deleted moderator's decisions are not taken for the rules'.
    moderator_handle = models.CharField(max_length=30, blank=True)
    comment = models.ForeignKey(Comment, null=True, blank=True, on_delete=models.SET_NULL, related_name="log")
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )  # whose comment, or who was banned
    action = models.CharField(max_length=20, choices=Action.choices, db_index=True)
    reason = models.CharField(max_length=500, blank=True)
    before = models.CharField(max_length=20, blank=True)
    after = models.CharField(max_length=20, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.action} by {self.actor}"

    @property
    def actor(self) -> str:
        return f"@{self.moderator_handle}" if self.moderator_handle else "rules"
