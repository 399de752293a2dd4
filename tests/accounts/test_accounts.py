import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import User
from tests.factories import PASSWORD, make_post, make_user

pytestmark = pytest.mark.django_db


def sign_up(client, django_capture_on_commit_callbacks, email="grace@example.com", username="grace"):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(
            "/accounts/signup/", {"email": email, "username": username, "password1": PASSWORD, "password2": PASSWORD}
        )


def test_sign_up_sends_a_verification_link_that_verifies_the_address(client, django_capture_on_commit_callbacks):
    response = sign_up(client, django_capture_on_commit_callbacks)
    assert response.status_code == 302
    [message] = mail.outbox
    assert message.to == ["grace@example.com"]
    link = re.search(r"http://127\.0\.0\.1:8000(/accounts/confirm-email/\S+/)", message.body).group(1)  # SITE_URL
    assert not EmailAddress.objects.get(email="grace@example.com").verified
    assert client.get(link).status_code == 200  # a scanner following the link confirms nothing
    assert not EmailAddress.objects.get(email="grace@example.com").verified
    client.post(link)
    assert EmailAddress.objects.get(email="grace@example.com").verified


def test_log_in_waits_for_verification(client, django_capture_on_commit_callbacks):
    sign_up(client, django_capture_on_commit_callbacks)
    client.logout()
    response = client.post("/accounts/login/", {"login": "grace@example.com", "password": PASSWORD})
    assert response.url == "/accounts/confirm-email/"
    EmailAddress.objects.filter(email="grace@example.com").update(verified=True)
    response = client.post("/accounts/login/", {"login": "GRACE@example.com", "password": PASSWORD})
    assert response.url == "/"


def test_an_address_taken_in_another_case_makes_no_second_account(client, django_capture_on_commit_callbacks):
    make_user("first")
    sign_up(client, django_capture_on_commit_callbacks, email="FIRST@Example.com", username="second")
    # allauth answers as for a new address (nobody learns who has an account) and warns the owner.
    assert User.objects.count() == 1
    [message] = mail.outbox
    assert message.to == ["first@example.com"]


@pytest.mark.parametrize("handle", ["has space", "slash/y", "dots.in.it"])
def test_a_handle_unfit_for_a_url_is_refused(client, django_capture_on_commit_callbacks, handle):
    response = sign_up(client, django_capture_on_commit_callbacks, username=handle)
    assert "Use only letters, digits, underscores and hyphens." in response.content.decode()
    assert not User.objects.exists()


def test_profile_page_lists_published_posts(client):
    ada = make_user("ada", display_name="Ada Whitlock", bio="Ports and budgets.")
    make_post(ada, "On the record")
    page = client.get("/@ada/").content.decode()
    assert "Ada Whitlock" in page and "Ports and budgets." in page and "On the record" in page
    assert client.get("/@nobody/").status_code == 404


def test_profile_address_is_case_insensitive_and_canonical(client):
    make_user("ada")
    response = client.get("/@ADA/")
    assert response.status_code == 301 and response.url == "/@ada/"


def test_profile_edit_saves_name_and_bio(client):
    ada = make_user("ada")
    assert client.get("/settings/profile/").status_code == 302
    client.force_login(ada)
    client.post("/settings/profile/", {"display_name": "Ada W.", "bio": "Writes."})
    ada.refresh_from_db()
    assert (ada.display_name, ada.bio) == ("Ada W.", "Writes.")


def test_profile_edit_refuses_an_avatar_that_is_not_an_image(client):
    ada = make_user("ada")
    client.force_login(ada)
    fake = SimpleUploadedFile("me.png", b"not an image", content_type="image/png")
    response = client.post("/settings/profile/", {"display_name": "Changed", "bio": "", "avatar": fake})
    assert "Upload a valid image" in response.content.decode()
    ada.refresh_from_db()
    assert ada.display_name == "" and not ada.avatar


def test_password_reset_sends_a_link(client, django_capture_on_commit_callbacks):
    make_user("ada")
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/password/reset/", {"email": "ada@example.com"})
    [message] = mail.outbox
    assert message.to == ["ada@example.com"]
    assert "/accounts/password/reset/key/" in message.body


def test_the_admin_signs_in_through_the_rate_limited_log_in(client, settings):
    staff = make_user("sam", is_staff=True, is_superuser=True)
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302 and response.url.startswith("/accounts/login/?next=")
    # The admin's own form no longer takes a password.
    client.post("/admin/login/", {"username": "sam", "password": PASSWORD})
    assert "_auth_user_id" not in client.session
    # Wrong passwords on the real log-in run into allauth's limit.
    pages = [client.post("/accounts/login/", {"login": staff.email, "password": f"guess-{i}"}) for i in range(6)]
    assert "Too many failed login attempts" in pages[-1].content.decode()
    client.force_login(staff)
    assert client.get("/admin/").status_code == 200
    client.force_login(make_user("rosa"))
    assert client.get("/admin/login/").status_code == 403
