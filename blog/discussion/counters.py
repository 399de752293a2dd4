"""Rows that are counted on another row: a like and a post's like_count.

The row and its counter change in one transaction, the counter with F(), and
a unique constraint on the row decides races: however many requests arrive
at once, the counter equals the number of rows. Post likes, comment likes,
shares and re-stacks all go through these two functions, except the post like,
the hottest write, which blog/discussion/engagement.py does in one statement on PostgreSQL.
"""

from django.db import IntegrityError, models, transaction
from django.db.models import F


def _move(owner: models.Model, counter: str, step: int) -> None:
    type(owner)._default_manager.filter(pk=owner.pk).update(**{counter: F(counter) + step})


def add_counted(rows: type[models.Model], owner: models.Model, counter: str, **fields: object) -> bool:
    """Create the row and count it on `owner`; False if it existed already."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                rows._default_manager.create(**fields)
        except IntegrityError:
            return False  # already there, perhaps made by a concurrent request
        _move(owner, counter, +1)
    return True


def remove_counted(rows: type[models.Model], owner: models.Model, counter: str, **fields: object) -> bool:
    """Delete the row and uncount it on `owner`; False if there was none."""
    with transaction.atomic():
        _, deleted = rows._default_manager.filter(**fields).delete()
        removed = deleted.get(rows._meta.label, 0)
        if removed:
            _move(owner, counter, -removed)
    return bool(removed)


def current(owner: models.Model, counter: str) -> int:
    """The counter as stored now (after the F() updates above)."""
    return int(type(owner)._default_manager.values_list(counter, flat=True).get(pk=owner.pk))
