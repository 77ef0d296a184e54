"""The fixture images are what their names claim (checked with Pillow, an independent decoder)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from conftest import IMAGES
from PIL import Image, ImageOps, JpegImagePlugin

# JpegImagePlugin.get_sampling: 0 = 4:4:4, 1 = 4:2:2, 2 = 4:2:0, -1 = grayscale / other.
SAMPLING = {"444": 0, "422": 1, "420": 2}


def test_fixture_images_stay_small_and_have_unique_stems():
    files = sorted(IMAGES.iterdir())
    assert len({p.stem for p in files}) == len(files)
    assert sum(p.stat().st_size for p in files) < 3_000_000


@pytest.mark.parametrize("name", sorted(p.name for p in IMAGES.glob("*.jpg")))
def test_jpeg_sampling_and_progressive_flags(name):
    with Image.open(IMAGES / name) as im:
        assert im.format == "JPEG"
        if "progressive" in name:
            assert im.info.get("progressive") or im.info.get("progression"), name
        else:
            assert not (im.info.get("progressive") or im.info.get("progression")), name
        for key, value in SAMPLING.items():
            if f"_{key}" in name:
                assert JpegImagePlugin.get_sampling(im) == value, name
        if "gray" in name or name.startswith("lfw_"):
            assert im.mode == "L"


@pytest.mark.parametrize(
    ("name", "mode"),
    [
        ("camera.png", "L"),
        ("lfw_face_000.png", "L"),
        ("astronaut_face_rgba.png", "RGBA"),
        ("astronaut_face_palette.png", "P"),
        ("astronaut_face.png", "RGB"),
        ("astronaut_face_bmp.bmp", "RGB"),
    ],
)
def test_colour_types(name, mode):
    with Image.open(IMAGES / name) as im:
        assert im.mode == mode


def test_sixteen_bit_png_is_sixteen_bit():
    raw = cv2.imread(str(IMAGES / "astronaut_face_16bit.png"), cv2.IMREAD_UNCHANGED)
    assert raw.dtype == np.uint16 and raw.shape == (220, 200, 3)
    assert np.any(raw % 256 != raw // 256), "low bytes must not just repeat the high bytes"


@pytest.mark.parametrize(
    ("name", "shape"),
    [
        ("tiny_1x1.png", (1, 1, 3)),
        ("row_1x37.png", (1, 37, 3)),
        ("column_37x1.png", (37, 1, 3)),
        ("odd_37x53.png", (37, 53, 3)),
        ("exact2x_128x128.png", (128, 128, 3)),
        ("upscale_25x25.png", (25, 25, 3)),
        ("identity_64x64.png", (64, 64, 3)),
        ("astronaut_face.png", (220, 200, 3)),
    ],
)
def test_sizes(name, shape):
    assert cv2.imread(str(IMAGES / name)).shape == shape


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_cv2_applies_exif_orientation_like_pillow(orientation):
    path = IMAGES / f"exif_orientation_{orientation}.jpg"
    with Image.open(path) as im:
        assert im.getexif()[0x0112] == orientation
        assert im.size == (48, 72)  # stored upright: 48 wide, 72 high
        upright = np.asarray(ImageOps.exif_transpose(im))[..., ::-1]
    got = cv2.imread(str(path))
    assert got.shape == ((72, 48, 3) if orientation == 3 else (48, 72, 3))
    assert np.array_equal(got, upright)


def test_astronaut_crop_is_the_reference_crop():
    import skimage.data

    crop = skimage.data.astronaut()[0:220, 140:340][..., ::-1]
    assert np.array_equal(cv2.imread(str(IMAGES / "astronaut_face.png")), crop)
