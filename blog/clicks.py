"""Clicks on newsletter links, counted through a signed redirect on the site.

Each link in a post's e-mail is rewritten to /r/<token>/, where the token is
the post and the link's address signed with the secret key. The redirect
sends the reader only to an address that was signed, so it can never be used
to send anyone anywhere else, and a changed token is refused. With
NEWSLETTER_CLICK_COUNTING off, links are left as they are. No open-tracking
pixel: mail clients fetch images by themselves, so open rates mislead.
"""

import re
from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse

from blog.models import LinkClick, Post
from blog.site import absolute

CLICK_SALT = "dispatch.newsletter.click"
MAX_URL_LENGTH = 2000
_HTML_LINK = re.compile(r'(<a\b[^>]*?\bhref=")(https?://[^"]+)(")', re.IGNORECASE)
# A URL in plain text, without the full stop or comma after it.
_TEXT_LINK = re.compile(r"https?://[^\s<>\"')\]]*[^\s<>\"')\].,;:!?]")


class ClickError(Exception):
    """A click link that was changed, or names no address we sent."""


def click_token(post: Post, url: str) -> str:
    return signing.Signer(salt=CLICK_SALT).sign_object({"p": post.pk, "u": url}, compress=True)


def click_url(post: Post, url: str) -> str:
    """The redirect for `url` in `post`'s e-mail, or `url` itself if it is not countable."""
    if len(url) > MAX_URL_LENGTH or urlsplit(url).scheme not in ("http", "https"):
        return url
    return absolute(reverse("blog:click", args=[click_token(post, url)]))


def read_click_token(token: str) -> tuple[int, str]:
    """(post id, address) from a token; ClickError if it was tampered with."""
    try:
        data = signing.Signer(salt=CLICK_SALT).unsign_object(token)
        post_id, url = int(data["p"]), str(data["u"])
    except (signing.BadSignature, ValueError, KeyError, TypeError):
        raise ClickError("This link is not valid.") from None
    if urlsplit(url).scheme not in ("http", "https"):
        raise ClickError("This link is not valid.")
    return post_id, url


def is_own_link(url: str) -> bool:
    """Unsubscribe and preference links stay direct: one-click unsubscribe must not hang on a redirect."""
    paths = [
        reverse(name, args=["t"]).removesuffix("t/") for name in ("blog:unsubscribe", "blog:subscription_preferences")
    ]
    return url.startswith(tuple(settings.SITE_URL + path for path in paths))


def destination(url: str) -> str:
    """Where the redirect sends the reader: links to this site say they came by e-mail."""
    if not url.startswith(settings.SITE_URL + "/"):
        return url
    parts = urlsplit(url)
    query = f"{parts.query}&utm_medium=email" if parts.query else "utm_medium=email"
    return parts._replace(query=query).geturl()


def rewrite_links(post: Post, html: str, text: str) -> tuple[str, str]:
    """Send every web link of a post's e-mail (HTML and plain text) through the click redirect."""
    return _rewrite(html, text, lambda url: post)


def rewrite_digest_links(posts: list[Post], html: str, text: str) -> tuple[str, str]:
    """In a digest, the links to each post count for that post; other links stay direct."""
    by_url = {absolute(post.get_absolute_url()): post for post in posts}
    return _rewrite(html, text, lambda url: by_url.get(url.split("#", 1)[0].split("?", 1)[0]))


def _rewrite(html: str, text: str, post_for: Callable[[str], Post | None]) -> tuple[str, str]:
    if not settings.NEWSLETTER_CLICK_COUNTING:
        return html, text

    def swap(url: str) -> str:
        post = None if is_own_link(url) else post_for(url)
        return click_url(post, url) if post else url

    def swap_html(match: re.Match[str]) -> str:
        url = match.group(2).replace("&amp;", "&")
        return match.group(1) + swap(url).replace("&", "&amp;") + match.group(3)

    return _HTML_LINK.sub(swap_html, html), _TEXT_LINK.sub(lambda match: swap(match.group(0)), text)


def record_click(post_id: int, url: str) -> None:
    """One more click on this link of this post."""
    if LinkClick.objects.filter(post_id=post_id, url=url).update(clicks=F("clicks") + 1):
        return
    try:
        with transaction.atomic():
            LinkClick.objects.create(post_id=post_id, url=url, clicks=1)
    except IntegrityError:  # a concurrent first click created it
        LinkClick.objects.filter(post_id=post_id, url=url).update(clicks=F("clicks") + 1)
