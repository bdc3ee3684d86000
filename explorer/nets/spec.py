"""`NetSpec`: the one plain-data description of a residual network (presets: `explorer.nets.presets`).

Everything downstream (builder, tables, gradient flow, Grad-CAM, the app) takes a spec. It is
frozen and hashable, so it doubles as a cache key, and it round-trips through JSON and URL query
parameters so a browser link restores the same network.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from typing import Any, Literal, Mapping, get_args

Block = Literal["basic", "bottleneck", "d2l"]
Stem = Literal["imagenet", "cifar", "deep"]
Shortcut = Literal["A", "B", "C", "D"]
StrideOn = Literal["3x3", "1x1"]
Norm = Literal["batch", "none"]
# Where a block's norms and activations sit (explorer/nets/orders.py): He et al. 2016,
# "Identity Mappings", Fig. 4 (a)-(e), in the figure's order.
Order = Literal["post", "bn_after_add", "relu_before_add", "relu_preact", "pre"]
Attention = Literal["none", "se"]
# What the skip carries (explorer/nets/skips.py): He et al. 2016, Fig. 2 (a)-(f).
SkipDesign = Literal["identity", "scaled", "exclusive_gate", "shortcut_gate", "conv", "dropout"]
GATES = ("exclusive_gate", "shortcut_gate")

MAX_STAGES = 6
MAX_BLOCKS_PER_STAGE = 128  # ResNet-1001 has 111 blocks per stage
MAX_WIDTH = 8192
MAX_IMAGE_SIZE = 4096
MAX_IN_CHANNELS = 64
MAX_CLASSES = 100_000
MAX_GATE_BIAS = 30.0  # sigmoid(±30) is 1 - 1e-13 in float64: nothing further changes

EXPANSION = {"basic": 1, "bottleneck": 4, "d2l": 1}
STEM_STRIDE = {"imagenet": 4, "cifar": 1, "deep": 4}

# The sidebar's labels: every message names a field as the user sees it.
LABELS = {
    "block": "Block", "layers": "Blocks per stage", "widths": "Widths",
    "base_width": "Base width", "stem": "Stem", "skip": "Skip connections",
    "shortcut": "Shortcut option", "stride_on": "Bottleneck stride on", "norm": "Normalisation",
    "in_channels": "Input channels", "num_classes": "Classes", "image_size": "Image size",
    "zero_init_residual": "Zero-init last BN", "groups": "Groups (cardinality)",
    "width_per_group": "Width per group", "order": "Activation order", "attention": "Attention",
    "skip_design": "Skip design", "skip_scale": "Skip scale", "gate_bias": "Gate bias",
}

_CHOICES = {
    "block": get_args(Block),
    "stem": get_args(Stem),
    "shortcut": get_args(Shortcut),
    "stride_on": get_args(StrideOn),
    "norm": get_args(Norm),
    "order": get_args(Order),
    "attention": get_args(Attention),
    "skip_design": get_args(SkipDesign),
}
# Number fields (not whole numbers): their defaults, and the designs they belong to.
_NUMBERS = {"skip_scale": (0.5, ("scaled",)), "gate_bias": (-6.0, GATES)}


@dataclass(frozen=True)
class NetSpec:
    """A residual network architecture, as plain data.

    Attributes:
        block: ``basic`` / ``bottleneck`` (torchvision's blocks) or ``d2l`` (the d2l book's
            ``Residual``: conv biases, a 1x1-conv shortcut without BatchNorm).
        layers: blocks per stage, 1 to 6 stages of 0 to 64 blocks each.
        widths: channels per stage (the bottleneck's inner width); ``None`` derives
            ``base_width * 2**i``.
        base_width: first stage's width when ``widths`` is ``None``.
        stem: ``imagenet`` (7x7/2 conv + 3x3/2 max-pool), ``cifar`` (one 3x3/1 conv) or
            ``deep`` (ResNet-C of He et al. 2019: three 3x3 convs, the first strided, then the
            max-pool; timm's ``stem_type='deep'``).
        skip: identity shortcuts on; ``False`` gives the paper's *plain* counterpart.
        shortcut: He et al. 2015 §3.3 option ``A`` (zero-padded identity), ``B`` (projection
            only when the shape changes), ``C`` (projection on every block), or ``D`` (ResNet-D
            of He et al. 2019: where the shape changes, a 2x2 average pool and then the 1x1
            projection; timm's ``avg_down=True``).
        stride_on: where a Bottleneck downsamples: ``3x3`` (torchvision "V1.5") or ``1x1``
            (the paper's original).
        norm: ``batch`` or ``none`` (no norm layers, conv biases on).
        in_channels, num_classes, image_size: input and head.
        zero_init_residual: each residual branch's last BatchNorm starts at zero.
        groups: the Bottleneck's cardinality: its 3x3 conv has this many groups (ResNeXt).
        width_per_group: channels per group at a stage width of 64; the Bottleneck's inner
            width is ``int(width * width_per_group / 64) * groups`` as in torchvision
            (``groups=1, width_per_group=128`` is Wide ResNet-50-2).
        order: where BN and ReLU sit, He et al. 2016 ("Identity Mappings") Fig. 4:
            ``post`` (a, the 2015 original: conv → BN → ReLU, ReLU after the addition),
            ``bn_after_add`` (b: the branch ends on its conv, BN → ReLU after the addition),
            ``relu_before_add`` (c: the branch ends with BN → ReLU, nothing after the addition),
            ``relu_preact`` (d: ReLU → conv → BN units, nothing after the addition) or
            ``pre`` (e, full pre-activation: BN → ReLU → conv units, nothing after the
            addition, BN → ReLU before the pool). See explorer/nets/orders.py.
        attention: ``none`` or ``se`` (Hu et al. 2018 squeeze-and-excitation at the end of
            each residual branch, reduced as timm's seresnet).
        skip_design: what the skip carries, He et al. 2016 Fig. 2: ``identity`` (a);
            ``scaled`` (b: shortcut × ``skip_scale``, branch × (1 − ``skip_scale``));
            ``exclusive_gate`` (c: g = σ(1×1 conv of x + b), (1 − g)·shortcut + g·F(x));
            ``shortcut_gate`` (d: (1 − g)·shortcut + F(x)); ``conv`` (e: a 1×1 conv
            projection on every shortcut, option C's); ``dropout`` (f: dropout with p = 0.5 on
            the shortcut in training, the identity in eval). See explorer/nets/skips.py. The
            plain twin (``skip=False``) has no skip, so every design gives the same plain net.
        skip_scale: the shortcut's factor in the ``scaled`` design (0 to 1).
        gate_bias: the initial bias b of the gates' 1×1 convs (the paper tries 0 to −7).
    """

    block: Block = "basic"
    layers: tuple[int, ...] = (2, 2, 2, 2)
    widths: tuple[int, ...] | None = None
    base_width: int = 64
    stem: Stem = "imagenet"
    skip: bool = True
    shortcut: Shortcut = "B"
    stride_on: StrideOn = "3x3"
    norm: Norm = "batch"
    in_channels: int = 3
    num_classes: int = 1000
    image_size: int = 224
    zero_init_residual: bool = False
    groups: int = 1
    width_per_group: int = 64
    order: Order = "post"
    attention: Attention = "none"
    skip_design: SkipDesign = "identity"
    skip_scale: float = 0.5
    gate_bias: float = -6.0

    def __post_init__(self) -> None:
        # Accept lists from JSON / callers but store tuples so the spec stays hashable.
        object.__setattr__(self, "layers", _int_tuple("layers", self.layers))
        if self.widths is not None:
            object.__setattr__(self, "widths", _int_tuple("widths", self.widths))
        for name in _NUMBERS:  # -6 and -6.0 are one spec (one cache key, one JSON spelling)
            object.__setattr__(self, name, _number(name, getattr(self, name)))
        _validate(self)

    # ---- derived quantities -------------------------------------------------------------
    @property
    def stage_widths(self) -> tuple[int, ...]:
        """Width of each stage (inner width for a bottleneck)."""
        if self.widths is not None:
            return self.widths
        return tuple(self.base_width * 2**i for i in range(len(self.layers)))

    @property
    def expansion(self) -> int:
        return EXPANSION[self.block]

    @property
    def stem_width(self) -> int:
        return self.stage_widths[0]

    def inner_width(self, width: int) -> int:
        """Channels of a block's inner convs at stage width ``width`` (torchvision's rule)."""
        if self.block != "bottleneck":
            return width
        return int(width * (self.width_per_group / 64.0)) * self.groups

    @property
    def stage_strides(self) -> tuple[int, ...]:
        """Stride of each stage's first block: the first stage keeps the stem's resolution."""
        return tuple(1 if i == 0 else 2 for i in range(len(self.layers)))

    @property
    def total_stride(self) -> int:
        stride = STEM_STRIDE[self.stem]
        for blocks, s in zip(self.layers, self.stage_strides):
            if blocks > 0:
                stride *= s
        return stride

    @property
    def depth(self) -> int:
        """Weighted layers as the paper counts them: stem conv + convs in branches + fc."""
        convs_per_block = 3 if self.block == "bottleneck" else 2
        return 2 + convs_per_block * sum(self.layers)

    def replace(self, **changes: Any) -> "NetSpec":
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    # ---- serialisation ------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every field."""
        out = dataclasses.asdict(self)
        out["layers"] = list(self.layers)
        out["widths"] = None if self.widths is None else list(self.widths)
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "NetSpec":
        """Build a spec from a dict such as ``to_dict`` returns; unknown keys are an error."""
        if not isinstance(data, Mapping):
            raise ValueError("A spec must be a JSON object of field names and values.")
        unknown = sorted(set(data) - {f.name for f in dataclasses.fields(cls)})
        if unknown:
            raise ValueError(f"Unknown spec field(s): {', '.join(map(str, unknown))}.")
        return cls(**dict(data))

    @classmethod
    def from_json(cls, text: str) -> "NetSpec":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"The spec is not valid JSON ({exc.msg}).") from None
        return cls.from_dict(data)

    def to_query(self) -> dict[str, str]:
        """URL query parameters for the fields that differ from the defaults."""
        default = NetSpec()
        out: dict[str, str] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value != getattr(default, f.name):
                out[f.name] = _encode(value)
        return out

    @classmethod
    def from_query(cls, params: Mapping[str, str | list[str]]) -> "NetSpec":
        """Parse URL query parameters (as ``to_query`` writes them); garbage raises ValueError."""
        kinds = {f.name: f.type for f in dataclasses.fields(cls)}
        values: dict[str, Any] = {}
        for key, raw in params.items():
            if key not in kinds:
                continue  # other parameters (page state) share the URL
            text = raw[-1] if isinstance(raw, list) else raw
            values[key] = _decode(key, str(text))
        return cls(**values)

    def python_call(self) -> str:
        """The equivalent ``explorer`` Python code for this spec."""
        args = ", ".join(f"{k}={getattr(self, k)!r}" for k in self.to_query())
        return f"from explorer import NetSpec, build\n\nmodel = build(NetSpec({args}), seed=0)\n"


# ---- validation -------------------------------------------------------------------------
def _int_tuple(name: str, value: Any) -> tuple[int, ...]:
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise ValueError(f"'{LABELS[name]}' must be a list of whole numbers, e.g. 2,2,2,2.")
    items = tuple(value)
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in items):
        raise ValueError(f"'{LABELS[name]}' must contain whole numbers only, got {list(items)}.")
    return items


def _number(name: str, value: Any) -> float:
    if (isinstance(value, bool) or not isinstance(value, (int, float))
            or not math.isfinite(value)):
        raise ValueError(f"'{LABELS[name]}' must be a number, got {value!r}.")
    return float(value)


def _check_int(label: str, value: Any, low: int, high: int, where: str = "") -> None:
    """``where`` narrows the field down, e.g. ``" (stage 2)"``."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"'{label}'{where} must be a whole number, got {value!r}.")
    if not low <= value <= high:
        raise ValueError(f"'{label}'{where} must be between {low:,} and {high:,}, got {value:,}.")


def _validate(spec: NetSpec) -> None:
    for name, allowed in _CHOICES.items():
        value = getattr(spec, name)
        if value not in allowed:
            options = ", ".join(repr(a) for a in allowed)
            raise ValueError(f"'{LABELS[name]}' must be one of {options}, got {value!r}.")
    for name in ("groups", "width_per_group"):
        _check_int(LABELS[name], getattr(spec, name), 1, MAX_WIDTH)
    for name in ("skip", "zero_init_residual"):
        if not isinstance(getattr(spec, name), bool):
            raise ValueError(f"'{LABELS[name]}' must be on or off, got {getattr(spec, name)!r}.")
    if not 1 <= len(spec.layers) <= MAX_STAGES:
        raise ValueError(f"A network has 1 to {MAX_STAGES} stages; got {len(spec.layers)}.")
    for i, blocks in enumerate(spec.layers):
        _check_int(LABELS["layers"], blocks, 0, MAX_BLOCKS_PER_STAGE, f" (stage {i + 1})")
    if sum(spec.layers) == 0:
        raise ValueError("The network needs at least one block: every stage has 0 blocks.")
    _check_int(LABELS["base_width"], spec.base_width, 1, MAX_WIDTH)
    if spec.widths is not None and len(spec.widths) != len(spec.layers):
        raise ValueError(
            f"'{LABELS['widths']}' needs one value per stage: {len(spec.layers)} stages but "
            f"{len(spec.widths)} widths."
        )
    for i, width in enumerate(spec.stage_widths):
        _check_int(LABELS["widths"], width, 1, MAX_WIDTH, f" (stage {i + 1})")
    for name, high in (("in_channels", MAX_IN_CHANNELS), ("num_classes", MAX_CLASSES),
                       ("image_size", MAX_IMAGE_SIZE)):
        _check_int(LABELS[name], getattr(spec, name), 1, high)
    if spec.image_size < spec.total_stride:
        raise ValueError(
            f"An image of {spec.image_size} px is too small for this network: its total stride "
            f"is {spec.total_stride}, so the image must be at least {spec.total_stride} px."
        )
    if spec.zero_init_residual and spec.norm == "none":
        raise ValueError("'Zero-init last BN' zeroes a BatchNorm layer, so it needs "
                         "'Normalisation' set to batch.")
    if spec.shortcut == "A" and spec.skip and spec.skip_design != "conv":
        _check_option_a_widths(spec)
    _check_block_options(spec)
    _check_skip_design(spec)


def _check_skip_design(spec: NetSpec) -> None:
    if not 0.0 <= spec.skip_scale <= 1.0:
        raise ValueError(f"'{LABELS['skip_scale']}' must be from 0 to 1, got {spec.skip_scale:g}.")
    if not -MAX_GATE_BIAS <= spec.gate_bias <= MAX_GATE_BIAS:
        raise ValueError(f"'{LABELS['gate_bias']}' must be from {-MAX_GATE_BIAS:g} to "
                         f"{MAX_GATE_BIAS:g}, got {spec.gate_bias:g}.")
    for name, (default, designs) in _NUMBERS.items():
        if getattr(spec, name) != default and spec.skip_design not in designs:
            raise ValueError(
                f"'{LABELS[name]}' applies to the {' and '.join(designs)} "
                f"'{LABELS['skip_design']}' only: set it to {default:g} or pick "
                f"{' or '.join(designs)}."
            )
    if spec.zero_init_residual and spec.order == "bn_after_add":
        raise ValueError(
            f"'{LABELS['zero_init_residual']}' zeroes the last BatchNorm of each residual "
            f"branch, and with the bn_after_add '{LABELS['order']}' the branch ends on its conv "
            f"(its BatchNorm comes after the addition): turn one of them off."
        )


def _check_block_options(spec: NetSpec) -> None:
    if spec.block != "bottleneck":
        for name, default in (("groups", 1), ("width_per_group", 64)):
            if getattr(spec, name) != default:
                raise ValueError(
                    f"'{LABELS[name]}' applies to the Bottleneck block only (torchvision's "
                    f"BasicBlock refuses it too): set it to {default} or pick the Bottleneck."
                )
    if spec.block == "d2l":
        for name, default in (("order", "post"), ("attention", "none")):
            if getattr(spec, name) != default:
                raise ValueError(
                    f"The d2l block is the book's Residual as written, so '{LABELS[name]}' "
                    f"must stay {default}: pick the BasicBlock or the Bottleneck for "
                    f"{getattr(spec, name)}."
                )
    for i, width in enumerate(spec.stage_widths):
        per_group = int(width * (spec.width_per_group / 64.0))
        if per_group < 1:
            raise ValueError(
                f"Stage {i + 1} would have no channels per group: '{LABELS['widths']}' {width} "
                f"× '{LABELS['width_per_group']}' {spec.width_per_group} / 64 rounds down to 0. "
                f"Raise the width per group or the stage's width."
            )
        if spec.inner_width(width) > MAX_WIDTH:
            raise ValueError(
                f"Stage {i + 1}'s grouped 3×3 conv would have {spec.inner_width(width):,} "
                f"channels ('{LABELS['groups']}' × channels per group); the most is "
                f"{MAX_WIDTH:,}."
            )


def _check_option_a_widths(spec: NetSpec) -> None:
    channels = spec.stem_width
    for i, (blocks, width) in enumerate(zip(spec.layers, spec.stage_widths)):
        out = width * spec.expansion
        if blocks and out < channels:
            raise ValueError(
                f"Shortcut option A pads the identity with zero channels, so a stage cannot be "
                f"narrower than its input: stage {i + 1} has {out} channels after {channels}. "
                f"Use option B or C, or widen the stage."
            )
        if blocks:
            channels = out


# ---- URL encoding -----------------------------------------------------------------------
def _encode(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # -6, not -6.0
    return str(value)


def _parse_int(key: str, text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        label = LABELS.get(key, key)
        raise ValueError(f"'{label}' must be a whole number, got {text!r}.") from None


def _decode(key: str, text: str) -> Any:
    if key in ("layers", "widths"):
        if key == "widths" and text.strip().lower() in ("", "none"):
            return None
        parts = [p for p in text.split(",") if p.strip()]
        if not parts:
            raise ValueError(f"'{LABELS[key]}' must be a comma-separated list of whole numbers.")
        if len(parts) > MAX_STAGES:
            raise ValueError(f"A network has 1 to {MAX_STAGES} stages; got {len(parts)}.")
        return tuple(_parse_int(key, p) for p in parts)
    if key in ("skip", "zero_init_residual"):
        lowered = text.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"'{LABELS[key]}' must be 1 or 0 in a link, got {text!r}.")
    if key in _CHOICES:
        return text.strip()
    if key in _NUMBERS:
        try:
            return float(text.strip())
        except ValueError:
            raise ValueError(f"'{LABELS[key]}' must be a number, got {text!r}.") from None
    return _parse_int(key, text)
