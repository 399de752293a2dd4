"""allauth's account e-mails (verification, password reset, ...) in the
site's name, address and e-mail look, built by the site's one e-mail builder
(blog/shared/emails.py) and sent by a worker (settings.ACCOUNT_ADAPTER).

It lives in blog, not accounts, because it needs the site settings and the
e-mail builder, and accounts never imports blog.

They are transactional: no List-Unsubscribe, and never mixed with the
newsletter. Their links are made with the one absolute-URL helper, so they
name SITE_URL like every other e-mail."""

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.http import HttpRequest

from accounts.client_ip import client_ip
from blog.shared import emails, sitesettings
from blog.shared.site import absolute
from blog.tasks import send_account_email


@dataclass(frozen=True)
class SiteIdentity:
    """What allauth's templates read as `current_site`, taken from the settings rather than the request."""

    name: str
    domain: str


def current_site() -> SiteIdentity:
    return SiteIdentity(sitesettings.current().name, urlsplit(settings.SITE_URL).netloc)


def on_site(url: str) -> str:
    """A link allauth made from the request's host, moved to SITE_URL."""
    parts = urlsplit(url)
    return absolute(urlunsplit(("", "", parts.path, parts.query, parts.fragment)))


def site_context(context: dict[str, Any]) -> dict[str, Any]:
    """allauth's context with the site from the settings and every link (`*_url`) on SITE_URL."""
    links = {key: on_site(value) for key, value in context.items() if key.endswith("_url") and isinstance(value, str)}
    return {**context, "current_site": current_site(), **links}


class AccountAdapter(DefaultAccountAdapter):  # type: ignore[misc]  # allauth ships no type information
    def format_email_subject(self, subject: str) -> str:
        return f"[{sitesettings.current().name}] {subject}"

    def render_mail(
        self, template_prefix: str, email: str | list[str], context: dict[str, Any],
        headers: dict[str, str] | None = None,
    ) -> emails.Message:  # fmt: skip
        rendered = self.render(template_prefix, site_context({"email": email, **context}))
        to = email if isinstance(email, str) else email[0]
        return emails.compose(rendered, to, headers=headers)

    def render(self, template_prefix: str, context: dict[str, Any]) -> emails.Rendered:
        rendered = emails.render_templates(
            f"{template_prefix}_subject.txt",
            f"{template_prefix}_message.txt",
            [f"{template_prefix}_message.html", "account/email/base_message.html"],
            context,
        )
        return emails.Rendered(self.format_email_subject(rendered.subject), rendered.text.strip(), rendered.html)

    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        # Rendered here, sent by a Celery worker, so a slow SMTP server never
        # holds up a sign-up request and the worker needs no request.
        rendered = self.render(template_prefix, site_context({"email": email, **context}))
        send_account_email.delay_on_commit(rendered.subject, rendered.text, rendered.html, email)

    def get_client_ip(self, request: HttpRequest) -> str:
        # The same address our own limits use: behind the proxy, REMOTE_ADDR
        # is the proxy's for everyone, and one script would lock all out.
        return client_ip(request) or super().get_client_ip(request)
