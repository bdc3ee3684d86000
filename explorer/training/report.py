"""What a finished training job measured, as a table and as sentences built from the numbers."""

from __future__ import annotations

import pandas as pd

from explorer.training.train import TrainResult


def results_table(results: dict[str, TrainResult]) -> pd.DataFrame:
    """One row per run and variant: depth, epochs done, final loss and accuracies."""
    rows = []
    for run, result in results.items():
        for variant, history in result.histories.items():
            last = history.epochs[-1] if history.epochs else {}
            rows.append({
                "run": run, "variant": variant, "depth": result.specs[variant].depth,
                "epochs": len(history.epochs), "train loss": last.get("loss"),
                "train accuracy": last.get("train_accuracy"),
                "held-out accuracy": last.get("val_accuracy"),
                "images/s": last.get("images_per_s"),
            })
    return pd.DataFrame(rows)


def results_sentences(results: dict[str, TrainResult]) -> list[str]:
    """Plain statements of what the runs ended at; no claim the numbers do not make."""
    table = results_table(results).dropna(subset=["train accuracy"])
    lines = []
    for run, part in table.groupby("run", sort=False):
        by = {row["variant"]: row for row in part.to_dict("records")}
        if {"residual", "plain"} <= by.keys():
            r, p = by["residual"], by["plain"]
            line = (f"{run}: after {r['epochs']} epoch(s) the residual net reached "
                    f"{r['train accuracy']:.1%} training accuracy, the plain twin "
                    f"{p['train accuracy']:.1%}")
            if not (pd.isna(r["held-out accuracy"]) or pd.isna(p["held-out accuracy"])):
                line += (f" (held-out: {r['held-out accuracy']:.1%} vs "
                         f"{p['held-out accuracy']:.1%})")
            lines.append(line + ".")
    plain = table[table["variant"] == "plain"].sort_values("depth")
    if len(plain) >= 2:
        shallow, deep = plain.iloc[0], plain.iloc[-1]
        worse = deep["train loss"] > shallow["train loss"]
        lines.append(
            f"Plain nets: {deep['depth']} layers ended at training loss {deep['train loss']:.3f}, "
            f"{shallow['depth']} layers at {shallow['train loss']:.3f}; the deeper plain net "
            + ("trained worse, the degradation problem of He et al.'s Fig. 1." if worse else
               "did not train worse in this run, so it does not show the degradation effect.")
        )
    return lines
