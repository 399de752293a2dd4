"""The admin shows staff the posts the site would show them: view_post is not every draft."""

import pytest
from django.contrib.auth.models import Group

from accounts.roles import AUTHORS, EDITORS, MODERATORS
from blog.models import Post
from tests.factories import make_post, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(ada) -> Post:
    return make_post(ada, "Ada's secret draft", status=Post.Status.DRAFT, body="Embargoed until Friday.")


def staff(handle: str, role: str):
    user = make_user(handle, is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user


def test_a_staff_moderator_does_not_see_drafts_in_the_admin(client, draft, ada) -> None:
    make_post(ada, "Ada's live post")
    client.force_login(staff("mona", MODERATORS))
    listing = client.get("/admin/blog/post/").content.decode()
    assert "Ada&#x27;s live post" in listing or "Ada's live post" in listing
    assert "secret draft" not in listing
    change = client.get(f"/admin/blog/post/{draft.pk}/change/", follow=True)
    assert "Embargoed" not in change.content.decode() and "secret draft" not in change.content.decode()


def test_another_staff_author_does_not_see_the_draft_but_its_author_and_an_editor_do(client, draft) -> None:
    client.force_login(staff("bea", AUTHORS))
    assert "Embargoed" not in client.get(f"/admin/blog/post/{draft.pk}/change/", follow=True).content.decode()
    assert "secret draft" not in client.get("/admin/blog/post/?q=secret").content.decode()
    assert client.post(f"/admin/blog/post/{draft.pk}/change/", {"title": "Hijacked"}).status_code in (302, 403)
    assert Post.objects.get(pk=draft.pk).title == "Ada's secret draft"

    author = draft.author
    author.is_staff = True
    author.save()
    client.force_login(author)
    assert "Embargoed" in client.get(f"/admin/blog/post/{draft.pk}/change/").content.decode()
    client.force_login(staff("ed", EDITORS))
    assert "Embargoed" in client.get(f"/admin/blog/post/{draft.pk}/change/").content.decode()
