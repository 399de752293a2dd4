"""Blog models, one module per concern."""

from blog.models.engagement import Like, ReferralVisit, Restack, Share
from blog.models.posts import Post, PostQuerySet, SlugRedirect

__all__ = ["Like", "Post", "PostQuerySet", "ReferralVisit", "Restack", "Share", "SlugRedirect"]
