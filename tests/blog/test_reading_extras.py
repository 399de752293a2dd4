"""Tags, per-tag and per-author feeds, related posts, avatars, re-stacks on the post,
the social card at publish, the desk's order and plurals (issue 13)."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from blog import tasks
from blog.discussion import engagement
from blog.models import Post, Restack, Share
from blog.posts import previews
from tests.factories import make_post, make_user

pytestmark = pytest.mark.django_db


def ago(hours: int):
    return timezone.now() - timedelta(hours=hours)


def tagged(author, title: str, tags: list[str], hours: int = 1) -> Post:
    post = make_post(author, title, published_at=ago(hours))
    post.tags.add(*tags)
    return post


def test_the_tag_index_lists_tags_of_published_posts_with_counts(client, ada) -> None:
    tagged(ada, "One", ["economy", "trade"])
    tagged(ada, "Two", ["economy"])
    draft = make_post(ada, "Hidden", status=Post.Status.DRAFT)
    draft.tags.add("secret")
    page = client.get("/tags/").content.decode()
    assert 'href="/t/economy/"' in page and "(2 posts)" in page
    assert "(1 post)" in page and "secret" not in page
    assert page.index("economy") < page.index("trade")
    assert 'href="/tags/"' in page  # linked from the header


def test_a_tag_feed_has_only_that_tags_posts(client, ada) -> None:
    tagged(ada, "About trade", ["trade"])
    tagged(ada, "About weather", ["weather"])
    feed = client.get("/t/trade/feed/").content.decode()
    assert "About trade" in feed and "About weather" not in feed
    assert client.get("/t/nothing/feed/").status_code == 404
    assert 'href="/t/trade/feed/"' in client.get("/t/trade/").content.decode()


def test_an_author_feed_has_only_their_posts(client, ada, bo) -> None:
    make_post(ada, "By Ada")
    make_post(bo, "By Bo")
    feed = client.get("/@ada/feed/").content.decode()
    assert "By Ada" in feed and "By Bo" not in feed and "Ada Whitlock" in feed
    assert client.get("/@nobody/feed/").status_code == 404
    assert 'href="/@ada/feed/"' in client.get("/@ada/").content.decode()


def test_related_posts_share_tags_first_then_recency(client, ada) -> None:
    post = tagged(ada, "The post", ["trade", "tariffs"])
    tagged(ada, "Shares both", ["trade", "tariffs"], hours=50)
    tagged(ada, "Shares one", ["trade"], hours=40)
    tagged(ada, "Shares none, newest", [], hours=2)
    tagged(ada, "Shares none, older", [], hours=30)
    make_post(ada, "A draft", status=Post.Status.DRAFT)
    page = client.get(post.get_absolute_url()).content.decode()
    related = page[page.index('id="related-title"') :]
    assert related.index("Shares both") < related.index("Shares one") < related.index("Shares none, newest")
    assert "Shares none, older" not in related and "A draft" not in related


def test_related_posts_without_tags_are_the_latest(client, ada) -> None:
    post = make_post(ada, "Untagged")
    make_post(ada, "Another", published_at=ago(3))
    page = client.get(post.get_absolute_url()).content.decode()
    assert "Another" in page[page.index('id="related-title"') :]


def test_the_authors_avatar_is_in_the_byline(client, ada, settings) -> None:
    ada.avatar = SimpleUploadedFile("a.png", b"png", content_type="image/png")
    ada.save()
    post = make_post(ada, "With a face")
    page = client.get(post.get_absolute_url()).content.decode()
    assert f'<img class="avatar" src="{ada.avatar.url}"' in page


def test_restacks_and_their_notes_are_listed_on_the_post(client, ada, rosa, bo) -> None:
    post = make_post(ada, "Worth passing on")
    Restack.objects.create(
        post=post, user=rosa, note="Read the *second* half", note_html="<p>Read the <em>second</em> half</p>"
    )
    Restack.objects.create(post=post, user=bo)
    Post.objects.filter(pk=post.pk).update(restack_count=2)
    page = client.get(post.get_absolute_url()).content.decode()
    section = page[page.index('id="restacks"') :]
    assert "Re-stacks (2)" in section
    assert "<em>second</em>" in section and 'href="/@rosa/"' in section and 'href="/@bo/"' in section


def test_the_preview_image_answers_head(client, ada) -> None:
    post = make_post(ada, "Heads up")
    previews.ensure_preview(post)
    response = client.head(f"/p/{post.slug}/preview.png")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert client.post(f"/p/{post.slug}/preview.png").status_code == 405


def test_og_image_never_ends_with_an_empty_version(client, ada) -> None:
    post = make_post(ada, "Not drawn yet")
    page = client.get(post.get_absolute_url()).content.decode()
    assert 'preview.png?v="' not in page and f'/p/{post.slug}/preview.png"' in page


def test_a_scheduled_post_gets_its_card_drawn_when_it_goes_live(ada, django_capture_on_commit_callbacks) -> None:
    post = make_post(ada, "Due now", status=Post.Status.SCHEDULED, published_at=ago(1))
    with django_capture_on_commit_callbacks(execute=True):
        tasks.publish_due_posts()
    post.refresh_from_db()
    assert post.status == Post.Status.PUBLISHED and post.preview_key and post.preview_image


def test_publishing_from_the_desk_draws_the_card(client, ada, django_capture_on_commit_callbacks) -> None:
    post = make_post(ada, "From the desk", status=Post.Status.DRAFT)
    client.force_login(ada)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/write/{post.pk}/publish/", {"delivery": "web"})
    post.refresh_from_db()
    assert post.status == Post.Status.PUBLISHED and post.preview_key


def test_the_desk_lists_drafts_first_then_by_date(client, ada) -> None:
    make_post(ada, "Old post", published_at=ago(100))
    make_post(ada, "Recent post", published_at=ago(1))
    make_post(ada, "A draft", status=Post.Status.DRAFT)
    Post.objects.filter(title="Old post").update(updated_at=timezone.now() + timedelta(minutes=5))  # edited last
    client.force_login(ada)
    page = client.get("/write/").content.decode()
    assert page.index("A draft") < page.index("Recent post") < page.index("Old post")


def test_counts_on_the_desk_are_in_the_singular_for_one(client, ada, rosa) -> None:
    post = make_post(ada, "Liked once")
    Post.objects.filter(pk=post.pk).update(like_count=1, share_count=1, restack_count=1)
    client.force_login(ada)
    page = client.get(f"/write/{post.pk}/").content.decode()
    assert "1</strong> like ·" in page and "1</strong> share ·" in page and "1</strong> re-stack<" in page


# --- Mastodon --------------------------------------------------------------


def test_mastodon_is_among_the_share_networks(client, ada) -> None:
    post = make_post(ada, "Toot this")
    assert f'href="/p/{post.slug}/share/mastodon/"' in client.get(post.get_absolute_url()).content.decode()


def test_mastodon_share_asks_for_the_server_then_goes_there(client, ada) -> None:
    post = make_post(ada, "Toot this")
    page = client.get(f"/p/{post.slug}/share/mastodon/").content.decode()
    assert "Your Mastodon server" in page and not Share.objects.exists()
    response = client.post(f"/p/{post.slug}/share/mastodon/", {"instance": "https://Mastodon.Social/@me"})
    assert response.status_code == 302
    assert response["Location"].startswith("https://mastodon.social/share?text=Toot%20this%20http")
    assert Share.objects.get().network == "mastodon"


@pytest.mark.parametrize("typed", ["", "not a host", "javascript:alert(1)", "localhost"])
def test_mastodon_share_refuses_what_is_not_a_server(client, ada, typed) -> None:
    post = make_post(ada, "Toot this")
    response = client.post(f"/p/{post.slug}/share/mastodon/", {"instance": typed})
    assert response.status_code == 400
    assert "Enter your Mastodon server" in response.content.decode()
    assert not Share.objects.exists()


def test_mastodon_instance_accepts_a_full_handle() -> None:
    assert engagement.mastodon_instance("@rosa@fosstodon.org") == "fosstodon.org"


def test_related_posts_and_restacks_cost_the_same_queries_however_many(client, ada) -> None:
    post = tagged(ada, "Central", ["a", "b"])

    def queries() -> int:
        client.get(post.get_absolute_url())  # warm the comment cache
        with CaptureQueriesContext(connection) as captured:
            client.get(post.get_absolute_url())
        return len(captured)

    tagged(ada, "One more", ["a"])
    Restack.objects.create(post=post, user=make_user("r0"))
    few = queries()
    for i in range(8):
        tagged(ada, f"More {i}", ["a", "b"])
        Restack.objects.create(post=post, user=make_user(f"r{i + 1}"), note="n", note_html="<p>n</p>")
    assert queries() == few
