"""The editor's helpers: images in the body, autosave with conflicts, live preview."""

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from blog.models import Post, PostImage
from tests.blog.test_desk import form
from tests.factories import make_post

pytestmark = pytest.mark.django_db


def picture(name: str = "chart.png", size: tuple[int, int] = (12, 8), kind: str = "PNG") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, "blue").save(buffer, kind)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=f"image/{kind.lower()}")


# --- Images --------------------------------------------------------------------


def test_a_dropped_image_is_stored_and_answered_as_markdown(client, ada) -> None:
    client.force_login(ada)
    response = client.post("/write/images/", {"image": picture(), "alt": "A chart [of] prices"})
    assert response.status_code == 200
    image = PostImage.objects.get()
    assert response.json() == {"markdown": f"![A chart (of) prices]({image.image.url})", "url": image.image.url}
    assert image.uploaded_by == ada and image.image.url.startswith("/media/posts/")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"alt": "No file"}, "This field is required."),
        ({"image": "picture", "alt": ""}, "Describe the image"),
        ({"image": SimpleUploadedFile("x.png", b"not an image"), "alt": "x"}, "Upload a valid image"),
        ({"image": "bmp", "alt": "x"}, "JPEG, PNG, WebP or GIF"),
    ],
)
def test_a_bad_upload_is_refused_with_a_message_and_nothing_stored(client, ada, data, message) -> None:
    if data.get("image") == "picture":
        data["image"] = picture()
    elif data.get("image") == "bmp":
        data["image"] = picture("chart.bmp", kind="BMP")
    client.force_login(ada)
    response = client.post("/write/images/", data)
    assert response.status_code == 400 and message in response.json()["error"]
    assert not PostImage.objects.exists()


def test_images_too_large_in_bytes_or_pixels_are_refused(client, ada, settings) -> None:
    client.force_login(ada)
    settings.MAX_IMAGE_PIXELS = 50
    response = client.post("/write/images/", {"image": picture(size=(10, 10)), "alt": "big"})
    assert "(this one is 10 x 10)" in response.json()["error"]
    settings.MAX_IMAGE_PIXELS, settings.MAX_COVER_BYTES = 40_000_000, 20
    response = client.post("/write/images/", {"image": picture(), "alt": "heavy"})
    assert "must be 0 MB or smaller" in response.json()["error"]
    assert not PostImage.objects.exists()


def test_the_cover_gets_the_same_pixel_check(client, ada, settings) -> None:
    settings.MAX_IMAGE_PIXELS = 50
    client.force_login(ada)
    response = client.post("/write/new/", form(cover=picture(size=(10, 10))))
    assert "(this one is 10 x 10)" in response.content.decode()
    assert not Post.objects.exists()


def test_uploading_needs_an_author_and_a_post(client, rosa) -> None:
    assert client.post("/write/images/", {"image": picture(), "alt": "x"}).status_code == 302
    client.force_login(rosa)
    assert client.post("/write/images/", {"image": picture(), "alt": "x"}).status_code == 403
    assert not PostImage.objects.exists()


def test_upload_refuses_get(client, ada) -> None:
    client.force_login(ada)
    assert client.get("/write/images/").status_code == 405


def test_without_javascript_the_image_field_appends_the_image_to_the_body(client, ada) -> None:
    client.force_login(ada)
    client.post("/write/new/", form(body_image=picture(), body_image_alt="The chart"))
    post = Post.objects.get()
    image = PostImage.objects.get()
    assert post.body.endswith(f"![The chart]({image.image.url})\n") and image.post == post
    assert f'<img alt="The chart" src="{image.image.url}"' in post.body_html


def test_without_javascript_an_image_without_description_is_refused(client, ada) -> None:
    client.force_login(ada)
    response = client.post("/write/new/", form(body_image=picture()))
    assert "Describe the image" in response.content.decode()
    assert not Post.objects.exists() and not PostImage.objects.exists()


# --- Autosave --------------------------------------------------------------------


def test_autosave_creates_a_draft_then_keeps_saving_it(client, ada) -> None:
    client.force_login(ada)
    first = client.post("/write/new/autosave/", {"title": "Half", "body": "Typing"}).json()
    post = Post.objects.get()
    assert first["edit_url"] == f"/write/{post.pk}/" and first["autosave_url"] == f"/write/{post.pk}/autosave/"
    assert (post.status, post.body, post.slug) == ("draft", "Typing", "half")
    second = client.post(first["autosave_url"], {"title": "Half a title", "body": "Typing more",
                                                 "version": first["version"]})  # fmt: skip
    assert second.status_code == 200
    post.refresh_from_db()
    assert (post.title, post.body, post.slug) == ("Half a title", "Typing more", "half-a-title")
    assert second.json()["slug"] == "half-a-title"  # the editor puts it in its slug field
    assert second.json()["version"] != first["version"]


