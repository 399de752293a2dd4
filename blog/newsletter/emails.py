"""The newsletter's e-mails, built with the site's one builder (blog/shared/emails.py).

A newsletter is rendered once per post (or digest) with placeholders for the
links that differ per subscriber; each subscriber's copy only swaps those in
(`Rendered.with_links`), or, on the fast path, is a join of prepared bytes
(`Prepared`). The double opt-in and welcome e-mails carry a subscriber's own
unsubscribe link too.
"""

import binascii
import email.policy
import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.urls import reverse

from blog.models import Digest, NewsletterSettings, Post, Subscriber
from blog.newsletter import clicks
from blog.newsletter.subscriptions import confirm_token, like_token, manage_token
from blog.shared import sitesettings
from blog.shared.emails import Message, Rendered, build_message, compose, render
from blog.shared.rendering import plain_text, render_markdown
from blog.shared.site import absolute, absolutise, hostname

UNSUBSCRIBE = "%%UNSUBSCRIBE_URL%%"
PREFERENCES = "%%PREFERENCES_URL%%"
LIKE = "%%LIKE_URL%%"


# --- The newsletter -------------------------------------------------------------


def _newsletter_context(context: dict[str, Any]) -> dict[str, Any]:
    return {**context, "unsubscribe_url": UNSUBSCRIBE, "preferences_url": PREFERENCES}


def render_post(post: Post) -> Rendered:
    """A post's e-mail, shared by all its subscribers (their links are placeholders).

    The text part is the rendered post as plain text (footnotes as [1], links
    as URLs), not its Markdown source."""
    url = absolute(post.get_absolute_url())
    context = {
        "post": post, "post_url": url, "like_url": LIKE, "cover_url": absolute(post.cover.url) if post.cover else "",
        "body_html": absolutise(post.body_html, url), "body_text": plain_text(post.body_html, settings.SITE_URL),
    }  # fmt: skip
    rendered = render("post", _newsletter_context(context))
    html, text = clicks.rewrite_links(post, rendered.html, rendered.text)  # counted per post and link
    return Rendered(rendered.subject, text, html)


def test_message(post: Post, to: str) -> Message:
    """The post's e-mail as subscribers will get it, to its author only, marked as a test.

    Its links lead to the post and the site instead of anyone's preferences."""
    url = absolute(post.get_absolute_url())
    rendered = render_post(post).with_links(
        {UNSUBSCRIBE: settings.SITE_URL + "/", PREFERENCES: settings.SITE_URL + "/", LIKE: url + "#engagement-top"}
    )
    return compose(Rendered(f"[Test] {rendered.subject}", rendered.text, rendered.html), to)


def like_url(post: Post, subscriber: Subscriber) -> str:
    return absolute(reverse("blog:like_from_email", args=[post.slug, like_token(post, subscriber)]))


def render_digest(digest: Digest) -> Rendered:
    posts = list(digest.posts.select_related("author").order_by("-published_at"))
    items = [(post, absolute(post.get_absolute_url())) for post in posts]
    daily = digest.period.startswith("daily")
    rendered = render("digest", _newsletter_context({"items": items, "daily": daily, "count": len(posts)}))
    html, text = clicks.rewrite_digest_links(posts, rendered.html, rendered.text)
    return Rendered(rendered.subject, text, html)


_SIGNED_MARK = "SIGNEDPART"  # reversed as it is, then cut out: the signed part is each address's last


class SubscriberLinks:
    """Subscribers' own unsubscribe and preferences links, by placeholder; for
    a post, also the link that likes it in one press.

    A send builds one of these per post and batch: the addresses are reversed
    once, and each subscriber's links only add their two signed tokens
    (reversing them for every copy took a fifth of a worker's time per copy)."""

    def __init__(self, post: Post | None = None) -> None:
        self.post = post
        self.unsubscribe = self._around_token("blog:unsubscribe")
        self.preferences = self._around_token("blog:subscription_preferences")
        self.like = self._around_token("blog:like_from_email", post.slug) if post is not None else None

    @staticmethod
    def _around_token(name: str, *args: str) -> tuple[str, str]:
        """The address without its token, as (before, after): `token.join()` fills it in."""
        before, after = absolute(reverse(name, args=[*args, _SIGNED_MARK])).rsplit(_SIGNED_MARK, 1)
        return before, after

    def __call__(self, subscriber: Subscriber) -> dict[str, str]:
        token = manage_token(subscriber)
        like = settings.SITE_URL + "/"
        if self.post is not None and self.like is not None:
            like = like_token(self.post, subscriber).join(self.like)
        return {UNSUBSCRIBE: token.join(self.unsubscribe), PREFERENCES: token.join(self.preferences), LIKE: like}


def subscriber_links(subscriber: Subscriber, post: Post | None = None) -> dict[str, str]:
    """One subscriber's links (see SubscriberLinks)."""
    return SubscriberLinks(post)(subscriber)


def newsletter_message(
    rendered: Rendered, subscriber: Subscriber, message_id: str, post: Post | None = None
) -> Message:
    """One subscriber's copy of a post or digest, with their own links
    (for a post, also the link that likes it in one press)."""
    links = subscriber_links(subscriber, post)
    return _newsletter(rendered.with_links(links), subscriber.email, links[UNSUBSCRIBE], message_id)


def _newsletter(rendered: Rendered, to: str, unsubscribe_url: str, message_id: str) -> Message:
    headers = {
        "Message-ID": message_id,
        "List-Id": f"{sitesettings.current().name} <newsletter.{hostname()}>",
        "Precedence": "bulk",
    }
    return compose(rendered, to, unsubscribe_url=unsubscribe_url, headers=headers, reply_to=sitesettings.reply_to())


