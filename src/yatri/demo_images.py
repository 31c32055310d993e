"""Pictures for the demo catalogue, drawn with Pillow (no downloads): a landscape per
trip and destination (sky, sun, layered hills, sea at the coast, a river in the hills),
different for every seed but the same on every run, so a rerun stores no new files."""

from __future__ import annotations

import io
import random

from PIL import Image, ImageDraw

WIDTH, HEIGHT = 1024, 576  # the largest variant the media store keeps
# (sky top, sky bottom, hills far to near) for the kinds of trip and the coast.
PALETTES = {
    "trek": ((64, 120, 196), (250, 214, 165), [(122, 140, 170), (74, 104, 96), (40, 78, 60)]),
    "tour": ((232, 150, 90), (252, 226, 180), [(190, 130, 110), (150, 98, 70), (104, 70, 50)]),
    "event": ((70, 48, 120), (240, 140, 120), [(120, 80, 130), (80, 56, 100), (46, 34, 70)]),
}
COAST = {"goa", "munnar"}


def scene(seed: str, kind: str, place: str) -> bytes:
    """A PNG landscape; `seed` varies the shapes, `kind` the colours, a coastal `place` gets sea."""
    rng = random.Random(seed)
    top, bottom, hills = PALETTES.get(kind, PALETTES["trek"])
    # The sky: a vertical gradient from `top` to `bottom`, one mask for the whole picture.
    mask = Image.linear_gradient("L").resize((WIDTH, HEIGHT))
    image = Image.composite(Image.new("RGB", (WIDTH, HEIGHT), bottom), Image.new("RGB", (WIDTH, HEIGHT), top), mask)
    draw = ImageDraw.Draw(image)
    sun_x, sun_y, radius = rng.randint(150, WIDTH - 150), rng.randint(90, 260), rng.randint(40, 80)
    draw.ellipse([sun_x - radius, sun_y - radius, sun_x + radius, sun_y + radius], fill=(255, 240, 200))
    for layer, colour in enumerate(hills):
        base = HEIGHT * (0.5 + 0.14 * layer)
        points = [(0, HEIGHT)]
        for x in range(0, WIDTH + 80, 80):
            peak = rng.randint(40, 200) if layer == 0 else rng.randint(10, 110)
            points.append((x, base - peak))
        points.append((WIDTH, HEIGHT))
        draw.polygon(points, fill=colour)
    if place in COAST:
        draw.rectangle([0, HEIGHT * 0.78, WIDTH, HEIGHT], fill=(38, 110, 160))
        for y in range(int(HEIGHT * 0.8), HEIGHT, 18):
            draw.line([(rng.randint(0, WIDTH // 3), y), (rng.randint(WIDTH // 2, WIDTH), y)], fill=(120, 180, 210), width=2)
    elif kind == "trek":
        draw.polygon([(WIDTH * 0.45, HEIGHT), (WIDTH * 0.55, HEIGHT), (WIDTH * 0.52, HEIGHT * 0.72)], fill=(150, 190, 210))
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=1)
    return out.getvalue()
