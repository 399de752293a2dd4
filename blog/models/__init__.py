"""Blog models, one module per concern."""

# The federation models live with the rest of federation (blog/federation/models.py).
from blog.federation.models import (
    ActorKey,
    BlockedInstance,
    FederatedDelivery,
    Follower,
    Following,
    InboundActivity,
    OutboundActivity,
    ReceivedArticle,
    RemoteActor,
    RemoteObject,
)
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
    "ActorKey",
    "ApiKey",
    "Ban",
    "BlockedInstance",
    "Comment",
    "CommentLike",
    "CommentRevision",
    "ConsentEvent",
    "DailyVisitor",
    "Delivery",
    "Digest",
    "ExportJob",
    "FederatedDelivery",
    "Flag",
    "Follower",
    "Following",
    "ImportJob",
    "InboundActivity",
    "LegacyPath",
    "Like",
    "LinkClick",
    "ModerationLog",
    "ModerationSettings",
    "NewsletterSettings",
    "OutboundActivity",
    "PageViewDay",
    "Post",
    "PostImage",
    "PostQuerySet",
    "PostRevision",
    "ProviderEvent",
    "ReceivedArticle",
    "ReferralVisit",
    "ReferrerDay",
    "RemoteActor",
    "RemoteObject",
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
