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
from blog.models.subscriptions import Delivery, Digest, NewsletterSettings, Send, Subscriber

# Last: the federation models refer to the ones above.
from blog.federation.models import (  # noqa: E402, I001
    ActorKey,
    BlockedInstance,
    FederatedDelivery,
    Follower,
    Following,
    InboundActivity,
    OutboundActivity,
    RemoteActor,
    ReceivedArticle,
    RemoteObject,
)

__all__ = [
    "ActorKey",
    "BlockedInstance",
    "FederatedDelivery",
    "Follower",
    "Following",
    "InboundActivity",
    "OutboundActivity",
    "RemoteActor",
    "ReceivedArticle",
    "RemoteObject",
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
    "SlugRedirect",
    "SourceRecord",
    "Subscriber",
]  # fmt: skip
