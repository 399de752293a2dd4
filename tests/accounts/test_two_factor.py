"""Two-factor sign-in (allauth's MFA): an authenticator app and recovery codes."""

import re

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value, yield_hotp_counters_from_time

from accounts.roles import AUTHORS
from tests.factories import make_user

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-pass-phrase"


def current_code(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, next(yield_hotp_counters_from_time())))


def log_in(client, email: str):
    return client.post("/accounts/login/", {"login": email, "password": PASSWORD})


def turn_on_totp(client, email: str) -> str:
    log_in(client, email)
    client.post("/accounts/reauthenticate/", {"password": PASSWORD})  # allauth asks again before a change
    page = client.get("/accounts/2fa/totp/activate/").content.decode()
    assert 'src="data:image/svg+xml' in page  # the QR code
    secret = re.search(r'id="authenticator_secret"[^>]*value="([A-Z2-7]+)"', page).group(1)
    response = client.post("/accounts/2fa/totp/activate/", {"code": current_code(secret)})
    assert response.status_code == 302
    return secret


def test_an_author_turns_on_an_authenticator_app_and_then_needs_it_to_sign_in(client) -> None:
    ada = make_user("ada", role=AUTHORS)
    secret = turn_on_totp(client, ada.email)
    assert Authenticator.objects.filter(user=ada, type="totp").exists()
    assert Authenticator.objects.filter(user=ada, type="recovery_codes").exists()
    client.post("/accounts/logout/")
    response = log_in(client, ada.email)
    assert response.url == "/accounts/2fa/authenticate/"
    assert "_auth_user_id" not in client.session
    assert "Incorrect code" in client.post("/accounts/2fa/authenticate/", {"code": "000000"}).content.decode()
    client.post("/accounts/2fa/authenticate/", {"code": current_code(secret)})
    assert client.session["_auth_user_id"] == str(ada.pk)


def test_a_recovery_code_signs_in_once(client) -> None:
    ada = make_user("ada", role=AUTHORS)
    turn_on_totp(client, ada.email)
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

    code = RecoveryCodes(Authenticator.objects.get(user=ada, type="recovery_codes")).get_unused_codes()[0]
    client.post("/accounts/logout/")
    log_in(client, ada.email)
    client.post("/accounts/2fa/authenticate/", {"code": code})
    assert client.session["_auth_user_id"] == str(ada.pk)
    client.post("/accounts/logout/")
    log_in(client, ada.email)
    client.post("/accounts/2fa/authenticate/", {"code": code})
    assert "_auth_user_id" not in client.session


def test_the_profile_page_offers_two_factor(client) -> None:
    client.force_login(make_user("ada", role=AUTHORS))
    assert 'href="/accounts/2fa/"' in client.get("/settings/profile/").content.decode()


@pytest.fixture
def required(settings):
    settings.MFA_REQUIRED_FOR_STAFF = True


def test_staff_must_set_up_two_factor_before_anything_else(client, required) -> None:
    sam = make_user("sam", is_staff=True, is_superuser=True)
    client.force_login(sam)
    for path in ("/admin/", "/moderation/", "/write/"):
        response = client.get(path)
        assert response.status_code == 302 and response.url == "/accounts/2fa/totp/activate/", path
    assert client.get("/accounts/2fa/").status_code == 200  # setting it up stays open


def test_staff_with_two_factor_get_in(client, required) -> None:
    sam = make_user("sam", is_staff=True, is_superuser=True)
    turn_on_totp(client, sam.email)
    assert client.get("/admin/").status_code == 200


def test_readers_are_not_asked_for_two_factor(client, required) -> None:
    client.force_login(make_user("rosa"))
    assert client.get("/settings/profile/").status_code == 200


def test_without_the_setting_staff_are_not_stopped(client, settings) -> None:
    settings.MFA_REQUIRED_FOR_STAFF = False
    client.force_login(make_user("sam", is_staff=True, is_superuser=True))
    assert client.get("/admin/").status_code == 200
