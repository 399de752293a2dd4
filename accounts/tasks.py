import smtplib

from celery import shared_task
from django.core.mail import EmailMultiAlternatives


@shared_task(
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=6,
)
def send_account_email(subject: str, body: str, from_email: str, to: list[str], html: str | None = None) -> None:
    """Send one transactional message (verification, password reset).

    The message is rendered by the web process and passed whole, so a worker
    never needs the user's session or request to build it."""
    message = EmailMultiAlternatives(subject, body, from_email, to)
    if html:
        message.attach_alternative(html, "text/html")
    message.send()
