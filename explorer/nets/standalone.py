"""`standalone_code`: a spec's network as one plain-PyTorch file that runs outside this repository.

The file writes out the blocks and the builder that `explorer.nets.model.build` assembles for
the spec, keeping only the code paths the spec uses, with the same module names (so the same
``state_dict`` keys) and the same seeded initialisation: `build_model()` there equals
`build(spec, seed)` here, weight for weight (tests/nets/test_standalone.py imports the file
from a folder where ``explorer`` cannot be imported and compares).
"""

from __future__ import annotations

import dataclasses

from explorer.nets.naming import network_name
from explorer.nets.orders import ORDERS
from explorer.nets.presets import FAMILIES, PRESETS
from explorer.nets.spec import LABELS, NetSpec

# The spec fields the generated file follows. A field added to NetSpec later is refused here when
# it differs from its default (tests/nets/test_standalone.py lists them all).
FIELDS = frozenset({
    "block", "layers", "widths", "base_width", "stem", "skip", "shortcut", "stride_on", "norm",
    "in_channels", "num_classes", "image_size", "zero_init_residual", "groups",
    "width_per_group", "order", "attention", "skip_design", "skip_scale", "gate_bias",
})
_TV_OPTIONS = ("num_classes", "zero_init_residual")  # torchvision.models.resnet*(...) takes them


def standalone_code(spec: NetSpec, seed: int | None = None) -> str:
    """The source of one Python file that builds ``spec``'s network with only ``torch`` imported.

    Args:
        spec: the architecture.
        seed: the seed `build_model()` applies by default (``None``: 0, `build`'s default).

    Returns:
        The file's text. It defines the blocks, ``ResNet``, ``init_weights`` and
        ``build_model(seed)``, whose weights equal ``explorer.build(spec, seed)``'s.

    Raises:
        ValueError: ``spec`` uses a field or an option this generator does not write out.
    """
    _check_covered(spec)
    seed = 0 if seed is None else seed
    parts = [_header(spec, seed), _helpers(spec), _shortcut(spec), _attention(spec),
             _skip_parts(spec), _block(spec), _resnet(spec), _init(spec), _builder(spec),
             _main()]
    return "\n\n\n".join(p.strip("\n") for p in parts if p) + "\n"


def _check_covered(spec: NetSpec) -> None:
    default = NetSpec()
    for f in dataclasses.fields(spec):
        if f.name not in FIELDS and getattr(spec, f.name) != getattr(default, f.name):
            label = LABELS.get(f.name, f.name)
            raise ValueError(f"The standalone Python file does not cover '{label}' yet: use the "
                             f"explorer-based code for this network.")


def _lines(*items: str | None) -> str:
    """The non-empty items, one per line (a ``None`` item is a line the spec does not need)."""
    return "\n".join(item for item in items if item is not None)


def torchvision_call(spec: NetSpec) -> str | None:
    """``torchvision.models.resnet50(weights=None)`` where a torchvision preset is ``spec``."""
    for name in FAMILIES.get("torchvision", ()):
        reference = PRESETS[name]
        if spec.replace(image_size=reference.image_size, num_classes=reference.num_classes,
                        zero_init_residual=reference.zero_init_residual) == reference:
            options = "".join(f", {k}={getattr(spec, k)!r}" for k in _TV_OPTIONS
                              if getattr(spec, k) != getattr(reference, k))
            return f"torchvision.models.{name}(weights=None{options})"
    return None


