import pytest
from django.contrib.auth.models import Group

from accounts.models import User
from accounts.roles import AUTHORS, MODERATORS

pytestmark = pytest.mark.django_db


def test_authors_may_write_and_readers_may_not() -> None:
    author = User.objects.create_user("ink", "ink@example.com", "pw-long-enough")
    author.groups.add(Group.objects.get(name=AUTHORS))
    reader = User.objects.create_user("eye", "eye@example.com", "pw-long-enough")
    assert User.objects.get(pk=author.pk).is_author
    assert not reader.is_author


def test_moderators_are_not_authors() -> None:
    moderator = User.objects.create_user("mod", "mod@example.com", "pw-long-enough")
    moderator.groups.add(Group.objects.get(name=MODERATORS))
    assert not User.objects.get(pk=moderator.pk).is_author
