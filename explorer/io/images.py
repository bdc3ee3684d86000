"""Untrusted image uploads in, a normalised input tensor out.

An upload is hostile until proven otherwise: its byte size is capped, the pixel count its header
*claims* is checked before a single pixel is decoded (a 99-byte PNG can claim 10000x10000), only a
short list of raster formats is even tried (Pillow's EPS plugin would start Ghostscript), and every
failure is one ``ValueError`` with a sentence for the user. What comes back is a plain 8-bit RGB
image the rest of the app can trust: orientation applied, transparency flattened, 16-bit and float
images rescaled, big photos shrunk.
"""

from __future__ import annotations

import io
import struct
import zlib
from typing import Sequence, Union

import numpy as np
import torch
import torchvision.transforms.functional as TF
from PIL import Image, ImageOps, UnidentifiedImageError

from explorer.nets.spec import NetSpec
from explorer.units import MB, format_bytes, format_megabytes

MAX_BYTES = 20 * MB  # the upload widget's limit too (it counts decimal megabytes)
# Below Pillow's own bomb threshold (~89 M), so its warning never decides for us.
MAX_PIXELS = 50_000_000
MAX_SIDE = 1024
BACKGROUND = (128, 128, 128)
FORMATS = ("PNG", "JPEG", "GIF", "BMP", "WEBP", "TIFF")  # JPEG includes MPO
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

Normalization = Union[str, tuple[Sequence[float], Sequence[float]]]

_ALPHA_MODES = ("RGBA", "LA", "PA", "RGBa", "La")
_DECODE_ERRORS = (
    OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError, TypeError,
    struct.error, zlib.error, Image.DecompressionBombError, Image.DecompressionBombWarning,
)
# Leading bytes of files people upload by mistake, for a more helpful refusal.
_KNOWN_NOT_IMAGES = (
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a zip archive (a PyTorch checkpoint?)"),
    (b"\x80", "a Python pickle (a PyTorch checkpoint?)"),
)


