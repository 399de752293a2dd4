"""Faults a review found in the page cache, each pinned (blog/pagecache/)."""

import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext

from blog import pagecache
from blog.models import Post
from tests.factories import make_post

pytestmark = pytest.mark.django_db
PATH = "/p/argue-here/"


@pytest.fixture
def post(ada) -> Post:
    return make_post(ada, "Argue here")


def test_a_request_never_deletes_another_workers_rendering_lock(post, monkeypatch) -> None:
    monkeypatch.setattr(pagecache, "RENDER_WAIT", 0.05)
    request = RequestFactory().get(PATH)
    versions = pagecache.versions(request, pagecache.post_scope(post.slug))
    lock = f"{pagecache._page_key(request)}:rendering:{':'.join(versions)}"
    cache.add(lock, "another worker", timeout=10)  # rendering this page right now
    response = Client().get(PATH)  # waits briefly, then renders it itself
    assert response.status_code == 200 and "Argue here" in response.content.decode()
    assert cache.get(lock) == "another worker"


def test_a_filled_in_shell_keeps_the_views_headers_and_cookies(rosa) -> None:
    request = RequestFactory().get(PATH)
    request.user = rosa

    def render() -> HttpResponse:
        response = HttpResponse(f"<p>{pagecache.mark('name')}</p>")
        response["Content-Language"] = "en"
        response.set_cookie("seen-note", "1")
        return response

    served = pagecache.filled_shell(request, "post:argue-here", "reader:x", render, {"name": "rosa"}, "token")
    assert served.content == b"<p>rosa</p>"
    assert served["Content-Language"] == "en" and served.cookies["seen-note"].value == "1"


def post_row_loads(client: Client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(PATH).status_code == 200
    return sum(1 for q in queries if re.search(r'"blog_post"\."slug" = ', q["sql"]) and "LIMIT 1" in q["sql"])


def test_the_post_kept_for_signed_in_readers_expires(post, rosa, monkeypatch) -> None:
    client = Client()
    client.force_login(rosa)
    assert post_row_loads(client) == 1
    assert post_row_loads(client) == 0  # kept in this process
    later = pagecache.time.time() + pagecache.COUNTER_LAG + 1
    monkeypatch.setattr(pagecache.time, "time", lambda: later)
    assert post_row_loads(client) == 1  # read again once its time ran out
