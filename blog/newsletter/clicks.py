"""Clicks on newsletter links, counted through a signed redirect on the site.

Each link in a post's e-mail is rewritten to /r/<token>/, where the token is
the post and the link's address signed with the secret key. The redirect
sends the reader only to an address that was signed, so it can never be used
to send anyone anywhere else, and a changed token is refused. With
NEWSLETTER_CLICK_COUNTING off, links are left as they are. No open-tracking
pixel: mail clients fetch images by themselves, so open rates mislead.

A token never expires (an e-mail in an archive keeps working), so it only
redirects while it can have come from a real newsletter: its post is live and
went out to subscribers (a send, or a digest). A test e-mail's links, a
draft's or an unpublished post's, lead nowhere: a signed address on this
site's domain must not become a permanent open redirect.

A click counts once per visitor, post, link and day. The visitor is a keyed
hash of the address, the link and the day, under a random salt that lives in
the shared cache for two days and is never written down, so no address is
kept and yesterday's hashes cannot be linked to anyone.
"""

import hashlib
import re
import secrets
from collections.abc import Callable
from datetime import date
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from blog.models import Digest, LinkClick, Post, Send
from blog.shared.ratelimits import client_ip
from blog.shared.site import absolute

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


def went_out(post_id: int) -> bool:
    """Whether this post's links can have reached subscribers: it is live and
    was sent, on its own or in a digest. Test e-mails and drafts never were."""
    live = Post.objects.published().filter(pk=post_id)
    sent = Send.objects.filter(post_id=post_id).exists() or Digest.objects.filter(posts=post_id).exists()
    return sent and live.exists()


def _daily_salt(day: date) -> str:
    """A random salt for the day, shared by every process through the cache and
    forgotten after two days (never derived from a key that outlives it)."""
    key = f"clicks:salt:{day.isoformat()}"
    cache.add(key, secrets.token_hex(16), timeout=2 * 86400)
    return cache.get(key) or ""


def first_click_today(request: HttpRequest, post_id: int, url: str) -> bool:
    """True the first time today this visitor (their address) follows this link."""
    day = timezone.localdate()
    salt = _daily_salt(day)
    visitor = hashlib.sha256(f"{salt}|{client_ip(request)}|{post_id}|{url}".encode()).hexdigest()
    return bool(salt) and cache.add(f"clicks:seen:{day.isoformat()}:{visitor}", 1, timeout=86400 + 3600)


def record_click(post_id: int, url: str) -> None:
    """One more click on this link of this post."""
    if LinkClick.objects.filter(post_id=post_id, url=url).update(clicks=F("clicks") + 1):
        return
    try:
        with transaction.atomic():
            LinkClick.objects.create(post_id=post_id, url=url, clicks=1)
    except IntegrityError:  # a concurrent first click created it
        LinkClick.objects.filter(post_id=post_id, url=url).update(clicks=F("clicks") + 1)
