"""Blog models, one module per concern."""

from blog.models.posts import Post, PostQuerySet, SlugRedirect

__all__ = ["Post", "PostQuerySet", "SlugRedirect"]
