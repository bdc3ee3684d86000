"""Hostile and awkward uploads, generated in memory by the tests (nothing dangerous is committed).

Images: files whose header claims far more pixels than they hold, damaged files, other formats
renamed to ``.png``, and legal but awkward images (CMYK, 16-bit, transparency, animation, EXIF
rotation, 1 pixel, a big photo). Checkpoints: a pickle that would run code if unpickled,
TorchScript, wrong keys and shapes, NaN/Inf, truncated and forged zips.
"""

from __future__ import annotations

import io
import struct
import warnings
import zlib
from typing import Callable

import numpy as np
import torch
from PIL import Image
from safetensors.torch import save as safetensors_save
from torch import nn

from explorer import NetSpec, build


# ---- images -----------------------------------------------------------------------------
def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def gradient(width: int, height: int) -> Image.Image:
    """A smooth colour ramp: a big photo-like image that still compresses to a small JPEG."""
    x = np.linspace(0, 255, width, dtype=np.float32)[None, :]
    y = np.linspace(0, 255, height, dtype=np.float32)[:, None]
    rgb = np.stack(np.broadcast_arrays(x + 0 * y, y + 0 * x, (x + y) / 2), axis=-1)
    return Image.fromarray(rgb.astype(np.uint8))


def png_claiming(width: int, height: int) -> bytes:
    """A valid-looking PNG whose IHDR claims ``width`` x ``height`` but holds a few bytes."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + chunk(b"IEND", b""))


def bmp_claiming(width: int, height: int) -> bytes:
    data = bytearray(encode(Image.new("RGB", (2, 2)), "BMP"))
    struct.pack_into("<ii", data, 18, width, height)  # BITMAPINFOHEADER biWidth, biHeight
    return bytes(data)


def jpeg_claiming(width: int, height: int) -> bytes:
    data = bytearray(encode(Image.new("RGB", (8, 8)), "JPEG"))
    sof = data.index(b"\xff\xc0")  # baseline start-of-frame: length, precision, height, width
    struct.pack_into(">HH", data, sof + 5, height, width)
    return bytes(data)


def gif_claiming(width: int, height: int) -> bytes:
    data = bytearray(encode(Image.new("P", (2, 2)), "GIF"))
    struct.pack_into("<HH", data, 6, width, height)  # logical screen descriptor
    return bytes(data)


def tiff_claiming(width: int, height: int) -> bytes:
    """A little-endian TIFF whose only strip is 16 bytes, for a ``width`` x ``height`` image."""
    tags = [(256, 4, width), (257, 4, height), (258, 3, 8), (259, 3, 1), (262, 3, 1),
            (273, 4, 0), (277, 3, 1), (278, 4, height), (279, 4, 16)]
    ifd_size = 2 + 12 * len(tags) + 4
    pixels_at = 8 + ifd_size
    body = struct.pack("<H", len(tags))
    for tag, kind, value in tags:
        value = pixels_at if tag == 273 else value
        packed = struct.pack("<I", value) if kind == 4 else struct.pack("<HH", value, 0)
        body += struct.pack("<HHI", tag, kind, 1) + packed
    return b"II*\x00" + struct.pack("<I", 8) + body + b"\x00\x00\x00\x00" + bytes(16)


def cmyk_jpeg() -> bytes:
    return encode(Image.new("CMYK", (40, 30), (0, 200, 200, 0)), "JPEG")


def png16() -> bytes:
    values = np.linspace(0, 4000, 40 * 30, dtype=np.uint16).reshape(30, 40)
    return encode(Image.fromarray(values), "PNG")  # uint16 gives mode I;16


def palette_with_transparency() -> bytes:
    image = Image.new("P", (40, 30), 1)
    image.putpalette([0, 255, 0, 255, 0, 0] + [0] * 762)
    return encode(image, "PNG", transparency=1)


def la_png() -> bytes:
    return encode(Image.new("LA", (40, 30), (200, 90)), "PNG")


def rgba_png() -> bytes:
    return encode(Image.new("RGBA", (40, 30), (255, 0, 255, 0)), "PNG")


def animated_gif() -> bytes:
    frames = [Image.new("RGB", (40, 30), c) for c in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    return encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=50, loop=0)


def exif_rotated_jpeg() -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° clockwise to display
    return encode(Image.new("RGB", (40, 20), (20, 120, 220)), "JPEG", exif=exif)


def one_pixel_png() -> bytes:
    return encode(Image.new("RGB", (1, 1), (9, 9, 9)), "PNG")


def big_photo_jpeg(width: int = 6000, height: int = 4000) -> bytes:
    return encode(gradient(width, height), "JPEG", quality=80)


def svg() -> bytes:
    return (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="9" height="9">'
            b'<script>alert(1)</script></svg>')


def heic() -> bytes:
    return b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(64)


def pdf() -> bytes:
    return b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"


def eps() -> bytes:
    return b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n(pwned) print\n"


def truncated_png() -> bytes:
    noise = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    return encode(Image.fromarray(noise), "PNG")[:2000]


# ---- checkpoints ------------------------------------------------------------------------
def torch_bytes(obj) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


class WritesAMarker:
    """Unpickling this calls ``open(path, "w")``: the file appears iff the pickle was executed."""

    def __init__(self, path) -> None:
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def code_pickle(spec: NetSpec, marker) -> bytes:
    return torch_bytes({**build(spec, 0).state_dict(), "extra": WritesAMarker(marker)})


def pickled_module() -> bytes:
    return torch_bytes({"model": nn.Linear(2, 2)})


def torchscript() -> bytes:
    class Small(nn.Module):
        def forward(self, x):
            return x * 2

    buffer = io.BytesIO()
    with warnings.catch_warnings():  # torch.jit is deprecated; the archive format is not
        warnings.simplefilter("ignore")
        torch.jit.save(torch.jit.script(Small()), buffer)
    return buffer.getvalue()


def wrong_keys(spec: NetSpec) -> bytes:
    weights = build(spec, 0).state_dict()
    return torch_bytes({f"backbone.{k}": v for k, v in weights.items()})


def wrong_shapes(spec: NetSpec) -> bytes:
    weights = build(spec, 0).state_dict()
    weights["fc.weight"] = torch.zeros(3, 7)
    return torch_bytes(weights)


def non_finite(spec: NetSpec, value: float, fmt: str, key: str = "fc.weight") -> bytes:
    weights = build(spec, 0).state_dict()
    weights[key].view(-1)[0] = value
    return torch_bytes(weights) if fmt == "pt" else safetensors_save(weights)


def truncated_zip(spec: NetSpec) -> bytes:
    data = torch_bytes(build(spec, 0).state_dict())
    return data[: len(data) // 2]


def zip_claiming_4gb(spec: NetSpec) -> bytes:
    """A real checkpoint whose central directory says one member unpacks to ~4 GB."""
    data = bytearray(torch_bytes(build(spec, 0).state_dict()))
    entry = data.index(b"PK\x01\x02")
    struct.pack_into("<I", data, entry + 24, 0xFFFF0000)  # uncompressed size
    return bytes(data)


def good_checkpoint(spec: NetSpec, fmt: str = "pt") -> bytes:
    weights = build(spec, 0).state_dict()
    return torch_bytes(weights) if fmt == "pt" else safetensors_save(weights)


ImageCase = tuple[str, Callable[[], bytes], str]
# (file name as uploaded, generator, words the refusal must contain)
REFUSED_IMAGES: dict[str, ImageCase] = {
    "png claiming 10000x10000": ("claims.png", lambda: png_claiming(10_000, 10_000),
                                 "megapixels"),
    "png claiming 20000x9000 (180 MP)": ("bomb.png", lambda: png_claiming(20_000, 9_000),
                                         "megapixels"),
    "truncated png": ("cut.png", truncated_png, "damaged or truncated"),
    "empty": ("empty.png", lambda: b"", "empty"),
    "svg renamed .png": ("drawing.png", svg, "SVG"),
    "heic renamed .jpg": ("phone.jpg", heic, "HEIC"),
    "pdf renamed .png": ("paper.png", pdf, "PDF"),
    "eps renamed .png": ("ghost.png", eps, "not a PNG"),
    "checkpoint renamed .png": ("weights.png", lambda: torch_bytes({"w": torch.zeros(2)}),
                                "checkpoint"),
    "jpeg claiming 60000x60000": ("claims.jpg", lambda: jpeg_claiming(60_000, 60_000),
                                  "megapixels"),
}
# Too big for the upload widget: the browser refuses it before it reaches the server.
OVERSIZED_IMAGE = ("padded.png", lambda: one_pixel_png() + bytes(21 * 10**6))
AWKWARD_IMAGES: dict[str, tuple[str, Callable[[], bytes]]] = {
    "cmyk jpeg": ("cmyk.jpg", cmyk_jpeg),
    "16-bit png": ("deep.png", png16),
    "palette with transparency": ("palette.png", palette_with_transparency),
    "LA png": ("la.png", la_png),
    "RGBA png": ("rgba.png", rgba_png),
    "animated gif": ("anim.gif", animated_gif),
    "exif-rotated jpeg": ("rotated.jpg", exif_rotated_jpeg),
    "1x1 png": ("dot.png", one_pixel_png),
    "6000x4000 photo": ("big_photo.jpg", big_photo_jpeg),
}
