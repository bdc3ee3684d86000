"""The recorded skip-design study (`skip_study`) beside He et al. 2016's Tables 1-2: a table and
sentences generated from its numbers.

The rules, each with its margin here and a test with fabricated study folders for every branch
(tests/training/test_skip_study_report.py):

- **Here**: a variant *did not learn* when its test accuracy does not beat chance by
  ``margins.LEARNED_MARGIN``; else it trained *about as well as the identity* when its test
  accuracy is within ``SAME_ACCURACY`` of the identity run's, *worse* or *better* beyond that.
  Its final training loss is called clearly higher or lower by `verdicts.trains_worse`.
- **The paper**: a setting did *as well* as the identity (or the original order) when its
  CIFAR-10 test error is within ``margins.PAPER_SAME`` points of it, *worse* or *better* beyond,
  *failed* where the paper says so.
- The two **agree** when both say "as well or better", or both say "worse or failed".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from explorer.margins import LEARNED_MARGIN, PAPER_SAME, learned
from explorer.nets.reference import (IDENTITY_MAPPINGS, ORDER_ERRORS, SKIP_DESIGN_RUNS,
                                     VARIANT_NAMES, error_text, paper_run)
from explorer.training.skip_study import DEFAULT_ORDER, REFERENCE, SkipStudy, StudyRun
from explorer.training.verdicts import Outcome, trains_worse
from explorer.units import pct, plural

# One run per variant on 2,000 test images: a couple of points is within what another seed or
# another test draw would move.
SAME_ACCURACY = 0.03

Verdict = Literal["better", "same", "worse", "failed"]
GOOD = ("better", "same")
HERE_WORDS = {"better": "better than the identity", "same": "as well as the identity",
              "worse": "worse than the identity", "failed": "did not learn"}
PAPER_WORDS = {"better": "better", "same": "about as good", "worse": "worse",
               "failed": "failed (error above 20 %)"}
PAPER_NETS = ("ResNet-110", "ResNet-164")
PAPER_COLUMN = "paper: error, ResNet-110"
PAPER_164_COLUMN = "paper: error, ResNet-164"  # Table 2 only
SETTING_COLUMN = "paper's setting"


def here_verdict(run: StudyRun, reference: StudyRun) -> Verdict:
    """How ``run`` trained against the identity run, by test accuracy."""
    if not learned(run.test_accuracy, 1 / run.classes):
        return "failed"
    gap = run.test_accuracy - reference.test_accuracy
    if gap > SAME_ACCURACY:
        return "better"
    return "worse" if gap < -SAME_ACCURACY else "same"


@dataclass(frozen=True)
class PaperResult:
    """The paper's CIFAR-10 test error (%) for a run's setting, beside its reference's."""

    error: float | None  # None: failed
    reference_error: float
    where: str  # the setting, the table and the network
    reference_name: str
    error_164: float | None = None  # Table 2's ResNet-164 error (orders only)
    setting: str = ""  # Table 1's setting in the sidebar's words, or "Table 2"

    @property
    def text(self) -> str:
        """ResNet-110's error as the table prints it."""
        return error_text(self.error) if self.error is not None else "above 20 % (failed)"

    @property
    def verdict(self) -> Verdict:
        if self.error is None:
            return "failed"
        gap = self.error - self.reference_error
        if gap > PAPER_SAME:
            return "worse"
        return "better" if gap < -PAPER_SAME else "same"


def paper_result(run: StudyRun) -> PaperResult | None:
    """Table 1's run for a design (ResNet-110), Table 2's ResNet-110 number for an order;
    ``None`` where the paper has no run with this setting (another scale or gate bias)."""
    identity_error = SKIP_DESIGN_RUNS[REFERENCE][0].error
    if run.field == "order":
        errors = ORDER_ERRORS[run.value]
        return PaperResult(errors[0], ORDER_ERRORS[DEFAULT_ORDER][0],
                           f"Table 2, {PAPER_NETS[0]}", VARIANT_NAMES[f"order={DEFAULT_ORDER}"],
                           errors[1], "Table 2")
    found = paper_run(run.spec)
    if found is None:
        return None
    return PaperResult(found.error, identity_error, f"{found.setting}, Table 1, {PAPER_NETS[0]}",
                       VARIANT_NAMES["skip_design=identity"], setting=f"Table 1: {found.setting}")


