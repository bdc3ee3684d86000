"""Load untrusted checkpoints safely, check them against a spec, and save our own.

An uploaded ``.pt`` is a pickle, and unpickling runs whatever code it names. So ``.pt``/``.pth``
files are read only with ``torch.load(weights_only=True)``, which accepts tensors and plain
containers and nothing else, and there is no fallback to a full unpickle. ``.safetensors`` files
cannot carry code at all, which is why our own checkpoints use that format. An upload's file name
decides the format and nothing else; it never becomes a path.
"""

from __future__ import annotations

import functools
import io
import os
import pickle
import re
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load as safetensors_load
from safetensors.torch import load_file, save_file
from torch import nn

from explorer.nets.model import ResNet
from explorer.nets.spec import NetSpec
from explorer.nets.measure import meta_model
from explorer.units import MB, format_bytes

MAX_BYTES = 500 * MB  # ResNet-152's float32 weights are about 240 MB
NESTED_KEYS = ("state_dict", "model_state_dict", "model")
WEIGHTS_FILE = "model.safetensors"
SPEC_FILE = "spec.json"
_SHOWN = 8  # names listed per problem before "and N more"

StateDict = dict[str, torch.Tensor]


@dataclass(frozen=True)
class CheckpointReport:
    """How a state_dict matches a network: empty tuples everywhere means it loads strictly."""

    missing: tuple[str, ...] = ()
    unexpected: tuple[str, ...] = ()
    mismatched: tuple[tuple[str, tuple[int, ...], tuple[int, ...]], ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not (self.missing or self.unexpected or self.mismatched)

    def summary(self) -> str:
        """Readable lines, one per kind of problem (or one line saying all is well)."""
        lines = list(self.notes)
        if self.ok:
            return "\n".join(lines + ["Every weight matches the network."])
        if self.missing:
            lines.append(f"Missing {len(self.missing)} weight(s): {_names(self.missing)}.")
        if self.unexpected:
            lines.append(f"{len(self.unexpected)} unexpected weight(s): "
                         f"{_names(self.unexpected)}.")
        if self.mismatched:
            shapes = [f"{k} is {_shape(got)} but the network needs {_shape(want)}"
                      for k, got, want in self.mismatched]
            lines.append(f"{len(self.mismatched)} weight(s) with the wrong shape: "
                         f"{_names(shapes, sep='; ')}.")
        return "\n".join(lines)


def _names(items: tuple[str, ...] | list[str], sep: str = ", ") -> str:
    shown = sep.join(items[:_SHOWN])
    return shown + (f"{sep}and {len(items) - _SHOWN} more" if len(items) > _SHOWN else "")


def _shape(shape: tuple[int, ...]) -> str:
    return "×".join(map(str, shape)) if shape else "a scalar"


def load_checkpoint(
    data: bytes, spec: NetSpec, filename: str, max_bytes: int = MAX_BYTES
) -> tuple[StateDict, CheckpointReport]:
    """Read uploaded weights without ever running code from the file.

    Args:
        data: the upload's bytes.
        spec: the network the weights are meant for.
        filename: the upload's name; only its extension is used (``.safetensors``, ``.pt``,
            ``.pth``).
        max_bytes: larger files are refused before they are parsed.

    Returns:
        ``(state_dict, report)``: the tensors, and how they match ``spec`` (see
        `validate_state_dict`). A mismatch is reported, not raised, so the app can show it.

    Raises:
        ValueError: one sentence for the user when the file is empty, too large, of another
            format, damaged, a TorchScript archive, holds anything but tensors, or holds NaN/Inf.
    """
    suffix = _suffix(filename)
    if not data:
        raise ValueError("The checkpoint file is empty.")
    if len(data) > max_bytes:
        raise ValueError(f"The checkpoint is {format_bytes(len(data))}; the limit is "
                         f"{format_bytes(max_bytes)}.")
    if suffix == ".safetensors":
        loaded = _read_safetensors(data)
    elif suffix in (".pt", ".pth"):
        loaded = _read_torch(data, max_bytes)
    else:
        raise ValueError("Upload weights as a .safetensors, .pt or .pth file.")
    state_dict, notes = _unwrap(loaded)
    _check_finite(state_dict)
    report = validate_state_dict(state_dict, spec)
    return state_dict, CheckpointReport(report.missing, report.unexpected, report.mismatched,
                                        notes + report.notes)


def _suffix(filename: str) -> str:
    base = str(filename).replace("\\", "/").rsplit("/", 1)[-1]
    return "." + base.rsplit(".", 1)[-1].lower() if "." in base else ""


def _read_safetensors(data: bytes) -> StateDict:
    try:
        return safetensors_load(data)
    except (SafetensorError, ValueError, RuntimeError, OSError):
        raise ValueError("The .safetensors file is damaged or not a safetensors file.") from None


def _read_torch(data: bytes, max_bytes: int) -> object:
    if zipfile.is_zipfile(io.BytesIO(data)):
        _check_zip(data, max_bytes)
    try:
        return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if "GLOBAL" not in str(exc):  # not a class or function reference: just not a pickle
            raise ValueError("The file is not a PyTorch checkpoint, or it is damaged.") from None
        raise ValueError(
            "The checkpoint holds Python objects besides tensors, which are never loaded because "
            "they could run code; save model.state_dict() (or use .safetensors) instead."
        ) from None
    except (RuntimeError, EOFError, OSError, ValueError, KeyError, IndexError, TypeError,
            AttributeError, zipfile.BadZipFile):
        raise ValueError("The checkpoint file is damaged or truncated.") from None


def _check_zip(data: bytes, max_bytes: int) -> None:
    try:
        entries = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise ValueError("The checkpoint file is damaged or truncated.") from None
    names = [e.filename for e in entries]
    if any(n.endswith("constants.pkl") or "/code/" in n for n in names):
        raise ValueError(
            "This is a TorchScript archive (torch.jit.save), which can carry code; upload a "
            "state_dict saved with torch.save(model.state_dict()) or .safetensors instead."
        )
    if sum(e.file_size for e in entries) > max_bytes:  # a compressed member would unpack larger
        raise ValueError(f"The checkpoint unpacks to more than {format_bytes(max_bytes)}.")


def _unwrap(loaded: object) -> tuple[StateDict, tuple[str, ...]]:
    notes: list[str] = []
    for key in NESTED_KEYS:  # training scripts often save {"epoch": .., "model": state_dict}
        if isinstance(loaded, dict) and isinstance(loaded.get(key), dict):
            loaded = loaded[key]
            notes.append(f"Using the weights stored under {key!r}.")
            break
    if not isinstance(loaded, dict) or not loaded:
        raise ValueError("The checkpoint must be a non-empty dict of tensors (a state_dict).")
    bad = [str(k) for k, v in loaded.items() if not isinstance(k, str)
           or not isinstance(v, torch.Tensor)]
    if bad:
        raise ValueError(f"The checkpoint must map names to tensors only; these entries are not "
                         f"tensors: {_names(bad)}.")
    if all(k.startswith("module.") for k in loaded):  # saved from nn.DataParallel
        loaded = {k[len("module."):]: v for k, v in loaded.items()}
        notes.append("Removed the 'module.' prefix that DataParallel adds.")
    return dict(loaded), tuple(notes)


def _check_finite(state_dict: StateDict) -> None:
    bad = [k for k, v in state_dict.items()
           if (v.is_floating_point() or v.is_complex()) and not torch.isfinite(v).all()]
    if bad:
        raise ValueError(f"The checkpoint contains NaN or infinite values in {_names(bad)}.")


def validate_state_dict(state_dict: StateDict, spec: NetSpec) -> CheckpointReport:
    """Compare a state_dict's names and shapes with the network ``spec`` describes.

    Built on the meta device, so checking weights for ResNet-152 allocates nothing.
    """
    return _compare(state_dict, meta_model(spec))


def _compare(state_dict: StateDict, model: nn.Module) -> CheckpointReport:
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    # BatchNorm fills in a missing counter itself (checkpoints from before torch 0.4.1 lack it).
    missing = tuple(k for k in expected
                    if k not in state_dict and not k.endswith("num_batches_tracked"))
    unexpected = tuple(k for k in state_dict if k not in expected)
    mismatched = tuple(
        (k, tuple(v.shape), expected[k]) for k, v in state_dict.items()
        if k in expected and tuple(v.shape) != expected[k]
    )
    return CheckpointReport(missing, unexpected, mismatched)


def looks_like(state_dict: StateDict) -> str | None:
    """The preset whose weight names and shapes these are, classifier aside (``None`` if none).

    A fine-tuned ResNet-18 with 10 classes still reads as ``resnet18 with 10 classes``. Only
    presets with the same blocks per stage as the weights are built (on the meta device), and
    each preset's names and shapes are kept once computed, so a second call builds nothing.
    """
    from explorer.nets.presets import PRESETS

    shapes = {k: tuple(v.shape) for k, v in state_dict.items()
              if not k.endswith("num_batches_tracked")}
    body = frozenset((k, v) for k, v in shapes.items() if not k.startswith("fc."))
    blocks = _blocks_per_stage(shapes)
    for name, spec in PRESETS.items():
        counts = {i: n for i, n in enumerate(spec.layers, start=1) if n}
        if counts != blocks or _body_shapes(spec) != body:
            continue
        classes = shapes.get("fc.weight", (None,))[0]
        if classes is None or classes == spec.num_classes:
            return name
        return f"{name} with {classes} classes"
    return None


_BLOCK_KEY = re.compile(r"layer(\d+)\.(\d+)\.")


def _blocks_per_stage(names) -> dict[int, int]:
    """``{stage: blocks}`` read off weight names such as ``layer2.3.conv1.weight``."""
    found: dict[int, int] = {}
    for key in names:
        if match := _BLOCK_KEY.match(key):
            stage, block = int(match[1]), int(match[2])
            found[stage] = max(found.get(stage, 0), block + 1)
    return found


@functools.lru_cache(maxsize=64)  # called with presets only: a fixed, small set of specs
def _body_shapes(spec: NetSpec) -> frozenset[tuple[str, tuple[int, ...]]]:
    """The names and shapes of ``spec``'s weights, classifier aside (immutable: safe to share)."""
    return frozenset((k, tuple(v.shape)) for k, v in meta_model(spec).state_dict().items()
                     if not k.endswith("num_batches_tracked") and not k.startswith("fc."))


def headline(report: CheckpointReport, state_dict: StateDict) -> str:
    """One sentence saying why weights do not fit, and what they look like (details folded)."""
    counts = [f"{len(report.missing)} missing", f"{len(report.unexpected)} unexpected",
              f"{len(report.mismatched)} of the wrong shape"]
    counts = [c for c, n in zip(counts, (report.missing, report.unexpected, report.mismatched))
              if n]
    text = f"These weights do not fit the sidebar's network ({', '.join(counts)})"
    guess = looks_like(state_dict)
    if guess is None:
        return text + "."
    base, *rest = guess.split(" with ")
    classes = f" with 'Classes' set to {rest[0].split()[0]}" if rest else ""
    return f"{text}: they look like a {guess}. Load them into the {base} preset{classes}."


def apply_checkpoint(model: nn.Module, state_dict: StateDict) -> nn.Module:
    """Load weights into ``model`` strictly; a mismatch raises ValueError with the report."""
    report = _compare(state_dict, model)
    if not report.ok:
        raise ValueError(report.summary())
    with torch.no_grad():
        model.load_state_dict(state_dict, strict=True)
    return model


def save_checkpoint(model: nn.Module, spec: NetSpec, path: str | os.PathLike) -> Path:
    """Write ``model.safetensors`` and ``spec.json`` into the directory ``path``.

    Each file is written to a temporary name and renamed, so a crash never leaves half a file.

    Returns:
        The directory.
    """
    directory = Path(path)
    directory.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    _atomic_write(directory / WEIGHTS_FILE, lambda tmp: save_file(tensors, tmp))
    _atomic_write(directory / SPEC_FILE, lambda tmp: Path(tmp).write_text(spec.to_json()))
    return directory


def _atomic_write(target: Path, write) -> None:
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; a server running as another user must read it
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def read_saved(path: str | os.PathLike) -> tuple[NetSpec, StateDict]:
    """The spec and weights of a folder written by `save_checkpoint` (checked finite)."""
    directory = Path(path)
    spec = NetSpec.from_json((directory / SPEC_FILE).read_text())
    state_dict = load_file(str(directory / WEIGHTS_FILE))
    _check_finite(state_dict)
    return spec, state_dict


def model_from(spec: NetSpec, state_dict: StateDict,
               device: str | torch.device = "cpu") -> ResNet:
    """A fresh model of ``spec`` holding a copy of ``state_dict``, in eval mode on ``device``."""
    with torch.device("meta"):
        model = ResNet(spec)
    model = model.to_empty(device="cpu")
    for name, buffer in model.named_buffers():
        if name.endswith("num_batches_tracked"):  # to_empty leaves garbage if the file lacks it
            buffer.zero_()
    apply_checkpoint(model, state_dict)
    return model.to(device).eval()


def load_saved(
    path: str | os.PathLike, device: str | torch.device = "cpu"
) -> tuple[ResNet, NetSpec]:
    """Rebuild a network saved by `save_checkpoint`.

    Returns:
        ``(model, spec)``, the model in eval mode on ``device``.
    """
    spec, state_dict = read_saved(path)
    return model_from(spec, state_dict, device), spec
