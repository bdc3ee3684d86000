"""Image loading for a public server: a battery of hostile and awkward files, built in memory."""

import io
import os
import struct
import warnings
import zlib

import numpy as np
import pytest
import torch
import torchvision.transforms as T
from PIL import Image

from explorer import NetSpec
from explorer.data import shapes as shapes_data
from explorer.io.images import (
    BACKGROUND, IMAGENET_MEAN, IMAGENET_STD, fit_image, load_image, preprocess,
)


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A valid-looking PNG whose IHDR claims width x height but whose data is a few bytes."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + chunk(b"IEND", b""))


def noise(height: int, width: int, seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))


def pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image).astype(int)


# ---- refusals ---------------------------------------------------------------------------
# Image.open itself warns above ~89 MP before our check runs; the refusal is what matters.
@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_tiny_png_claiming_10000_by_10000_is_refused_before_decoding():
    data = png_claiming(10_000, 10_000)
    assert len(data) < 100
    with warnings.catch_warnings():  # Pillow itself would open it (with only a warning)
        warnings.simplefilter("ignore")
        assert Image.open(io.BytesIO(data)).size == (10_000, 10_000)
    with pytest.raises(ValueError, match=r"10000 × 10000 pixels \(100 megapixels\).*limit is 50"):
        load_image(data)


def test_pillow_bomb_warning_and_error_become_value_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # DecompressionBombWarning raised as an exception
        with pytest.raises(ValueError, match="megapixels"):
            load_image(png_claiming(10_000, 10_000))
    with pytest.raises(ValueError, match="megapixels"):  # over 2x Pillow's limit: its error
        load_image(png_claiming(20_000, 20_000), max_pixels=10**9)


def test_claimed_pixels_cap_is_a_parameter():
    data = encode(Image.new("RGB", (2000, 1000)), "PNG")
    with pytest.raises(ValueError, match=r"2000 × 1000 pixels \(2 megapixels\)"):
        load_image(data, max_pixels=1_000_000)


def test_byte_size_cap():
    data = encode(noise(64, 64), "PNG")
    with pytest.raises(ValueError, match="MB"):
        load_image(data, max_bytes=len(data) - 1)


def _checkpoint_bytes() -> bytes:
    buffer = io.BytesIO()
    torch.save({"fc.weight": torch.zeros(2, 2)}, buffer)
    return buffer.getvalue()


BAD_FILES = {
    "empty": b"",
    "truncated png": encode(noise(64, 64), "PNG")[:2000],
    "truncated jpeg": encode(noise(64, 64), "JPEG", quality=95)[:1500],
    "jpeg header only": encode(noise(64, 64), "JPEG")[:200],
    "svg": b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"/>',
    "svg without xml prolog": b'<svg xmlns="http://www.w3.org/2000/svg"><rect/></svg>',
    "pdf": b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n",
    "heic": b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(64),
    "eps (would start Ghostscript)": b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n",
    "random bytes": os.urandom(4096),
    "checkpoint renamed .png": _checkpoint_bytes(),
    "text": b"hello, this is not a picture",
}


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_bad_files_raise_one_value_error_sentence(name):
    with pytest.raises(ValueError) as info:
        load_image(BAD_FILES[name])
    message = str(info.value)
    assert message.endswith(".") and "\n" not in message and "Traceback" not in message


@pytest.mark.parametrize("name, words", [
    ("svg", "SVG"), ("pdf", "PDF"), ("heic", "HEIC"), ("checkpoint renamed .png", "checkpoint"),
    ("truncated png", "truncated"), ("empty", "empty"),
])
def test_refusals_say_what_the_file_is(name, words):
    with pytest.raises(ValueError, match=words):
        load_image(BAD_FILES[name])


def test_truncated_files_do_not_change_pillows_global_setting():
    from PIL import ImageFile

    with pytest.raises(ValueError):
        load_image(BAD_FILES["truncated jpeg"])
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


