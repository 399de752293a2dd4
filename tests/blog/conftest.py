import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth.models import Group, Permission
from django.utils import timezone

from accounts.models import User
from accounts.roles import AUTHORS, EDITORS
from blog.models import Post


def make_user(handle: str, *, role: str | None = None, **fields) -> User:
    user = User.objects.create_user(handle, f"{handle}@example.com", "a-long-pass-phrase", **fields)
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


def grant(user: User, *perms: str) -> User:
    """Give `user` permissions; returns a fresh copy (has_perm caches)."""
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return User.objects.get(pk=user.pk)


def make_post(author: User, title: str = "A published post", **fields) -> Post:
    fields.setdefault("body", "Some *Markdown* body.")
    fields.setdefault("status", Post.Status.PUBLISHED)
    if fields["status"] == Post.Status.PUBLISHED:
        fields.setdefault("published_at", timezone.now() - timezone.timedelta(hours=1))
    return Post.objects.create(author=author, title=title, **fields)


@pytest.fixture
def ada(db) -> User:
    return make_user("ada", role=AUTHORS, display_name="Ada Whitlock")


@pytest.fixture
def bo(db) -> User:
    return make_user("bo", role=AUTHORS)


@pytest.fixture
def rosa(db) -> User:
    return make_user("rosa")


@pytest.fixture
def sam(db) -> User:
    return make_user("sam", is_staff=True)


@pytest.fixture
def lena(db) -> User:
    """An editor: may edit and publish every author's post."""
    return make_user("lena", role=EDITORS)
