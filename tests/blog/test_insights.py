import csv
import io
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from blog.models import Delivery, LinkClick, PageViewDay, Post, ReferrerDay, Send, Share, Subscriber
from tests.factories import make_post

pytestmark = pytest.mark.django_db


def days_ago(n: int):
    return timezone.localdate() - timedelta(days=n)


@pytest.fixture
def ada_post(ada) -> Post:
    post = make_post(ada, "Harbour figures", published_at=timezone.now() - timedelta(days=10))
    PageViewDay.objects.bulk_create(
        PageViewDay(post=post, day=days_ago(n), views=100 + n, visitors=50 + n) for n in range(10)
    )
    ReferrerDay.objects.create(post=post, day=days_ago(1), source="news.ycombinator.com", views=40)
    ReferrerDay.objects.create(post=post, day=days_ago(2), source="email", views=25)
    ReferrerDay.objects.create(post=post, day=days_ago(40), source="old.example", views=999)
    return post


@pytest.fixture
def bo_post(bo) -> Post:
    post = make_post(bo, "Bo's secret scoop")
    PageViewDay.objects.create(post=post, day=days_ago(0), views=7777, visitors=7000)
    ReferrerDay.objects.create(post=post, day=days_ago(0), source="bo-only.example", views=7777)
    return post


def subscriber(email: str, source: str, confirmed_days_ago: int, **fields) -> Subscriber:
    when = timezone.now() - timedelta(days=confirmed_days_ago)
    return Subscriber.objects.create(
        email=email, source=source, status=Subscriber.Status.ACTIVE, confirmed_at=when, **fields
    )


def test_an_author_sees_their_own_figures_and_not_another_authors(client, ada, ada_post, bo_post) -> None:
    client.force_login(ada)
    page = client.get("/write/insights/?days=30").content.decode()
    assert "Harbour figures" in page and "Bo&#x27;s secret scoop" not in page
    assert "news.ycombinator.com" in page and "bo-only.example" not in page
    assert '<strong data-total="views">1045</strong>' in page  # 100 + 101 + ... + 109
    assert "old.example" not in page  # older than the period


def test_staff_see_every_post_and_the_home_page(client, sam, ada_post, bo_post) -> None:
    PageViewDay.objects.create(post=None, day=days_ago(0), views=5, visitors=4)
    client.force_login(sam)
    page = client.get("/write/insights/?days=7").content.decode()
    assert "Harbour figures" in page and "Bo&#x27;s secret scoop" in page
    assert f'<strong data-total="views">{sum(100 + n for n in range(7)) + 7777 + 5}</strong>' in page


def test_the_period_chooses_7_30_or_90_days(client, ada, ada_post) -> None:
    client.force_login(ada)
    for days in (7, 30, 90):
        rows = _csv(client.get(f"/write/insights/?days={days}&csv=daily"))
        assert len(rows) == days + 1 and rows[0] == ["Day", "Views", "Unique visitors"]
        assert rows[-1] == [days_ago(0).isoformat(), "100", "50"]
    assert len(_csv(client.get("/write/insights/?days=12&csv=daily"))) == 31  # unknown period: 30 days


def test_charts_are_svg_with_a_table_and_no_script(client, ada, ada_post) -> None:
    client.force_login(ada)
    page = client.get("/write/insights/").content.decode()
    assert page.count('<svg class="chart"') == 4
    assert 'role="img" aria-label="Views and unique visitors per day"' in page
    assert "<polyline" in page and "<script" not in page.split("<main", 1)[1].split("</main>")[0]
    assert '<th scope="row">' + days_ago(0).isoformat() + '</th><td class="num">100</td>' in page


def test_every_table_downloads_as_csv(client, ada, ada_post) -> None:
    client.force_login(ada)
    page = client.get("/write/insights/").content.decode()
    for name in ["daily", "subscribers", "top-views", "top-subscribers", "referrers"]:
        assert f"csv={name}" in page
        response = client.get(f"/write/insights/?days=30&csv={name}")
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert response["Content-Disposition"] == f'attachment; filename="insights-30-days-{name}.csv"'
    assert _csv(client.get("/write/insights/?csv=referrers")) == [
        ["Source", "Views"],
        ["news.ycombinator.com", "40"],
        ["E-mail", "25"],
    ]
    assert client.get("/write/insights/?csv=nope").status_code == 404


