"""Sniffing and decoding fetched bytes as an image, with a pixel cap checked before decoding."""

from __future__ import annotations

import warnings
from io import BytesIO

from PIL import Image

from imaging.fetching.policy import FetchRefused

# MPO: what Pillow calls many phone-camera JPEGs (a JPEG with extra frames). AVIF: CDNs serve it.
IMAGE_FORMATS = {"JPEG", "MPO", "PNG", "GIF", "WEBP", "AVIF", "BMP"}


def image_decode(data: bytes, max_pixels: int) -> tuple[Image.Image, str]:
    """Sniff and decode `data` as an image; the pixel count is checked from the header BEFORE
    the pixels are decoded, so a small file claiming a huge canvas costs nothing."""
    try:
        with warnings.catch_warnings():
            # Pillow only warns between MAX_IMAGE_PIXELS and twice that; make it an error.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(BytesIO(data))
            image_format = image.format or ""
            if image_format not in IMAGE_FORMATS:
                raise FetchRefused(f"content is not an allowed image format ({image_format})")
            width, height = image.size
            if width * height > max_pixels:
                raise FetchRefused(f"image is {width}x{height}, over the {max_pixels} pixel cap")
            image.load()
    except FetchRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise FetchRefused(f"image refused as a decompression bomb: {error}") from None
    except (OSError, ValueError, SyntaxError, Image.UnidentifiedImageError) as error:
        # Pillow's message names a BytesIO object; the error class says enough.
        raise FetchRefused(f"content is not a decodable image ({type(error).__name__})") from None
    return image, image_format
