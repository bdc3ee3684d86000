"""Which shipped pair shows each "why skips work" effect best, from numbers recorded on it.

`checkpoints/why-skips/summary.json` (written by `checkpoints/why-skips/record.py`) holds, per
shipped pair, the numbers the page's sentences are built from. When the sidebar's network has no
trained pair, the page says which pair shows each effect and how strongly, with the same margins
as its own sentences (`why_report`), so the advice never promises more than the numbers show.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from explorer.analysis.why_report import (DROP_CONTRAST, ERF_MARGIN_PX, ROBUST_MEDIAN,
                                          SHARPNESS_RATIO)
from explorer.io.weights import CHECKPOINT_DIR

SUMMARY = CHECKPOINT_DIR / "why-skips" / "summary.json"


@dataclass(frozen=True)
class Showcase:
    effect: str  # "lesion", "landscape", "erf"
    pair: str | None  # the residual checkpoint that shows it best; None: no pair shows it
    sentence: str


def load_summary() -> dict:
    """The recorded summary (``{"pairs": {}}`` when it has not been recorded)."""
    if not SUMMARY.is_file():
        return {"pairs": {}}
    return json.loads(SUMMARY.read_text())


def _pts(fraction: float) -> str:
    return f"{100 * fraction:.1f} points"


def showcases(summary: dict) -> list[Showcase]:
    """One `Showcase` per effect: the pair with the strongest contrast in the papers'
    direction, or the sentence that no shipped pair shows it."""
    pairs = summary.get("pairs", {})
    settings = summary.get("settings", {})
    return [_lesion(pairs, settings), _landscape(pairs), _erf(pairs, settings)]


def _lesion(pairs: dict, settings: dict) -> Showcase:
    drops = {n: (p["residual"]["median_single_drop"], p["plain"]["median_single_drop"])
             for n, p in pairs.items()}
    shown = {n: (r <= ROBUST_MEDIAN, p - r) for n, (r, p) in drops.items()
             if p - r >= DROP_CONTRAST}  # a robust residual net first, then the larger gap
    name = max(shown, key=shown.get, default=None)
    if name is None:
        return Showcase("lesion", None, "No shipped pair shows Veit et al.'s lesion contrast "
                        f"(single deletions hurting the plain twin {_pts(DROP_CONTRAST)} more "
                        "at the median).")
    r, p = drops[name]
    images = settings.get("lesion_images")
    caveat = ("" if r <= ROBUST_MEDIAN else
              f"; the direction Veit et al. found, though no shipped residual net is robust "
              f"(at most {_pts(ROBUST_MEDIAN)} at the median)")
    return Showcase("lesion", name, f"Veit et al.'s lesion contrast shows best on the {name} "
                    f"pair: one deleted block costs the residual net {_pts(r)} at the median "
                    f"and its plain twin {_pts(p)}"
                    + (f" (recorded on {images} held-out images)" if images else "")
                    + caveat + ".")


def _landscape(pairs: dict) -> Showcase:
    ratios = {n: p["plain"]["sharpness"] / p["residual"]["sharpness"]
              for n, p in pairs.items() if p["residual"]["sharpness"] > 0}
    name = max(ratios, key=ratios.get, default=None)
    if name is None or ratios[name] < SHARPNESS_RATIO:
        return Showcase("landscape", None, "No shipped pair shows Li et al.'s sharper plain "
                        f"minimum (a loss rise {SHARPNESS_RATIO:g}× the residual net's).")
    return Showcase("landscape", name, f"Li et al.'s sharper plain minimum shows best on the "
                    f"{name} pair: a step of 0.25 raises the plain twin's loss "
                    f"{ratios[name]:.1f}× as much as the residual net's.")


def _erf(pairs: dict, settings: dict) -> Showcase:
    gaps = {n: p["plain"]["erf_side"] - p["residual"]["erf_side"]
            for n, p in pairs.items() if p["plain"]["erf_side"] and p["residual"]["erf_side"]}
    name = max(gaps, key=gaps.get, default=None)
    layer = settings.get("erf_layer", "layer2")
    if name is None or gaps[name] <= ERF_MARGIN_PX:
        sides = ", ".join(f"{n}: {p['residual']['erf_side']} vs {p['plain']['erf_side']} px"
                          for n, p in pairs.items())
        return Showcase("erf", None, f"No shipped pair shows Luo et al.'s smaller residual ERF "
                        f"at {layer}" + (f" ({sides})." if sides else "."))
    r, p = pairs[name]["residual"]["erf_side"], pairs[name]["plain"]["erf_side"]
    return Showcase("erf", name, f"Luo et al.'s smaller residual ERF shows best on the {name} "
                    f"pair: {r} vs {p} px hold 95% of the gradient at {layer}.")
