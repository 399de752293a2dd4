"""Members on PostgreSQL: the address search through the trigram index answers
as on SQLite, also once the statement is prepared (blog/newsletter/members.py)."""

import pytest
from django.db import connection
from django.utils import timezone

from blog.models import Subscriber
from blog.newsletter import members

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


@pytest.fixture
def crowd(require_service) -> list[Subscriber]:
    require_service("PostgreSQL", connection.vendor == "postgresql", "set DATABASE_URL=postgres://...")
    now = timezone.now()
    return Subscriber.objects.bulk_create(
        Subscriber(email=f"Member{i:04d}@Mail{i % 7}.example", status="active", created_at=now) for i in range(700)
    )


def test_the_trigram_index_exists() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'blog_subscriber_email_trgm'")
        [(definition,)] = cursor.fetchall()
    assert "gin (lower((email)::text) gin_trgm_ops)" in definition


def test_an_address_is_found_by_any_part_in_any_case_every_time(crowd) -> None:
    for _ in range(8):  # past the point where PostgreSQL would switch a prepared statement to a generic plan
        found = members.page(members.MemberFilter(address="member0123@MAIL"))
        assert [m.email for m in found.members] == ["Member0123@Mail4.example"]


def test_a_domain_with_a_filter_pages_by_keyset_without_gaps(crowd, monkeypatch) -> None:
    monkeypatch.setattr(members, "PAGE_SIZE", 30)
    wanted = members.MemberFilter(address="@mail3.example", status="active")
    seen, cursor = [], ""
    while True:
        found = members.page(wanted, cursor)
        seen += [m.pk for m in found.members]
        if not found.next_cursor:
            break
        cursor = found.next_cursor
    expected = [m.pk for m in sorted(crowd, key=lambda m: -m.pk) if m.email.endswith("@Mail3.example")]
    assert seen == expected