# ---- the file's parts, in order ---------------------------------------------------------
def _header(spec: NetSpec, seed: int) -> str:
    tv = torchvision_call(spec)
    title = network_name(spec)
    title = "A residual network" if title == "custom" else title
    items = [f"{key}={value!r}," for key, value in spec.to_dict().items()]
    spec_text = "dict(\n    " + _wrap(" ".join(items), 4, width=92 + 3) + "\n)"
    return _lines(
        f'"""{title} in plain PyTorch, written out by ResNet Explorer.',
        "",
        "Needs only PyTorch (2.0 or later). `build_model()` returns the network with the same",
        "layers, state_dict keys and seeded initial weights as ResNet Explorer's",
        f"`build(NetSpec.from_dict(SPEC), seed={seed})`; run this file to try it on a random "
        "batch.",
        '"""',
        f"# torchvision: {tv}\n# (the same layers and state_dict keys; torchvision draws its own "
        f"random initial weights)" if tv else None,
        "",
        "import math",
        "import zlib",
        "",
        "import torch",
        "import torch.nn.functional as F" if _zero_pads(spec) else None,
        "from torch import nn",
        "",
        "# The explorer's spec this file was written from; the code below does not read it (the",
        "# example at the bottom takes its input size).",
        f"SPEC = {spec_text}",
        f"SEED = {seed}",
    )


def _helpers(spec: NetSpec) -> str:
    if spec.norm == "none":
        bias, why = "True", "without norm layers, each conv keeps its own bias"
    elif spec.block == "d2l":
        bias, why = "True", "the d2l book's Residual keeps conv biases"
    else:
        bias, why = "False", "the BatchNorm after it has its own shift"
    norm = ("    return nn.BatchNorm2d(channels)" if spec.norm == "batch" else
            "    # No normalisation: an identity keeps the BatchNorm version's layer names.\n"
            "    return nn.Identity()")
    return f'''
def conv(cin, cout, kernel, stride=1, groups=1):
    """A kernel x kernel conv that keeps the map's size at stride 1."""
    # bias={bias}: {why}.
    return nn.Conv2d(cin, cout, kernel, stride=stride, padding=kernel // 2, groups=groups,
                     bias={bias})


def norm(channels):
{norm}
'''


def _zero_pads(spec: NetSpec) -> bool:
    """Option A's zero padding is in the net (the ``conv`` skip design projects instead)."""
    return spec.skip and spec.shortcut == "A" and spec.skip_design != "conv"


def _shortcut(spec: NetSpec) -> str | None:
    if not spec.skip:
        return None
    same = "    if stride == 1 and cin == cout:\n        return None"
    every_block = spec.shortcut == "C" or spec.skip_design == "conv"
    if _zero_pads(spec):
        return f'''
class ZeroPadShortcut(nn.Module):
    """Option A (He et al. 2015, section 3.3): the input subsampled, new channels zero; no
    parameters."""

    def __init__(self, stride, extra_channels):
        super().__init__()
        self.stride = stride
        self.extra_channels = extra_channels

    def forward(self, x):
        x = x[:, :, :: self.stride, :: self.stride]
        return F.pad(x, (0, 0, 0, 0, 0, self.extra_channels))


def shortcut(cin, cout, stride):
    """A block's shortcut; None is the identity itself."""
{same}
    return ZeroPadShortcut(stride, cout - cin)
'''
    if spec.block == "d2l":
        why, tail = "the d2l book's 1x1 shortcut has no BatchNorm", ""
    elif not ORDERS[spec.order].projection_norm:
        why, tail = "no norm after the projection: its input is already normalised", ""
    else:
        why, tail = None, ", norm(cout)"
    doc = {"B": "Option B: the identity where the shape stays, a 1x1 projection where it changes.",
           "C": "Option C: a 1x1 projection on every block.",
           "conv": "A 1x1 conv on every shortcut (He et al. 2016, Fig. 2e; option C).",
           "D": "ResNet-D (He et al. 2019): where the shape changes, a 2x2 average pool, then "
                "the 1x1 projection."}["conv" if every_block and spec.shortcut in ("A", "B")
                                       else spec.shortcut]
    if spec.shortcut == "D" and every_block:
        doc += " Every block projects (a 1x1 conv on every shortcut, He et al. 2016, Fig. 2e)."
    if spec.shortcut == "D":
        body = _lines(
            "    # The pool stays module 0 where nothing is pooled, so the projection is always",
            "    # downsample.1 (timm's avg_down).",
            "    pool = (nn.AvgPool2d(2, stride, ceil_mode=True, count_include_pad=False)",
            "            if stride != 1 else nn.Identity())",
            f"    return nn.Sequential(pool, conv(cin, cout, 1){tail})")
    else:
        body = f"    return nn.Sequential(conv(cin, cout, 1, stride){tail})"
    return _lines(
        "def shortcut(cin, cout, stride):",
        f'    """{_wrap(doc + ("" if every_block else " None is the identity itself."), 4)}"""',
        same if not every_block else None,
        f"    # {why}" if why else None,
        body,
    )


