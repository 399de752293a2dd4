"""A visitor clicks like, signs up, verifies their address, and lands on the post, liked."""

import re

import pytest
from django.core import mail

from blog.models import Like
from tests.factories import PASSWORD, make_post, make_user

pytestmark = pytest.mark.django_db


def test_the_sign_in_page_says_why_the_reader_is_there(client) -> None:
    post = make_post(make_user("ada"), "Worth a like")
    response = client.post(f"/p/{post.slug}/like/", {"position": "top"}, follow=True)
    assert "Sign in to like “Worth a like”" in response.content.decode()


def test_a_reader_who_liked_signs_up_verifies_and_lands_on_the_post_liked(
    client, django_capture_on_commit_callbacks
) -> None:
    post = make_post(make_user("ada"), "Liked before signing up")
    login_url = client.post(f"/p/{post.slug}/like/", {"position": "top"}).url
    page = client.get(login_url).content.decode()
    # The sign-up link on the sign-in page keeps where the reader was going.
    signup_url = re.search(r'href="(/accounts/signup/[^"]*)"', page).group(1).replace("&amp;", "&")
    page = client.get(signup_url).content.decode()
    next_url = re.search(r'name="next" value="([^"]*)"', page).group(1)
    assert next_url == f"/p/{post.slug}/#engagement-top"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(signup_url, {"email": "grace@example.com", "username": "grace", "password1": PASSWORD,
                                 "password2": PASSWORD, "next": next_url})  # fmt: skip
    link = re.search(r"http://127\.0\.0\.1:8000(/accounts/confirm-email/\S+/)", mail.outbox[0].body).group(1)
    response = client.post(link)
    assert response.url == f"/p/{post.slug}/#engagement-top"
    assert Like.objects.filter(post=post, user__username="grace").exists()
