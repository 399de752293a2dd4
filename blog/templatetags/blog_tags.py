import json
from typing import Any

from django import template
from django.utils.safestring import SafeString, mark_safe

from blog.discussion import commentpages, moderation
from blog.models import Comment, Post
from blog.newsletter import subscriptions
from blog.shared import sitesettings
from blog.shared.site import absolute

register = template.Library()

# The characters that could end a <script> element or start markup inside it.
_SCRIPT_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}


register.filter("absolute", absolute)


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
        "publisher": {"@type": "Organization", "name": sitesettings.current().name},
        "keywords": [tag.name for tag in post.tags.all()],
    }
    if post.cover:
        data["image"] = absolute(post.cover.url)
    return mark_safe(json.dumps(data).translate(_SCRIPT_ESCAPES))


@register.inclusion_tag("blog/subscriptions/_box.html", takes_context=True)
def subscribe_box(context: template.Context, source: str) -> dict[str, Any]:
    """The subscribe box: an e-mail field, or one click for a signed-in reader."""
    request = context["request"]
    if not hasattr(request, "_subscription_state"):
        request._subscription_state = subscriptions.box_state(request.user)
    return {
        **request._subscription_state,
        "source": source,
        "request": request,
        "csrf_token": context.get("csrf_token"),
    }


@register.simple_tag
def moderation_waiting() -> int:
    """How many comments wait in the moderation queue (the header shows it to moderators)."""
    return moderation.waiting().count()


@register.simple_tag(takes_context=True)
def comment_actions(context: template.Context, comment: Comment) -> SafeString:
    """A comment's buttons when it is rendered on its own (see blog/discussion/commentpages.py)."""
    token = str(context.get("csrf_token", ""))
    html = commentpages.live_actions(comment, context["user"], token, comment.post)
    return mark_safe(html)
