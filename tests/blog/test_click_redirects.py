"""/r/<token>/ (issue 22, items 9 and 11): only links that went out in a real
send of a live post redirect, and a click counts once per visitor and day."""

import re
from unittest import mock

import pytest
from django.core import mail
from django.core.cache import cache

from blog.models import LinkClick, Post
from tests.blog.test_pageviews import BROWSER
from tests.factories import make_post, make_subscribers, publish

pytestmark = pytest.mark.django_db

PHISH = "https://phish.example/login"


def click_paths(message) -> list[str]:
    return re.findall(r"http://127\.0\.0\.1:8000(/r/[^/\"\s]+/)", message.alternatives[0].content)


def phishing_link(message) -> str:
    from blog.newsletter import clicks

    [path] = [path for path in click_paths(message) if clicks.read_click_token(path[3:-1])[1] == PHISH]
    return path


@pytest.fixture
def draft(ada) -> Post:
    return make_post(ada, "Draft with a link", status=Post.Status.DRAFT, body=f"Sign in [here]({PHISH}).")


def test_a_test_e_mail_of_a_draft_gives_no_redirect(client, ada, draft, django_capture_on_commit_callbacks) -> None:
    client.force_login(ada)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/write/{draft.pk}/test-email/")
    link = phishing_link(mail.outbox[0])
    client.logout()
    response = client.get(link, **BROWSER)
    assert response.status_code == 404 and "This link is not active" in response.content.decode()
    assert not LinkClick.objects.exists()
    # Published on the web only, it still never went to subscribers.
    Post.objects.filter(pk=draft.pk).update(status=Post.Status.PUBLISHED, published_at=draft.created_at)
    assert client.get(link, **BROWSER).status_code == 404


def test_a_sent_post_redirects_until_it_is_unpublished(client, draft, django_capture_on_commit_callbacks) -> None:
    make_subscribers(active=1)
    with django_capture_on_commit_callbacks(execute=True):
        publish(draft)
    link = phishing_link(mail.outbox[0])
    response = client.get(link, **BROWSER)
    assert response.status_code == 302 and response.url == PHISH
    Post.objects.filter(pk=draft.pk).update(status=Post.Status.DRAFT)
    assert client.get(link, **BROWSER).status_code == 404


def test_a_click_counts_once_per_visitor_and_day_and_no_address_is_kept(
    client, draft, django_capture_on_commit_callbacks
) -> None:
    make_subscribers(active=1)
    with django_capture_on_commit_callbacks(execute=True):
        publish(draft)
    link = phishing_link(mail.outbox[0])
    with mock.patch.object(cache, "add", wraps=cache.add) as added:
        for _ in range(25):
            assert client.get(link, REMOTE_ADDR="198.51.100.7", **BROWSER).status_code == 302
        client.get(link, REMOTE_ADDR="203.0.113.9", **BROWSER)
    assert LinkClick.objects.get(post=draft, url=PHISH).clicks == 2
    stored = repr(added.call_args_list)  # every key and value the clicks put in the shared cache
    assert "clicks:seen:" in stored and "198.51.100.7" not in stored and "203.0.113.9" not in stored
