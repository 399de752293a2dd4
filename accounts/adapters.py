"""allauth's account e-mails (verification, password reset, ...) in the
site's name, address and e-mail look, built by the site's one e-mail builder
(blog/emails.py) and sent by a worker.

They are transactional: no List-Unsubscribe, and never mixed with the
newsletter. Their links are made with the one absolute-URL helper, so they
name SITE_URL like every other e-mail."""

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.models import EmailConfirmation
from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse

from accounts.tasks import send_account_email
from blog import emails
from blog.site import absolute


@dataclass(frozen=True)
class SiteIdentity:
    """What allauth's templates read as `current_site`, taken from the settings rather than the request."""

    name: str
    domain: str


def current_site() -> SiteIdentity:
    return SiteIdentity(settings.SITE_NAME, urlsplit(settings.SITE_URL).netloc)


class AccountAdapter(DefaultAccountAdapter):
    def format_email_subject(self, subject: str) -> str:
        return f"[{settings.SITE_NAME}] {subject}"

    def get_email_confirmation_url(self, request: HttpRequest | None, emailconfirmation: EmailConfirmation) -> str:
        return absolute(reverse("account_confirm_email", args=[emailconfirmation.key]))

    def get_reset_password_from_key_url(self, key: str) -> str:
        path = reverse("account_reset_password_from_key", kwargs={"uidb36": "UID", "key": "KEY"})
        return absolute(path.replace("UID-KEY", quote(key)))

    def render_mail(
        self, template_prefix: str, email: str | list[str], context: dict[str, Any],
        headers: dict[str, str] | None = None,
    ) -> emails.Message:  # fmt: skip
        rendered = self.render(template_prefix, {"email": email, "current_site": current_site(), **context})
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
        rendered = self.render(template_prefix, {"email": email, "current_site": current_site(), **context})
        send_account_email.delay_on_commit(rendered.subject, rendered.text, rendered.html, email)
