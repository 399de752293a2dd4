from django.db import models
from django.db.models import Q

from blog.models.posts import Post


class PageViewDay(models.Model):
    """Views of one post, or of the home page (no post), on one day.

    Written only by the fold (blog/insights/pageviews.py), which copies Redis's running
    totals for the day, so writing the same day twice changes nothing.
    `visitors` counts distinct visitors of this page on this day; the hashes
    that counted them were never stored."""

    post = models.ForeignKey(Post, null=True, blank=True, on_delete=models.CASCADE, related_name="view_days")
    day = models.DateField()
    views = models.PositiveIntegerField(default=0)
    visitors = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["post", "day"], condition=Q(post__isnull=False), name="one_post_view_day"),
            models.UniqueConstraint(fields=["day"], condition=Q(post__isnull=True), name="one_home_view_day"),
        ]
        indexes = [models.Index(fields=["day"])]

    def __str__(self) -> str:
        return f"{self.post or 'home'} on {self.day}: {self.views}"


class DailyVisitor(models.Model):
    """A visitor's hash for one page and day, kept only where no Redis counts
    visitors (blog/insights/pageviews.py, the database path): it says whether a view is
    the visitor's first of the day. The hash is an HMAC of the address and the
    page under a salt that changes every day; rows older than yesterday are deleted."""

    day = models.DateField()
    page = models.CharField(max_length=210)
    visitor = models.CharField(max_length=32)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "page", "visitor"], name="one_daily_visitor")]

    def __str__(self) -> str:
        return f"{self.page} on {self.day}"


class ReferrerDay(models.Model):
    """Where the views of one page on one day came from: a host, `utm:<source>`,
    or one of SOURCES below."""

    post = models.ForeignKey(Post, null=True, blank=True, on_delete=models.CASCADE, related_name="referrer_days")
    day = models.DateField()
    source = models.CharField(max_length=200)
    views = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["post", "day", "source"], condition=Q(post__isnull=False), name="one_post_referrer_day"
            ),
            models.UniqueConstraint(
                fields=["day", "source"], condition=Q(post__isnull=True), name="one_home_referrer_day"
            ),
        ]
        indexes = [models.Index(fields=["day"])]

    def __str__(self) -> str:
        return f"{self.source} -> {self.post or 'home'} on {self.day}: {self.views}"


class LinkClick(models.Model):
    """Clicks on one link of one post's newsletter, through the signed redirect."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="link_clicks")
    url = models.URLField(max_length=2000)
    clicks = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["post", "url"], name="one_click_counter_per_link")]

    def __str__(self) -> str:
        return f"{self.url} in {self.post}: {self.clicks}"