def test_a_visitors_utm_source_never_runs_as_a_formula_in_the_csv(client, ada, ada_post) -> None:
    ReferrerDay.objects.create(post=ada_post, day=days_ago(1), source='utm:=HYPERLINK("http://evil.example")', views=99)
    client.force_login(ada)
    rows = _csv(client.get("/write/insights/?csv=referrers"))
    assert rows[1] == ["Other tagged links", "99"]  # no text of the visitor's choosing at all
    assert "HYPERLINK" not in repr(rows)
    assert rows[2] == ["news.ycombinator.com", "40"]  # ordinary cells are left alone


def test_top_posts_by_subscribers_gained(client, ada, ada_post) -> None:
    other = make_post(ada, "Quiet one")
    subscriber("a@example.com", f"post-top:{ada_post.slug}", 1)
    subscriber("b@example.com", f"post-bottom:{ada_post.slug}", 2)
    subscriber("c@example.com", f"post-bottom:{other.slug}", 3)
    subscriber("d@example.com", "home", 3)
    subscriber("e@example.com", f"post-top:{other.slug}", 60)  # before the period
    client.force_login(ada)
    rows = _csv(client.get("/write/insights/?csv=top-subscribers"))
    assert rows == [["Post", "Subscribers gained"], ["Harbour figures", "2"], ["Quiet one", "1"]]


def test_subscribers_over_time_walks_back_from_today(client, sam) -> None:
    subscriber("old@example.com", "home", 100)
    subscriber("new@example.com", "home", 1)
    Subscriber.objects.create(
        email="gone@example.com",
        status=Subscriber.Status.UNSUBSCRIBED,
        confirmed_at=timezone.now() - timedelta(days=50),
        unsubscribed_at=timezone.now() - timedelta(days=2),
    )
    client.force_login(sam)
    rows = {row[0]: row[1:] for row in _csv(client.get("/write/insights/?days=7&csv=subscribers"))[1:]}
    assert rows[days_ago(0).isoformat()] == ["2", "0", "0", "0"]
    assert rows[days_ago(1).isoformat()] == ["2", "1", "0", "0"]
    assert rows[days_ago(2).isoformat()] == ["1", "0", "1", "0"]
    assert rows[days_ago(3).isoformat()] == ["2", "0", "0", "0"]


def test_a_post_page_shows_its_figures(client, ada, ada_post, rosa) -> None:
    Post.objects.filter(pk=ada_post.pk).update(like_count=3, restack_count=1, share_count=2)
    Share.objects.create(post=ada_post, network="x", visitor_hash="a", day=days_ago(0))
    Share.objects.create(post=ada_post, network="x", visitor_hash="b", day=days_ago(0))
    subscriber("a@example.com", f"post-top:{ada_post.slug}", 1)
    LinkClick.objects.create(post=ada_post, url="https://example.org/report.pdf", clicks=12)
    client.force_login(ada)
    response = client.get(f"/write/{ada_post.pk}/insights/")
    page = response.content.decode()
    assert response.status_code == 200 and page.count('<svg class="chart"') == 2
    engagement = dict(_csv(client.get(f"/write/{ada_post.pk}/insights/?csv=engagement"))[1:])
    assert engagement == {
        "Views": str(sum(100 + n for n in range(10))),
        "Likes": "3",
        "Shares": "2",
        "Re-stacks": "1",
        "Comments": "0",
        "Subscribers gained": "1",
    }
    daily = _csv(client.get(f"/write/{ada_post.pk}/insights/?csv=daily"))
    assert daily[1][0] == days_ago(10).isoformat() and len(daily) == 12  # since publication
    assert ["X", "2"] in _csv(client.get(f"/write/{ada_post.pk}/insights/?csv=shares"))
    assert ["https://example.org/report.pdf", "12"] in _csv(client.get(f"/write/{ada_post.pk}/insights/?csv=clicks"))
    assert "old.example" in page  # referrers of the whole life of the post


def test_another_authors_post_page_is_not_found(client, ada, bo_post) -> None:
    client.force_login(ada)
    assert client.get(f"/write/{bo_post.pk}/insights/").status_code == 404
    assert client.get(f"/write/{bo_post.pk}/insights/?csv=daily").status_code == 404


def test_readers_are_refused_and_visitors_sent_to_log_in(client, rosa, ada_post) -> None:
    response = client.get("/write/insights/")
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")
    client.force_login(rosa)
    assert client.get("/write/insights/").status_code == 403
    assert client.get(f"/write/{ada_post.pk}/insights/").status_code == 403


