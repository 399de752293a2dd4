import json

from django import template
from django.conf import settings
from django.utils.safestring import SafeString, mark_safe

from blog.models import Post

register = template.Library()

# The characters that could end a <script> element or start markup inside it.
_SCRIPT_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}


@register.filter
def absolute(path: str) -> str:
    """An absolute URL on this site, for feeds, social cards and email."""
    if path.startswith(("http://", "https://")):
        return path
    return settings.SITE_URL + path


@register.simple_tag
def article_jsonld(post: Post) -> SafeString:
    data = {
        "@context": "https://schema.org",
        "@type": "Article",
        "headline": post.title,
        "description": post.summary,
        "url": absolute(post.get_absolute_url()),
        "datePublished": post.published_at.isoformat() if post.published_at else None,
        "dateModified": post.updated_at.isoformat(),
        "author": {"@type": "Person", "name": post.author.name, "url": absolute(post.author.get_absolute_url())},
        "publisher": {"@type": "Organization", "name": settings.SITE_NAME},
        "keywords": [tag.name for tag in post.tags.all()],
    }
    if post.cover:
        data["image"] = absolute(post.cover.url)
    return mark_safe(json.dumps(data).translate(_SCRIPT_ESCAPES))
