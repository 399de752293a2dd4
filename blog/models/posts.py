"""Posts and their old slugs. Which posts a reader may see is decided here
(`PostQuerySet.published` and `visible_to`), for every page, feed and e-mail."""

import math
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.postgres.search import SearchVectorField
from django.core.validators import FileExtensionValidator
from django.db import models
from django.db.models import Count, Q, Value
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.text import slugify
from taggit.managers import TaggableManager

from accounts.models import User
from blog.models.comments import counted_comments
from blog.shared.rendering import excerpt_from_html, render_markdown, text_from_html

WORDS_PER_MINUTE = 230
IMAGE_EXTENSIONS = ["jpg", "jpeg", "png", "webp", "gif"]
# Written only by their own processes (F() updates, the preview renderer), so
# that saving an edited post never puts back a stale value.
SEPARATELY_WRITTEN = {
    "like_count", "share_count", "restack_count", "preview_image", "preview_key",
    "search_vector", "search_heading", "search_pairs",
}  # fmt: skip


class PostQuerySet(models.QuerySet["Post"]):
    def published(self) -> "PostQuerySet":
        """Posts anyone may see: published, and not dated in the future."""
        return self.filter(status=Post.Status.PUBLISHED, published_at__lte=timezone.now())

    def visible_to(self, user: User | AnonymousUser) -> "PostQuerySet":
        """Published posts, plus drafts and scheduled posts for their author and editors.

        Roles come from the shared cache (accounts/backends.py), so asking costs no query."""
        if not user.is_authenticated:
            return self.published()
        if user.has_perm("blog.change_any_post"):
            return self.all()
        live = Q(status=Post.Status.PUBLISHED, published_at__lte=timezone.now())
        return self.filter(live | Q(author=user))

    def editable_by(self, user: User | AnonymousUser) -> "PostQuerySet":
        if user.has_perm("blog.change_any_post"):
            return self.all()
        if not user.is_authenticated or not user.has_perm("blog.change_post"):
            return self.none()
        return self.filter(author=user)

    def related_to(self, post: "Post", limit: int = 3) -> "PostQuerySet":
        """Published posts sharing most tags with `post`, then the most recent."""
        tag_ids = [tag.pk for tag in post.tags.all()]
        shared = Count("tags", filter=Q(tags__in=tag_ids), distinct=True) if tag_ids else Value(0)
        return (
            self.published()
            .exclude(pk=post.pk)
            .select_related("author")
            .annotate(shared_tags=shared)
            .order_by("-shared_tags", "-published_at", "-pk")[:limit]
        )

    def for_listing(self) -> "PostQuerySet":
        return (
            self.select_related("author")
            .defer(*Post.NOT_ON_PAGE)
            .prefetch_related("tags")  # type: ignore[misc]  # taggit's manager has no types
            .annotate(comment_count=Count("comments", filter=counted_comments("comments__")))
            .order_by("-published_at", "-pk")
        )


