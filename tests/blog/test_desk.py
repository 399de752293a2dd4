import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from blog.models import Post, SlugRedirect
from tests.factories import make_post

pytestmark = pytest.mark.django_db


def form(**overrides) -> dict:
    data = {"title": "Reading the budget", "subtitle": "", "slug": "", "body": "The *numbers*.", "excerpt": "",
            "cover_alt": "", "tags": "", "comments_open": "on", "publish_at": "", "action": "save"}  # fmt: skip
    return {**data, **overrides}


def png(size: int = 10) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (size, size), "red").save(buffer, "PNG")
    return SimpleUploadedFile("cover.png", buffer.getvalue(), content_type="image/png")


def future(days: int = 2) -> str:
    return (timezone.now() + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M")


def test_author_saves_a_draft(client, ada) -> None:
    client.force_login(ada)
    response = client.post("/write/new/", form())
    post = Post.objects.get()
    assert response.status_code == 302 and response.url == f"/write/{post.pk}/"
    assert (post.status, post.slug, post.author) == (Post.Status.DRAFT, "reading-the-budget", ada)
    assert "Reading the budget" in client.get("/write/").content.decode()
    assert client.get("/").content.decode().count("Reading the budget") == 0


def test_preview_renders_with_the_site_renderer_and_saves_nothing(client, ada) -> None:
    client.force_login(ada)
    response = client.post("/write/new/", form(action="preview", body="> quoted\n\nText[^1]\n\n[^1]: Source"))
    page = response.content.decode()
    assert "<blockquote>" in page and 'class="footnote"' in page
    assert not Post.objects.exists()


def test_publish_puts_the_post_on_the_home_page_and_in_the_feed(client, ada) -> None:
    client.force_login(ada)
    response = client.post("/write/new/", form(action="publish", tags="politics, economy"))
    post = Post.objects.get()
    assert response.url == f"/write/{post.pk}/publish/" and not post.is_live  # saved; it asks first
    client.post(response.url, {"delivery": "web"})
    post.refresh_from_db()
    assert post.is_live
    assert post.get_absolute_url() in client.get("/").content.decode()
    assert "Reading the budget" in client.get("/feed/").content.decode()
    assert sorted(post.tags.names()) == ["economy", "politics"]
    assert "Reading the budget" in client.get("/t/economy/").content.decode()


def test_schedule_then_unpublish(client, ada) -> None:
    client.force_login(ada)
    client.post("/write/new/", form(action="schedule", publish_at=future()))
    post = Post.objects.get()
    assert post.status == Post.Status.SCHEDULED and post.published_at > timezone.now()
    client.post(f"/write/{post.pk}/unpublish/")
    post.refresh_from_db()
    assert (post.status, post.published_at) == (Post.Status.DRAFT, None)


def test_unpublishing_a_live_post_asks_first_then_hides_it(client, ada) -> None:
    post = make_post(ada)
    client.force_login(ada)
    editor = client.get(f"/write/{post.pk}/").content.decode()
    assert f'href="/write/{post.pk}/unpublish/"' in editor
    question = client.get(f"/write/{post.pk}/unpublish/")
    assert question.status_code == 200 and "Unpublish “A published post”?" in question.content.decode()
    assert Post.objects.get(pk=post.pk).status == Post.Status.PUBLISHED  # asking changed nothing
    client.post(f"/write/{post.pk}/", form(title=post.title, action="unpublish"))  # the old button: just a save
    assert Post.objects.get(pk=post.pk).status == Post.Status.PUBLISHED
    client.post(f"/write/{post.pk}/unpublish/")
    client.logout()
    assert client.get(post.get_absolute_url()).status_code == 404


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"title": ""}, "This field is required."),
        ({"title": "   "}, "This field is required."),
        ({"title": "x" * 201}, "Ensure this value has at most 200 characters"),
        ({"action": "schedule", "publish_at": ""}, "Choose when to publish."),
        ({"action": "schedule", "publish_at": "2020-01-01T10:00"}, "Choose a publication time in the future."),
        ({"action": "schedule", "publish_at": "next tuesday"}, "Enter a valid date/time."),
        ({"slug": "not a slug!"}, "Enter a valid “slug”"),
    ],
)
def test_bad_input_is_refused_with_a_message_and_nothing_saved(client, ada, overrides, message) -> None:
    client.force_login(ada)
    response = client.post("/write/new/", form(**overrides))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Post.objects.exists()


def test_a_cover_that_is_not_an_image_is_refused(client, ada) -> None:
    client.force_login(ada)
    fake = SimpleUploadedFile("cover.png", b"this is not a picture", content_type="image/png")
    response = client.post("/write/new/", {**form(), "cover": fake})
    assert "Upload a valid image" in response.content.decode()
    assert not Post.objects.exists()


def test_an_oversized_cover_is_refused(client, ada, settings) -> None:
    settings.MAX_COVER_BYTES = 50
    client.force_login(ada)
    response = client.post("/write/new/", {**form(), "cover": png(50)})
    assert "The cover image must be" in response.content.decode()
    assert not Post.objects.exists()


