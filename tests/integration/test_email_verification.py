import re

import pytest
from allauth.account.models import EmailAddress

pytestmark = pytest.mark.integration


def test_verification_email_reaches_the_smtp_sink_through_the_worker(client, celery_worker_process, smtp_sink):
    response = client.post(
        "/accounts/signup/",
        {
            "email": "grace@example.com",
            "username": "grace",
            "password1": "a-long-pass-phrase",
            "password2": "a-long-pass-phrase",
        },
    )
    assert response.status_code == 302

    [received] = smtp_sink.wait_for(1)
    assert received.recipients == ["grace@example.com"]
    assert "Confirm" in received["Subject"] or "confirm" in received["Subject"]
    body = received.message.get_payload(decode=True) or received.message.get_payload(0).get_payload(decode=True)
    link = re.search(r"http://127\.0\.0\.1:8000(/accounts/confirm-email/\S+/)", body.decode())  # SITE_URL
    assert link, body

    confirm_page = client.get(link.group(1))
    assert confirm_page.status_code == 200
    client.post(link.group(1))
    assert EmailAddress.objects.get(email="grace@example.com").verified