# ---- modes and metadata -----------------------------------------------------------------
def test_cmyk_jpeg_becomes_rgb():
    cmyk = Image.new("CMYK", (16, 16), (0, 255, 255, 0))  # no cyan, full magenta+yellow: red
    out = load_image(encode(cmyk, "JPEG", quality=95))
    assert out.mode == "RGB"
    assert np.abs(pixels(out) - [255, 0, 0]).max() <= 3


def test_16_bit_png_is_stretched_not_clipped_to_white():
    values = np.linspace(0, 4000, 64).reshape(8, 8).astype(np.uint16)
    source = Image.fromarray(values)
    assert source.mode == "I;16"
    assert (pixels(source.convert("RGB")) == 255).mean() > 0.9  # Pillow's naive path: white
    out = pixels(load_image(encode(source, "PNG")))
    expected = np.round(values / 4000 * 255).astype(int)  # stretched by its own min/max
    assert (out == expected[..., None]).all()


def test_32_bit_float_tiff_is_stretched_by_its_min_and_max():
    values = np.array([[-1.5, 0.5], [2.5, 100.0]], dtype=np.float32)
    out = pixels(load_image(encode(Image.fromarray(values), "TIFF")))[..., 0]
    expected = np.round((values - -1.5) / 101.5 * 255)  # 0, 5.02, 10.05, 255
    assert out.tolist() == expected.astype(int).tolist()


def test_palette_transparency_is_composited_not_revealed():
    image = Image.new("P", (4, 4), 0)
    image.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)  # index 0 red (transparent), 1 blue
    image.putpixel((0, 0), 1)
    out = pixels(load_image(encode(image, "PNG", transparency=0)))
    assert out[0, 0].tolist() == [0, 0, 255]
    assert (out[1:] == BACKGROUND).all()


def test_la_image_is_composited_onto_the_background():
    image = Image.new("LA", (4, 4), (200, 0))
    image.putpixel((0, 0), (50, 255))
    out = pixels(load_image(encode(image, "PNG")))
    assert out[0, 0].tolist() == [50, 50, 50]
    assert (out[1:] == BACKGROUND).all()


def test_rgba_hidden_colour_under_zero_alpha_does_not_leak():
    image = Image.new("RGBA", (4, 4), (255, 0, 0, 0))  # red that nobody can see
    image.putpixel((0, 0), (0, 255, 0, 255))
    image.putpixel((1, 0), (255, 0, 0, 128))
    out = pixels(load_image(encode(image, "PNG")))
    assert Image.open(io.BytesIO(encode(image, "PNG"))).convert("RGB").getpixel((3, 3)) == (
        255, 0, 0)  # the naive conversion leaks it
    assert out[3, 3].tolist() == list(BACKGROUND)
    assert out[0, 0].tolist() == [0, 255, 0]
    half = 128 / 255  # straight alpha "over" the background, by hand
    expected = [round(c * half + b * (1 - half)) for c, b in zip((255, 0, 0), BACKGROUND)]
    assert np.abs(out[0, 1] - expected).max() <= 1


def test_one_bit_image():
    image = Image.new("1", (5, 5), 1)
    image.putpixel((0, 0), 0)
    out = pixels(load_image(encode(image, "PNG")))
    assert out[0, 0].tolist() == [0, 0, 0] and out[4, 4].tolist() == [255, 255, 255]


def test_animated_gif_gives_its_first_frame():
    frames = [Image.new("RGB", (8, 8), colour) for colour in ((255, 0, 0), (0, 0, 255))]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=50, loop=0)
    out = load_image(buffer.getvalue())
    assert out.size == (8, 8) and (pixels(out) == [255, 0, 0]).all()


def test_exif_orientation_is_applied():
    source = np.zeros((32, 64, 3), np.uint8)
    source[:, :16] = 255  # a white band on the left
    exif = Image.new("RGB", (1, 1)).getexif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    data = encode(Image.fromarray(source), "JPEG", quality=95, exif=exif.tobytes())
    out = pixels(load_image(data))
    expected = np.rot90(source, k=-1)  # clockwise: the left band becomes the top band
    assert out.shape == expected.shape == (64, 32, 3)
    assert np.abs(out - expected).mean() < 3


