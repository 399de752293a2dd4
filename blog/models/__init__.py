"""Blog models, one module per concern."""

from blog.models.comments import (
    Ban,
    Comment,
    CommentLike,
    CommentRevision,
    Flag,
    ModerationLog,
    ModerationSettings,
)
from blog.models.engagement import Like, ReferralVisit, Restack, Share
from blog.models.imports import ExportJob, ImportJob, LegacyPath, SourceRecord
from blog.models.insights import LinkClick, PageViewDay, ReferrerDay
from blog.models.posts import Post, PostImage, PostQuerySet, SlugRedirect
from blog.models.site import SiteSettings
from blog.models.subscriptions import Delivery, Digest, NewsletterSettings, Send, Subscriber

__all__ = [
    "Ban",
    "Comment",
    "CommentLike",
    "CommentRevision",
    "Delivery",
    "Digest",
    "ExportJob",
    "Flag",
    "ImportJob",
    "LegacyPath",
    "Like",
    "LinkClick",
    "ModerationLog",
    "ModerationSettings",
    "NewsletterSettings",
    "PageViewDay",
    "Post",
    "PostImage",
    "PostQuerySet",
    "ReferralVisit",
    "ReferrerDay",
    "Restack",
    "Send",
    "Share",
    "SiteSettings",
    "SlugRedirect",
    "SourceRecord",
    "Subscriber",
]  # fmt: skip
