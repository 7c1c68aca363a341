"""The sample feeds' pictures, drawn with Pillow: small, deterministic, written by us.

Drawn on first request and kept in memory (a few dozen KB each), so the project ships no binary
files and no picture of anyone else's.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache
from io import BytesIO

from PIL import Image, ImageDraw

WIDTH, HEIGHT = 480, 320
JPEG_QUALITY = 82

Drawing = Callable[[ImageDraw.ImageDraw], None]


def vertical_gradient(
    draw: ImageDraw.ImageDraw, top: tuple, bottom: tuple, y0: int, y1: int
) -> None:
    for y in range(y0, y1):
        t = (y - y0) / max(1, y1 - y0 - 1)
        colour = tuple(round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True))
        draw.line([(0, y), (WIDTH, y)], fill=colour)


def web_draw(draw: ImageDraw.ImageDraw, centre: tuple[int, int], radius: int) -> None:
    cx, cy = centre
    spokes = 12
    for index in range(spokes):
        angle = 2 * math.pi * index / spokes
        draw.line(
            [centre, (cx + radius * math.cos(angle), cy + radius * math.sin(angle))],
            fill=(205, 205, 210),
            width=1,
        )
    for ring in range(1, 7):
        r = radius * ring / 7
        points = [
            (
                cx + r * math.cos(2 * math.pi * i / spokes),
                cy + r * math.sin(2 * math.pi * i / spokes),
            )
            for i in range(spokes + 1)
        ]
        draw.line(points, fill=(215, 215, 220), width=1)


def spider_draw(
    draw: ImageDraw.ImageDraw, centre: tuple[int, int], size: int, colour: tuple
) -> None:
    """Eight jointed legs, an abdomen and a head: unmistakably a spider at a glance."""
    cx, cy = centre
    for side in (-1, 1):
        for index in range(4):
            angle = math.radians(-60 + index * 40)
            knee = (
                cx + side * size * 1.3 * math.cos(angle),
                cy + size * 1.3 * math.sin(angle) - size * 0.5,
            )
            foot = (
                cx + side * size * 2.2 * math.cos(angle),
                cy + size * 2.2 * math.sin(angle) + size * 0.4,
            )
            draw.line([(cx, cy), knee, foot], fill=colour, width=max(2, size // 8))
    draw.ellipse([cx - size * 0.7, cy - size * 0.2, cx + size * 0.7, cy + size * 1.3], fill=colour)
    draw.ellipse(
        [cx - size * 0.45, cy - size * 0.75, cx + size * 0.45, cy + size * 0.05], fill=colour
    )
    for dx in (-0.15, 0.15):
        draw.ellipse(
            [cx + size * dx - 3, cy - size * 0.55 - 3, cx + size * dx + 3, cy - size * 0.55 + 3],
            fill=(250, 240, 200),
        )


def spider_picture(draw: ImageDraw.ImageDraw) -> None:
    vertical_gradient(draw, (236, 230, 214), (198, 186, 160), 0, HEIGHT)
    web_draw(draw, (240, 150), 190)
    spider_draw(draw, (240, 150), 44, (74, 48, 30))


def tarantula_picture(draw: ImageDraw.ImageDraw) -> None:
    vertical_gradient(draw, (120, 96, 70), (70, 52, 36), 0, HEIGHT)
    draw.ellipse([60, 230, 420, 330], fill=(96, 74, 50))
    spider_draw(draw, (250, 160), 56, (28, 22, 20))


def garden_picture(draw: ImageDraw.ImageDraw) -> None:
    vertical_gradient(draw, (150, 200, 245), (220, 238, 250), 0, 180)
    draw.rectangle([0, 180, WIDTH, HEIGHT], fill=(96, 150, 70))
    for x in (90, 240, 390):
        draw.line([(x, 300), (x, 120)], fill=(60, 110, 40), width=6)
        for dy, dx in ((140, -30), (180, 28), (220, -26), (260, 30)):
            draw.ellipse([x + dx - 18, dy - 10, x + dx + 18, dy + 10], fill=(70, 140, 50))
        for dy, dx in ((160, 22), (205, -20), (245, 18)):
            draw.ellipse([x + dx - 15, dy - 15, x + dx + 15, dy + 15], fill=(214, 48, 40))
    draw.ellipse([400, 20, 450, 70], fill=(255, 220, 90))


def cat_picture(draw: ImageDraw.ImageDraw) -> None:
    vertical_gradient(draw, (250, 228, 236), (232, 200, 214), 0, HEIGHT)
    cx, cy = 240, 175
    draw.polygon(
        [(cx - 95, cy - 40), (cx - 70, cy - 135), (cx - 20, cy - 75)], fill=(232, 140, 52)
    )
    draw.polygon(
        [(cx + 95, cy - 40), (cx + 70, cy - 135), (cx + 20, cy - 75)], fill=(232, 140, 52)
    )
    draw.ellipse([cx - 110, cy - 100, cx + 110, cy + 110], fill=(240, 156, 66))
    for dx in (-42, 42):
        draw.ellipse([cx + dx - 18, cy - 30, cx + dx + 18, cy + 10], fill=(60, 120, 60))
        draw.ellipse([cx + dx - 5, cy - 26, cx + dx + 5, cy + 6], fill=(20, 20, 20))
    draw.polygon([(cx - 12, cy + 25), (cx + 12, cy + 25), (cx, cy + 40)], fill=(200, 90, 110))
    for side in (-1, 1):
        for dy in (30, 42, 54):
            draw.line([(cx + side * 25, cy + 38), (cx + side * 120, cy + dy)], fill=(90, 60, 40))


def corridor_picture(draw: ImageDraw.ImageDraw) -> None:
    """A long white office corridor with green carpet, for the Severance posts."""
    draw.rectangle([0, 0, WIDTH, HEIGHT], fill=(238, 240, 236))
    vanish = (240, 150)
    draw.polygon([(0, HEIGHT), (WIDTH, HEIGHT), (262, 165), (218, 165)], fill=(62, 122, 88))
    draw.polygon([(0, 0), (WIDTH, 0), (262, 135), (218, 135)], fill=(250, 250, 248))
    for x in range(0, WIDTH + 1, 60):
        draw.line([(x, 0), vanish], fill=(222, 224, 220))
    draw.rectangle([218, 135, 262, 165], fill=(200, 204, 198))
    for t in (0.25, 0.5, 0.7):
        x = round(t * 218)
        draw.line(
            [(x, round(t * 135)), (x, HEIGHT - round(t * 155))], fill=(205, 208, 204), width=2
        )


def sunset_picture(draw: ImageDraw.ImageDraw) -> None:
    vertical_gradient(draw, (250, 170, 90), (230, 90, 110), 0, 200)
    draw.ellipse([180, 120, 300, 240], fill=(255, 226, 120))
    vertical_gradient(draw, (40, 70, 120), (20, 36, 70), 200, HEIGHT)
    for y in range(210, HEIGHT, 14):
        draw.line([(200 - (y - 200), y), (280 + (y - 200), y)], fill=(250, 190, 110), width=2)


PICTURES: dict[str, Drawing] = {
    "spider": spider_picture,
    "tarantula": tarantula_picture,
    "garden": garden_picture,
    "cat": cat_picture,
    "corridor": corridor_picture,
    "sunset": sunset_picture,
}


def picture_names() -> list[str]:
    return sorted(PICTURES)


@lru_cache(maxsize=len(PICTURES))
def picture_jpeg(name: str) -> bytes:
    """The JPEG bytes of picture `name` (KeyError when there is no such picture)."""
    drawing = PICTURES[name]
    image = Image.new("RGB", (WIDTH, HEIGHT), (255, 255, 255))
    drawing(ImageDraw.Draw(image))
    buffer = BytesIO()
    image.save(buffer, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    return buffer.getvalue()
