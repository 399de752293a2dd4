from django import forms
from django.contrib import admin, messages
from django.db import models
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from accounts.images import UploadedImageField
from accounts.models import User
from accounts.requests import SignedInRequest
from blog.discussion import moderation
from blog.models import (
    Ban,
    Comment,
    CommentRevision,
    ConsentEvent,
    LegacyPath,
    ModerationLog,
    ModerationSettings,
    Post,
    Restack,
    SlugRedirect,
    Subscriber,
)
from blog.posts.publishing import publish_post, unpublish_post
from blog.tasks import queue_notices, queue_send, refresh_preview

Action = ModerationLog.Action


def acting_user(request: HttpRequest) -> User:
    """The staff member behind an admin request (the admin lets no one else in)."""
    assert isinstance(request.user, User)
    return request.user


class SlugRedirectInline(admin.TabularInline[SlugRedirect, Post]):
    model = SlugRedirect
    extra = 0


class LegacyPathInline(admin.TabularInline[LegacyPath, Post]):
    """Addresses the post had on the platform it was imported from."""

    model = LegacyPath
    extra = 0


@admin.register(Post)
class PostAdmin(admin.ModelAdmin[Post]):
    list_display = ("title", "author", "status", "published_at", "updated_at")
    list_filter = ("status", "tags")
    search_fields = ("title", "subtitle", "body")
    prepopulated_fields = {"slug": ("title",)}
    raw_id_fields = ("author",)
    date_hierarchy = "published_at"
    inlines = [SlugRedirectInline, LegacyPathInline]
    actions = ["publish", "unpublish"]
    formfield_overrides = {models.ImageField: {"form_class": UploadedImageField}}

    def get_queryset(self, request: HttpRequest) -> QuerySet[Post]:
        # view_post in the admin is not every draft: the site's rule decides whose.
        return super().get_queryset(request) & Post.objects.visible_to(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Post | None = None) -> bool:
        allowed = super().has_view_permission(request, obj)
        return allowed and (not isinstance(obj, Post) or self.get_queryset(request).filter(pk=obj.pk).exists())

    def has_change_permission(self, request: HttpRequest, obj: Post | None = None) -> bool:
        # The admin's change_post is every post; the desk's rule decides whose.
        allowed = super().has_change_permission(request, obj)
        return allowed and (not isinstance(obj, Post) or obj.is_editable_by(request.user))

    def has_publish_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("blog.change_any_post")

    @admin.action(description="Publish selected posts now", permissions=["publish"])
    def publish(self, request: HttpRequest, queryset: QuerySet[Post]) -> None:
        published = [post.pk for post in queryset if publish_post(post)]
        queue_send(published)
        for post_id in published:
            refresh_preview.delay_on_commit(post_id)  # og:image is ready when the post is shared
        count = len(published)
        self.message_user(request, f"Published {count} post(s).", messages.SUCCESS)

    @admin.action(description="Move selected posts back to drafts", permissions=["publish"])
    def unpublish(self, request: HttpRequest, queryset: QuerySet[Post]) -> None:
        for post in queryset:
            unpublish_post(post)
        self.message_user(request, f"Unpublished {queryset.count()} post(s).", messages.SUCCESS)