def _paper_columns(paper: PaperResult | None, is_reference: bool) -> tuple[str | None, ...]:
    """A row's ResNet-110 error, ResNet-164 error and setting from the paper. The identity run
    is Table 1's identity and Table 2's original order at once."""
    if is_reference:
        return (error_text(SKIP_DESIGN_RUNS[REFERENCE][0].error),
                error_text(ORDER_ERRORS[DEFAULT_ORDER][1]), "Tables 1 and 2: the original")
    if paper is None:
        return "not in the paper", None, None
    return (paper.text, None if paper.error_164 is None else error_text(paper.error_164),
            paper.setting)


def _outcome(run: StudyRun) -> Outcome:
    return Outcome(run.variant, run.spec.depth, run.spec.skip, run.final_train_loss,
                   run.test_accuracy, run.classes)


def loss_text(loss: float) -> str:
    """A final training loss as the table and the sentences print it: three decimals, or
    scientific notation for a run that diverged (shortcut dropout's ends near 1e13)."""
    return f"{loss:.3f}" if abs(loss) < 1000 else f"{loss:.2e}"


def _here_clause(run: StudyRun, reference: StudyRun) -> str:
    verdict = here_verdict(run, reference)
    # The identity run is also the original order: an order is compared with it as "post".
    against = "the identity run" + (f" ({DEFAULT_ORDER} order)" if run.field == "order" else "")
    numbers = (f"test accuracy {pct(run.test_accuracy)} against {pct(reference.test_accuracy)} "
               f"for {against}")
    points = abs(run.test_accuracy - reference.test_accuracy) * 100
    if verdict == "failed":
        said = (f"did not learn here ({numbers}; chance is {pct(1 / run.classes)}, and "
                f"learning means beating it by {LEARNED_MARGIN * 100:.0f} points)")
    elif verdict == "same":
        said = (f"trained about as well as the identity here ({numbers}, within "
                f"{SAME_ACCURACY * 100:.0f} points)")
    else:
        said = f"trained {points:.1f} points {verdict} than the identity here ({numbers})"
    losses = f"{loss_text(run.final_train_loss)} against {loss_text(reference.final_train_loss)}"
    if trains_worse(_outcome(run), _outcome(reference)):
        loss = f"its final training loss is clearly higher ({losses})"
    elif trains_worse(_outcome(reference), _outcome(run)):
        loss = f"its final training loss is clearly lower ({losses})"
    else:
        loss = f"its final training loss is about the same ({losses})"
    return f"{run.label[0].upper()}{run.label[1:]} ({run.variant}) {said}; {loss}."


def _lowest_order(value: str) -> str:
    nets = [net for i, net in enumerate(PAPER_NETS)
            if ORDER_ERRORS[value][i] == min(e[i] for e in ORDER_ERRORS.values())]
    return f" (the lowest of Table 2's orders for {' and '.join(nets)})" if nets else ""


def _paper_clause(run: StudyRun, reference: StudyRun) -> str:
    paper = paper_result(run)
    if paper is None:
        return f"{IDENTITY_MAPPINGS} did not train this setting."
    ref = f"{error_text(paper.reference_error)} for {paper.reference_name}"
    if paper.error is None:
        said = f"report that it failed to train ({paper.where}: test error above 20 %; {ref})"
    else:
        lowest = _lowest_order(run.value) if run.field == "order" else ""
        said = (f"report a test error of {error_text(paper.error)}{lowest} against {ref} "
                f"({paper.where}): {PAPER_WORDS[paper.verdict]}")
    here, there = here_verdict(run, reference), paper.verdict
    if (here in GOOD) != (there in GOOD):
        agree = (f"here it trained {HERE_WORDS[here]}, which the paper did not find"
                 if here in GOOD else
                 f"here it {'did not learn' if here == 'failed' else 'trained worse'}, "
                 f"which the paper did not find")
    elif here in GOOD:
        agree = f"here too it trained {HERE_WORDS[here]}"
    elif here == there or here == "worse":
        agree = ("here it did not learn either" if here == "failed"
                 else "here it trained worse too" + (", though it did learn"
                                                     if there == "failed" else ""))
        if here == "worse" and paper.error is not None:
            gap_here = (reference.test_accuracy - run.test_accuracy) * 100
            gap_there = paper.error - paper.reference_error
            agree += (f" (by {gap_here:.1f} points of accuracy here, {gap_there:.2f} points of "
                      f"error in the paper)")
    else:
        agree = "here it did not learn at all"
    return f"{IDENTITY_MAPPINGS} {said}; {agree}."