def test_the_overview_runs_a_fixed_number_of_queries(client, sam, ada, bo) -> None:
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/write/insights/?days=90").status_code == 200
        return len(captured)

    client.force_login(sam)
    first = make_post(ada, "One")
    subscriber("first@example.com", f"post-top:{first.slug}", 1)
    queries()  # the first load also keeps this author's permissions in the cache
    few = queries()
    posts = [make_post(ada if n % 2 else bo, f"Post {n}") for n in range(30)]
    PageViewDay.objects.bulk_create(
        PageViewDay(post=post, day=days_ago(n), views=n, visitors=n) for post in posts for n in range(100)
    )
    ReferrerDay.objects.bulk_create(
        ReferrerDay(post=post, day=days_ago(1), source=f"s{post.pk}.example", views=3) for post in posts
    )
    for n, post in enumerate(posts):
        subscriber(f"s{n}@example.com", f"post-top:{post.slug}", 1)
    assert queries() == few < 12  # two of them load the reader's permissions (explicit, not the staff flag)


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200, response.status_code
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_email_figures_per_send_and_the_readers_it_lost(client, ada, ada_post) -> None:
    now = timezone.now()
    send = Send.objects.create(post=ada_post)
    earlier = Send.objects.create(post=make_post(ada, "Earlier"))
    earlier.created_at = now - timedelta(days=5)
    earlier.save()

    def delivery(email: str, status: str, subscriber_status: str = "active", **fields) -> Delivery:
        person, _ = Subscriber.objects.get_or_create(email=email, defaults={"status": subscriber_status, **fields})
        return Delivery.objects.create(
            send=send, subscriber=person, status=status, sent_at=now - timedelta(hours=3) if status == "sent" else None
        )

    delivery("kept@example.com", "sent")
    delivery("left@example.com", "sent", "unsubscribed", unsubscribed_at=now - timedelta(hours=1))
    delivery("spam@example.com", "sent", "complained")
    delivery("bounce@example.com", "failed", "bounced")
    delivery("refused@example.com", "failed")
    delivery("waiting@example.com", "queued")
    # Left long before this send's copy arrived: not this send's loss.
    old = Subscriber.objects.create(
        email="old@example.com", status="unsubscribed", unsubscribed_at=now - timedelta(days=4)
    )
    Delivery.objects.create(send=earlier, subscriber=old, status="sent", sent_at=now - timedelta(days=5))
    Delivery.objects.create(send=send, subscriber=old, status="skipped")

    client.force_login(ada)
    figures = dict(_csv(client.get(f"/write/{ada_post.pk}/insights/?csv=email"))[1:])
    assert figures == {
        "Sent": "5",
        "Delivered": "3",
        "Bounced": "1",
        "Failed": "1",
        "Unsubscribed after it": "1",
        "Marked as spam after it": "1",
    }
    sends = _csv(client.get("/write/insights/?csv=sends"))
    assert sends[1][0] == "Harbour figures" and sends[1][2:] == ["5", "3", "1", "1", "1", "1"]
    assert sends[2][0] == "Earlier" and sends[2][2:] == ["1", "1", "0", "0", "1", "0"]


def test_a_post_never_sent_says_so(client, ada, ada_post) -> None:
    client.force_login(ada)
    assert "This post has not been sent by e-mail." in client.get(f"/write/{ada_post.pk}/insights/").content.decode()
    assert _csv(client.get(f"/write/{ada_post.pk}/insights/?csv=email")) == [["Measure", "Count"]]


def test_a_posts_page_runs_a_fixed_number_of_queries(client, ada, ada_post) -> None:
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(f"/write/{ada_post.pk}/insights/").status_code == 200
        return len(captured)

    client.force_login(ada)
    queries()  # the first load also keeps this author's permissions in the cache
    few = queries()
    ReferrerDay.objects.bulk_create(
        ReferrerDay(post=ada_post, day=days_ago(n), source=f"s{n}.example", views=n) for n in range(50)
    )
    LinkClick.objects.bulk_create(LinkClick(post=ada_post, url=f"https://example.org/{n}", clicks=n) for n in range(50))
    Share.objects.bulk_create(Share(post=ada_post, network="x", visitor_hash=str(n), day=days_ago(0)) for n in range(9))
    assert queries() == few
