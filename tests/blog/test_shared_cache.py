"""Signed-out pages a shared cache (Varnish, a CDN) can serve: the same bytes
for every visitor, standard caching headers, and forms that refuse
cross-site forgeries without a per-visitor token (blog/shared/origins.py)."""

import pytest
from django.test import Client

from blog.models import Like, Post, Subscriber
from blog.shared.origins import REFUSED
from tests.factories import make_post

pytestmark = pytest.mark.django_db

PAGES = ["/p/argue-here/", "/", "/t/ports/", "/@ada/", "/archive/"]
BROWSER = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"}


@pytest.fixture
def post(ada) -> Post:
    post = make_post(ada, "Argue here", body="The *harbour* question.")
    post.tags.add("Ports")
    return post


@pytest.mark.parametrize("path", PAGES)
def test_every_signed_out_visitor_gets_the_same_bytes_and_no_cookie(post, path, settings) -> None:
    first = Client(headers=BROWSER).get(path)
    second = Client(headers={"User-Agent": "Mozilla/5.0 (Macintosh) Safari/605"}).get(path, REMOTE_ADDR="10.1.1.1")
    assert first.status_code == second.status_code == 200
    assert first.content == second.content
    assert not first.cookies and not second.cookies
    assert "csrfmiddlewaretoken" not in first.content.decode() and "nonce" not in first.content.decode()


@pytest.mark.parametrize("path", PAGES)
def test_a_signed_out_page_may_be_kept_by_a_shared_cache_and_names_what_it_shows(post, path) -> None:
    response = Client().get(path)
    directives = {d.strip() for d in response["Cache-Control"].split(",")}
    assert directives == {"public", "max-age=10", "s-maxage=60", "stale-while-revalidate=30"}
    assert "Cookie" in response["Vary"]
    expected = "post-argue-here site" if path.startswith("/p/") else "listings site"
    assert response["xkey"] == expected


def test_the_key_header_follows_the_purger(post, settings) -> None:
    settings.PAGE_CACHE_PURGER, settings.PAGE_CACHE_PURGE_URLS = "fastly", ["http://127.0.0.1:9/purge"]
    assert Client().get("/p/argue-here/")["Surrogate-Key"] == "post-argue-here site"
    settings.PAGE_CACHE_PURGER = "cloudflare"
    response = Client().get("/p/argue-here/")
    assert response["Cache-Tag"] == "post-argue-here,site" and "xkey" not in response


@pytest.mark.parametrize("path", PAGES)
def test_a_conditional_get_of_an_unchanged_page_is_answered_304(post, path) -> None:
    etag = Client().get(path)["ETag"]
    again = Client().get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again["ETag"] == etag and "public" in again["Cache-Control"]


def test_an_edit_changes_the_etag(post, django_capture_on_commit_callbacks) -> None:
    etag = Client().get("/p/argue-here/")["ETag"]
    with django_capture_on_commit_callbacks(execute=True):
        post.title = "Argue here, again"
        post.save()
    response = Client().get("/p/argue-here/", headers={"If-None-Match": etag})
    assert response.status_code == 200 and "Argue here, again" in response.content.decode()


@pytest.mark.parametrize("path", PAGES)
def test_a_signed_in_page_is_never_kept_by_a_shared_cache(client, rosa, post, path) -> None:
    client.force_login(rosa)
    response = client.get(path)
    assert response.status_code == 200 and ">@rosa</a>" in response.content.decode()
    assert "private" in response["Cache-Control"] and "public" not in response["Cache-Control"]
    assert "Cookie" in response["Vary"] and "xkey" not in response


def test_a_referral_visit_and_a_missing_post_are_private(client, post) -> None:
    assert "private" in client.get("/p/argue-here/?ref=someone")["Cache-Control"]
    missing = Client().get("/p/no-such-post/")
    assert missing.status_code == 404 and "public" not in missing.get("Cache-Control", "")


# --- Cross-site forgeries, refused by origin -----------------------------------


def like(client: Client, **headers: str):
    return client.post("/p/argue-here/like/", {"position": "top", "liked": "1"}, headers=headers)


def subscribe(client: Client, **headers: str):
    data = {"email": "new@example.com", "source": "home"}
    return client.post("/subscribe/", data, headers=headers, REMOTE_ADDR="203.0.113.9")


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"},
        {"Sec-Fetch-Site": "same-site"},
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
    ],
)
def test_a_cross_site_subscribe_is_refused_and_nothing_saved(post, headers) -> None:
    response = subscribe(Client(enforce_csrf_checks=True), **headers)
    assert response.status_code == 403 and REFUSED in response.content.decode()
    assert not Subscriber.objects.exists()


def test_a_cross_site_like_is_refused_even_with_the_readers_session(post, rosa) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(rosa)
    response = like(client, **{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"})
    assert response.status_code == 403
    assert not Like.objects.exists()


@pytest.mark.parametrize("headers", [{"Sec-Fetch-Site": "same-origin"}, {"Origin": "http://testserver"}])
def test_a_same_origin_post_needs_no_token(post, rosa, headers) -> None:
    assert subscribe(Client(enforce_csrf_checks=True), **headers).status_code == 302
    assert Subscriber.objects.filter(email="new@example.com").exists()
    client = Client(enforce_csrf_checks=True)
    client.force_login(rosa)
    assert like(client, **headers).status_code == 302
    assert Like.objects.filter(user=rosa, post=post).exists()


def test_a_trusted_origin_passes(post, settings) -> None:
    settings.CSRF_TRUSTED_ORIGINS = ["https://www.dispatch.example"]
    assert subscribe(Client(enforce_csrf_checks=True), Origin="https://www.dispatch.example").status_code == 302


def test_without_either_header_a_signed_out_post_passes(post) -> None:
    assert subscribe(Client(enforce_csrf_checks=True)).status_code == 302
    assert Subscriber.objects.filter(email="new@example.com", status=Subscriber.Status.PENDING).exists()


def test_without_either_header_a_signed_in_post_needs_the_token_its_page_carries(post, rosa) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(rosa)
    assert like(client).status_code == 403
    assert not Like.objects.exists()
    page = client.get("/p/argue-here/").content.decode()
    token = page.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]
    response = client.post("/p/argue-here/like/", {"position": "top", "liked": "1", "csrfmiddlewaretoken": token})
    assert response.status_code == 302 and Like.objects.filter(user=rosa).exists()


def test_a_get_of_the_like_endpoint_is_still_refused(post) -> None:
    assert Client().get("/p/argue-here/like/").status_code == 405
