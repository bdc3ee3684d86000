"""Trained models travel as one zip: weights, spec, ``TrainConfig``, metrics and class names.

``bundle_runs`` writes what a training job made (one folder per run and variant, each a saved
run folder of ``explorer.training.runner``); ``read_bundle`` reads one back from untrusted bytes,
in memory, never extracting to disk and never unpickling: weights are safetensors only, the rest
JSON. A bundle holding several nets (a twin run) yields each, the residual net first.
"""

from __future__ import annotations

import io
import json
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from explorer.io.checkpoints import MAX_BYTES, SPEC_FILE, WEIGHTS_FILE, StateDict
from explorer.io.runs import save_run
from explorer.nets.spec import NetSpec
from explorer.units import format_bytes

MAX_MEMBERS = 64


@dataclass(frozen=True)
class BundledNet:
    """One net from a bundle: where it was, its spec, weights and what its run recorded."""

    folder: str
    spec: NetSpec
    state_dict: StateDict
    metrics: dict

    @property
    def classes(self) -> tuple[str, ...]:
        names = self.metrics.get("classes") or ()
        return tuple(str(n) for n in names) if len(names) == self.spec.num_classes else ()

    @property
    def normalization(self):
        pair = self.metrics.get("normalization")
        if isinstance(pair, list) and len(pair) == 2 and all(len(p) == self.spec.in_channels
                                                            for p in pair):
            return tuple(tuple(float(v) for v in p) for p in pair)
        return "imagenet"


def _spec(data: bytes, folder: str) -> NetSpec:
    try:
        return NetSpec.from_json(data.decode())
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"The bundle's folder {folder!r} holds a spec.json that is not a valid "
                         f"network: {exc}") from None


def bundle_runs(results: dict, metrics: dict[tuple[str, str], dict]) -> bytes:
    """A zip of every run and variant: ``<run>/<variant>/`` saved run folders.

    Args:
        results: run label → ``TrainResult``.
        metrics: (run, variant) → the metrics to record (see ``runner.run_metrics``).
    """
    buffer = io.BytesIO()
    with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(buffer, "w") as archive:
        for run, result in results.items():
            for variant, model in result.models.items():
                folder = save_run(Path(tmp) / run / variant, model, result.specs[variant],
                                  metrics[(run, variant)], result.histories[variant])
                for file in sorted(folder.iterdir()):
                    archive.write(file, f"{run}/{variant}/{file.name}")
    return buffer.getvalue()


def is_bundle(filename: str) -> bool:
    return str(filename).lower().endswith(".zip")


def read_bundle(data: bytes, max_bytes: int = MAX_BYTES) -> list[BundledNet]:
    """The nets in a bundle's bytes, residual first.

    Raises:
        ValueError: one sentence when the zip is damaged, too large, or holds no net.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load as safetensors_load

    from explorer.io.checkpoints import _check_finite

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise ValueError("The .zip file is damaged or not a zip file.") from None
    if len(entries) > MAX_MEMBERS or sum(e.file_size for e in entries) > max_bytes:
        raise ValueError(f"The .zip holds more than a trained-models bundle can: at most "
                         f"{MAX_MEMBERS} files and {format_bytes(max_bytes)} unpacked.")
    folders = sorted({e.filename.rsplit("/", 1)[0] for e in entries
                      if e.filename.endswith("/" + SPEC_FILE) or e.filename == SPEC_FILE})
    nets = []
    for folder in folders:
        prefix = f"{folder}/" if folder != SPEC_FILE else ""
        try:
            spec = _spec(archive.read(prefix + SPEC_FILE), folder)
            weights = safetensors_load(archive.read(prefix + WEIGHTS_FILE))
            metrics = json.loads(archive.read(prefix + "metrics.json")) \
                if prefix + "metrics.json" in archive.namelist() else {}
        except KeyError:
            raise ValueError(f"The bundle's folder {folder!r} has no {WEIGHTS_FILE}.") from None
        except (SafetensorError, UnicodeDecodeError, json.JSONDecodeError, RuntimeError):
            raise ValueError(f"The bundle's folder {folder!r} is damaged.") from None
        _check_finite(weights)
        nets.append(BundledNet(folder if prefix else ".", spec, weights,
                               metrics if isinstance(metrics, dict) else {}))
    if not nets:
        raise ValueError("The .zip holds no trained net (no spec.json with model.safetensors): "
                         "upload the zip the Training page downloads.")
    return sorted(nets, key=lambda n: (not n.spec.skip, n.folder))