def test_a_valid_cover_is_stored_and_shown(client, ada) -> None:
    client.force_login(ada)
    client.post("/write/new/", {**form(action="publish"), "cover": png()})
    post = Post.objects.get()
    client.post(f"/write/{post.pk}/publish/", {"delivery": "web"})
    page = client.get(post.get_absolute_url()).content.decode()
    assert post.cover.url in page
    assert '<meta property="og:image" content="http://127.0.0.1:8000/p/reading-the-budget/preview.png' in page


def test_a_slug_taken_by_another_post_is_refused(client, ada, bo) -> None:
    make_post(bo, "Taken")
    client.force_login(ada)
    response = client.post("/write/new/", form(slug="taken"))
    assert "Another post already uses this permalink." in response.content.decode()
    assert Post.objects.count() == 1


def test_a_slug_once_used_by_another_post_is_refused(client, ada, bo) -> None:
    other = make_post(bo, "Original")
    SlugRedirect.objects.create(old_slug="retired", post=other)
    client.force_login(ada)
    response = client.post("/write/new/", form(slug="retired"))
    assert "Another post already uses this permalink." in response.content.decode()


def test_changing_the_slug_redirects_the_old_address(client, ada) -> None:
    post = make_post(ada, "First title")
    client.force_login(ada)
    client.post(f"/write/{post.pk}/", form(title="First title", slug="better-address"))
    client.logout()
    response = client.get("/p/first-title/")
    assert response.status_code == 301 and response.url == "/p/better-address/"
    assert client.get("/p/better-address/").status_code == 200


def test_changing_the_title_keeps_the_slug(client, ada) -> None:
    post = make_post(ada, "First title")
    client.force_login(ada)
    client.post(f"/write/{post.pk}/", form(title="A much better title"))
    post.refresh_from_db()
    assert (post.title, post.slug) == ("A much better title", "first-title")


def test_a_repeated_title_gets_a_unique_slug(client, ada) -> None:
    make_post(ada, "Same words")
    client.force_login(ada)
    client.post("/write/new/", form(title="Same words"))
    assert Post.objects.filter(slug="same-words-2").exists()


def test_unpublishing_is_for_signed_in_authors_only(client, ada, rosa) -> None:
    post = make_post(ada)
    assert client.post(f"/write/{post.pk}/unpublish/").status_code == 302  # to the log-in page
    client.force_login(rosa)
    assert client.post(f"/write/{post.pk}/unpublish/").status_code == 403
    assert Post.objects.get(pk=post.pk).status == Post.Status.PUBLISHED


def test_an_old_slug_of_a_draft_does_not_reveal_it(client, ada) -> None:
    post = make_post(ada, "Secret plan", status=Post.Status.DRAFT)
    post.set_slug("renamed-plan")
    post.save()
    assert client.get("/p/secret-plan/").status_code == 404


def test_visitors_are_sent_to_sign_in(client) -> None:
    for url in ["/write/", "/write/new/"]:
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith("/accounts/login/")
    assert client.post("/write/new/", form()).status_code == 302
    assert not Post.objects.exists()


def test_readers_are_refused(client, rosa) -> None:
    client.force_login(rosa)
    assert client.get("/write/").status_code == 403
    assert client.post("/write/new/", form()).status_code == 403
    assert not Post.objects.exists()


def test_an_author_cannot_touch_another_authors_post(client, ada, bo) -> None:
    post = make_post(bo, "Bo's post")
    client.force_login(ada)
    assert client.get(f"/write/{post.pk}/").status_code == 404
    assert client.post(f"/write/{post.pk}/", form(title="Hijacked", action="unpublish")).status_code == 404
    assert client.get(f"/write/{post.pk}/unpublish/").status_code == 404
    assert client.post(f"/write/{post.pk}/unpublish/").status_code == 404
    post.refresh_from_db()
    assert (post.title, post.status) == ("Bo's post", Post.Status.PUBLISHED)
    assert "Bo&#x27;s post" not in client.get("/write/").content.decode()


def test_editors_can_edit_any_post(client, bo, lena) -> None:
    post = make_post(bo, "Bo's post")
    client.force_login(lena)
    client.post(f"/write/{post.pk}/", form(title="Corrected by an editor"))
    post.refresh_from_db()
    assert post.title == "Corrected by an editor" and post.author == bo
    assert "Bo's post" not in client.get("/write/").content.decode()
    assert "<td>bo</td>" in client.get("/write/").content.decode()


def test_a_staff_flag_alone_edits_and_publishes_nothing(client, bo, kit) -> None:
    post = make_post(bo, "Bo's post", status=Post.Status.DRAFT)
    client.force_login(kit)
    assert client.get("/write/").status_code == 403
    assert client.post(f"/write/{post.pk}/", form(title="Hijacked", action="publish")).status_code == 403
    post.refresh_from_db()
    assert (post.title, post.status) == ("Bo's post", Post.Status.DRAFT)


def test_a_staff_author_edits_only_their_own_posts(client, bo, kit) -> None:
    from django.contrib.auth.models import Group

    from accounts.roles import AUTHORS

    kit.groups.add(Group.objects.get(name=AUTHORS))
    post = make_post(bo, "Bo's post")
    client.force_login(kit)
    assert client.post(f"/write/{post.pk}/", form(title="Hijacked", action="unpublish")).status_code == 404
    assert Post.objects.get(pk=post.pk).title == "Bo's post"
