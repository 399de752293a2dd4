"""The newsletter emails: a post, a digest, and the subscription confirmation.

A post's email is rendered and its CSS inlined once per batch, with
placeholders for the links that differ per subscriber; each message then only
swaps those in. Every newsletter carries RFC 8058 one-click unsubscribe
headers and a visible unsubscribe link, preferences link and postal address."""

import email.policy
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import css_inline
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from blog.models import Digest, Post, Subscriber
from blog.subscriptions import confirm_token, manage_token

UNSUBSCRIBE = "%%UNSUBSCRIBE_URL%%"
PREFERENCES = "%%PREFERENCES_URL%%"
_RELATIVE_URL = re.compile(r'(src|href)="(/[^"]*|#[^"]*)"')


class NewsletterMessage(EmailMultiAlternatives):
    """Headers longer than 78 characters stay whole (up to 990, inside RFC 5322's
    998 even after SMTP dot-stuffing).

    Python folds a long header with no spaces in it, such as List-Unsubscribe's
    URL, into RFC 2047 encoded words, which mail providers do not read as a URL."""

    def message(self, *, policy=email.policy.default):
        return super().message(policy=policy.clone(max_line_length=990))


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def absolute(path: str) -> str:
    return settings.SITE_URL + path


def absolutise(html: str, page_url: str) -> str:
    """Images and links in an email must name the site: /media/x -> https://site/media/x."""

    def fix(match: re.Match) -> str:
        attribute, url = match.groups()
        return f'{attribute}="{page_url + url if url.startswith("#") else absolute(url)}"'

    return _RELATIVE_URL.sub(fix, html)


def _render(name: str, context: dict) -> Rendered:
    context = {
        **context,
        "SITE_NAME": settings.SITE_NAME,
        "SITE_URL": settings.SITE_URL,
        "postal_address": settings.POSTAL_ADDRESS,
        "unsubscribe_url": UNSUBSCRIBE,
        "preferences_url": PREFERENCES,
    }
    subject = " ".join(render_to_string(f"emails/{name}-subject.txt", context).split())
    text = render_to_string(f"emails/{name}-body.txt", context)
    html = css_inline.inline(render_to_string(f"emails/{name}-body.html", context))
    return Rendered(subject, text, html)


def render_post(post: Post) -> Rendered:
    url = absolute(post.get_absolute_url())
    return _render("post", {"post": post, "post_url": url, "body_html": absolutise(post.body_html, url)})


def render_digest(digest: Digest) -> Rendered:
    posts = list(digest.posts.select_related("author").order_by("-published_at"))
    items = [(post, absolute(post.get_absolute_url())) for post in posts]
    daily = digest.period.startswith("daily")
    return _render("digest", {"items": items, "daily": daily, "count": len(posts)})


def newsletter_message(rendered: Rendered, subscriber: Subscriber, message_id: str) -> EmailMultiAlternatives:
    """One subscriber's copy, with their own unsubscribe and preference links."""
    token = manage_token(subscriber)
    unsubscribe_url = absolute(reverse("blog:unsubscribe", args=[token]))
    preferences_url = absolute(reverse("blog:subscription_preferences", args=[token]))

    def personal(text: str) -> str:
        return text.replace(UNSUBSCRIBE, unsubscribe_url).replace(PREFERENCES, preferences_url)

    message = NewsletterMessage(
        subject=rendered.subject,
        body=personal(rendered.text),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[subscriber.email],
        reply_to=settings.EMAIL_REPLY_TO or None,
        headers={
            "Message-ID": message_id,
            "List-Unsubscribe": f"<{unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "List-Id": f"{settings.SITE_NAME} <newsletter.{urlsplit(settings.SITE_URL).hostname}>",
            "Precedence": "bulk",
        },
    )
    message.attach_alternative(personal(rendered.html), "text/html")
    return message


def message_id_for(delivery_id: int) -> str:
    """The same delivery always gets the same Message-ID, so a copy repeated
    after a crash can be recognised as the same message."""
    return f"<dispatch.delivery.{delivery_id}@{urlsplit(settings.SITE_URL).hostname or 'localhost'}>"


def confirmation_message(subscriber: Subscriber) -> EmailMultiAlternatives:
    link = absolute(reverse("blog:subscription_confirm", args=[confirm_token(subscriber)]))
    context = {"SITE_NAME": settings.SITE_NAME, "confirm_url": link, "postal_address": settings.POSTAL_ADDRESS}
    subject = " ".join(render_to_string("emails/subscribe-confirm-subject.txt", context).split())
    message = EmailMultiAlternatives(
        subject, render_to_string("emails/subscribe-confirm-body.txt", context), to=[subscriber.email]
    )
    message.attach_alternative(
        css_inline.inline(render_to_string("emails/subscribe-confirm-body.html", context)), "text/html"
    )
    return message
