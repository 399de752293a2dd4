import pytest
from django.core.management import call_command

from accounts.models import User
from blog.management.commands.seed_demo import ANALYSIS_SLUG, PASSWORD
from blog.models import Post

pytestmark = pytest.mark.django_db


def snapshot() -> list[tuple]:
    return list(Post.objects.order_by("slug").values_list("slug", "status", "published_at", "updated_at", "body_html"))


def test_running_it_twice_changes_nothing() -> None:
    call_command("seed_demo", verbosity=0)
    users, before = User.objects.count(), snapshot()
    call_command("seed_demo", verbosity=0)
    assert User.objects.count() == users == 3
    assert snapshot() == before


def test_demo_people_can_sign_in_with_the_printed_password(client) -> None:
    call_command("seed_demo", verbosity=0)
    for email in ["author@example.com", "moderator@example.com", "reader@example.com"]:
        response = client.post("/accounts/login/", {"login": email, "password": PASSWORD})
        assert response.status_code == 302, email
        client.logout()


def test_the_analysis_has_quotes_footnotes_and_a_call_to_action(client) -> None:
    call_command("seed_demo", verbosity=0)
    page = client.get(f"/p/{ANALYSIS_SLUG}/").content.decode()
    assert page.count("<blockquote>") >= 3
    assert 'class="footnote"' in page
    assert "subscribe" in page and "like button" in page


def test_the_draft_and_scheduled_posts_stay_private(client) -> None:
    call_command("seed_demo", verbosity=0)
    hidden = Post.objects.exclude(pk__in=Post.objects.published())
    assert {p.status for p in hidden} == {Post.Status.DRAFT, Post.Status.SCHEDULED}
    for post in hidden:
        assert client.get(post.get_absolute_url()).status_code == 404