def _attention(spec: NetSpec) -> str | None:
    if spec.attention != "se":
        return None
    return '''
class SqueezeExcite(nn.Module):
    """Squeeze-and-excitation (Hu et al. 2018) as timm's seresnet: each channel scaled by
    sigmoid(fc2(relu(fc1(its mean)))), squeezed to a multiple of 8 near channels / 16."""

    def __init__(self, channels):
        super().__init__()
        squeezed = max(8, int(channels / 16 + 4) // 8 * 8)
        self.fc1 = nn.Conv2d(channels, squeezed, 1, bias=True)
        self.relu = nn.ReLU()
        self.fc2 = nn.Conv2d(squeezed, channels, 1, bias=True)
        self.gate = nn.Sigmoid()

    def forward(self, x):
        scale = x.mean((2, 3), keepdim=True)
        return x * self.gate(self.fc2(self.relu(self.fc1(scale))))
'''


def _conv_call(cin: str, cout: str, kernel: int, stride: bool, groups: bool = False) -> str:
    args = [cin, cout, str(kernel)] + (["stride"] if stride else [])
    return f"conv({', '.join(args + (['groups=GROUPS'] if groups else []))})"


_RELU = "self.relu = nn.ReLU()  # not in place: hooks see every activation"


_AFTER = {"norm": "self.bn_add", "act": "self.relu"}
_ORDER_DOC = {
    "post": "",
    "bn_after_add": "; the branch ends on its conv, BN -> ReLU after the addition (He et al. "
                    "2016, Fig. 4b)",
    "relu_before_add": "; the branch ends with BN -> ReLU, nothing after the addition (He et al. "
                       "2016, Fig. 4c)",
    "relu_preact": "; ReLU -> conv -> BN units, nothing after the addition (ReLU-only "
                   "pre-activation, He et al. 2016, Fig. 4d)",
    "pre": "; BN -> ReLU before each conv (full pre-activation, He et al. 2016)",
}
_DESIGN_DOC = {
    "identity": "",
    "scaled": "; the shortcut scaled by SKIP_SCALE, the branch by 1 - SKIP_SCALE (He et al. "
              "2016, Fig. 2b)",
    "exclusive_gate": "; a gate g(x) = sigmoid(1x1 conv of x) weighs the branch by g and the "
                      "shortcut by 1-g (exclusive gating, He et al. 2016, Fig. 2c)",
    "shortcut_gate": "; a gate g(x) = sigmoid(1x1 conv of x) weighs the shortcut by 1-g "
                     "(shortcut-only gating, He et al. 2016, Fig. 2d)",
    "conv": "; a 1x1 conv on every shortcut (He et al. 2016, Fig. 2e)",
    "dropout": "; dropout (p = 0.5) on the shortcut in training (He et al. 2016, Fig. 2f)",
}
_SUM = {
    "identity": "F(x) + shortcut(x)",
    "scaled": "(1 - SKIP_SCALE) * F(x) + SKIP_SCALE * shortcut(x)",
    "exclusive_gate": "g(x) * F(x) + (1 - g(x)) * shortcut(x)",
    "shortcut_gate": "F(x) + (1 - g(x)) * shortcut(x)",
    "conv": "F(x) + shortcut(x)",
    "dropout": "F(x) + dropout(shortcut(x))",
}
# The lines that weigh `out` (F(x)) and `identity` (the shortcut's output) before the addition,
# as explorer/nets/skips.py's `weigh`.
_WEIGH = {
    "identity": [], "conv": [],
    "scaled": ["out = (1.0 - SKIP_SCALE) * out", "identity = SKIP_SCALE * identity"],
    "exclusive_gate": ["g = self.gate(source)", "out = g * out",
                       "identity = (1.0 - g) * identity"],
    "shortcut_gate": ["g = self.gate(source)", "identity = (1.0 - g) * identity"],
    "dropout": ["identity = self.shortcut_dropout(identity)"],
}


