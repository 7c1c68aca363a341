from __future__ import annotations

from io import BytesIO

import numpy as np
import pytest
from PIL import Image

from imaging.transforms import (
    BLUR,
    CARTOON,
    GRAYSCALE,
    INTERVENTIONS,
    PIXELATE,
    WARNING,
    image_transform,
    intervention_choose,
)
from tests.support.image_server import image_bytes_make


def image_open(data: bytes) -> Image.Image:
    image = Image.open(BytesIO(data))
    image.load()
    return image


def pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("RGB"), dtype=np.int16)


@pytest.fixture
def photo() -> Image.Image:
    return image_open(image_bytes_make(320, 240, "JPEG"))


@pytest.mark.parametrize("intervention", INTERVENTIONS)
def test_every_transform_keeps_the_dimensions(photo: Image.Image, intervention: str) -> None:
    result = image_transform(image=photo, intervention=intervention)

    decoded = image_open(result.data)
    assert (result.width, result.height) == (320, 240)
    assert decoded.size == (320, 240)


@pytest.mark.parametrize("intervention", INTERVENTIONS)
def test_every_transform_changes_the_pixels(photo: Image.Image, intervention: str) -> None:
    before = pixels(photo)

    after = pixels(image_open(image_transform(image=photo, intervention=intervention).data))

    # JPEG re-encoding alone moves pixels by a few levels; a transform moves them a lot.
    assert np.abs(before - after).mean() > 8


def test_blur_removes_sharp_edges(photo: Image.Image) -> None:
    before = pixels(photo)[:, :, 0]

    after = pixels(image_open(image_transform(image=photo, intervention=BLUR).data))[:, :, 0]

    assert np.abs(np.diff(after, axis=1)).max() < np.abs(np.diff(before, axis=1)).max() / 3


def test_pixelate_makes_flat_blocks(photo: Image.Image) -> None:
    result = image_open(image_transform(image=photo, intervention=PIXELATE).data)

    # PNG-free check on a JPEG: inside a block, neighbours differ only by compression noise.
    block = pixels(result)[1:7, 1:7]
    assert np.abs(block - block[0, 0]).max() < 12


def test_grayscale_has_no_colour_left(photo: Image.Image) -> None:
    result = pixels(image_open(image_transform(image=photo, intervention=GRAYSCALE).data))

    spread = result.max(axis=2) - result.min(axis=2)
    assert spread.max() <= 4


def test_cartoon_uses_few_colours_and_draws_outlines(photo: Image.Image) -> None:
    result = image_transform(image=photo, intervention=CARTOON)

    as_png = Image.open(BytesIO(result.data)).convert("RGB").quantize(colors=256)
    levels = pixels(image_open(result.data))
    assert len(as_png.getcolors(maxcolors=256 * 256) or []) < 256
    assert (levels.sum(axis=2) < 120).any()  # dark outline pixels exist


def test_warning_card_darkens_the_image_and_draws_a_card(photo: Image.Image) -> None:
    result = pixels(image_open(image_transform(image=photo, intervention=WARNING).data))

    centre = result[100:140, 110:210]
    assert result.mean() < pixels(photo).mean()
    # The card text is white on a dark card: both extremes sit in the centre.
    assert centre.max() > 200 and centre.min() < 60


def test_alpha_images_come_back_as_png_with_their_transparency() -> None:
    source = image_open(image_bytes_make(120, 90, "PNG", alpha=True))

    result = image_transform(image=source, intervention=CARTOON)

    decoded = image_open(result.data)
    assert result.format == "PNG" and result.content_type == "image/png"
    assert decoded.mode == "RGBA"
    assert decoded.getpixel((2, 2))[3] == 0
    assert decoded.getpixel((100, 80))[3] == 255


def test_opaque_images_come_back_as_jpeg(photo: Image.Image) -> None:
    result = image_transform(image=photo, intervention=BLUR)

    assert result.format == "JPEG" and result.data[:2] == b"\xff\xd8"


@pytest.mark.parametrize("intervention", INTERVENTIONS)
def test_exif_orientation_is_applied_and_metadata_dropped(intervention: str) -> None:
    # Orientation 6: stored 300x200 landscape, displayed rotated to 200x300.
    source = image_open(image_bytes_make(300, 200, "JPEG", orientation=6))
    assert dict(source.getexif())  # the fixture really carries EXIF

    result = image_open(image_transform(image=source, intervention=intervention).data)

    assert result.size == (200, 300)
    assert dict(result.getexif()) == {}
    assert "exif" not in result.info and "icc_profile" not in result.info


def test_icc_profile_is_not_carried_over(photo: Image.Image) -> None:
    photo.info["icc_profile"] = b"fake profile bytes"

    result = image_open(image_transform(image=photo, intervention=GRAYSCALE).data)

    assert "icc_profile" not in result.info


def test_palette_and_animated_gifs_are_transformed_from_their_first_frame() -> None:
    source = image_open(image_bytes_make(80, 60, "GIF"))

    result = image_transform(image=source, intervention=PIXELATE)

    assert image_open(result.data).size == (80, 60)


def test_unknown_intervention_is_an_error(photo: Image.Image) -> None:
    with pytest.raises(ValueError):
        image_transform(image=photo, intervention="melt")


@pytest.mark.parametrize(
    ("intensity", "expected"),
    [(1, BLUR), (2, BLUR), (3, WARNING), (4, CARTOON), (5, CARTOON)],
)
def test_intensity_picks_the_intervention(intensity: int, expected: str) -> None:
    assert intervention_choose(intensity=intensity) == expected


@pytest.mark.parametrize(
    ("requested", "expected"),
    [("pixelate", PIXELATE), ("Grayscale", GRAYSCALE), ("cartoonish", CARTOON), ("bogus", BLUR)],
)
def test_the_filters_own_choice_wins_when_it_names_a_known_intervention(
    requested: str, expected: str
) -> None:
    assert intervention_choose(intensity=1, requested=requested) == expected


def test_tiny_images_survive_every_transform() -> None:
    source = image_open(image_bytes_make(3, 2, "PNG"))

    for intervention in INTERVENTIONS:
        result = image_transform(image=source, intervention=intervention)
        assert image_open(result.data).size == (3, 2)


@pytest.mark.parametrize("image_format", ["MPO", "WEBP", "AVIF"])
def test_phone_and_cdn_formats_are_transformed(image_format: str) -> None:
    source = image_open(image_bytes_make(90, 60, image_format))

    result = image_transform(image=source, intervention=CARTOON)

    assert image_open(result.data).size == (90, 60) and result.format == "JPEG"
