"""allauth's log-in limits count each visitor behind the proxy, not the proxy."""

import pytest

from tests.factories import make_user

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-pass-phrase"


LOCKED_OUT = "Too many failed login attempts"


def fail_logins(client, times: int, forwarded_for: str) -> None:
    # A different login each time: allauth also counts failures per login (5 in 5 minutes).
    for _ in range(times):
        fail_logins.count = getattr(fail_logins, "count", 0) + 1
        client.post(
            "/accounts/login/",
            {"login": f"nobody{fail_logins.count}@example.com", "password": "wrong"},
            HTTP_X_FORWARDED_FOR=forwarded_for,
        )


def log_in(client, email: str, forwarded_for: str):
    return client.post("/accounts/login/", {"login": email, "password": PASSWORD}, HTTP_X_FORWARDED_FOR=forwarded_for)


@pytest.fixture
def behind_proxy(settings):
    settings.TRUSTED_PROXY_COUNT = 1


def test_a_script_failing_log_ins_does_not_lock_out_other_visitors(client, behind_proxy):
    make_user("grace")
    fail_logins(client, 12, "203.0.113.5")
    response = log_in(client, "grace@example.com", "198.51.100.7")
    assert response.status_code == 302
    assert response.url == "/"


def test_the_script_itself_is_locked_out(client, behind_proxy):
    make_user("grace")
    fail_logins(client, 10, "203.0.113.5")
    response = log_in(client, "grace@example.com", "203.0.113.5")
    assert LOCKED_OUT in response.text


def test_a_forged_forwarded_for_entry_does_not_dodge_the_limit(client, behind_proxy):
    make_user("grace")
    for n in range(10):
        # The visitor writes any first entry it likes; our proxy appends the real one last.
        fail_logins(client, 1, f"10.9.9.{n}, 203.0.113.5")
    assert LOCKED_OUT in log_in(client, "grace@example.com", "1.1.1.1, 203.0.113.5").text


def test_without_a_trusted_proxy_the_header_is_ignored(client, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    make_user("grace")
    for n in range(10):
        fail_logins(client, 1, f"10.9.9.{n}")
    assert LOCKED_OUT in log_in(client, "grace@example.com", "198.51.100.7").text


def test_allauth_takes_its_client_address_from_our_rule(rf, settings):
    from allauth.account.adapter import get_adapter

    settings.TRUSTED_PROXY_COUNT = 1
    request = rf.get("/", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7", REMOTE_ADDR="127.0.0.1")
    assert get_adapter(request).get_client_ip(request) == "203.0.113.7"


def test_no_made_up_allauth_setting_is_left_in_settings():
    from django.conf import settings

    assert not hasattr(settings, "ACCOUNT_RATE_LIMITS_ENABLED")
