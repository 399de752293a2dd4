"""Covers and avatars: capped in pixels, stored re-encoded without metadata."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from accounts.models import User
from blog.models import Post
from tests.factories import make_user

pytestmark = pytest.mark.django_db

GPS_TAG = 0x8825  # the EXIF block with a photo's location


def picture(size: tuple[int, int], fmt: str = "PNG", mode: str = "RGB", **save) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new(mode, size, 1 if mode == "1" else "red").save(buffer, fmt, **save)
    extension = {"PNG": "png", "JPEG": "jpg"}[fmt]
    return SimpleUploadedFile(f"photo.{extension}", buffer.getvalue(), content_type=f"image/{extension}")


def phone_photo() -> SimpleUploadedFile:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # camera make
    exif[0x0112] = 6  # orientation: turn 90 degrees
    exif.get_ifd(GPS_TAG)[2] = (48.0, 51.0, 30.0)  # latitude
    return picture((40, 20), "JPEG", exif=exif.tobytes())


def post_form(**extra) -> dict:
    return {"title": "With a cover", "body": "Text.", "action": "save", "comments_open": "on", **extra}


def test_a_cover_with_too_many_pixels_is_refused_before_it_is_decoded(client, ada, settings) -> None:
    settings.MAX_IMAGE_PIXELS = 10_000
    client.force_login(ada)
    response = client.post("/write/new/", post_form(cover=picture((101, 100))))
    assert "at most 0.01 megapixels (this one is 101 x 100)" in response.content.decode()
    assert not Post.objects.exists()


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_a_170_megapixel_png_of_a_few_hundred_kilobytes_is_refused(client, ada) -> None:
    bomb = picture((13_000, 13_000), mode="1")
    assert bomb.size < 500_000
    client.force_login(ada)
    response = client.post("/write/new/", post_form(cover=bomb))
    assert "megapixels" in response.content.decode()
    assert not Post.objects.exists()


def test_a_phone_photo_loses_its_location_and_is_turned_upright(client, ada) -> None:
    client.force_login(ada)
    client.post("/write/new/", post_form(cover=phone_photo()))
    with Post.objects.get().cover.open("rb") as stored, Image.open(stored) as image:
        assert image.size == (20, 40)  # the orientation tag was applied, then dropped
        assert not image.getexif()


def test_a_large_cover_is_scaled_down(client, ada) -> None:
    client.force_login(ada)
    client.post("/write/new/", post_form(cover=picture((3000, 1500))))
    with Post.objects.get().cover.open("rb") as stored, Image.open(stored) as image:
        assert image.size == (2400, 1200)


def test_an_avatar_is_re_encoded_and_small(client) -> None:
    make_user("grace")
    client.force_login(User.objects.get(username="grace"))
    client.post("/settings/profile/", {"display_name": "Grace", "bio": "", "avatar": phone_photo()})
    with User.objects.get(username="grace").avatar.open("rb") as stored, Image.open(stored) as image:
        assert not image.getexif()


def test_an_avatar_with_too_many_pixels_is_refused(client, settings) -> None:
    settings.MAX_IMAGE_PIXELS = 10_000
    grace = make_user("grace")
    client.force_login(grace)
    response = client.post("/settings/profile/", {"display_name": "Grace", "bio": "", "avatar": picture((200, 200))})
    assert "megapixels" in response.content.decode()
    assert not User.objects.get(pk=grace.pk).avatar


def test_the_admin_re_encodes_uploads_too(client, ada, settings) -> None:
    settings.MAX_IMAGE_PIXELS = 10_000
    root = make_user("root", is_staff=True, is_superuser=True)
    client.force_login(root)
    data = {
        "username": "ada", "email": "ada@example.com", "date_joined_0": "2026-01-01", "date_joined_1": "00:00",
        "display_name": "Ada", "bio": "", "avatar": picture((200, 200)),
    }  # fmt: skip
    response = client.post(f"/admin/accounts/user/{ada.pk}/change/", data)
    assert "megapixels" in response.content.decode()
    assert not User.objects.get(pk=ada.pk).avatar


def test_the_preview_leaves_out_a_cover_stored_before_the_cap(ada, settings) -> None:
    from blog.posts.previews import render_preview

    post = Post.objects.create(author=ada, title="Old cover", body="x")
    post.cover.save("old.png", picture((200, 200)), save=False)
    settings.MAX_IMAGE_PIXELS = 10_000
    image = Image.open(io.BytesIO(render_preview(post)))
    assert image.getpixel((600, 400)) == (255, 253, 248)  # the plain paper, not the red cover
