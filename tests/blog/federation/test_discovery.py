"""Finding the publication and its authors from the fediverse: WebFinger,
NodeInfo, actor documents, and each post as an Article on its own URL."""

import pytest
from django.test import Client

from blog.models import Post
from tests.factories import make_post

AP = "application/activity+json"
LD = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'


@pytest.fixture
def post(ada) -> Post:
    return make_post(ada, "Tides of the North Sea", subtitle="On water", body="The *tides* came in.<script>x</script>")


def test_webfinger_finds_the_publication(client: Client, db) -> None:
    response = client.get("/.well-known/webfinger", {"resource": "acct:publication@127.0.0.1:8000"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/jrd+json"
    links = {link["rel"]: link["href"] for link in response.json()["links"]}
    assert links["self"] == "http://127.0.0.1:8000/ap/publication"
    assert response.json()["subject"] == "acct:publication@127.0.0.1:8000"


def test_webfinger_finds_an_author_with_a_post_but_not_a_reader(client: Client, post, rosa) -> None:
    found = client.get("/.well-known/webfinger", {"resource": "acct:ada@127.0.0.1"})
    assert found.status_code == 200
    assert found.json()["links"][0]["href"] == "http://127.0.0.1:8000/ap/users/ada"
    assert client.get("/.well-known/webfinger", {"resource": "acct:rosa@127.0.0.1"}).status_code == 404
    assert client.get("/.well-known/webfinger", {"resource": "acct:ada@elsewhere.example"}).status_code == 404


def test_webfinger_without_a_resource_says_what_is_missing(client: Client, db) -> None:
    response = client.get("/.well-known/webfinger")
    assert response.status_code == 400 and "resource" in response.json()["error"]


def test_nodeinfo_is_linked_and_describes_the_site(client: Client, post) -> None:
    href = client.get("/.well-known/nodeinfo").json()["links"][0]["href"]
    assert href == "http://127.0.0.1:8000/nodeinfo/2.1"
    info = client.get("/nodeinfo/2.1").json()
    assert info["protocols"] == ["activitypub"] and info["usage"]["localPosts"] == 1
    assert info["openRegistrations"] is False


def test_the_publication_actor_has_a_key_inboxes_and_collections(client: Client, post) -> None:
    response = client.get("/ap/publication", HTTP_ACCEPT=AP)
    assert response["Content-Type"] == AP and "Accept" in response["Vary"]
    actor = response.json()
    assert actor["type"] == "Person" and actor["preferredUsername"] == "publication"
    assert actor["publicKey"]["id"] == "http://127.0.0.1:8000/ap/publication#main-key"
    assert actor["publicKey"]["publicKeyPem"].startswith("-----BEGIN PUBLIC KEY-----")
    assert actor["endpoints"]["sharedInbox"] == "http://127.0.0.1:8000/ap/inbox"
    assert actor["inbox"].endswith("/ap/actors/publication/inbox")
    assert client.get(actor["followers"], HTTP_ACCEPT=AP).json()["totalItems"] == 0
    outbox = client.get(actor["outbox"], HTTP_ACCEPT=AP).json()
    assert [item["object"]["name"] for item in outbox["orderedItems"]] == ["Tides of the North Sea"]


def test_an_author_actor_carries_their_name_and_bio(client: Client, post, ada) -> None:
    ada.bio = "Writes about *water*."
    ada.save()
    actor = client.get("/ap/users/ada", HTTP_ACCEPT=LD).json()
    assert actor["name"] == "Ada Whitlock" and "<em>water</em>" in actor["summary"]
    assert actor["url"] == "http://127.0.0.1:8000/@ada/"


def test_a_reader_without_posts_is_no_actor(client: Client, rosa) -> None:
    assert client.get("/ap/users/rosa", HTTP_ACCEPT=AP).status_code == 404


def test_a_browser_asking_for_an_actor_goes_to_the_profile(client: Client, post) -> None:
    response = client.get("/ap/users/ada", HTTP_ACCEPT="text/html,application/xhtml+xml,*/*;q=0.8")
    assert response.status_code == 302 and response["Location"] == "http://127.0.0.1:8000/@ada/"


@pytest.mark.parametrize("accept", [AP, LD, "application/json"])
def test_a_post_url_answers_an_article_to_activitypub_clients(client: Client, post, accept: str) -> None:
    response = client.get(f"/p/{post.slug}/", HTTP_ACCEPT=accept)
    assert response.status_code == 200 and response["Content-Type"] == AP
    assert "Accept" in response["Vary"]
    article = response.json()
    assert article["type"] == "Article" and article["name"] == "Tides of the North Sea"
    assert article["summary"] == "On water"
    assert article["url"] == f"http://127.0.0.1:8000/p/{post.slug}/"
    assert article["id"] == f"http://127.0.0.1:8000/ap/articles/{post.pk}"
    assert article["attributedTo"] == "http://127.0.0.1:8000/ap/publication"  # the sender, as receivers require
    assert "<em>tides</em>" in article["content"] and "<script>" not in article["content"]


@pytest.mark.parametrize("accept", ["text/html", "*/*", f"{AP}, text/html", "", "application/activity+json, */*"])
def test_a_post_url_answers_html_unless_every_type_is_json(client: Client, post, accept: str) -> None:
    response = client.get(f"/p/{post.slug}/", HTTP_ACCEPT=accept)
    assert response["Content-Type"].startswith("text/html")
    assert "Accept" in response["Vary"]


def test_the_page_cache_never_answers_json_with_html_or_html_with_json(client: Client, post) -> None:
    for _ in range(2):  # the second round is served from the caches
        assert client.get(f"/p/{post.slug}/")["Content-Type"].startswith("text/html")
        assert client.get(f"/p/{post.slug}/", HTTP_ACCEPT=AP)["Content-Type"] == AP


def test_a_draft_is_never_an_article(client: Client, ada) -> None:
    draft = make_post(ada, "Secret plans", status=Post.Status.DRAFT)
    assert client.get(f"/ap/articles/{draft.pk}", HTTP_ACCEPT=AP).status_code == 404
    response = client.get(f"/p/{draft.slug}/", HTTP_ACCEPT=AP)
    assert response.status_code == 404 and b"Secret plans" not in response.content


def test_the_post_page_links_its_article_and_the_publication(client: Client, post) -> None:
    page = client.get(f"/p/{post.slug}/").content.decode()
    assert (
        f'<link rel="alternate" type="application/activity+json" href="http://127.0.0.1:8000/ap/articles/{post.pk}">'
        in page
    )
    assert '<link rel="me" href="http://127.0.0.1:8000/ap/publication">' in page
    assert '<meta name="fediverse:creator" content="@ada@127.0.0.1:8000">' in page


def test_the_home_page_links_the_publication_actor(client: Client, db) -> None:
    page = client.get("/").content.decode()
    assert '<link rel="alternate" type="application/activity+json" href="http://127.0.0.1:8000/ap/publication">' in page
