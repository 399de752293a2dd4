from urllib.parse import urlsplit

from django import template
from django.conf import settings

from accounts.models import User

register = template.Library()


@register.filter
def fediverse_handle(user: User) -> str:
    """@handle@host, as Mastodon credits an author under a link preview (fediverse:creator)."""
    return f"@{user.username}@{urlsplit(settings.SITE_URL).netloc}"