def _block(spec: NetSpec) -> str:
    """One block class: its convs, norms and ReLUs in the explorer's order and with its names
    (the `Order`'s steps, explorer/nets/orders.py), then the skip design's parts."""
    order, bottleneck = ORDERS[spec.order], spec.block == "bottleneck"
    design = spec.skip_design if spec.skip else "identity"
    grouped = bottleneck and (spec.groups, spec.width_per_group) != (1, 64)
    if bottleneck:
        on_1x1 = spec.stride_on == "1x1"
        convs = [("cin", "inner", 1, on_1x1, False), ("inner", "inner", 3, not on_1x1, grouped),
                 ("inner", "cout", 1, False, False)]
        doc = ("1x1 reduce, 3x3, 1x1 expand to 4 x width; the stride on the "
               + ("first 1x1 (the paper's original)" if on_1x1 else "3x3 (torchvision's V1.5)")
               + (", the 3x3 in GROUPS groups (ResNeXt)" if spec.groups > 1 else ""))
    else:
        convs = [("cin", "cout", 3, True, False), ("cout", "cout", 3, False, False)]
        doc = "Two 3x3 convs, the first strided"
        if spec.block == "d2l":
            doc = ("The d2l book's Residual (section 8.6): two 3x3 convs with biases, the first "
                   "strided")
    doc += _ORDER_DOC[spec.order]
    doc += "; an SE gate scales F(x)" if spec.attention == "se" else ""
    doc += (_DESIGN_DOC[design] + ".") if spec.skip else "; no shortcut (the plain twin)."
    formula = _SUM[design] if spec.skip else "F(x)"
    for step in order.after_add:
        formula = f"{_AFTER[step].split('.')[1]}({formula})"

    init, forward = [], []
    for k, (cin, cout, kernel, stride, groups) in enumerate(convs, start=1):
        unit = order.last_unit if k == len(convs) else order.unit
        names = {"conv": f"self.conv{k}", "norm": f"self.bn{k}", "act": "self.relu"}
        for step in unit:
            if step == "conv":
                init.append(f"self.conv{k} = {_conv_call(cin, cout, kernel, stride, groups)}")
            elif step == "norm":
                before_conv = unit.index("norm") < unit.index("conv")
                init.append(f"self.bn{k} = norm({cin if before_conv else cout})")
            elif _RELU not in init:
                init.append(_RELU)
        expression = "x" if k == 1 else "out"
        for step in unit:
            expression = f"{names[step]}({expression})"
        forward.append(f"out = {expression}")
    if spec.attention == "se":
        init.append("self.se = SqueezeExcite(cout)")
        forward.append("out = self.se(out)")
    for step in order.after_add:
        if step == "norm":
            init.append("self.bn_add = norm(cout)")
        elif _RELU not in init:
            init.append(_RELU)
    if spec.skip:
        init.append("self.downsample = shortcut(cin, cout, stride)")
        if design in ("exclusive_gate", "shortcut_gate"):
            init.append("self.gate = SkipGate(cin, cout, stride)")
        elif design == "dropout":
            init.append("self.shortcut_dropout = ShortcutDropout()")
        if order.shared_preact:
            init.append("self.shape_changes = stride != 1 or cin != cout")
            forward[0:1] = _preact_shortcut(order.unit)
        else:
            forward += ["source = x  # what the shortcut and the gate read"] * (
                design in ("exclusive_gate", "shortcut_gate"))
            forward += ["identity = x if self.downsample is None else self.downsample(x)"]
        forward += _WEIGH[design] + ["out = out + identity  # the skip connection"]
    ending = "out"
    for step in order.after_add:
        ending = f"{_AFTER[step]}({ending})"
    forward.append(f"return {ending}")

    head = ["expansion = 4" if bottleneck else "expansion = 1", "",
            "def __init__(self, cin, width, stride=1):", "    super().__init__()"]
    if bottleneck:
        head.append("    inner = int(width * (WIDTH_PER_GROUP / 64.0)) * GROUPS" if grouped
                    else "    inner = width")
    head.append("    cout = width * self.expansion")
    body = head + ["    " + line for line in init] + ["", "def forward(self, x):"]
    body += ["    " + line for line in forward]
    constants = _lines(
        f"GROUPS = {spec.groups}  # the 3x3 conv's groups (ResNeXt's cardinality)",
        f"WIDTH_PER_GROUP = {spec.width_per_group}  # channels per group at a stage width of 64",
        "", "", "") if grouped else ""
    if design == "scaled":
        constants += _lines(f"SKIP_SCALE = {spec.skip_scale!r}  # the shortcut's factor", "", "",
                            "")
    return constants + _lines(
        f"class {_block_name(spec)}(nn.Module):", f'    """{_wrap(doc, 4)}', "",
        f"    out = {formula}", '    """', "",
        *[("    " + line) if line else "" for line in body])


