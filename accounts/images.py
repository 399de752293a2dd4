"""Uploaded pictures (post covers, avatars): checked and drawn again at upload.

A PNG of a few hundred kilobytes can hold 170 megapixels, which take
hundreds of megabytes to decode; the byte limit alone does not stop that.
The header states the size before anything is decoded, so width x height is
capped first (MAX_IMAGE_PIXELS). What is kept is a fresh encoding of the
pixels, turned upright and scaled down: no EXIF (a phone photo's GPS
position), no comments, nothing but the picture.
"""

import io
from pathlib import Path
from typing import Any

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from PIL import Image, ImageOps

# What each format is saved as: GIF becomes PNG (its first frame).
OUTPUT_FORMATS = {"JPEG": ("JPEG", ".jpg"), "PNG": ("PNG", ".png"), "WEBP": ("WEBP", ".webp"), "GIF": ("PNG", ".png")}
COVER_MAX_SIDE = 2400
AVATAR_MAX_SIDE = 512


def too_many_pixels(size: tuple[int, int]) -> bool:
    width, height = size
    limit: int = settings.MAX_IMAGE_PIXELS
    return width * height > limit


def reencode(upload: UploadedFile[bytes], *, max_side: int) -> SimpleUploadedFile:
    """The picture drawn again, at most `max_side` pixels wide and high, with
    no metadata. Raises forms.ValidationError for what we will not decode."""
    upload.seek(0)
    try:
        with Image.open(upload) as original:
            if too_many_pixels(original.size):
                raise _refusal(original.size)
            if original.format not in OUTPUT_FORMATS:
                raise forms.ValidationError("Upload a valid image in JPEG, PNG, WebP or GIF format.")
            output_format, extension = OUTPUT_FORMATS[original.format]
            image = ImageOps.exif_transpose(original)  # turn it upright before the EXIF goes
            image.thumbnail((max_side, max_side))
            if output_format == "JPEG" and image.mode not in ("RGB", "L"):
                image = image.convert("RGB")
            buffer = io.BytesIO()
            image.save(buffer, output_format, **({"quality": 85} if output_format != "PNG" else {"optimize": True}))
    except Image.DecompressionBombError:
        raise _refusal(None) from None
    except (OSError, ValueError, SyntaxError):
        raise forms.ValidationError("Upload a valid image in JPEG, PNG, WebP or GIF format.") from None
    name = Path(upload.name or "image").stem[:80] + extension
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=Image.MIME[output_format])


def _refusal(size: tuple[int, int] | None) -> forms.ValidationError:
    limit = settings.MAX_IMAGE_PIXELS / 1_000_000
    stated = f" (this one is {size[0]:,} x {size[1]:,})" if size else ""
    return forms.ValidationError(f"The image may have at most {limit:g} megapixels{stated}. Make it smaller.")


class UploadedImageField(forms.ImageField):
    """An image upload limited in bytes and pixels, stored re-encoded.

    Used by the site's forms and, through formfield_overrides, by the admin,
    so that no way in skips the check."""

    def __init__(
        self,
        *args: Any,
        max_side: int = COVER_MAX_SIDE,
        max_bytes: int | None = None,
        noun: str = "image",
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.max_side, self.max_bytes, self.noun = max_side, max_bytes, noun

    def clean(self, data: Any, initial: Any = None) -> Any:
        value = super().clean(data, initial)
        if isinstance(value, UploadedFile):
            max_bytes: int = self.max_bytes or int(settings.MAX_COVER_BYTES)
            if (value.size or 0) > max_bytes:
                raise forms.ValidationError(f"The {self.noun} must be {max_bytes // (1024 * 1024)} MB or smaller.")
            return reencode(value, max_side=self.max_side)
        return value
