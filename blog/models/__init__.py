"""Blog models, one module per concern."""

from blog.models.engagement import Like, ReferralVisit, Restack, Share
from blog.models.posts import Post, PostQuerySet, SlugRedirect
from blog.models.subscriptions import Delivery, Digest, Send, Subscriber

__all__ = [
    "Delivery", "Digest", "Like", "Post", "PostQuerySet", "ReferralVisit", "Restack", "Send", "Share", "SlugRedirect",
    "Subscriber",
]  # fmt: skip
