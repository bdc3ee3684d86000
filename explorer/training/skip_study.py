"""He et al. 2016's Tables 1-2 recorded on the synthetic shapes: one run folder per variant.

``checkpoints/skip-designs/record.py`` trains ResNet-56 once per skip design (``identity``,
``scaled``, ...) and once per activation order (``order-pre``, ...; ``post`` is the identity
run), each into ``checkpoints/skip-designs/<variant>/``. The loader reads those run folders
directly (``spec.json``, ``metrics.json``, ``history.json``), so a study still being recorded
loads with the variants that have landed and names the ones that have not.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import get_args

from explorer.io.checkpoints import SPEC_FILE
from explorer.io.runs import HISTORY_FILE, METRICS_FILE
from explorer.nets.reference import VARIANT_NAMES
from explorer.nets.spec import NetSpec, Order, SkipDesign

STUDY_FOLDER = Path(__file__).resolve().parents[2] / "checkpoints" / "skip-designs"
REFERENCE = "identity"  # every variant is compared with this run; it is also the "post" order
DEFAULT_ORDER = "post"


def study_variants() -> tuple[str, ...]:
    """Every variant the study records, in the recorder's order: the designs, then the orders
    other than ``post`` (which the identity run already is), named as their folders are."""
    return (*get_args(SkipDesign),
            *(f"order-{order}" for order in get_args(Order) if order != DEFAULT_ORDER))


@dataclass(frozen=True)
class StudyRun:
    """One recorded variant: what it changes, its curves and where it ended."""

    variant: str  # its folder: "scaled", "order-pre"
    spec: NetSpec
    command: str
    seconds: float
    steps: tuple[int, ...]  # every training step, with its loss
    losses: tuple[float, ...]
    val_steps: tuple[int, ...]  # the step where each epoch ended, with its held-out accuracy
    val_accuracies: tuple[float, ...]
    final_train_loss: float  # the mean over the run's last steps (TAIL_STEPS)
    test_accuracy: float
    test_size: int

    @property
    def field(self) -> str:
        """The NetSpec field the variant changes: ``order`` where the order is not the
        original one, else ``skip_design``."""
        return "order" if self.spec.order != DEFAULT_ORDER else "skip_design"

    @property
    def value(self) -> str:
        return getattr(self.spec, self.field)

    @property
    def label(self) -> str:
        return VARIANT_NAMES[f"{self.field}={self.value}"]

    @property
    def classes(self) -> int:
        return self.spec.num_classes


@dataclass(frozen=True)
class SkipStudy:
    """The variants recorded so far, in the recorder's order, and those not recorded yet."""

    folder: Path
    runs: tuple[StudyRun, ...]
    missing: tuple[str, ...]

    def run(self, variant: str) -> StudyRun | None:
        return next((r for r in self.runs if r.variant == variant), None)

    @property
    def reference(self) -> StudyRun | None:
        return self.run(REFERENCE)


def load_run(folder: Path) -> StudyRun:
    """One variant's run folder (written by ``python -m explorer train``)."""
    metrics = json.loads((folder / METRICS_FILE).read_text())
    history = json.loads((folder / HISTORY_FILE).read_text())
    steps = history["steps"]
    # The last step of each epoch: where its held-out accuracy was measured.
    epoch_end = {s["epoch"]: s["step"] for s in steps}
    rows = [row for row in history["epochs"] if row.get("val_accuracy") is not None]
    return StudyRun(
        variant=folder.name,
        spec=NetSpec.from_json((folder / SPEC_FILE).read_text()),
        command=metrics["command"], seconds=metrics["train_seconds"],
        steps=tuple(s["step"] for s in steps), losses=tuple(s["loss"] for s in steps),
        val_steps=tuple(epoch_end[row["epoch"]] for row in rows),
        val_accuracies=tuple(row["val_accuracy"] for row in rows),
        final_train_loss=metrics["final_train_loss"], test_accuracy=metrics["test_accuracy"],
        test_size=metrics["test_size"])


def finished(folder: Path, variant: str) -> bool:
    """The run wrote its last file: ``history.json`` comes after ``metrics.json``."""
    return all((folder / variant / name).exists() for name in (METRICS_FILE, HISTORY_FILE))


def load_study(folder: str | Path) -> SkipStudy:
    """Every variant of ``folder`` that has finished; the others of `study_variants` are
    ``missing``."""
    folder = Path(folder)
    runs = []
    for variant in filter(lambda v: finished(folder, v), study_variants()):
        try:
            runs.append(load_run(folder / variant))
        except json.JSONDecodeError:  # caught while the run writes it: not recorded yet
            continue
    done = {r.variant for r in runs}
    return SkipStudy(folder, tuple(runs), tuple(v for v in study_variants() if v not in done))


def _stamp(folder: Path) -> tuple[tuple[str, int, int], ...]:
    """Which variants have finished, and their history's time and size: the cache key, so a
    variant that lands while the server runs is read on the next page run."""
    stats = ((v, (folder / v / HISTORY_FILE).stat()) for v in study_variants()
             if finished(folder, v))
    return tuple((v, s.st_mtime_ns, s.st_size) for v, s in stats)


@functools.lru_cache(maxsize=2)
def _cached_study(folder: Path, stamp: tuple) -> SkipStudy:
    return load_study(folder)


def recorded_skip_designs(folder: Path | None = None) -> SkipStudy | None:
    """The shipped study (``STUDY_FOLDER``) as recorded so far (cached), or None when no
    variant has finished."""
    folder = Path(folder or STUDY_FOLDER)
    stamp = _stamp(folder)
    study = _cached_study(folder, stamp) if stamp else None
    return study if study and study.runs else None
