"""The user: e-mail (unique, case-insensitive), public handle, profile, and
the switches of the notification e-mails."""

import secrets
from typing import ClassVar

from django.contrib.auth.models import AbstractUser, UserManager
from django.contrib.auth.validators import ASCIIUsernameValidator
from django.core.validators import FileExtensionValidator
from django.db import models, transaction
from django.db.models.functions import Lower
from django.dispatch import Signal
from django.urls import reverse

# Sent with the ids of users changed by a bulk update, which sends no post_save:
# copies of them kept elsewhere (accounts/backends.py) must not outlive it.
users_updated = Signal()


class HandleValidator(ASCIIUsernameValidator):
    # Handles appear in URLs (/@handle/), so only letters, digits, _ and -.
    regex = r"^[A-Za-z0-9_-]+\Z"
    message = "Use only letters, digits, underscores and hyphens."


class UserQuerySet(models.QuerySet["User"]):
    def update(self, **kwargs: object) -> int:
        # The rows are locked first, so that the ids sent are those changed.
        with transaction.atomic():
            pks = list(self.select_for_update().values_list("pk", flat=True))
            rows = super(UserQuerySet, self.filter(pk__in=pks)).update(**kwargs) if pks else 0
        users_updated.send(sender=User, pks=pks)
        return rows

    def with_handle(self, handle: str) -> "UserQuerySet":
        """Case-blind, as LOWER(username) so PostgreSQL uses the unique index on it
        (`username__iexact` is UPPER(username::text), which no index serves)."""
        return self.alias(handle_lower=Lower("username")).filter(handle_lower=Lower(models.Value(handle)))


class Users(UserManager["User"]):
    def get_queryset(self) -> UserQuerySet:
        return UserQuerySet(self.model, using=self._db)

    def with_handle(self, handle: str) -> UserQuerySet:
        return self.get_queryset().with_handle(handle)


class User(AbstractUser):
    username = models.CharField(
        "handle",
        max_length=30,
        unique=True,
        validators=[HandleValidator()],
        help_text="Your public address: /@handle/. Letters, digits, _ and - only.",
        error_messages={"unique": "That handle is taken."},
    )
    email = models.EmailField("email address")
    display_name = models.CharField(max_length=80, blank=True)
    bio = models.TextField(max_length=500, blank=True)
    referral_code = models.CharField(max_length=16, unique=True, null=True, blank=True, editable=False)
    referred_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="referrals", editable=False
    )
    # Notification e-mails a reader can turn off (each e-mail links to its switch).
    email_on_comments = models.BooleanField("e-mail me new comments on my posts", default=True)
    email_on_replies = models.BooleanField("e-mail me replies to my comments", default=True)
    email_on_moderation = models.BooleanField("e-mail me comments waiting for moderation", default=True)
    # Empty until the browser's zone is taken on the first visit; then the
    # reader's to change. Every time shown to them and every schedule uses it.
    time_zone = models.CharField(max_length=64, blank=True, help_text="Times on this site are shown in it.")
    avatar = models.ImageField(
        upload_to="avatars/",
        blank=True,
        validators=[FileExtensionValidator(["jpg", "jpeg", "png", "webp", "gif"])],
    )

    objects: ClassVar[Users] = Users()

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
            models.UniqueConstraint(Lower("username"), name="user_handle_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("blog:profile", args=[self.username])

    @property
    def name(self) -> str:
        return self.display_name or self.username

    def get_referral_code(self) -> str:
        """The code that credits this reader for visitors their shares bring."""
        if not self.referral_code:
            code = secrets.token_urlsafe(6)
            User.objects.filter(pk=self.pk, referral_code__isnull=True).update(referral_code=code)
            self.referral_code = User.objects.values_list("referral_code", flat=True).get(pk=self.pk)
        return self.referral_code or ""

    # Explicit permissions, never is_staff: a staff flag opens the admin, and
    # what can be done there is again a matter of permissions.
    @property
    def is_moderator(self) -> bool:
        return self.has_perm("blog.moderate_comment")

    @property
    def is_author(self) -> bool:
        """May use the writing desk: the Authors or Editors role."""
        return self.has_perm("blog.add_post")