def _preact_shortcut(unit: tuple[str, ...]) -> list[str]:
    """A full pre-activation block's first lines: where the shape changes, its shortcut reads
    the branch's normalised input (He et al. 2016's code, timm's PreActBottleneck)."""
    names = {"norm": "self.bn1", "act": "self.relu"}
    expression = "x"
    for step in unit[: unit.index("conv")]:
        expression = f"{names[step]}({expression})"
    return [f"out = {expression}",
            "# Where the shape changes, the shortcut reads the normalised input too (He et al. "
            "2016).",
            "source = out if self.shape_changes else x",
            "identity = source if self.downsample is None else self.downsample(source)",
            "out = self.conv1(out)"]


_SKIP_GATE = '''
class SkipGate(nn.Module):
    """g(x) = sigmoid(1x1 conv of x), one gate value per output unit; its bias starts at
    GATE_BIAS (init_weights)."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 1, stride=stride, bias=True)
        self.act = nn.Sigmoid()

    def forward(self, x):
        return self.act(self.conv(x))
'''
_SHORTCUT_DROPOUT = '''
class ShortcutDropout(nn.Module):
    """Dropout (p = 0.5) on the shortcut in training, the identity in eval. Each mask comes
    from a generator seeded by `seed` (init_weights) and the number of training passes, as in
    ResNet Explorer, so the same seed drops the same elements."""

    def __init__(self, p=0.5):
        super().__init__()
        self.p = p
        self.seed = 0
        self.calls = 0

    def forward(self, x):
        if not self.training:
            return x
        gen = torch.Generator(device=x.device).manual_seed((self.seed + self.calls) % 2**63)
        self.calls += 1
        keep = torch.empty_like(x).bernoulli_(1.0 - self.p, generator=gen).div_(1.0 - self.p)
        return x * keep
'''


def _skip_parts(spec: NetSpec) -> str | None:
    """The classes a skip design adds (explorer/nets/skips.py)."""
    if not spec.skip or spec.skip_design not in ("exclusive_gate", "shortcut_gate", "dropout"):
        return None
    if spec.skip_design == "dropout":
        return _SHORTCUT_DROPOUT
    return f"GATE_BIAS = {spec.gate_bias!r}  # the gates' initial bias\n\n\n" + _SKIP_GATE.lstrip("\n")


def _wrap(text: str, indent: int, width: int = 96) -> str:
    """``text`` broken into lines of at most ``width`` characters at ``indent`` spaces."""
    words, lines, line = text.split(), [], ""
    for word in words:
        room = width - indent - (3 if not lines else 0)  # the first line follows '"""'
        if line and len(line) + 1 + len(word) > room:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    lines.append(line)
    return ("\n" + " " * indent).join(lines)


