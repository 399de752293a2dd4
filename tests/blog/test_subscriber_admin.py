import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from blog.models import Delivery, Subscriber
from blog.newsletter import delivery
from tests.factories import make_post

pytestmark = pytest.mark.django_db


def upload(text: str, name: str = "list.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


def test_dry_run_reports_bad_rows_and_imports_nothing(client, sam) -> None:
    Subscriber.objects.create(email="known@example.com", status="active")
    client.force_login(sam)
    data = "email,frequency\nnew@example.com,daily\nbroken-address\nknown@example.com\nother@example.com,hourly\n"
    page = client.post("/write/subscribers/", {"file": upload(data), "dry_run": "on"}).content.decode()
    assert "Line 3: “broken-address” is not a valid e-mail address" in page
    assert "Line 5: unknown frequency “hourly”" in page
    assert Subscriber.objects.count() == 1


def test_an_import_with_bad_rows_changes_nothing(client, sam) -> None:
    client.force_login(sam)
    page = client.post("/write/subscribers/", {"file": upload("good@example.com\nbad\n")}).content.decode()
    assert "so nothing was imported" in page
    assert not Subscriber.objects.exists()


def test_a_clean_import_adds_active_subscribers_and_skips_known_ones(client, sam) -> None:
    Subscriber.objects.create(email="known@example.com", status="active")
    client.force_login(sam)
    page = client.post("/write/subscribers/", {"file": upload("a@example.com,weekly\nKNOWN@example.com\n")})
    assert "Imported 1 address; 1 already present." in page.content.decode()
    imported = Subscriber.objects.get(email="a@example.com")
    assert (imported.status, imported.frequency, imported.source) == ("active", "weekly", "import")


def test_a_file_that_is_not_text_is_refused(client, sam) -> None:
    client.force_login(sam)
    page = client.post("/write/subscribers/", {"file": upload("x", "x.csv").__class__("x.csv", b"\xff\xfe\x00bin")})
    assert "The file is not UTF-8 text" in page.content.decode()


def test_export_lists_every_subscriber(client, sam) -> None:
    Subscriber.objects.create(email="a@example.com", status="active")
    Subscriber.objects.create(email="b@example.com", status="unsubscribed")
    client.force_login(sam)
    response = client.get("/write/subscribers/export.csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(r["email"], r["status"]) for r in rows] == [("a@example.com", "active"), ("b@example.com", "unsubscribed")]


def test_export_cells_never_run_as_spreadsheet_formulas(client, sam) -> None:
    Subscriber.objects.create(email="a@example.com", status="active", source='=HYPERLINK("http://evil.example","x")')
    Subscriber.objects.create(email="+1-cmd@example.com", status="active", source="@SUM(1)")
    Subscriber.objects.create(email="b@example.com", status="active", source="\tlooks-empty")
    client.force_login(sam)
    rows = list(csv.DictReader(io.StringIO(client.get("/write/subscribers/export.csv").content.decode())))
    assert [r["source"] for r in rows] == ['\'=HYPERLINK("http://evil.example","x")', "'@SUM(1)", "'\tlooks-empty"]
    assert rows[1]["email"] == "'+1-cmd@example.com"
    assert rows[0]["email"] == "a@example.com"  # ordinary cells are left alone


@pytest.mark.parametrize("who", ["ada", "lena", "staff"])
def test_only_those_allowed_import_or_export(client, who, request) -> None:
    from tests.factories import make_user

    client.force_login(make_user("kit", is_staff=True) if who == "staff" else request.getfixturevalue(who))
    assert client.get("/write/subscribers/").status_code == 403
    assert client.get("/write/subscribers/export.csv").status_code == 403
    assert client.post("/write/subscribers/", {"file": upload("a@example.com")}).status_code == 403
    assert not Subscriber.objects.exists()
    assert "Import or export subscribers" not in client.get("/write/").content.decode()


def test_visitors_are_sent_to_log_in(client) -> None:
    response = client.get("/write/subscribers/export.csv")
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")


def test_the_send_page_shows_progress_failures_and_retries(client, ada, bo, django_capture_on_commit_callbacks) -> None:
    post = make_post(ada, "Sent out")
    for i in range(3):
        Subscriber.objects.create(email=f"s{i}@example.com", status="active")
    send = delivery.create_send(post)
    first, second, _ = send.deliveries.order_by("pk")
    Delivery.objects.filter(pk=first.pk).update(status="sent")
    Delivery.objects.filter(pk=second.pk).update(status="failed", error="550 5.1.1 No such user", attempts=1)
    client.force_login(ada)
    page = client.get(f"/write/{post.pk}/send/").content.decode()
    assert "550 5.1.1 No such user" in page and 'value="67"' in page
    assert client.get(f"/write/{post.pk}/send/?format=json").json()["counts"]["failed"] == 1
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/write/{post.pk}/send/retry/")
    assert Delivery.objects.get(pk=second.pk).status == "sent"
    client.force_login(bo)
    assert client.get(f"/write/{post.pk}/send/").status_code == 404
    assert client.post(f"/write/{post.pk}/send/retry/").status_code == 404


def test_the_desk_shows_subscriber_totals(client, ada) -> None:
    from django.utils import timezone

    Subscriber.objects.create(email="a@example.com", status="active", confirmed_at=timezone.now())
    Subscriber.objects.create(email="b@example.com", status="pending")
    client.force_login(ada)
    page = client.get("/write/").content.decode()
    assert "<strong>1</strong> subscriber<" in page and "<strong>+1</strong> joined in 7 days" in page


# --- An author's own subscribers (issue 13) ----------------------------------------


def test_an_author_exports_only_the_subscribers_they_brought(client, ada, bo) -> None:
    mine = make_post(ada, "Ada's post")
    theirs = make_post(bo, "Bo's post")
    sources = {"post@example.com": f"post-top:{mine.slug}", "bottom@example.com": f"post-bottom:{mine.slug}",
               "profile@example.com": "profile:ada", "bo@example.com": f"post-top:{theirs.slug}",
               "home@example.com": "home"}  # fmt: skip
    for email, source in sources.items():
        Subscriber.objects.create(email=email, status="active", source=source, confirmed_at=timezone.now())
    client.force_login(ada)
    assert 'href="/write/subscribers/mine/"' in client.get("/write/").content.decode()
    rows = list(csv.DictReader(io.StringIO(client.get("/write/subscribers/mine/export.csv").content.decode())))
    assert sorted(r["email"] for r in rows) == ["bottom@example.com", "post@example.com", "profile@example.com"]


def test_an_author_imports_subscribers_who_count_as_theirs(client, ada) -> None:
    client.force_login(ada)
    page = client.post("/write/subscribers/mine/", {"file": upload("new@example.com,weekly\n")}).content.decode()
    assert "Your subscribers" in page and "Imported 1 address" in page
    assert Subscriber.objects.get().source == "import:ada"
    assert "new@example.com" in client.get("/write/subscribers/mine/export.csv").content.decode()


def test_an_authors_import_with_a_bad_row_imports_nothing(client, ada) -> None:
    client.force_login(ada)
    page = client.post("/write/subscribers/mine/", {"file": upload("good@example.com\nbad\n")}).content.decode()
    assert "so nothing was imported" in page and not Subscriber.objects.exists()


def test_readers_have_no_subscribers_page(client, rosa) -> None:
    assert client.get("/write/subscribers/mine/").status_code == 302
    client.force_login(rosa)
    assert client.get("/write/subscribers/mine/").status_code == 403
    assert client.get("/write/subscribers/mine/export.csv").status_code == 403
    assert client.post("/write/subscribers/mine/", {"file": upload("a@example.com")}).status_code == 403
    assert not Subscriber.objects.exists()