class CommentRevisionInline(admin.TabularInline[CommentRevision, Comment]):
    model = CommentRevision
    extra = 0
    fields = ("written_at", "body", "replaced_by", "created_at")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Comment | None = None) -> bool:
        return False


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin[Comment]):
    """Moderation state changes only through blog.discussion.moderation, like the queue."""

    list_display = ("pk", "author", "post", "status", "flag_count", "created_at")
    list_filter = ("status",)
    search_fields = ("body", "author__username", "author__email")
    # Only the text is edited here, and that through blog.discussion.moderation: rendered
    # again, the old text kept as a revision, a log row written.
    fields = ("post", "author", "status", "reasons", "body", "body_html", "is_deleted", "flag_count", "like_count",
              "ip", "created_at", "edited_at")  # fmt: skip
    readonly_fields = tuple(name for name in fields if name != "body")
    actions = ["approve", "reject", "spam", "remove"]
    inlines = [CommentRevisionInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Comment | None = None) -> bool:
        return False  # the record stays; moderators remove a comment with the "Delete" action

    def save_model(self, request: HttpRequest, obj: Comment, form: forms.ModelForm[Comment], change: bool) -> None:
        if "body" in form.changed_data:
            body = form.cleaned_data["body"]
            moderation.edit_as_moderator(acting_user(request), obj, body, reason="edited in the admin")

    def has_moderate_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("blog.moderate_comment")

    def _act(self, request: SignedInRequest, queryset: QuerySet[Comment], action: Action) -> None:
        comments = list(queryset)
        queue_notices(moderation.apply_action(request.user, comments, action, reason="from the admin"))
        self.message_user(request, f"{action.label}: {len(comments)}", messages.SUCCESS)

    @admin.action(description="Approve", permissions=["moderate"])
    def approve(self, request: SignedInRequest, queryset: QuerySet[Comment]) -> None:
        self._act(request, queryset, Action.APPROVE)

    @admin.action(description="Reject", permissions=["moderate"])
    def reject(self, request: SignedInRequest, queryset: QuerySet[Comment]) -> None:
        self._act(request, queryset, Action.REJECT)

    @admin.action(description="Mark as spam", permissions=["moderate"])
    def spam(self, request: SignedInRequest, queryset: QuerySet[Comment]) -> None:
        self._act(request, queryset, Action.SPAM)

    @admin.action(description="Delete (keep for the record)", permissions=["moderate"])
    def remove(self, request: SignedInRequest, queryset: QuerySet[Comment]) -> None:
        self._act(request, queryset, Action.DELETE)


@admin.register(ModerationSettings)
class ModerationSettingsAdmin(admin.ModelAdmin[ModerationSettings]):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return not ModerationSettings.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(Ban)
class BanAdmin(admin.ModelAdmin[Ban]):
    """Bans are made from the moderation queue; here their reason and end
    change, and they are lifted, through blog.discussion.moderation, which logs it."""

    list_display = ("__str__", "email", "ip", "until", "lifted_at", "reason", "created_by", "created_at")
    fields = ("handle", "email", "ip", "reason", "until", "lifted_at", "created_by", "created_at")
    readonly_fields = ("handle", "email", "ip", "lifted_at", "created_by", "created_at")
    actions = ["lift"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Ban | None = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Ban, form: forms.ModelForm[Ban], change: bool) -> None:
        if form.changed_data:
            moderation.change_ban(acting_user(request), obj, reason=obj.reason, until=obj.until)

    @admin.action(description="Lift the selected bans")
    def lift(self, request: SignedInRequest, queryset: QuerySet[Ban]) -> None:
        for ban in Ban.objects.active().filter(pk__in=queryset.values("pk")):
            moderation.lift_ban(request.user, ban, reason="from the admin")
        self.message_user(request, "Lifted.", messages.SUCCESS)


@admin.register(ModerationLog)
class ModerationLogAdmin(admin.ModelAdmin[ModerationLog]):
    list_display = ("created_at", "actor", "action", "comment", "before", "after", "reason")
    list_filter = ("action",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class ConsentEventInline(admin.TabularInline[ConsentEvent, Subscriber]):
    """Each request and confirmation after the first, kept as evidence; never edited."""

    model = ConsentEvent
    extra = 0
    fields = ("created_at", "kind", "source", "ip")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Subscriber | None = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return request.user.has_perm("blog.view_subscriber")  # part of the subscriber's record


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin[Subscriber]):
    list_display = ("email", "status", "frequency", "source", "created_at", "confirmed_at")
    list_filter = ("status", "frequency")
    search_fields = ("email",)
    readonly_fields = (
        "consent_ip", "source", "created_at", "confirmation_sent_at", "confirmed_at", "confirmed_ip", "unsubscribed_at",
    )  # fmt: skip
    inlines = [ConsentEventInline]


@admin.register(Restack)
class RestackAdmin(admin.ModelAdmin[Restack]):
    """Re-stack notes the rules held wait here for a moderator."""

    list_display = ("user", "post", "note", "note_held", "created_at")
    list_filter = ("note_held",)
    fields = ("user", "post", "note", "note_held", "created_at")
    readonly_fields = fields
    actions = ["publish_notes"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_moderate_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("blog.moderate_comment")

    @admin.action(description="Publish the held notes", permissions=["moderate"])
    def publish_notes(self, request: SignedInRequest, queryset: QuerySet[Restack]) -> None:
        for item in queryset.filter(note_held=True):
            moderation.publish_note(request.user, item)
        self.message_user(request, "Published.", messages.SUCCESS)