def test_one_pixel_image():
    out = load_image(encode(Image.new("RGB", (1, 1), (1, 2, 3)), "PNG"))
    assert out.size == (1, 1) and out.getpixel((0, 0)) == (1, 2, 3)


def test_large_legal_photo_is_downscaled_not_refused():
    out = load_image(encode(Image.new("RGB", (5000, 3000), (10, 200, 30)), "JPEG"))
    assert out.size == (1024, 614)  # 3000 * 1024 / 5000 = 614.4
    assert np.abs(pixels(out) - [10, 200, 30]).max() <= 3


@pytest.mark.parametrize("fmt", ["BMP", "WEBP", "TIFF", "GIF"])
def test_other_common_formats(fmt):
    out = load_image(encode(Image.new("RGB", (6, 4), (0, 0, 255)), fmt, **(
        {"lossless": True} if fmt == "WEBP" else {})))
    assert out.mode == "RGB" and out.size == (6, 4)
    assert np.abs(pixels(out) - [0, 0, 255]).max() <= 2


# ---- preprocessing ----------------------------------------------------------------------
def _reference(image, size, mean, std, gray=False):
    steps = [T.Resize(size), T.CenterCrop(size)]
    steps += [T.Grayscale(1)] if gray else []
    return T.Compose(steps + [T.ToTensor(), T.Normalize(mean, std)])(image).unsqueeze(0)


def test_preprocess_matches_torchvision_transforms():
    image = noise(50, 80)
    spec = NetSpec(image_size=32, stem="cifar", layers=(1,), num_classes=10)
    x = preprocess(image, spec)
    assert x.shape == (1, 3, 32, 32) and x.dtype == torch.float32
    torch.testing.assert_close(x, _reference(image, 32, IMAGENET_MEAN, IMAGENET_STD))


def test_preprocess_grayscale_and_explicit_statistics():
    image = noise(40, 30, seed=1)
    spec = NetSpec(image_size=24, stem="cifar", layers=(1,), in_channels=1, num_classes=10)
    x = preprocess(image, spec, normalization=((0.5,), (0.25,)))
    assert x.shape == (1, 1, 24, 24)
    torch.testing.assert_close(x, _reference(image, 24, (0.5,), (0.25,), gray=True))


def test_preprocess_none_and_shapes_statistics():
    image = noise(32, 32, seed=2)
    spec = NetSpec(image_size=32, stem="cifar", layers=(1,), num_classes=8)
    plain = preprocess(image, spec, normalization="none")
    torch.testing.assert_close(plain, T.ToTensor()(image).unsqueeze(0))
    shapes = preprocess(image, spec, normalization="shapes")
    mean = torch.tensor(shapes_data.MEAN).view(1, 3, 1, 1)
    std = torch.tensor(shapes_data.STD).view(1, 3, 1, 1)
    torch.testing.assert_close(shapes, (plain - mean) / std)


def test_fit_image_crops_the_centre():
    image = Image.new("RGB", (30, 10), (0, 0, 0))
    image.paste((255, 255, 255), (10, 0, 20, 10))  # the middle third is white
    out = fit_image(image, 10)
    assert out.size == (10, 10) and (pixels(out) == 255).all()


@pytest.mark.parametrize("normalization", ["imagnet", ((0.5, 0.5), (0.2, 0.2)), ((0.5,), (0.0,))])
def test_preprocess_rejects_bad_normalization(normalization):
    spec = NetSpec(image_size=16, stem="cifar", layers=(1,), num_classes=10)
    with pytest.raises(ValueError):
        preprocess(noise(16, 16), spec, normalization=normalization)


def test_preprocess_rejects_channel_counts_images_do_not_have():
    spec = NetSpec(image_size=16, stem="cifar", layers=(1,), num_classes=10, in_channels=4)
    with pytest.raises(ValueError, match="4 input channels"):
        preprocess(noise(16, 16), spec)
