"""Local image interventions (DESIGN.md, "Images"): blur, pixelate, cartoon, warning card,
grayscale. Pure Pillow + numpy, no network.

Every transform gets the image with its EXIF orientation already applied, and returns an image of
the same (displayed) size. Encoding builds a fresh file: no EXIF, ICC or text chunks survive.
Heavy filters run on a downscaled copy and are scaled back: a strong blur of a 1024x768 photo
then costs a few milliseconds instead of a hundred.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from io import BytesIO

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont, ImageOps

from diymod.wording import DEFAULT_WARNING, IMAGE_CARD_TITLE, interventions_for

BLUR = "blur"
PIXELATE = "pixelate"
CARTOON = "cartoon"
WARNING = "warning"
GRAYSCALE = "grayscale"
INTERVENTIONS = (BLUR, PIXELATE, CARTOON, WARNING, GRAYSCALE)
# Names a filter's metadata or an older client may use for the same thing.
INTERVENTION_ALIASES = {
    "cartoonish": CARTOON,
    "warning_card": WARNING,
    "overlay": WARNING,
    "greyscale": GRAYSCALE,
    "gray": GRAYSCALE,
    "pixelation": PIXELATE,
}
JPEG_QUALITY = 82


@dataclass(frozen=True)
class TransformedImage:
    data: bytes
    width: int
    height: int
    format: str  # "JPEG" or "PNG"

    @property
    def content_type(self) -> str:
        return "image/png" if self.format == "PNG" else "image/jpeg"

    @property
    def extension(self) -> str:
        return "png" if self.format == "PNG" else "jpg"


def intervention_normalise(name: str | None) -> str | None:
    """A known intervention name for `name`, or None when it names nothing we can do."""
    if not name:
        return None
    key = name.strip().lower().replace("-", "_").replace(" ", "_")
    key = INTERVENTION_ALIASES.get(key, key)
    return key if key in INTERVENTIONS else None


def intervention_choose(*, intensity: int, requested: str | None = None) -> str:
    """The filter's own choice (metadata.image_intervention) wins; else by intensity:
    1-2 blur, 3 warning card, 4-5 cartoon (`diymod.wording`, beside the text rule)."""
    chosen = intervention_normalise(requested)
    if chosen is not None:
        return chosen
    return interventions_for(intensity)[1]


def image_transform(*, image: Image.Image, intervention: str) -> TransformedImage:
    """Apply `intervention` to `image` and encode the result (JPEG, or PNG when it has alpha)."""
    name = intervention_normalise(intervention)
    if name is None:
        raise ValueError(f"unknown image intervention {intervention!r}")
    upright = image_upright(image)
    alpha = upright.getchannel("A") if upright.mode == "RGBA" else None
    result = TRANSFORMS[name](upright.convert("RGB"))
    if alpha is not None:
        result = result.convert("RGB")
        result.putalpha(alpha)
    return image_encode(result)


def image_upright(image: Image.Image) -> Image.Image:
    """First frame, EXIF orientation applied, mode reduced to RGB or RGBA."""
    if getattr(image, "n_frames", 1) > 1:
        image.seek(0)
    upright = ImageOps.exif_transpose(image)
    has_alpha = upright.mode in ("RGBA", "LA", "PA") or (
        upright.mode == "P" and "transparency" in upright.info
    )
    return upright.convert("RGBA" if has_alpha else "RGB")


def image_encode(image: Image.Image) -> TransformedImage:
    """A fresh file from the pixels only: `info` is cleared so Pillow carries no EXIF, ICC
    profile, comment or text chunk from the source."""
    image.info = {}
    buffer = BytesIO()
    if image.mode == "RGBA":
        image.save(buffer, "PNG", compress_level=1)
        image_format = "PNG"
    else:
        image.save(buffer, "JPEG", quality=JPEG_QUALITY)
        image_format = "JPEG"
    return TransformedImage(buffer.getvalue(), image.width, image.height, image_format)


def scaled_size(size: tuple[int, int], factor: float) -> tuple[int, int]:
    return max(1, round(size[0] * factor)), max(1, round(size[1] * factor))


def image_blur(image: Image.Image) -> Image.Image:
    """Strong enough that shapes are gone: blur at 1/8 scale, then scale back smoothly."""
    small = image.reduce(8) if min(image.size) >= 64 else image
    radius = max(2.0, max(small.size) / 20)
    return small.filter(ImageFilter.GaussianBlur(radius)).resize(
        image.size, Image.Resampling.BILINEAR
    )


def image_pixelate(image: Image.Image) -> Image.Image:
    """Blocks of about 1/32 of the longer side (at least 8 px)."""
    block = max(8, max(image.size) // 32)
    small = image.resize(scaled_size(image.size, 1 / block), Image.Resampling.BOX)
    return small.resize(image.size, Image.Resampling.NEAREST)


def image_cartoon(image: Image.Image) -> Image.Image:
    """Flat colour areas (smoothed, quantised to 4 levels per channel) with dark outlines."""
    smooth = image_smoothed(image)
    levels = np.asarray(smooth, dtype=np.uint8) // 64 * 64 + 32
    edges = edges_mask(image)
    levels[edges] = (20, 20, 20)
    return Image.fromarray(levels, "RGB")


def image_smoothed(image: Image.Image) -> Image.Image:
    small = image.reduce(4) if min(image.size) >= 32 else image
    return small.filter(ImageFilter.GaussianBlur(1.5)).resize(
        image.size, Image.Resampling.BILINEAR
    )


def edges_mask(image: Image.Image) -> np.ndarray:
    """Boolean outline mask: gradient magnitude of the luminance at half scale (the 2x2
    averaging doubles as the denoising blur, at a quarter of the cost), thresholded relative
    to its own spread so that dim and bright photos both get outlines."""
    small = image.reduce(2) if min(image.size) >= 16 else image
    gray = np.asarray(small.convert("L"), dtype=np.int16)
    horizontal = np.zeros_like(gray)
    vertical = np.zeros_like(gray)
    horizontal[:, 1:] = np.abs(np.diff(gray, axis=1))
    vertical[1:, :] = np.abs(np.diff(gray, axis=0))
    magnitude = horizontal + vertical
    threshold = max(12.0, float(magnitude.mean() + 2 * magnitude.std()))
    mask = Image.fromarray(np.where(magnitude > threshold, 255, 0).astype(np.uint8), "L")
    if mask.size != image.size:
        mask = mask.resize(image.size, Image.Resampling.NEAREST)
    return np.asarray(mask) > 127


def image_grayscale(image: Image.Image) -> Image.Image:
    return ImageOps.grayscale(image).convert("RGB")


def image_warning_card(image: Image.Image) -> Image.Image:
    """The picture blurred and darkened, with a centred notice card on top."""
    card = Image.blend(image_blur(image), Image.new("RGB", image.size, (0, 0, 0)), 0.45)
    draw = ImageDraw.Draw(card)
    width, height = image.size
    title_font = warning_font(max(10, min(width // 14, height // 8, 48)))
    text_font = warning_font(max(8, min(width // 24, height // 14, 28)))
    title_box = draw.textbbox((0, 0), IMAGE_CARD_TITLE, font=title_font)
    text_box = draw.textbbox((0, 0), DEFAULT_WARNING, font=text_font)
    text_width = max(title_box[2] - title_box[0], text_box[2] - text_box[0])
    gap = (title_box[3] - title_box[1]) // 2
    text_height = (title_box[3] - title_box[1]) + gap + (text_box[3] - text_box[1])
    pad = max(4, gap)
    left, top = (width - text_width) // 2, (height - text_height) // 2
    draw.rounded_rectangle(
        (left - 2 * pad, top - pad, left + text_width + 2 * pad, top + text_height + 2 * pad),
        radius=pad,
        fill=(32, 32, 36),
    )
    draw.text((width // 2, top), IMAGE_CARD_TITLE, font=title_font, fill="white", anchor="mt")
    text_top = top + (title_box[3] - title_box[1]) + gap
    draw.text(
        (width // 2, text_top), DEFAULT_WARNING, font=text_font, fill=(220, 220, 220), anchor="mt"
    )
    return card


@lru_cache(maxsize=16)
def warning_font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Pillow's bundled font (needs FreeType for sizes; the bitmap default otherwise)."""
    try:
        return ImageFont.load_default(size=size)
    except (OSError, TypeError):
        return ImageFont.load_default()


TRANSFORMS: dict[str, Callable[[Image.Image], Image.Image]] = {
    BLUR: image_blur,
    PIXELATE: image_pixelate,
    CARTOON: image_cartoon,
    WARNING: image_warning_card,
    GRAYSCALE: image_grayscale,
}
