import io

import pytest
from PIL import Image

from blog.models import Post
from tests.factories import make_post

pytestmark = pytest.mark.django_db


def test_the_preview_is_a_1200_by_630_png_with_caching(client, ada) -> None:
    post = make_post(ada, "A picture of a title", subtitle="and its subtitle")
    response = client.get(f"/p/{post.slug}/preview.png")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert "max-age=86400" in response["Cache-Control"]
    image = Image.open(io.BytesIO(b"".join(response.streaming_content)))
    assert image.size == (1200, 630)
    again = client.get(f"/p/{post.slug}/preview.png", headers={"If-None-Match": response["ETag"]})
    assert again.status_code == 304


def test_the_preview_is_redrawn_when_the_title_changes_and_only_then(client, ada) -> None:
    post = make_post(ada, "First title")
    client.get(f"/p/{post.slug}/preview.png")
    first = Post.objects.get(pk=post.pk).preview_image.name
    post.body = "Only the body changed."
    post.save()
    client.get(f"/p/{post.slug}/preview.png")
    assert Post.objects.get(pk=post.pk).preview_image.name == first
    client.force_login(ada)
    client.post(f"/write/{post.pk}/", {"title": "Second title", "body": "x", "action": "save"})
    client.get(f"/p/{post.slug}/preview.png")
    assert Post.objects.get(pk=post.pk).preview_image.name != first


def test_post_page_names_the_preview_for_social_cards(client, ada) -> None:
    post = make_post(ada)
    page = client.get(post.get_absolute_url()).content.decode()
    assert f'<meta property="og:image" content="http://127.0.0.1:8000/p/{post.slug}/preview.png' in page
    assert f'<meta name="twitter:image" content="http://127.0.0.1:8000/p/{post.slug}/preview.png' in page


def test_drafts_have_no_public_preview(client, ada) -> None:
    draft = make_post(ada, "Draft", status=Post.Status.DRAFT)
    assert client.get(f"/p/{draft.slug}/preview.png").status_code == 404
