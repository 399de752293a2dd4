"""Every e-mail the site sends is built here, one way.

`render` turns a template name and a context into a subject, a plain-text
part and an HTML part in the site's e-mail look (templates/emails/
_email_base.html, CSS inlined), given the site's name, address and postal
address; `compose` addresses it, with the RFC 8058 one-click unsubscribe
headers when there is something to unsubscribe from; `build_message` does
both. allauth's account e-mails (blog/accountmail.py) go through
`render_templates` and `compose` too, without unsubscribe headers: they are
transactional. The headers are never folded into RFC 2047
encoded words, which mail providers do not read as a URL.

What only the newsletter needs (rendering a post or digest once for all its
subscribers, each subscriber's links, the prepared bytes of the fast path)
is blog/newsletter/emails.py.
"""

import email.policy
from dataclasses import dataclass
from email.message import EmailMessage
from email.message import Message as MIMEMessage
from email.policy import Policy
from typing import Any

import css_inline
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string, select_template

from blog.shared import sitesettings
from blog.shared.site import identity

ONE_CLICK = "List-Unsubscribe=One-Click"
# Styles go inline (mail clients drop <style> or parts of it); the dark-scheme
# @media block cannot, so it stays in a <style> for the clients that honour it.
INLINER = css_inline.CSSInliner(keep_at_rules=True)


class Message(EmailMultiAlternatives):
    """Headers longer than 78 characters stay whole (up to 990, inside RFC 5322's
    998 even after SMTP dot-stuffing).

    Python folds a long header with no spaces in it, such as List-Unsubscribe's
    URL, into RFC 2047 encoded words, which mail providers do not read as a URL."""

    def message(self, *, policy: "Policy[MIMEMessage[str, str]] | None" = None) -> EmailMessage:
        policy = policy or email.policy.default
        return super().message(policy=policy.clone(max_line_length=990))


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str

    def with_links(self, links: dict[str, str]) -> "Rendered":
        """This message with each placeholder (a key of `links`) replaced by its URL."""

        def fill(text: str) -> str:
            for placeholder, url in links.items():
                text = text.replace(placeholder, url)
            return text

        return Rendered(self.subject, fill(self.text), fill(self.html))


def render(template: str, context: dict[str, Any]) -> Rendered:
    """Render emails/<template>-subject.txt, -body.txt and -body.html (CSS inlined)."""
    return render_templates(
        f"emails/{template}-subject.txt", f"emails/{template}-body.txt", [f"emails/{template}-body.html"], context
    )


def render_templates(subject: str, text: str, html: list[str], context: dict[str, Any]) -> Rendered:
    """Render a subject, a plain-text part and the first of `html` that exists, with the site's context.

    The HTML template gets the rendered plain text as `text_body`, for messages
    with no design of their own."""
    context = {**identity(), **context}
    subject_line = " ".join(render_to_string(subject, context).split())
    text_body = render_to_string(text, context)
    html_body = INLINER.inline(select_template(html).render({**context, "text_body": text_body.strip()}))
    return Rendered(subject_line, text_body, html_body)


def compose(
    rendered: Rendered, to: str, *, unsubscribe_url: str | None = None, headers: dict[str, str] | None = None,
    reply_to: list[str] | None = None,
) -> Message:  # fmt: skip
    """Address a rendered e-mail. With `unsubscribe_url`, the RFC 8058 one-click headers point to it."""
    headers = dict(headers or {})
    if unsubscribe_url:
        headers["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        headers["List-Unsubscribe-Post"] = ONE_CLICK
    message = Message(
        subject=rendered.subject,
        body=rendered.text,
        from_email=sitesettings.from_email(),
        to=[to],
        reply_to=reply_to,
        headers=headers,
    )
    message.attach_alternative(rendered.html, "text/html")
    return message


def build_message(
    template: str, to: str, context: dict[str, Any], *, unsubscribe_url: str | None = None,
    headers: dict[str, str] | None = None,
) -> Message:  # fmt: skip
    """The one way to make an e-mail: render `template` with `context`, then address it to `to`."""
    return compose(render(template, context), to, unsubscribe_url=unsubscribe_url, headers=headers)
