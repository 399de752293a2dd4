from urllib.parse import parse_qs, urlsplit

import pytest

from accounts.models import User
from blog.models import Post, ReferralVisit, Share
from tests.factories import make_post

pytestmark = pytest.mark.django_db
SAME_SITE = {"HTTP_SEC_FETCH_SITE": "same-origin"}  # a click on the post's own page

NETWORKS = {
    "x": "https://x.com/intent/post",
    "facebook": "https://www.facebook.com/sharer/sharer.php",
    "linkedin": "https://www.linkedin.com/sharing/share-offsite/",
    "reddit": "https://www.reddit.com/submit",
    "bluesky": "https://bsky.app/intent/compose",
    "threads": "https://www.threads.net/intent/post",
    "whatsapp": "https://wa.me/",
    "telegram": "https://t.me/share/url",
    "email": "mailto:",
}


@pytest.fixture
def post(ada) -> Post:
    return make_post(ada, "Pass it on")


@pytest.mark.parametrize(("network", "target"), NETWORKS.items())
def test_each_network_link_counts_and_redirects(client, post, network, target) -> None:
    response = client.get(f"/p/{post.slug}/share/{network}/", **SAME_SITE)
    assert response.status_code == 302
    assert response.url.startswith(target)
    assert "pass-it-on" in response.url
    assert Share.objects.get().network == network
    assert Post.objects.get(pk=post.pk).share_count == 1


def test_the_post_page_offers_every_network_without_third_party_scripts(client, post) -> None:
    page = client.get(post.get_absolute_url()).content.decode()
    for network in NETWORKS:
        assert f'href="/p/{post.slug}/share/{network}/"' in page
    assert '<script src="http' not in page and "<iframe" not in page


def test_reloading_a_share_link_is_one_share_a_day(client, post) -> None:
    for _ in range(3):
        client.get(f"/p/{post.slug}/share/x/", **SAME_SITE, REMOTE_ADDR="203.0.113.5")
    client.get(f"/p/{post.slug}/share/x/", **SAME_SITE, REMOTE_ADDR="198.51.100.7")
    assert Share.objects.count() == 2
    assert Post.objects.get(pk=post.pk).share_count == 2
    assert not Share.objects.filter(visitor_hash__contains="203.0.113.5").exists()


def test_an_unknown_network_is_404(client, post) -> None:
    assert client.get(f"/p/{post.slug}/share/myspace/").status_code == 404
    assert not Share.objects.exists()


def test_copy_link_is_recorded_by_post_only(client, post) -> None:
    assert client.get(f"/p/{post.slug}/share/copy/").status_code == 404
    assert client.post(f"/p/{post.slug}/share/copy/").status_code == 204
    assert Share.objects.get().network == "copy"


def test_a_draft_cannot_be_shared(client, ada) -> None:
    draft = make_post(ada, "Unready", status=Post.Status.DRAFT)
    assert client.get(f"/p/{draft.slug}/share/x/").status_code == 404


def test_a_signed_in_readers_share_carries_their_referral_code(client, rosa, post) -> None:
    client.force_login(rosa)
    response = client.get(f"/p/{post.slug}/share/facebook/")
    shared = parse_qs(urlsplit(response.url).query)["u"][0]
    rosa.refresh_from_db()
    assert shared == f"http://127.0.0.1:8000/p/{post.slug}/?ref={rosa.referral_code}"


def test_a_referred_visit_and_sign_up_are_credited(client, rosa, post, django_capture_on_commit_callbacks) -> None:
    code = rosa.get_referral_code()
    client.get(f"/p/{post.slug}/?ref={code}")
    client.get(f"/p/{post.slug}/?ref={code}")
    assert ReferralVisit.objects.filter(referrer=rosa).count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/accounts/signup/",
            {
                "email": "new@example.com",
                "username": "newbie",
                "password1": "pw-long-enough-1",
                "password2": "pw-long-enough-1",
            },
        )
    assert User.objects.get(username="newbie").referred_by == rosa


def test_a_made_up_referral_code_credits_no_one(client, post, django_capture_on_commit_callbacks) -> None:
    client.get(f"/p/{post.slug}/?ref=nonsense")
    assert not ReferralVisit.objects.exists()


def test_authors_see_shares_per_network(client, ada, post) -> None:
    client.get(f"/p/{post.slug}/share/x/", **SAME_SITE)
    client.get(f"/p/{post.slug}/share/reddit/", **SAME_SITE)
    client.force_login(ada)
    page = client.get(f"/write/{post.pk}/").content.decode()
    assert "<td>X</td>" in page and "<td>Reddit</td>" in page