def _stem(spec: NetSpec) -> tuple[list[str], str]:
    """The stem's ``__init__`` lines and its forward expression (of ``x``)."""
    if spec.stem == "deep":
        init = ["# A deep stem (ResNet-C, He et al. 2019): three 3x3 convs instead of one 7x7.",
                "mid = max(1, stem_width // 2)",
                "self.conv1 = nn.Sequential(",
                "    conv(in_channels, mid, 3, 2), norm(mid), nn.ReLU(),",
                "    conv(mid, mid, 3), norm(mid), nn.ReLU(),",
                "    conv(mid, stem_width, 3),",
                ")"]
    else:
        kernel, stride = (7, ", 2") if spec.stem == "imagenet" else (3, "")
        init = [f"self.conv1 = conv(in_channels, stem_width, {kernel}{stride})"]
    x = "self.conv1(x)"
    if not ORDERS[spec.order].stem_activated:
        init.append("# No BN -> ReLU here: the first block normalises and activates its input.")
    else:
        init += ["self.bn1 = norm(stem_width)", "self.relu = nn.ReLU()"]
        x = f"self.relu(self.bn1({x}))"
    if spec.stem != "cifar":
        init.append("self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)")
        x = f"self.maxpool({x})"
    return init, x


def _block_name(spec: NetSpec) -> str:
    if spec.order == "pre":
        return "PreActBottleneck" if spec.block == "bottleneck" else "PreActBasicBlock"
    return {"basic": "BasicBlock", "bottleneck": "Bottleneck", "d2l": "Residual"}[spec.block]


_HEAD_NOTE = ("# Pre-activation blocks end on a conv: normalise and activate once before the "
              "pool.")


def _resnet(spec: NetSpec) -> str:
    stem_init, stem_x = _stem(spec)
    n = len(spec.layers)
    stages = " ".join(f"layer{i + 1}" for i in range(n)) if n <= 2 else f"layer1..{n}"
    init = ["stem_width = widths[0]", *stem_init,
            "self.channels = stem_width  # the next block's input channels"]
    init += [f"self.layer{i + 1} = self._make_layer(block, widths[{i}], layers[{i}], "
             f"stride={1 if i == 0 else 2})" for i in range(n)]
    forward = [f"x = {stem_x}", *[f"x = self.layer{i + 1}(x)" for i in range(n)]]
    if ORDERS[spec.order].head_activated:
        init += [_HEAD_NOTE, "self.final_norm = norm(self.channels)",
                 "self.final_relu = nn.ReLU()"]
        forward.append("x = self.final_relu(self.final_norm(x))")
    init += ["self.avgpool = nn.AdaptiveAvgPool2d((1, 1))",
             "self.fc = nn.Linear(self.channels, num_classes)"]
    forward += ["x = torch.flatten(self.avgpool(x), 1)", "return self.fc(x)"]
    return _lines(
        "class ResNet(nn.Module):",
        f'    """Stem, {stages} of residual blocks, global average pool, fc (torchvision\'s '
        'names)."""',
        "",
        "    def __init__(self, block, layers, widths, in_channels=3, num_classes=1000):",
        "        super().__init__()",
        *["        " + line for line in init],
        "",
        "    def _make_layer(self, block, width, blocks, stride):",
        "        stage = []",
        "        for j in range(blocks):",
        "            stage.append(block(self.channels, width, stride if j == 0 else 1))",
        "            self.channels = width * block.expansion",
        "        return nn.Sequential(*stage)",
        "",
        "    def forward(self, x):",
        *["        " + line for line in forward],
    )


