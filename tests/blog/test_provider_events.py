"""E-mail providers' reports in: each provider's documented bounce and
complaint, posted to the anymail endpoint as the provider posts it, suppress
the subscriber exactly as an SMTP 5xx does; requests anymail does not trust
change nothing. Samples and their origins: tests/fixtures/provider_events/."""

import base64
import hashlib
import hmac
import json
from pathlib import Path

import pytest

from blog.models import ProviderEvent, Subscriber
from tests.factories import make_post, make_subscribers, publish

SAMPLES = Path(__file__).resolve().parent.parent / "fixtures" / "provider_events"
SECRET = "anymail-user:a-long-webhook-password"
MAILGUN_KEY = "mailgun-test-signing-key"


@pytest.fixture(autouse=True)
def _anymail(settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": [SECRET], "MAILGUN_WEBHOOK_SIGNING_KEY": MAILGUN_KEY}


def sample(name: str):
    return json.loads((SAMPLES / name).read_text())


def auth(secret: str = SECRET) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(secret.encode()).decode()}


def post_ses(client, ses_event: dict, **headers):
    """SES reaches us through SNS: the event is the envelope's Message, posted as text/plain."""
    envelope = {
        "Type": "Notification", "MessageId": "19ba9823-d7f2-53c1-860e-cb10e0d13dfc",
        "TopicArn": "arn:aws:sns:us-east-1:1234567890:SES_Events", "Message": json.dumps(ses_event),
        "Timestamp": "2018-03-26T17:58:59.675Z", "SignatureVersion": "1", "Signature": "EXAMPLE-SIGNATURE==",
    }  # fmt: skip
    return client.post(
        "/api/anymail/amazon_ses/tracking/", json.dumps(envelope), content_type="text/plain; charset=UTF-8",
        headers={"x-amz-sns-message-type": "Notification", "x-amz-sns-message-id": envelope["MessageId"],
                 **auth(), **headers},
    )  # fmt: skip


def post_json(client, provider: str, payload, **headers):
    return client.post(
        f"/api/anymail/{provider}/tracking/", json.dumps(payload), content_type="application/json",
        headers={**auth(), **headers},
    )  # fmt: skip


def mailgun_signed(payload: dict, key: str = MAILGUN_KEY) -> dict:
    """Sign as Mailgun does: HMAC-SHA256 of timestamp + token with the webhook signing key."""
    signature = payload["signature"]
    message = f"{signature['timestamp']}{signature['token']}".encode()
    signature["signature"] = hmac.new(key.encode(), message, hashlib.sha256).hexdigest()
    return payload


def subscriber(email: str, status: str = "active") -> Subscriber:
    return Subscriber.objects.create(email=email, status=status)


def status_of(email: str) -> str:
    return Subscriber.objects.get(email__iexact=email).status


CASES = [
    ("amazon_ses", "amazon_ses_bounce.json", "jane@example.com", "bounced"),
    ("amazon_ses", "amazon_ses_complaint.json", "richard@example.com", "complained"),
    ("postmark", "postmark_bounce.json", "bounce@example.com", "bounced"),
    ("postmark", "postmark_spam_complaint.json", "spam@example.com", "complained"),
    ("postmark", "postmark_unsubscribe.json", "john@example.com", "unsubscribed"),
    ("mailgun", "mailgun_failed_permanent.json", "invalid@example.com", "bounced"),
    ("mailgun", "mailgun_complained.json", "recipient@example.com", "complained"),
    ("sendgrid", "sendgrid_bounce.json", "example@test.com", "bounced"),
    ("sendgrid", "sendgrid_spamreport.json", "example@test.com", "complained"),
    ("brevo", "brevo_hard_bounce.json", "not-a-user@example.com", "bounced"),
    ("brevo", "brevo_complaint.json", "example@domain.com", "complained"),
]


