from datetime import datetime

from django.contrib.syndication.views import Feed
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from taggit.models import Tag

from accounts.models import User
from blog.models import Post, PostQuerySet
from blog.shared import sitesettings
from blog.shared.site import absolute, absolutise


class PostItems:
    """How a post appears in every feed (latest, per tag, per author)."""

    def item_title(self, item: Post) -> str:
        return item.title

    def item_description(self, item: Post) -> str:
        # Feed readers show the body away from the site: its images, links and
        # footnote anchors must carry the site's address.
        return absolutise(item.body_html, absolute(item.get_absolute_url()))

    def item_author_name(self, item: Post) -> str:
        return item.author.name

    def item_pubdate(self, item: Post) -> datetime | None:
        return item.published_at

    def item_updateddate(self, item: Post) -> datetime:
        return item.updated_at

    def item_categories(self, item: Post) -> list[str]:
        return [tag.name for tag in item.tags.all()]


class LatestPostsFeed(PostItems, Feed[Post, None]):
    link = "/"

    def title(self) -> str:
        return sitesettings.current().name

    def description(self) -> str:
        return sitesettings.current().description

    def items(self) -> PostQuerySet:
        return Post.objects.published().for_listing()[:20]


class LatestPostsAtomFeed(LatestPostsFeed):
    feed_type = Atom1Feed

    def subtitle(self) -> str:
        return sitesettings.current().description


class TagFeed(PostItems, Feed[Post, Tag]):
    """Posts with one tag: /t/<slug>/feed/."""

    def get_object(self, request: HttpRequest, slug: str) -> Tag:
        return get_object_or_404(Tag, slug=slug)

    def title(self, obj: Tag) -> str:
        return f"{obj.name} · {sitesettings.current().name}"

    def link(self, obj: Tag) -> str:
        return reverse("blog:tag", args=[obj.slug])

    def description(self, obj: Tag) -> str:
        return f"Posts tagged {obj.name} on {sitesettings.current().name}."

    def items(self, obj: Tag) -> PostQuerySet:
        return Post.objects.published().filter(tags=obj).for_listing()[:20]


class AuthorFeed(PostItems, Feed[Post, User]):
    """One author's posts: /@handle/feed/."""

    def get_object(self, request: HttpRequest, handle: str) -> User:
        return get_object_or_404(User.objects.with_handle(handle), is_active=True)

    def title(self, obj: User) -> str:
        return f"{obj.name} · {sitesettings.current().name}"

    def link(self, obj: User) -> str:
        return obj.get_absolute_url()

    def description(self, obj: User) -> str:
        return obj.bio or f"Posts by {obj.name} on {sitesettings.current().name}."

    def items(self, obj: User) -> PostQuerySet:
        return Post.objects.published().filter(author=obj).for_listing()[:20]
