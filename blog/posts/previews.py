"""The 1200x630 social preview image of a post (og:image, twitter:image).

Drawn with Pillow from the title, subtitle, author, publication name and the
cover when there is one; stored, and drawn again only when one of those
changes (the key is a hash of them). Drawing decodes the cover, so it happens
only in the Celery worker (blog.tasks.refresh_preview), never in a request."""

import hashlib
import io
import textwrap
from pathlib import Path

from django.core.cache import cache
from django.core.files.base import ContentFile
from PIL import Image, ImageColor, ImageDraw, ImageEnhance, ImageFont, ImageOps

from accounts.images import too_many_pixels
from blog.models import Post
from blog.shared import sitesettings

WIDTH, HEIGHT = 1200, 630
MARGIN = 72
RGB = tuple[int, int, int]
PAPER, INK, MUTED, ACCENT = (255, 253, 248), (29, 29, 31), (107, 107, 112), (179, 38, 30)
REDRAW_CLAIM_SECONDS = 300
FONT_DIRS = [Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu")]


def _font(name: str, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for folder in FONT_DIRS:
        if (folder / name).exists():
            return ImageFont.truetype(str(folder / name), size)
    return ImageFont.load_default(size=size)  # Pillow's bundled font, when the system has none


def preview_key(post: Post) -> str:
    site = sitesettings.current()
    parts = [post.title, post.subtitle, post.author.name, site.name, site.accent_color, post.cover.name or ""]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _background(post: Post) -> tuple[Image.Image, RGB, RGB]:
    """The cover, darkened so that white text reads on it; else plain paper."""
    if post.cover:
        try:
            with post.cover.open("rb") as handle, Image.open(handle) as cover:
                if too_many_pixels(cover.size):  # a cover stored before uploads were capped
                    raise ValueError("cover too large to decode")
                image = ImageOps.fit(cover.convert("RGB"), (WIDTH, HEIGHT))
            return ImageEnhance.Brightness(image).enhance(0.35), (255, 255, 255), (225, 225, 225)
        except (OSError, ValueError, Image.DecompressionBombError):
            pass  # a missing or broken cover falls back to the plain design
    return Image.new("RGB", (WIDTH, HEIGHT), PAPER), INK, MUTED


def render_preview(post: Post) -> bytes:
    image, ink, muted = _background(post)
    draw = ImageDraw.Draw(image)
    site = sitesettings.current()
    accent = ImageColor.getrgb(site.accent_color) if site.accent_color else ACCENT
    draw.rectangle([0, 0, WIDTH, 12], fill=accent)
    draw.text((MARGIN, MARGIN - 10), site.name.upper(), font=_font("DejaVuSans-Bold.ttf", 28), fill=accent)
    y = MARGIN + 50
    title_size = 64 if len(post.title) < 60 else 52
    title_font = _font("DejaVuSerif-Bold.ttf", title_size)
    for line in textwrap.wrap(post.title, width=30 if len(post.title) < 60 else 38)[:4]:
        draw.text((MARGIN, y), line, font=title_font, fill=ink)
        y += title_size + 12
    if post.subtitle:
        subtitle_font = _font("DejaVuSerif.ttf", 32)
        for line in textwrap.wrap(post.subtitle, width=60)[:2]:
            draw.text((MARGIN, y + 10), line, font=subtitle_font, fill=muted)
            y += 42
    draw.text((MARGIN, HEIGHT - MARGIN - 30), post.author.name, font=_font("DejaVuSans.ttf", 30), fill=ink)
    output = io.BytesIO()
    image.save(output, "PNG", optimize=True)
    return output.getvalue()


def is_current(post: Post) -> bool:
    return bool(post.preview_image) and post.preview_key == preview_key(post)


def claim_redraw(post: Post) -> bool:
    """True for the one request that should queue a redraw of this version;
    a burst of requests for a stale preview queues one task, not thousands."""
    return cache.add(f"preview-redraw:{post.pk}:{preview_key(post)}", 1, timeout=REDRAW_CLAIM_SECONDS)


def ensure_preview(post: Post) -> Post:
    """Draw the preview if it is missing or out of date; returns the post."""
    key = preview_key(post)
    if post.preview_key == key and post.preview_image:
        return post
    old = post.preview_image.name
    post.preview_image.save(f"{post.pk}-{key[:12]}.png", ContentFile(render_preview(post)), save=False)
    post.preview_key = key
    Post.objects.filter(pk=post.pk).update(preview_image=post.preview_image.name, preview_key=key)
    if old and old != post.preview_image.name:
        post.preview_image.storage.delete(old)
    return post
