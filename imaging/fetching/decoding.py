"""Sniffing and decoding fetched bytes as an image, with a pixel cap checked before decoding."""

from __future__ import annotations

import warnings
from io import BytesIO

from django.conf import settings
from PIL import Image

from imaging.fetching.policy import FetchRefused

# MPO: what Pillow calls many phone-camera JPEGs (a JPEG with extra frames). AVIF: CDNs serve it.
IMAGE_FORMATS = {"JPEG", "MPO", "PNG", "GIF", "WEBP", "AVIF", "BMP"}
# Formats Pillow can decode at a reduced scale (DCT scaling).
DRAFT_FORMATS = {"JPEG", "MPO"}


def image_decode(
    data: bytes, max_pixels: int, max_side: int | None = None
) -> tuple[Image.Image, str]:
    """Sniff and decode `data` as an image, at most `max_side` (DIYMOD_IMAGE_MAX_SIDE when
    None) long a side.

    Memory is bounded before any pixel is decoded: a JPEG is asked to decode at a reduced
    scale (`draft`: 1/2 to 1/8, for free), and the canvas it will then decode to is checked
    against `max_pixels` from the header, so a small file claiming a huge canvas costs
    nothing. After decoding, the picture is scaled down to `max_side`, so no transform ever
    works on more than max_side² pixels."""
    if max_side is None:
        max_side = settings.DIYMOD_IMAGE_MAX_SIDE
    try:
        with warnings.catch_warnings():
            # Pillow only warns between MAX_IMAGE_PIXELS and twice that; make it an error.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            opened = Image.open(BytesIO(data))
            image: Image.Image = opened
            image_format = image.format or ""
            if image_format not in IMAGE_FORMATS:
                raise FetchRefused(f"content is not an allowed image format ({image_format})")
            if image_format in DRAFT_FORMATS:
                opened.draft(opened.mode, (max_side, max_side))
            width, height = image.size
            if width * height > max_pixels:
                raise FetchRefused(f"image is {width}x{height}, over the {max_pixels} pixel cap")
            image.load()
            image = image_bounded(image, max_side)
    except FetchRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise FetchRefused(f"image refused as a decompression bomb: {error}") from None
    except (OSError, ValueError, SyntaxError, Image.UnidentifiedImageError) as error:
        # Pillow's message names a BytesIO object; the error class says enough.
        raise FetchRefused(f"content is not a decodable image ({type(error).__name__})") from None
    return image, image_format


def image_bounded(image: Image.Image, max_side: int) -> Image.Image:
    """`image` (its first frame) scaled down to at most `max_side` a side, orientation and
    transparency kept; unchanged when already small enough."""
    if max(image.size) <= max_side:
        return image
    exif = image.getexif()
    if getattr(image, "n_frames", 1) > 1:
        image.seek(0)
    if image.mode not in ("RGB", "RGBA", "L", "LA"):
        has_alpha = "transparency" in image.info or image.mode in ("PA", "RGBa", "La")
        image = image.convert("RGBA" if has_alpha else "RGB")
    bounded = image.copy() if image.readonly else image
    bounded.thumbnail((max_side, max_side), Image.Resampling.LANCZOS, reducing_gap=3.0)
    if exif:  # the transforms turn the picture upright from its EXIF orientation: keep it
        bounded.info["exif"] = exif.tobytes()
    return bounded