class Post(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SCHEDULED = "scheduled", "Scheduled"
        PUBLISHED = "published", "Published"

    # What no page shows (the source, and what search reads): pages and listings leave it unloaded.
    NOT_ON_PAGE = ("body", "body_text", "search_vector", "search_heading", "search_pairs")

    title = models.CharField(max_length=200)
    subtitle = models.CharField(max_length=300, blank=True)
    slug = models.SlugField(max_length=200, unique=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="posts")
    body = models.TextField(help_text="Markdown. Cite sources as footnotes: text[^1] and [^1]: source.")
    body_html = models.TextField(editable=False, default="")
    excerpt = models.TextField(max_length=500, blank=True, help_text="Leave empty to use the first paragraph.")
    cover = models.ImageField(
        upload_to="covers/%Y/%m/",
        blank=True,
        validators=[FileExtensionValidator(IMAGE_EXTENSIONS)],
    )
    cover_alt = models.CharField("cover description", max_length=200, blank=True)
    tags = TaggableManager(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    published_at = models.DateTimeField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    reading_minutes = models.PositiveSmallIntegerField(default=1, editable=False)
    comments_open = models.BooleanField(default=True)
    # False: published on the web only, e-mailed to nobody (neither alone nor in digests).
    email_subscribers = models.BooleanField(default=True, editable=False)
    # Counters move with F() in the same transaction as the row they count.
    like_count = models.PositiveIntegerField(default=0, editable=False)
    share_count = models.PositiveIntegerField(default=0, editable=False)
    restack_count = models.PositiveIntegerField(default=0, editable=False)
    preview_image = models.ImageField(upload_to="previews/", blank=True, editable=False)
    preview_key = models.CharField(max_length=64, blank=True, editable=False)
    # Search (blog/posts/search.py): the body's words as plain text; on PostgreSQL a
    # weighted tsvector of title, subtitle, tags, body and author (GIN-indexed,
    # for matching), one of everything but the body (small, for ranking), and
    # hashes of its neighbouring words (GIN-indexed, for "exact phrases").
    body_text = models.TextField(editable=False, default="")
    search_vector = SearchVectorField(null=True, editable=False)
    search_heading = SearchVectorField(null=True, editable=False)
    search_pairs = SearchVectorField(null=True, editable=False)

    objects = PostQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "-pk"]
        indexes = [models.Index(fields=["status", "-published_at"])]
        permissions = [("change_any_post", "Can edit, publish and unpublish any author's post")]

    def __str__(self) -> str:
        return self.title

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self.slug:
            self.slug = self.unique_slug(self.title)
        self.body_html = render_markdown(self.body)
        self.body_text = text_from_html(self.body_html)
        words = len(self.body.split())
        self.reading_minutes = max(1, math.ceil(words / WORDS_PER_MINUTE))
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {
                *kwargs["update_fields"],
                "body_html",
                "body_text",
                "reading_minutes",
                "updated_at",
            }
        elif not self._state.adding and not kwargs.get("force_insert"):
            kwargs["update_fields"] = [
                f.name for f in self._meta.concrete_fields if not f.primary_key and f.name not in SEPARATELY_WRITTEN
            ]
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("blog:post_detail", args=[self.slug])

    @property
    def is_live(self) -> bool:
        published_at = self.published_at
        return self.status == self.Status.PUBLISHED and published_at is not None and published_at <= timezone.now()

    def is_editable_by(self, user: User | AnonymousUser) -> bool:
        return user.has_perm("blog.change_any_post") or (
            user.pk == self.author_id and user.has_perm("blog.change_post")
        )

    @cached_property
    def summary(self) -> str:
        return self.excerpt or excerpt_from_html(self.body_html)

    def set_slug(self, slug: str) -> None:
        """Change the permalink, keeping the old one as a redirect. Save afterwards."""
        if self.pk and slug != self.slug:
            SlugRedirect.objects.update_or_create(old_slug=self.slug, defaults={"post": self})
            SlugRedirect.objects.filter(old_slug=slug).delete()
        self.slug = slug

    @classmethod
    def unique_slug(cls, title: str) -> str:
        base = slugify(title)[:180] or "post"
        taken = set(cls.objects.filter(slug__startswith=base).values_list("slug", flat=True)) | set(
            SlugRedirect.objects.filter(old_slug__startswith=base).values_list("old_slug", flat=True)
        )
        slug, n = base, 2
        while slug in taken:
            slug, n = f"{base}-{n}", n + 1
        return slug


class PostImage(models.Model):
    """An image an author uploaded from the editor into a post's body."""

    image = models.ImageField(upload_to="posts/%Y/%m/", validators=[FileExtensionValidator(IMAGE_EXTENSIONS)])
    alt = models.CharField("description", max_length=300)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    post = models.ForeignKey("Post", null=True, blank=True, on_delete=models.SET_NULL, related_name="images")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.image.name or ""

    @property
    def markdown(self) -> str:
        alt = " ".join(self.alt.replace("[", "(").replace("]", ")").split())
        return f"![{alt}]({self.image.url})"


class SlugRedirect(models.Model):
    """An old slug of a post, kept so that links to it still arrive."""

    old_slug = models.SlugField(max_length=200, unique=True)
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="old_slugs")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.old_slug} -> {self.post.slug}"