_INIT = """
def init_weights(model, seed):
    \"\"\"torchvision's initialisation, each tensor drawn from its own generator seeded by the
    seed and the tensor's name, as ResNet Explorer's build(spec, seed) draws them: the same
    seed gives the same weights there and here.\"\"\"
    with torch.no_grad():
        for name, module in model.named_modules():
            if isinstance(module, nn.Conv2d):
                # kaiming_normal_(mode='fan_out', nonlinearity='relu')
                std = math.sqrt(2.0 / (module.out_channels * math.prod(module.kernel_size)))
                module.weight.normal_(0.0, std, generator=_generator(seed, f"{name}.weight"))
                if module.bias is not None:
                    module.bias.zero_()
{norm}\
            elif isinstance(module, nn.Linear):
                bound = 1.0 / math.sqrt(module.in_features)  # nn.Linear's default range
                module.weight.uniform_(-bound, bound, generator=_generator(seed, f"{name}.weight"))
                module.bias.uniform_(-bound, bound, generator=_generator(seed, f"{name}.bias"))
{skip}{zero_init}\


def _generator(seed, name):
    # crc32, unlike hash(), is the same in every process.
    return torch.Generator().manual_seed((seed * 1_000_003 + zlib.crc32(name.encode())) % 2**63)
"""
_INIT_NORM = """\
            elif isinstance(module, nn.BatchNorm2d):
                module.weight.fill_(1.0)
                module.bias.zero_()
                module.reset_running_stats()
"""
_DROPOUT_SEED = """\
            elif isinstance(module, ShortcutDropout):
                # The seed of its masks, drawn by name like a weight.
                module.seed, module.calls = _generator(seed, name).initial_seed(), 0
"""
_GATE_BIAS = """\
        # Each skip gate's bias starts at GATE_BIAS: g(x) = sigmoid(W x + GATE_BIAS).
        for module in model.modules():
            if isinstance(module, SkipGate):
                module.conv.bias.fill_(GATE_BIAS)
"""
_ZERO_INIT = """\
        # zero_init_residual: each residual branch starts at zero, so each block starts as its
        # shortcut (Goyal et al. 2017).
        for module in model.modules():
            if isinstance(module, {block}):
                module.{last}.weight.zero_()
"""


def _init(spec: NetSpec) -> str:
    last = f"bn{3 if spec.block == 'bottleneck' else 2}"  # the norm of the branch's last conv
    zero_init = (_ZERO_INIT.format(block=_block_name(spec), last=last)
                 if spec.zero_init_residual else "")
    norm = _INIT_NORM if spec.norm == "batch" else ""
    design = spec.skip_design if spec.skip else "identity"
    skip = {"dropout": _DROPOUT_SEED, "exclusive_gate": _GATE_BIAS,
            "shortcut_gate": _GATE_BIAS}.get(design, "")
    if skip is _DROPOUT_SEED:  # inside the loop over modules, before zero_init
        norm, skip = norm + skip, ""
    return (_INIT.replace("{norm}", norm).replace("{skip}", skip)  # f-strings inside
            .replace("{zero_init}", zero_init))


def _builder(spec: NetSpec) -> str:
    layers = list(spec.layers)
    widths = list(spec.stage_widths)
    return _lines(
        "def build_model(seed=SEED):",
        '    """The network with its seeded initial weights, on the CPU, in train mode."""',
        "    # Built on the meta device: no time or memory goes into default weights that",
        "    # init_weights replaces, and torch's global random state is left alone.",
        '    with torch.device("meta"):',
        f"        model = ResNet({_block_name(spec)}, layers={layers}, widths={widths},",
        f"                       in_channels={spec.in_channels}, "
        f"num_classes={spec.num_classes})",
        '    model = model.to_empty(device="cpu")',
        "    init_weights(model, seed)",
        "    return model",
    )


def _main() -> str:
    return '''
if __name__ == "__main__":
    model = build_model().eval()
    size = SPEC["image_size"]
    x = torch.randn(2, SPEC["in_channels"], size, size, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        logits = model(x)
    params = sum(p.numel() for p in model.parameters())
    print(f"{params:,} parameters; logits of shape {tuple(logits.shape)} for a {size} px batch")
'''
