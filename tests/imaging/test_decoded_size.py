"""Issue 12, item 5: one image cannot take a worker's memory. The canvas is capped before
decoding (JPEGs decode at a reduced scale first), and every picture is scaled down to
DIYMOD_IMAGE_MAX_SIDE before any transform runs."""

from __future__ import annotations

from io import BytesIO

import pytest
from PIL import Image

from imaging.fetching import FetchRefused
from imaging.fetching.decoding import image_decode
from imaging.fetching.policy import fetch_policy_from_settings
from imaging.transforms import image_transform


def encoded(
    size: tuple[int, int], image_format: str, mode: str = "RGB", **options: object
) -> bytes:
    buffer = BytesIO()
    Image.new(mode, size, (200, 40, 40) if mode == "RGB" else (200, 40, 40, 128)).save(
        buffer, image_format, **options
    )
    return buffer.getvalue()


def test_the_default_cap_refuses_the_6300_square_png_that_took_the_cartoon_to_a_gigabyte() -> None:
    policy = fetch_policy_from_settings()

    assert 6300 * 6300 > policy.max_pixels
    assert policy.max_pixels <= 16_000_000 and policy.max_side <= 2048


def test_the_settings_carry_the_new_bounds(settings) -> None:
    settings.DIYMOD_IMAGE_MAX_PIXELS = 1234
    settings.DIYMOD_IMAGE_MAX_SIDE = 99

    policy = fetch_policy_from_settings()

    assert (policy.max_pixels, policy.max_side) == (1234, 99)


def test_a_png_over_the_pixel_cap_is_refused_before_decoding() -> None:
    data = encoded((1300, 1300), "PNG")

    with pytest.raises(FetchRefused, match="pixel cap"):
        image_decode(data, max_pixels=1_000_000, max_side=512)


@pytest.mark.parametrize(
    ("image_format", "mode"), [("PNG", "RGB"), ("PNG", "RGBA"), ("WEBP", "RGB")]
)
def test_a_big_picture_is_scaled_to_the_max_side_before_any_transform(
    image_format: str, mode: str
) -> None:
    image, found = image_decode(
        encoded((1200, 900), image_format, mode), max_pixels=2_000_000, max_side=400
    )

    assert found == image_format
    assert image.size == (400, 300)
    assert image.mode == mode
    result = image_transform(image=image, intervention="cartoon")
    assert (result.width, result.height) == (400, 300)


def test_a_jpeg_over_the_cap_on_its_header_is_decoded_at_a_reduced_scale_instead() -> None:
    # 2400x1800 = 4.3 Mpx on the header, over a 1.5 Mpx cap: the DCT decode at 1/4 scale
    # (600x450) never materialises the full canvas.
    data = encoded((2400, 1800), "JPEG", quality=80)

    image, _ = image_decode(data, max_pixels=1_500_000, max_side=500)

    assert max(image.size) <= 500 and image.size[0] / image.size[1] == pytest.approx(4 / 3, 0.01)


def test_a_small_picture_is_left_at_its_size() -> None:
    image, _ = image_decode(encoded((300, 200), "PNG"), max_pixels=1_000_000, max_side=400)

    assert image.size == (300, 200)


def test_the_exif_orientation_survives_the_downscale() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    data = encoded((1200, 800), "JPEG", exif=exif.tobytes())

    image, _ = image_decode(data, max_pixels=2_000_000, max_side=300)
    result = image_transform(image=image, intervention="grayscale")

    assert (result.width, result.height) == (200, 300)


def test_an_animated_gif_is_bounded_on_its_first_frame() -> None:
    frames = [Image.new("P", (900, 600), index) for index in range(3)]
    buffer = BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:])

    image, _ = image_decode(buffer.getvalue(), max_pixels=1_000_000, max_side=300)
    result = image_transform(image=image, intervention="blur")

    assert (result.width, result.height) == (300, 200)
