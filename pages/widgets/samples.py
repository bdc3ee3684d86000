"""Images for the Grad-CAM page: the user's uploads and the bundled samples."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st
from PIL import Image

from explorer.data.shapes import CLASSES, ShapesDataset
from explorer.io.images import MAX_BYTES, load_image, png_bytes
from explorer.nets.spec import NetSpec
from explorer.units import MB

from . import persist

PHOTOS = Path(__file__).resolve().parents[2] / "samples"
SHAPE_SAMPLES = 6
UPLOAD_TYPES = ["png", "jpg", "jpeg", "gif", "bmp", "webp", "tif", "tiff"]


@st.cache_data(max_entries=8, show_spinner=False)
def shape_samples(image_size: int, seed: int) -> list[tuple[str, bytes]]:
    """A few held-out synthetic images as PNG bytes (cached: immutable)."""
    data = ShapesDataset(SHAPE_SAMPLES, image_size=max(image_size, 32), seed=seed, split="test")
    samples = []
    for i in range(SHAPE_SAMPLES):
        pixels = data.raw(i).permute(1, 2, 0).numpy()
        label = CLASSES[int(data.labels([i])[0])]
        buffer = Image.fromarray(pixels)
        samples.append((f"shapes #{i} ({label})", png_bytes(buffer)))
    return samples


def _label(name: str) -> str:
    """An upload's name as literal text: a markdown code span cannot hold links, images or HTML."""
    return "`" + name[:60].replace("`", "'") + "`"


@dataclass(frozen=True)
class Picked:
    """One image to explain: its caption, the decoded picture, and whether it is a shape."""

    caption: str
    image: Image.Image
    synthetic: bool  # from the synthetic shapes set (else a photo or an upload)


def pick_images(spec: NetSpec, seed: int) -> list[Picked]:
    """Draw the uploader and the sample picker; return the images to explain."""
    shapes = dict(shape_samples(spec.image_size, seed))
    photos = {f"photo: {p.stem}": p for p in sorted(PHOTOS.glob("*.jpg"))}
    default = list(shapes)[:2] if spec.num_classes == len(CLASSES) else list(photos)[:1]
    cols = st.columns(2)
    limit = MAX_BYTES // MB
    uploads = persist.uploads(cols[0].file_uploader, "Your images", "cam_uploads",
                              type=UPLOAD_TYPES, max_upload_size=limit,
                              help=f"Up to {limit} MB per image (PNG, JPEG, GIF, BMP, WebP, TIFF).")
    chosen = persist.widget(cols[1].multiselect, "Samples", "cam_samples", default,
                            options=[*shapes, *photos])
    images = []
    for upload in uploads:
        label = _label(upload.name)
        try:
            images.append(Picked(label, load_image(upload.getvalue()), False))
        except ValueError as exc:  # one bad file must not hide the others
            st.error(f"{label}: {exc}")
    for name in chosen:
        data = shapes[name] if name in shapes else photos[name].read_bytes()
        images.append(Picked(name, load_image(data), name in shapes))
    return images