def variant_sentence(run: StudyRun, reference: StudyRun) -> str:
    """One variant against the identity run, then against the paper's number."""
    return f"{_here_clause(run, reference)} {_paper_clause(run, reference)}"


def caveat(study: SkipStudy) -> str:
    """What differs from the paper, with the study's own sizes."""
    first = study.runs[0]
    return (f"Here: {plural(len(study.runs), 'run')} of ResNet-{first.spec.depth} on the "
            f"synthetic shapes ({first.classes} classes), one seed each, tested on "
            f"{first.test_size:,} images. The paper trained ResNet-110 (and ResNet-164 for the "
            f"orders) on CIFAR-10. Shapes is not CIFAR-10, and whether a deep net with a poor "
            f"skip trains can depend on the seed, so a single run may land on either side of "
            f"the paper's verdict by chance." + _still_improving(study))


def _still_improving(study: SkipStudy) -> str:
    """The runs whose held-out accuracy still rose by more than ``SAME_ACCURACY`` in their last
    epoch: a longer run might have ended elsewhere."""
    rising = [(r.variant, (r.val_accuracies[-1] - r.val_accuracies[-2]) * 100)
              for r in study.runs if len(r.val_accuracies) >= 2
              and r.val_accuracies[-1] - r.val_accuracies[-2] > SAME_ACCURACY]
    if not rising:
        return ""
    epochs = len(study.runs[0].val_accuracies)
    listed = ", ".join(f"{variant} (+{gain:.1f} points)" for variant, gain in rising)
    return (f" Still improving in the last of its {epochs} epochs, so a longer run might have "
            f"trained it further: {listed}.")


def study_sentences(study: SkipStudy) -> list[str]:
    """Every recorded variant against the identity and the paper; what is missing; the caveat."""
    lines = []
    reference = study.reference
    if reference is None:
        lines.append("The identity run is not recorded yet, so no variant is compared with it: "
                     + ", ".join(f"{r.variant} {pct(r.test_accuracy)}" for r in study.runs)
                     + " test accuracy so far.")
    elif not learned(reference.test_accuracy, 1 / reference.classes):
        lines.append(f"The identity run did not learn (test accuracy "
                     f"{pct(reference.test_accuracy)}, chance {pct(1 / reference.classes)}), so "
                     f"comparing the other variants with it says little; retrain it first.")
    else:
        lines += [variant_sentence(r, reference) for r in study.runs if r is not reference]
    if study.missing:
        lines.append(f"Not recorded yet: {', '.join(study.missing)}. "
                     f"`python checkpoints/skip-designs/record.py` records them; each finished "
                     f"run appears here.")
    return lines + [caveat(study)]


def study_frame(study: SkipStudy):
    """One row per recorded variant: what it changes, where it ended, the paper's number."""
    import pandas as pd

    reference = study.reference
    usable = reference is not None and learned(reference.test_accuracy, 1 / reference.classes)
    rows = []
    for run in study.runs:
        paper = paper_result(run)
        is_reference = run is reference
        error_110, error_164, setting = _paper_columns(paper, is_reference)
        rows.append({
            "variant": run.variant, "design or order": run.label,
            # Rounded as the sentences print them, so the table and the sentences agree.
            "final training loss": loss_text(run.final_train_loss),
            "test accuracy (%)": round(100 * run.test_accuracy, 1),
            "vs identity (points)": (round(100 * (run.test_accuracy - reference.test_accuracy), 1)
                                     if reference is not None else None),
            "here": ("the reference" if is_reference
                     else HERE_WORDS[here_verdict(run, reference)] if usable else None),
            PAPER_COLUMN: error_110, PAPER_164_COLUMN: error_164,
            "paper's verdict": ("the reference" if is_reference
                                else PAPER_WORDS[paper.verdict] if paper else None),
            SETTING_COLUMN: setting,
        })
    return pd.DataFrame(rows)
