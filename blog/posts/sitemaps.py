from datetime import datetime

from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from blog.models import Post, PostQuerySet


class PostSitemap(Sitemap[Post]):
    changefreq = "weekly"

    def items(self) -> PostQuerySet:
        return Post.objects.published().order_by("-published_at")

    def lastmod(self, item: Post) -> datetime:
        return item.updated_at


class PagesSitemap(Sitemap[str]):
    changefreq = "daily"

    def items(self) -> list[str]:
        return ["blog:home", "blog:archive"]

    def location(self, item: str) -> str:
        return reverse(item)


SITEMAPS = {"posts": PostSitemap, "pages": PagesSitemap}
