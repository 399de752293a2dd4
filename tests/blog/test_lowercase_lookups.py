"""Case-blind look-ups of an address or a handle are LOWER(...) = LOWER(...), as the
unique indexes on subscribers' and users' addresses and handles are: PostgreSQL
serves them from the index (tests/integration/test_lowercase_lookups.py), where
Django's `__iexact` (UPPER) scanned the table on every signed-in post load."""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from blog.discussion import readerstate
from blog.models import Subscriber
from blog.newsletter import subscriptions
from tests.factories import make_post, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def rosa_subscribed_before_signing_up():
    Subscriber.objects.create(email="Rosa@Example.COM", status=Subscriber.Status.ACTIVE)
    return make_user("rosa")  # rosa@example.com


def sql_of(action) -> str:
    with CaptureQueriesContext(connection) as queries:
        action()
    return "\n".join(query["sql"] for query in queries).upper()


def test_a_subscription_under_the_same_address_in_other_case_is_theirs(rosa_subscribed_before_signing_up) -> None:
    rosa = rosa_subscribed_before_signing_up
    assert subscriptions.subscriber_for_user(rosa).email == "Rosa@Example.COM"
    assert subscriptions.box_state(rosa)["subscribed"] is True
    assert readerstate.state(make_post(make_user("ada")), rosa).subscribed is True


def test_every_address_lookup_matches_the_lower_index(rosa_subscribed_before_signing_up) -> None:
    rosa = rosa_subscribed_before_signing_up
    post = make_post(make_user("ada"))
    for action in (
        lambda: subscriptions.subscriber_for_user(make_user("zed")),
        lambda: subscriptions.box_state(rosa),
        lambda: readerstate.state(post, rosa),
    ):
        sql = sql_of(action)
        assert re.search(r'LOWER\(("[A-Z0-9_]+"\.)?"?EMAIL"?\)', sql), sql
        assert "UPPER(" not in sql


def test_the_profile_is_found_by_handle_in_any_case_through_the_lower_index(ada_with_post) -> None:
    response = Client().get("/@ADA/")
    assert response.status_code == 301 and response.url == "/@ada/"
    sql = sql_of(lambda: Client().get("/@Ada/"))
    assert 'LOWER("ACCOUNTS_USER"."USERNAME")' in sql and "UPPER(" not in sql


@pytest.fixture
def ada_with_post():
    return make_post(make_user("ada"))
