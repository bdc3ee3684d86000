"""What every download carries: the network, seed, batch and weights it came from.

CSV files start with ``#`` comment lines (``pandas.read_csv(path, comment="#")`` reads them);
JSON files wrap the data in an object with the same facts.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from explorer.nets.spec import NetSpec
from explorer.nets.standalone import standalone_code

INSTALL_NOTE = ("# `explorer` is ResNet Explorer's own package: in a clone of its repository, "
                "run `pip install .`")


FACTS = frozenset({"spec", "seed", "batch", "weights"})  # the keys `provenance` writes


def provenance(spec: NetSpec, seed: int, batch: int | None = None,
               weights: str = "seeded random init") -> dict[str, Any]:
    """The facts a downloaded number depends on."""
    return {"spec": spec.to_dict(), "seed": seed, "batch": batch, "weights": weights}


def csv_text(frame: pd.DataFrame, facts: dict[str, Any]) -> str:
    """``frame`` as CSV under one ``# key: value`` line per fact."""
    header = "".join(f"# {key}: {json.dumps(value)}\n" for key, value in facts.items())
    return header + frame.to_csv(index=False)


def json_text(data: Any, facts: dict[str, Any]) -> str:
    """``data`` and the facts in one JSON object."""
    return json.dumps({**facts, "data": data}, indent=2)


def spec_json(spec: NetSpec, seed: int, batch: int | None = None) -> str:
    """The network as JSON: the spec once, under ``data``, with the seed and batch beside it."""
    facts = provenance(spec, seed, batch)
    del facts["spec"]  # it is the data itself
    return json_text(spec.to_dict(), facts)


def json_data(text: str) -> Any:
    """What `json_text` wrapped; any other JSON as it is. A ValueError if it is not JSON."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"The file is not valid JSON ({exc.msg}).") from None
    if isinstance(value, dict) and "data" in value and set(value) - {"data"} <= FACTS:
        return value["data"]
    return value


def standalone_python(spec: NetSpec, seed: int) -> str:
    """The page's model as one plain-PyTorch file that runs wherever torch does (the main
    "Python code" download): its `build_model()` gives the same layers and initial weights."""
    return standalone_code(spec, seed)


def python_code(spec: NetSpec, seed: int) -> str:
    """Python that builds exactly the page's model with this repository's own package (the
    second option: it needs a clone of the repository): the same spec and the same seed."""
    args = ", ".join(f"{k}={getattr(spec, k)!r}" for k in spec.to_query())
    return (f"{INSTALL_NOTE}\nfrom explorer import NetSpec, build\n\n"
            f"spec = NetSpec({args})\nmodel = build(spec, seed={seed})\n")


def file_name(*parts: Any, ext: str) -> str:
    """``gradcam``, ``layer3``, ``cat`` → ``gradcam-layer3-cat.png`` with only safe characters."""
    words = []
    for part in parts:
        text = "".join(c if c.isalnum() or c in "-_." else "-" for c in str(part))
        if text.strip("-."):
            words.append(text.strip("-.")[:40])
    return "-".join(words) + "." + ext
