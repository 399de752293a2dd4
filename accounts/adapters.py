from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest

from accounts.client_ip import client_ip
from accounts.tasks import send_account_email


class AccountAdapter(DefaultAccountAdapter):
    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        # Every email leaves through a Celery worker, so a slow SMTP server
        # never holds up a sign-up request.
        message = self.render_mail(template_prefix, email, context)
        html = next((c for c, mimetype in getattr(message, "alternatives", []) if mimetype == "text/html"), None)
        send_account_email.delay_on_commit(message.subject, message.body, message.from_email, message.to, html)

    def get_client_ip(self, request: HttpRequest) -> str:
        # The same address our own limits use: behind the proxy, REMOTE_ADDR
        # is the proxy's for everyone, and one script would lock all out.
        return client_ip(request) or super().get_client_ip(request)
