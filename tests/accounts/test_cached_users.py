"""A signed-in reader's account comes from the shared cache (accounts/backends.py),
and every change to it shows on their next request."""

import re

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from accounts.roles import MODERATORS
from tests.factories import PASSWORD, make_post, make_user

pytestmark = pytest.mark.django_db


def user_queries(client: Client, path: str) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    # the user's own row, not the authors joined to posts
    return [query["sql"] for query in queries if query["sql"].split(" WHERE ")[0].endswith('FROM "accounts_user"')]


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_reader_signed_in_through_the_log_in_form_is_read_from_the_cache(rosa) -> None:
    client = Client()
    response = client.post("/accounts/login/", {"login": rosa.email, "password": PASSWORD})
    assert response.status_code == 302
    assert user_queries(client, "/archive/")  # their row changed at log-in (last_login): read once
    assert user_queries(client, "/archive/") == []
    assert "@rosa" in client.get("/archive/").content.decode()


def test_a_saved_change_shows_on_the_next_request(rosa) -> None:
    client = signed_in(rosa)
    client.get("/archive/")
    client.post("/settings/profile/", {"display_name": "Rosa Marsh", "bio": "Reads everything."})
    page = client.get("/settings/profile/").content.decode()
    assert 'value="Rosa Marsh"' in page and "Reads everything." in page


def test_a_bulk_update_shows_on_the_next_request(rosa) -> None:
    client = signed_in(rosa)
    client.get("/archive/")
    assert user_queries(client, "/archive/") == []
    User.objects.filter(pk=rosa.pk).update(display_name="Rosa from the bulk")
    assert user_queries(client, "/archive/")  # read again
    assert 'value="Rosa from the bulk"' in client.get("/settings/profile/").content.decode()


def test_a_bulk_update_of_others_leaves_a_reader_cached(rosa, bo) -> None:
    client = signed_in(rosa)
    client.get("/archive/")
    User.objects.filter(pk=bo.pk).update(display_name="Bo")
    assert user_queries(client, "/archive/") == []


@pytest.mark.parametrize("how", ["save", "update"])
def test_a_deactivated_reader_is_signed_out_at_once(rosa, how) -> None:
    client = signed_in(rosa)
    assert "@rosa" in client.get("/archive/").content.decode()
    if how == "save":
        rosa.is_active = False
        rosa.save()
    else:
        User.objects.filter(pk=rosa.pk).update(is_active=False)
    page = client.get("/archive/").content.decode()
    assert "@rosa" not in page and "Sign in" in page


def test_a_new_password_signs_out_the_readers_other_sessions(rosa) -> None:
    elsewhere = signed_in(rosa)
    assert "@rosa" in elsewhere.get("/archive/").content.decode()
    rosa.set_password("a new, longer passphrase")
    rosa.save()
    assert "Sign in" in elsewhere.get("/archive/").content.decode()


def test_a_deleted_account_is_signed_out(rosa) -> None:
    client = signed_in(rosa)
    client.get("/archive/")
    User.objects.filter(pk=rosa.pk).delete()
    assert "Sign in" in client.get("/archive/").content.decode()


def test_a_new_role_shows_on_the_next_request(rosa) -> None:
    client = signed_in(rosa)
    assert client.get("/moderation/").status_code == 403
    rosa.groups.add(Group.objects.get(name=MODERATORS))
    assert client.get("/moderation/").status_code == 200


def test_a_change_committed_after_a_copy_was_read_makes_that_copy_unused(rosa, django_capture_on_commit_callbacks):
    """The copy read inside the transaction predates the commit; the bump at commit retires it."""
    client = signed_in(rosa)
    with django_capture_on_commit_callbacks(execute=True):
        rosa.display_name = "Rosa, renamed"
        rosa.save()
        client.get("/archive/")  # stores a copy under the version bumped at once
    assert user_queries(client, "/archive/")  # the bump at commit: read again
    assert user_queries(client, "/archive/") == []


def test_each_reader_sees_their_own_links_and_token_in_a_posts_header(ada, rosa) -> None:
    post = make_post(ada, "Read by two")
    other = make_user("rosalind")
    clients = {user.username: signed_in(user) for user in (rosa, other)}
    for name in ["rosa", "rosalind", "rosa", "rosalind"]:
        client = clients[name]
        page = client.get(post.get_absolute_url()).content.decode()
        header = page.split("</header>")[0]
        assert f'href="/@{name}/"' in header and header.count('href="/@') == 1
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', header)[1]
        # the sign-out form works with the token it carries, and only for its reader
        assert client.post("/accounts/logout/", {"csrfmiddlewaretoken": token}).status_code == 302
        assert "_auth_user_id" not in client.session
        client.force_login(rosa if name == "rosa" else other)
