from django.contrib import admin, messages

from blog.models import Post, SlugRedirect
from blog.publishing import publish_post, unpublish_post


class SlugRedirectInline(admin.TabularInline):
    model = SlugRedirect
    extra = 0


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    list_display = ("title", "author", "status", "published_at", "updated_at")
    list_filter = ("status", "tags")
    search_fields = ("title", "subtitle", "body")
    prepopulated_fields = {"slug": ("title",)}
    raw_id_fields = ("author",)
    date_hierarchy = "published_at"
    inlines = [SlugRedirectInline]
    actions = ["publish", "unpublish"]

    @admin.action(description="Publish selected posts now")
    def publish(self, request, queryset) -> None:
        count = sum(publish_post(post) for post in queryset)
        self.message_user(request, f"Published {count} post(s).", messages.SUCCESS)

    @admin.action(description="Move selected posts back to drafts")
    def unpublish(self, request, queryset) -> None:
        for post in queryset:
            unpublish_post(post)
        self.message_user(request, f"Unpublished {queryset.count()} post(s).", messages.SUCCESS)