def test_autosave_of_a_draft_changed_elsewhere_is_a_conflict_and_saves_nothing(client, ada) -> None:
    post = make_post(ada, "Shared draft", status=Post.Status.DRAFT, body="Original")
    client.force_login(ada)
    opened = client.get(f"/write/{post.pk}/").content.decode()
    version = opened.split('name="version" value="')[1].split('"')[0]
    post.body = "Changed in another tab"
    post.save()
    response = client.post(f"/write/{post.pk}/autosave/", {"title": "Shared draft", "body": "Mine", "version": version})
    assert response.status_code == 409 and "changed elsewhere" in response.json()["error"]
    post.refresh_from_db()
    assert post.body == "Changed in another tab"


def test_saving_by_hand_over_a_newer_version_is_a_conflict_too(client, ada) -> None:
    post = make_post(ada, "Shared draft", status=Post.Status.DRAFT, body="Original")
    client.force_login(ada)
    opened = client.get(f"/write/{post.pk}/").content.decode()
    version = opened.split('name="version" value="')[1].split('"')[0]
    Post.objects.get(pk=post.pk).save()  # saved elsewhere meanwhile
    response = client.post(f"/write/{post.pk}/", form(title="Shared draft", body="Mine", version=version))
    page = response.content.decode()
    assert response.status_code == 200 and "changed elsewhere" in page and "Mine" in page
    assert Post.objects.get(pk=post.pk).body == "Original"


def test_autosave_of_a_live_post_keeps_the_edit_aside_not_live(client, ada) -> None:
    post = make_post(ada, "Live")
    client.force_login(ada)
    response = client.post(f"/write/{post.pk}/autosave/", {"title": "Live", "body": "Draft change"})
    assert response.status_code == 200 and "once you press Update" in response.json()["message"]
    assert Post.objects.get(pk=post.pk).body == post.body
    assert "Draft change" not in client.get(post.get_absolute_url()).content.decode()


def test_autosave_needs_a_title(client, ada) -> None:
    client.force_login(ada)
    response = client.post("/write/new/autosave/", {"title": " ", "body": "Words"})
    assert response.status_code == 400 and "Give the post a title" in response.json()["error"]
    assert not Post.objects.exists()


def test_autosave_is_for_the_author_only(client, ada, bo, rosa) -> None:
    post = make_post(ada, "Ada's draft", status=Post.Status.DRAFT, body="Hers")
    url = f"/write/{post.pk}/autosave/"
    assert client.post(url, {"title": "x", "body": "y"}).status_code == 302
    client.force_login(rosa)
    assert client.post(url, {"title": "x", "body": "y"}).status_code == 403
    client.force_login(bo)
    assert client.post(url, {"title": "x", "body": "y"}).status_code == 404
    assert client.get(url).status_code == 405
    assert Post.objects.get(pk=post.pk).body == "Hers"


def test_the_editor_form_names_its_helpers(client, ada) -> None:
    draft = make_post(ada, "Draft", status=Post.Status.DRAFT)
    live = make_post(ada, "Live")
    client.force_login(ada)
    assert 'data-autosave-url="/write/new/autosave/"' in client.get("/write/new/").content.decode()
    assert f'data-autosave-url="/write/{draft.pk}/autosave/"' in client.get(f"/write/{draft.pk}/").content.decode()
    assert f'data-autosave-url="/write/{live.pk}/autosave/"' in client.get(f"/write/{live.pk}/").content.decode()


# --- Live preview ----------------------------------------------------------------


def test_live_preview_renders_with_the_site_renderer(client, ada) -> None:
    client.force_login(ada)
    response = client.post("/write/preview/", {"body": "Text[^1] <script>alert(1)</script>\n\n[^1]: Source"})
    html = json.loads(response.content)["html"]
    assert 'class="footnote"' in html and "<script>" not in html


def test_live_preview_is_for_authors(client, rosa) -> None:
    client.force_login(rosa)
    assert client.post("/write/preview/", {"body": "x"}).status_code == 403
