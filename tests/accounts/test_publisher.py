"""The Publisher role: the owner does every daily task without a superuser,
and a forbidden page is the site's own, saying who may do it."""

import io

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command

from accounts.models import User
from accounts.roles import PUBLISHERS, ROLE_PERMISSIONS, who_can
from blog.models import ExportJob
from tests.factories import make_post, make_user

pytestmark = pytest.mark.django_db

# Every desk page a solo writer needs, each answering the owner with 200.
OWNER_PAGES = [
    "/write/",
    "/write/new/",
    "/write/settings/",
    "/write/members/",
    "/write/subscribers/",
    "/write/subscribers/export.csv",
    "/write/welcome/",
    "/write/import/",
    "/write/export/",
    "/write/insights/",
    "/moderation/",
]


@pytest.fixture
def olive(db) -> User:
    return make_user("olive", role=PUBLISHERS)


def test_the_publishers_group_holds_everything_a_solo_writer_needs() -> None:
    held = {f"{p.content_type.app_label}.{p.codename}" for p in Group.objects.get(name=PUBLISHERS).permissions.all()}
    assert held == set(ROLE_PERMISSIONS[PUBLISHERS])
    for perm in ["blog.add_post", "blog.change_any_post", "blog.manage_subscribers", "blog.change_site"]:
        assert perm in held


@pytest.mark.parametrize("path", OWNER_PAGES)
def test_the_publisher_opens_every_desk_page_without_being_staff(client, olive, path) -> None:
    assert not olive.is_staff and not olive.is_superuser
    client.force_login(olive)
    assert client.get(path).status_code == 200


def test_the_publisher_exports_the_publication(client, olive, django_capture_on_commit_callbacks) -> None:
    make_post(olive, "Harbour notes")
    client.force_login(olive)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/write/export/start/")
    assert response.status_code == 302
    job = ExportJob.objects.get(user=olive)
    assert f"/write/export/{job.pk}/download/" in client.get("/write/export/").content.decode()
    download = client.get(f"/write/export/{job.pk}/download/")
    assert download.status_code == 200 and download["Content-Type"] == "application/zip"


def test_the_publisher_edits_and_sends_another_authors_post(client, olive, ada) -> None:
    post = make_post(ada, "Ada's draft", status="draft")
    client.force_login(olive)
    assert client.get(f"/write/{post.pk}/").status_code == 200


@pytest.mark.parametrize(
    ("who", "path", "sentence"),
    [
        ("ada", "/write/settings/", "Only the publisher can do this."),
        ("ada", "/write/members/", "Only the publisher can do this."),
        ("ada", "/write/export/", "Only the publisher can do this."),
        ("rosa", "/write/", "Only the publisher, editors and authors can do this."),
        ("rosa", "/moderation/", "Only the publisher and moderators can do this."),
    ],
)
def test_a_forbidden_page_is_the_sites_own_and_says_who_can(client, ada, rosa, who, path, sentence) -> None:
    client.force_login({"ada": ada, "rosa": rosa}[who])
    response = client.get(path)
    assert response.status_code == 403
    text = response.content.decode()
    assert sentence in text and "Ask the publisher if you need it." in text
    assert '<header class="masthead">' in text  # the site's header, not Django's bare page
    assert "<title>Not allowed · Dispatch</title>" in text


def test_a_permission_no_role_holds_is_for_superusers() -> None:
    assert who_can("blog.delete_post") == "Only a superuser can do this, from the admin or the command line."


def test_the_demo_author_is_the_publisher(settings) -> None:
    settings.DEBUG = True
    call_command("seed_demo", verbosity=0)
    author = User.objects.get(email="author@example.com")
    assert author.groups.filter(name=PUBLISHERS).exists()
    assert author.has_perms(["blog.change_site", "blog.manage_subscribers", "blog.change_any_post"])
    assert not author.is_superuser


def test_grant_role_makes_an_account_the_publisher_from_the_command_line(rosa) -> None:
    out = io.StringIO()
    call_command("grant_role", "ROSA@example.com", PUBLISHERS, stdout=out)
    assert "@rosa is now in Publishers." in out.getvalue()
    assert User.objects.get(pk=rosa.pk).has_perm("blog.change_site")


def test_grant_role_refuses_an_unknown_account() -> None:
    with pytest.raises(CommandError, match=r"No account has the e-mail address or handle “nobody@example\.com”"):
        call_command("grant_role", "nobody@example.com", PUBLISHERS)
    assert not Group.objects.get(name=PUBLISHERS).user_set.exists()
