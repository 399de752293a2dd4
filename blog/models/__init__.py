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
from blog.models.insights import DailyVisitor, LinkClick, PageViewDay, ReferrerDay
from blog.models.integrations import ApiKey, ProviderEvent, Webhook, WebhookDelivery
from blog.models.posts import Post, PostImage, PostQuerySet, SlugRedirect
from blog.models.revisions import PostRevision
from blog.models.site import SiteSettings
from blog.models.subscriptions import ConsentEvent, Delivery, Digest, NewsletterSettings, Send, Subscriber

__all__ = [
    "ApiKey",
    "Ban",
    "Comment",
    "CommentLike",
    "CommentRevision",
    "ConsentEvent",
    "DailyVisitor",
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
    "PostRevision",
    "ProviderEvent",
    "ReferralVisit",
    "ReferrerDay",
    "Restack",
    "Send",
    "Share",
    "SiteSettings",
    "SlugRedirect",
    "SourceRecord",
    "Subscriber",
    "Webhook",
    "WebhookDelivery",
]  # fmt: skip
