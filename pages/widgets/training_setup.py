"""The Training page's controls, and what it offers once a run is done."""

from __future__ import annotations

import io
import os
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import streamlit as st
from torch.utils.data import Dataset, Subset

from explorer import PRESETS
from explorer.io.checkpoints import save_checkpoint
from explorer.training.shapes import CLASSES, ShapesDataset
from explorer.training.torchvision_data import TORCHVISION, torchvision_dataset
from explorer.training.jobs import TrainingJob
from explorer.io.labels import dataset_classes
from explorer.nets.spec import NetSpec

from . import state
from .weights_picker import Weights

DATA_ROOT = Path(os.environ.get("RESNET_EXPLORER_DATA",
                                Path.home() / ".cache" / "resnet-explorer" / "data"))
DATASETS = {
    "shapes": "synthetic shapes (offline, instant)",
    "cifar10": "CIFAR-10 (170 MB download)",
    "fashion-mnist": "Fashion-MNIST (30 MB download)",
}
NATIVE = {"shapes": (32, 3, len(CLASSES)), "cifar10": (32, 3, 10), "fashion-mnist": (28, 1, 10)}
EXPERIMENTS = {
    "twin": "the sidebar's network vs its plain twin",
    "figure1": "He et al. Fig. 1: 20 vs 56 layers, plain and residual",
}


@dataclass
class Setup:
    runs: dict[str, NetSpec]
    make_data: Callable[[NetSpec], tuple[Dataset, Dataset]]
    dataset: str
    epochs: int
    batch_size: int
    lr: float
    train_size: int
    twin: bool

    def describe(self) -> str:
        return ", ".join(f"{label}: {spec.depth} layers at {spec.image_size} px"
                         for label, spec in self.runs.items())


def _for_dataset(spec: NetSpec, dataset: str, image_size: int) -> NetSpec:
    _, channels, classes = NATIVE[dataset]
    return spec.replace(in_channels=channels, num_classes=classes, image_size=image_size)


def _data_factory(dataset: str, train_size: int, val_size: int, seed: int, download: bool):
    def make(spec: NetSpec) -> tuple[Dataset, Dataset]:
        if dataset == "shapes":
            return (ShapesDataset(train_size, spec.image_size, seed, "train"),
                    ShapesDataset(val_size, spec.image_size, seed, "val"))
        resize = None if spec.image_size == NATIVE[dataset][0] else spec.image_size
        try:
            train = torchvision_dataset(dataset, DATA_ROOT, True, download, resize)
            test = torchvision_dataset(dataset, DATA_ROOT, False, download, resize)
        except RuntimeError as exc:
            raise ValueError(str(exc)) from None
        return (Subset(train, range(min(train_size, len(train)))),
                Subset(test, range(min(val_size, len(test)))))
    return make


def draw(choice: state.Choice, disabled: bool) -> Setup:
    """Draw the controls and return the configured setup (raises ValueError when invalid)."""
    cols = st.columns(3)
    experiment = cols[0].radio("Experiment", list(EXPERIMENTS), format_func=EXPERIMENTS.get,
                               key="train_experiment", disabled=disabled)
    dataset = cols[1].selectbox("Dataset", list(DATASETS), format_func=DATASETS.get,
                                key="train_dataset", disabled=disabled)
    download = dataset != "shapes" and cols[1].checkbox(
        "Download if missing", key="train_download", disabled=disabled,
        help=f"Into {DATA_ROOT}; needs internet. Offline, use the synthetic shapes.")
    image_size = cols[2].number_input("Image size", 8, 256, NATIVE[dataset][0],
                                      key=f"train_size_{dataset}", disabled=disabled)
    cols = st.columns(5)
    train_size = cols[0].number_input("Training images", 64, 50_000, 3000, 500,
                                      key="train_n", disabled=disabled)
    epochs = cols[1].number_input("Epochs", 1, 100, 4, key="train_epochs", disabled=disabled)
    batch_size = cols[2].number_input("Batch size", 2, 1024, 64, key="train_batch",
                                      disabled=disabled)
    lr = cols[3].number_input("Peak learning rate", 1e-4, 2.0, 0.1, 0.01, format="%.4f",
                              key="train_lr", disabled=disabled)
    twin = cols[4].checkbox("Train the twin too", value=True, key="train_twin",
                            disabled=disabled or experiment == "figure1")
    if experiment == "figure1":
        runs = {name: _for_dataset(PRESETS[name], dataset, int(image_size))
                for name in ("resnet20", "resnet56")}
        twin = True
    else:
        runs = {"sidebar": _for_dataset(choice.spec.replace(skip=True), dataset, int(image_size))}
    make_data = _data_factory(dataset, int(train_size), 1000, choice.seed, download)
    return Setup(runs, make_data, dataset, int(epochs), int(batch_size), float(lr),
                 int(train_size), twin)


def _zip(job: TrainingJob) -> bytes:
    buffer = io.BytesIO()
    with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(buffer, "w") as archive:
        for run, result in job.results.items():
            for variant, model in result.models.items():
                folder = save_checkpoint(model, result.specs[variant], Path(tmp) / run / variant)
                for file in folder.iterdir():
                    archive.write(file, f"{run}/{variant}/{file.name}")
    return buffer.getvalue()


def offer_results(job: TrainingJob) -> None:
    """Download buttons, and a hand-over of the trained models to the Grad-CAM page."""
    dataset = st.session_state.get("train_dataset", "shapes")
    normalization = "shapes" if dataset == "shapes" else (TORCHVISION[dataset][1],
                                                         TORCHVISION[dataset][2])
    cols = st.columns(len(job.results) + 1)
    cols[0].download_button("Trained weights (.zip)", _zip(job), "trained.zip",
                            "application/zip", key="train_zip")
    for col, (run, result) in zip(cols[1:], job.results.items()):
        if col.button(f"Use {run} on the Grad-CAM page", key=f"use_{run}"):
            models = result.models
            main = "residual" if "residual" in models else next(iter(models))
            twin = models.get("plain") if main == "residual" else None
            st.session_state.trained_models = Weights(
                models[main], result.specs[main], normalization, dataset_classes(dataset),
                f"the **{run}** net trained in this session on {dataset}", twin)
            st.success("Done: pick “trained in this session” on the Grad-CAM page.")