# Where a prepared newsletter differs per subscriber (see Prepared).
_TO_MARK = "subscriber@recipient.invalid"
_MESSAGE_ID_MARK = "<message-id@recipient.invalid>"
_UNSUBSCRIBE_MARK = "https://recipient.invalid/unsubscribe"
_BODY_MARKS = ("PREPAREDTEXTBODY", "PREPAREDHTMLBODY")  # letters only: quoted-printable leaves them alone
_SOFT_BREAK = b"=\r\n"


def _quoted_printable(text: str) -> bytes:
    """Quoted-printable with CRLF line ends, ending in a soft line break so that pieces join into one body."""
    encoded = binascii.b2a_qp(text.replace("\r\n", "\n").encode(), istext=True)
    return encoded.replace(b"\n", b"\r\n") + _SOFT_BREAK


def _pieces(body: str) -> tuple[bytes | str, ...]:
    """A body cut at the subscriber's links: encoded text, a placeholder, encoded text...

    It ends with a line end, as the email package would give it."""
    body = body if body.endswith("\n") else body + "\n"
    parts = re.split(f"({re.escape(UNSUBSCRIBE)}|{re.escape(PREFERENCES)}|{re.escape(LIKE)})", body)
    return tuple(part if part in (UNSUBSCRIBE, PREFERENCES, LIKE) else _quoted_printable(part) for part in parts)


@dataclass(frozen=True)
class Prepared:
    """A newsletter as SMTP sends it, built once per post.

    Building a MIME message costs about 2 ms, and one subscriber's copy
    differs from the next only in its To, Message-ID and List-Unsubscribe
    headers and the two links in each body. So the message is built once with
    marks in those places and its bodies encoded as quoted-printable piece by
    piece (a soft line break ends each piece, so they join into one body);
    a copy is a join of bytes. It reads exactly as `newsletter_message` (a
    test compares them)."""

    skeleton: tuple[bytes, bytes, bytes]  # before the text body, between the bodies, after the HTML body
    bodies: tuple[tuple[bytes | str, ...], tuple[bytes | str, ...]]

    def for_subscriber(self, to: str, links: dict[str, str], message_id: str) -> bytes:
        if not to.isascii() or "\r" in to or "\n" in to:
            raise ValueError(f"Only plain ASCII addresses can be filled in: {to!r}")
        head = self.skeleton[0]
        for mark, value in ((_TO_MARK, to), (_MESSAGE_ID_MARK, message_id), (_UNSUBSCRIBE_MARK, links[UNSUBSCRIBE])):
            head = head.replace(mark.encode(), value.encode())
        out = [head]
        for body, after in zip(self.bodies, self.skeleton[1:], strict=True):
            out += [piece if isinstance(piece, bytes) else _quoted_printable(links[piece]) for piece in body]
            out.append(after)
        return b"".join(out)


def prepare_newsletter(rendered: Rendered) -> Prepared:
    """What every copy of a post's newsletter shares, as bytes (see Prepared)."""
    marked = Rendered(rendered.subject, *_BODY_MARKS)
    message = _newsletter(marked, _TO_MARK, _UNSUBSCRIBE_MARK, _MESSAGE_ID_MARK).message(policy=email.policy.SMTP)
    for part in message.iter_parts():
        content, subtype = part.get_content(), part.get_content_subtype()
        part.set_content(content, subtype=subtype, charset="utf-8", cte="quoted-printable")
    raw = message.as_bytes()
    cuts = []
    for mark in _BODY_MARKS:
        start = raw.index(mark.encode())
        end = start + len(mark) + 2  # and the line end the mark's body got: the last piece ends with a soft break
        assert raw[end - 2 : end] == b"\r\n", "a body mark must stand on its own line"
        cuts += [start, end]
    skeleton = (raw[: cuts[0]], raw[cuts[1] : cuts[2]], raw[cuts[3] :])
    return Prepared(skeleton, (_pieces(rendered.text), _pieces(rendered.html)))


def message_id_for(delivery_id: int) -> str:
    """The same delivery always gets the same Message-ID, so a copy repeated
    after a crash can be recognised as the same message."""
    return f"<dispatch.delivery.{delivery_id}@{hostname()}>"


def confirmation_message(subscriber: Subscriber) -> Message:
    """Double opt-in; its unsubscribe link lets someone who never asked say so at once."""
    links = subscriber_links(subscriber)
    context = {"confirm_url": absolute(reverse("blog:subscription_confirm", args=[confirm_token(subscriber)]))}
    return build_message("subscribe-confirm", subscriber.email, context, unsubscribe_url=links[UNSUBSCRIBE])


def welcome_message(subscriber: Subscriber, settings_row: NewsletterSettings) -> Message:
    """The welcome e-mail the desk wrote, to a subscriber who just confirmed."""
    links = subscriber_links(subscriber)
    name = sitesettings.current().name
    subject = settings_row.welcome_subject.replace("{site}", name)
    body = settings_row.welcome_body.replace("{site}", name)
    body_html = absolutise(render_markdown(body), settings.SITE_URL + "/")
    context = {"subject": subject, "body_html": body_html, "body_text": plain_text(body_html, settings.SITE_URL)}
    return compose(render("welcome", _newsletter_context(context)).with_links(links), subscriber.email,
                   unsubscribe_url=links[UNSUBSCRIBE])  # fmt: skip
