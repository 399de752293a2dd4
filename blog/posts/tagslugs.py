"""Tag and post slugs that every URL pattern accepts.

The routes use Django's `slug` converter (ASCII letters, digits, `-`, `_`),
but django-taggit slugifies names with `allow_unicode=True`, so a tag named
"Ünicode" or "日本語" got a slug no route could reverse, and every page
listing it answered 500. Names keep their letters; slugs are transliterated
to ASCII (text-unidecode), and a name with no letters at all (an emoji) gets
a short stable slug from its hash."""

import hashlib
import re
from urllib.parse import unquote

from django.db.models import Model
from django.utils.text import slugify
from text_unidecode import unidecode  # type: ignore[import-untyped]

ROUTABLE = re.compile(r"^[-a-zA-Z0-9_]+$")


def ascii_slug(text: str, fallback: str = "tag", length: int = 50) -> str:
    """An ASCII slug for `text` (percent-encoding undone first, as WordPress keeps unicode slugs)."""
    plain = unquote(text or "")
    slug: str = slugify(unidecode(plain))[:length].strip("-")
    if slug:
        return slug
    digest = hashlib.sha1(plain.encode()).hexdigest()[:8]  # noqa: S324  (a name, not a secret)
    return f"{fallback}-{digest}"


def free_tag_slug(model: type[Model], name: str, exclude_pk: object = None) -> str:
    """`ascii_slug(name)`, numbered when another tag holds it already."""
    base = ascii_slug(name)
    taken = set(
        model._default_manager.filter(slug__startswith=base).exclude(pk=exclude_pk).values_list("slug", flat=True)
    )
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


def routable_tag_slug(sender: type[Model], instance: Model, **kwargs: object) -> None:
    """pre_save of taggit's Tag: a slug the `t/<slug:slug>/` route cannot take is replaced."""
    slug = getattr(instance, "slug", "") or ""
    if not ROUTABLE.match(slug):
        instance.slug = free_tag_slug(sender, instance.name, exclude_pk=instance.pk)  # type: ignore[attr-defined]
