from django.contrib import admin, messages
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from accounts.requests import SignedInRequest
from blog import moderation
from blog.models import Ban, Comment, LegacyPath, ModerationLog, ModerationSettings, Post, SlugRedirect, Subscriber
from blog.publishing import publish_post, unpublish_post
from blog.tasks import queue_notices, queue_send, refresh_preview

Action = ModerationLog.Action


class SlugRedirectInline(admin.TabularInline):
    model = SlugRedirect
    extra = 0


class LegacyPathInline(admin.TabularInline):
    """Addresses the post had on the platform it was imported from."""

    model = LegacyPath
    extra = 0


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    list_display = ("title", "author", "status", "published_at", "updated_at")
    list_filter = ("status", "tags")
    search_fields = ("title", "subtitle", "body")
    prepopulated_fields = {"slug": ("title",)}
    raw_id_fields = ("author",)
    date_hierarchy = "published_at"
    inlines = [SlugRedirectInline, LegacyPathInline]
    actions = ["publish", "unpublish"]

    @admin.action(description="Publish selected posts now")
    def publish(self, request: HttpRequest, queryset: QuerySet[Post]) -> None:
        published = [post.pk for post in queryset if publish_post(post)]
        queue_send(published)
        for post_id in published:
            refresh_preview.delay_on_commit(post_id)  # og:image is ready when the post is shared
        count = len(published)
        self.message_user(request, f"Published {count} post(s).", messages.SUCCESS)

    @admin.action(description="Move selected posts back to drafts")
    def unpublish(self, request: HttpRequest, queryset: QuerySet[Post]) -> None:
        for post in queryset:
            unpublish_post(post)
        self.message_user(request, f"Unpublished {queryset.count()} post(s).", messages.SUCCESS)


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    """Moderation state changes only through blog.moderation, like the queue."""

    list_display = ("pk", "author", "post", "status", "flag_count", "created_at")
    list_filter = ("status",)
    search_fields = ("body", "author__username", "author__email")
    raw_id_fields = ("post", "author", "reply_to", "parent")
    readonly_fields = ("status", "reasons", "body_html", "flag_count", "like_count", "ip", "level")
    actions = ["approve", "reject", "spam", "remove"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def _act(self, request: SignedInRequest, queryset: QuerySet[Comment], action: Action) -> None:
        comments = list(queryset)
        queue_notices(moderation.apply_action(request.user, comments, action, reason="from the admin"))
        self.message_user(request, f"{action.label}: {len(comments)}", messages.SUCCESS)

    @admin.action(description="Approve")
    def approve(self, request: SignedInRequest, queryset: QuerySet[Comment]) -> None:
        self._act(request, queryset, Action.APPROVE)

    @admin.action(description="Reject")
    def reject(self, request: SignedInRequest, queryset: QuerySet[Comment]) -> None:
        self._act(request, queryset, Action.REJECT)

    @admin.action(description="Mark as spam")
    def spam(self, request: SignedInRequest, queryset: QuerySet[Comment]) -> None:
        self._act(request, queryset, Action.SPAM)

    @admin.action(description="Delete (keep for the record)")
    def remove(self, request: SignedInRequest, queryset: QuerySet[Comment]) -> None:
        self._act(request, queryset, Action.DELETE)


@admin.register(ModerationSettings)
class ModerationSettingsAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return not ModerationSettings.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(Ban)
class BanAdmin(admin.ModelAdmin):
    list_display = ("user", "email", "ip", "until", "reason", "created_by", "created_at")
    raw_id_fields = ("user", "created_by")


@admin.register(ModerationLog)
class ModerationLogAdmin(admin.ModelAdmin):
    list_display = ("created_at", "moderator", "action", "comment", "before", "after", "reason")
    list_filter = ("action",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin):
    list_display = ("email", "status", "frequency", "source", "created_at", "confirmed_at")
    list_filter = ("status", "frequency")
    search_fields = ("email",)
    readonly_fields = ("consent_ip", "source", "created_at", "confirmed_at", "unsubscribed_at", "confirmation_sent_at")
