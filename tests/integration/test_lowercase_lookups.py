"""On PostgreSQL the case-blind look-ups of a subscriber's address and of a
profile's handle are served by the LOWER() unique indexes (not a table scan)."""

import pytest
from django.db import connection

from accounts.models import User
from blog.models import Subscriber
from tests.conftest import require

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def plan_of(queryset) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a scan is then chosen only if no index serves
        sql, params = queryset.query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_an_address_and_a_handle_are_found_through_their_indexes() -> None:
    require("PostgreSQL", connection.vendor == "postgresql", "set DATABASE_URL=postgres://...")
    by_address = plan_of(Subscriber.objects.with_email("Rosa@Example.com"))
    assert "subscriber_email_ci_unique" in by_address and "Seq Scan" not in by_address
    by_handle = plan_of(User.objects.with_handle("Ada"))
    assert "user_handle_ci_unique" in by_handle and "Seq Scan" not in by_handle
    the_old_way = plan_of(Subscriber.objects.filter(email__iexact="Rosa@Example.com"))
    assert "Seq Scan" in the_old_way  # what every signed-in post load did before
