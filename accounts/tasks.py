"""Celery tasks of accounts: sending allauth's e-mails, rendered by the web process."""

import smtplib

from celery import shared_task
from celery.contrib.django.task import DjangoTask

from blog import emails


@shared_task(
    base=DjangoTask,
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=6,
)
def send_account_email(subject: str, text: str, html: str, to: str) -> None:
    """Send one transactional message (verification, password reset).

    The message is rendered by the web process and passed whole, so a worker
    never needs the user's session or request to build it."""
    emails.compose(emails.Rendered(subject, text, html), to).send()