def png_bytes(image: Image.Image) -> bytes:
    """A picture encoded as PNG."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def load_image(
    data: bytes,
    max_pixels: int = MAX_PIXELS,
    max_bytes: int = MAX_BYTES,
    max_side: int = MAX_SIDE,
    background: tuple[int, int, int] = BACKGROUND,
) -> Image.Image:
    """Decode an uploaded image safely into an 8-bit RGB picture.

    Args:
        data: the raw bytes of the upload (its file name is never trusted).
        max_pixels: refuse images whose header claims more pixels than this.
        max_bytes: refuse files larger than this.
        max_side: larger images are shrunk (aspect kept) so their longer side is this.
        background: colour that transparent areas are composited onto.

    Returns:
        A fully loaded RGB ``PIL.Image.Image`` of at most ``max_side`` pixels a side.

    Raises:
        ValueError: with one sentence for the user, for anything that is not a readable image
            within the limits.
    """
    if not data:
        raise ValueError("The file is empty.")
    data = bytes(data)  # a memoryview or bytearray from an upload widget works too
    if len(data) > max_bytes:
        raise ValueError(
            f"The file is {format_bytes(len(data))}; images are limited to "
            f"{format_megabytes(max_bytes)}."
        )
    image = _open(data, max_pixels)
    try:
        if image.format in ("JPEG", "MPO"):
            # Let libjpeg decode at 1/2, 1/4 or 1/8 scale: a 50 MP photo never fills memory.
            image.draft(image.mode, (max_side, max_side))
        image.seek(0)  # an animation's first frame; later frames may change mode and size
        image.load()
    except _DECODE_ERRORS:
        raise ValueError("The image file is damaged or truncated and cannot be decoded.") from None
    image = _apply_orientation(image)
    image = to_rgb(image, background)
    if max(image.size) > max_side:
        image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    return image


def _open(data: bytes, max_pixels: int) -> Image.Image:
    try:
        image = Image.open(io.BytesIO(data), formats=FORMATS)
    except UnidentifiedImageError:
        raise ValueError(_not_an_image(data)) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValueError(
            f"The image claims more pixels than Pillow will decode; the limit is "
            f"{max_pixels / 1e6:.0f} megapixels."
        ) from None
    except _DECODE_ERRORS:
        raise ValueError("The image file is damaged or truncated and cannot be decoded.") from None
    width, height = image.size
    if width * height > max_pixels:
        raise ValueError(
            f"The image claims to be {width} × {height} pixels ({width * height / 1e6:.0f} "
            f"megapixels); the limit is {max_pixels / 1e6:.0f} megapixels."
        )
    return image


def _not_an_image(data: bytes) -> str:
    head = data[:512].lstrip().lower()
    kind = next((name for magic, name in _KNOWN_NOT_IMAGES if data.startswith(magic)), None)
    if head.startswith(b"<?xml") or b"<svg" in head:
        kind = "an SVG drawing"
    elif data[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftypavif", b"ftypmsf1"):
        kind = "a HEIC/AVIF photo (save it as JPEG first)"
    allowed = "a PNG, JPEG, GIF, BMP, WebP or TIFF image"
    if kind:
        return f"This file looks like {kind}, not {allowed}."
    return f"This file is not {allowed} that can be read."


def _apply_orientation(image: Image.Image) -> Image.Image:
    try:
        return ImageOps.exif_transpose(image)
    except _DECODE_ERRORS:
        # A damaged EXIF block only loses the rotation hint; the pixels themselves decoded fine.
        return image


def to_rgb(image: Image.Image, background: tuple[int, int, int] = BACKGROUND) -> Image.Image:
    """Convert any Pillow mode to 8-bit RGB without the usual surprises.

    Transparent pixels are composited onto ``background`` (``convert("RGB")`` would reveal
    whatever colour hides under alpha 0); 16-bit and float images are stretched from their own
    minimum to maximum (``convert`` would clip them to white).
    """
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in _ALPHA_MODES:
        rgba = image.convert("RGBA")
        canvas = Image.new("RGBA", rgba.size, (*background, 255))
        return Image.alpha_composite(canvas, rgba).convert("RGB")
    if image.mode.startswith("I") or image.mode == "F":
        return Image.fromarray(_stretch_to_uint8(np.asarray(image))).convert("RGB")
    if image.mode == "RGB":
        return image.copy()
    try:
        return image.convert("RGB")
    except ValueError:
        raise ValueError(f"Images in colour mode {image.mode} are not supported.") from None


def _stretch_to_uint8(values: np.ndarray) -> np.ndarray:
    values = values.astype(np.float64)
    finite = np.isfinite(values)
    if not finite.any():
        return np.zeros(values.shape, np.uint8)
    low, high = values[finite].min(), values[finite].max()
    values = np.where(finite, values, low)
    if high == low:  # a flat image has no contrast to stretch
        return np.zeros(values.shape, np.uint8)
    return np.round((values - low) * (255.0 / (high - low))).astype(np.uint8)


def fit_image(image: Image.Image, size: int) -> Image.Image:
    """Resize the shorter side to ``size`` and centre-crop a ``size`` x ``size`` square.

    This is exactly the picture the network sees, so draw Grad-CAM overlays on it.
    """
    image = TF.resize(image, size, interpolation=TF.InterpolationMode.BILINEAR, antialias=True)
    return TF.center_crop(image, [size, size])


def preprocess(
    image: Image.Image, spec: NetSpec, normalization: Normalization = "imagenet"
) -> torch.Tensor:
    """Turn an RGB image into the ``(1, C, H, W)`` float tensor a network built from ``spec`` takes.

    Args:
        image: an RGB image, e.g. from `load_image`.
        spec: gives ``image_size`` and ``in_channels`` (1 means grayscale).
        normalization: ``"imagenet"`` (torchvision weights' mean/std), ``"shapes"`` (the
            synthetic dataset's, `explorer.data.shapes.MEAN`/``STD``), ``"none"`` (values in [0, 1]) or
            an explicit ``(mean, std)`` pair with one value or one per channel.

    Returns:
        A float32 CPU tensor of shape ``(1, spec.in_channels, spec.image_size, spec.image_size)``.
    """
    if spec.in_channels not in (1, 3):
        raise ValueError(
            f"This network expects {spec.in_channels} input channels; images have 1 (grayscale) "
            f"or 3 (colour)."
        )
    picture = fit_image(image.convert("RGB"), spec.image_size)
    if spec.in_channels == 1:
        picture = picture.convert("L")
    x = TF.pil_to_tensor(picture).float().div_(255.0)
    mean, std = _mean_std(normalization, spec.in_channels)
    return TF.normalize(x, mean, std).unsqueeze(0)


def _mean_std(normalization: Normalization, channels: int) -> tuple[list[float], list[float]]:
    if normalization == "imagenet":
        mean, std = IMAGENET_MEAN, IMAGENET_STD
        if channels == 1:  # grayscale input to ImageNet-style weights: average the statistics
            mean, std = (sum(mean) / 3,), (sum(std) / 3,)
    elif normalization == "shapes":
        from explorer.data.shapes import MEAN as mean, STD as std  # lazy: the dataset module is heavier
    elif normalization == "none":
        mean, std = (0.0,) * channels, (1.0,) * channels
    elif isinstance(normalization, tuple) and len(normalization) == 2:
        mean, std = (tuple(float(v) for v in part) for part in normalization)
    else:
        raise ValueError(
            f"normalization must be 'imagenet', 'shapes', 'none' or a (mean, std) pair, "
            f"got {normalization!r}."
        )
    if len(mean) == 1:
        mean, std = mean * channels, std * channels
    if len(mean) != channels or len(std) != channels:
        need = "1 value" if channels == 1 else f"1 or {channels} values"
        raise ValueError(f"mean and std need {need} each for this network.")
    if min(std) <= 0:
        raise ValueError("Every std value must be positive.")
    return list(mean), list(std)