def send(client, provider: str, name: str):
    payload = sample(name)
    if provider == "amazon_ses":
        return post_ses(client, payload)
    if provider == "mailgun":
        payload = mailgun_signed(payload)
    return post_json(client, provider, payload)


@pytest.mark.parametrize(("provider", "name", "email", "status"), CASES)
def test_each_providers_sample_suppresses_the_subscriber(client, db, provider, name, email, status) -> None:
    subscriber(email.upper())  # addresses match whatever their case
    bystander = subscriber("someone-else@example.org")
    response = send(client, provider, name)
    assert response.status_code == 200, response.content
    assert status_of(email) == status
    assert status_of(bystander.email) == "active"
    event = ProviderEvent.objects.get()
    assert (event.provider, event.recipient.lower()) == (provider, email)


@pytest.mark.parametrize(
    ("provider", "name", "email"),
    [("amazon_ses", "amazon_ses_transient_bounce.json", "mary@example.com"),
     ("brevo", "brevo_soft_bounce.json", "recipient@no-mx.example.com")],
)  # fmt: skip
def test_a_soft_bounce_suppresses_nobody(client, db, provider, name, email) -> None:
    subscriber(email)
    assert send(client, provider, name).status_code == 200
    assert status_of(email) == "active"
    assert not ProviderEvent.objects.exists()


def test_a_complaint_overrides_an_earlier_bounce_but_a_bounce_never_undoes_a_complaint(client, db) -> None:
    subscriber("example@test.com", status="bounced")
    send(client, "sendgrid", "sendgrid_spamreport.json")
    assert status_of("example@test.com") == "complained"
    send(client, "sendgrid", "sendgrid_bounce.json")
    assert status_of("example@test.com") == "complained"


def test_the_wrong_basic_auth_is_refused_and_changes_nothing(client, db) -> None:
    subscriber("bounce@example.com")
    response = client.post(
        "/api/anymail/postmark/tracking/", json.dumps(sample("postmark_bounce.json")),
        content_type="application/json", headers=auth("anymail-user:guessed"),
    )  # fmt: skip
    assert response.status_code == 400
    assert status_of("bounce@example.com") == "active"


def test_ses_without_credentials_is_asked_for_them_and_changes_nothing(client, db) -> None:
    subscriber("jane@example.com")
    response = post_ses(client, sample("amazon_ses_bounce.json"), Authorization="")
    assert response.status_code == 401
    assert status_of("jane@example.com") == "active"


def test_a_mailgun_event_with_a_forged_signature_is_refused(client, db) -> None:
    subscriber("invalid@example.com")
    payload = mailgun_signed(sample("mailgun_failed_permanent.json"), key="not-the-signing-key")
    assert post_json(client, "mailgun", payload).status_code == 400
    assert status_of("invalid@example.com") == "active"


def test_without_a_webhook_secret_the_endpoints_are_not_there(client, db, settings) -> None:
    settings.ANYMAIL = {}
    subscriber("bounce@example.com")
    assert post_json(client, "postmark", sample("postmark_bounce.json")).status_code == 404
    assert status_of("bounce@example.com") == "active"


def test_only_tracking_endpoints_are_served(client, db) -> None:
    assert client.post("/api/anymail/postmark/inbound/", "{}", content_type="application/json").status_code == 404


def test_the_send_page_lists_what_the_provider_reported(client, ada, sam, django_capture_on_commit_callbacks) -> None:
    post = make_post(ada, status="draft")
    made = make_subscribers(active=1)
    Subscriber.objects.filter(pk=made["active"][0].pk).update(email="bounce@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        publish(post)
    send(client, "postmark", "postmark_bounce.json")
    client.force_login(ada)
    page = client.get(f"/write/{post.pk}/send/").content.decode()
    assert "Reported by the e-mail provider" in page
    assert "b…@example.com" in page and "bounce@example.com" not in page  # an author sees addresses masked
    client.force_login(sam)
    assert "bounce@example.com" in client.get(f"/write/{post.pk}/send/").content.decode()
