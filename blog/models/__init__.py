"""Blog models, one module per concern."""

# Last: the federation models refer to the ones above.
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
from blog.models.insights import LinkClick, PageViewDay, ReferrerDay
from blog.models.posts import Post, PostImage, PostQuerySet, SlugRedirect
from blog.models.subscriptions import Delivery, Digest, NewsletterSettings, Send, Subscriber

__all__ = [
    "ActorKey",
    "Ban",
    "BlockedInstance",
    "Comment",
    "CommentLike",
    "CommentRevision",
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
    "ReceivedArticle",
    "ReferralVisit",
    "ReferrerDay",
    "RemoteActor",
    "RemoteObject",
    "Restack",
    "Send",
    "Share",
    "SlugRedirect",
    "SourceRecord",
    "Subscriber",
]  # fmt: skip
