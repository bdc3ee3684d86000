"""The Training page's controls (kept across page switches) and what it offers after a run."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from explorer import PRESETS
from explorer.nets.spec import NetSpec
from explorer.training.config import TrainConfig
from explorer.data.registry import DATASETS, TRAINABLE
from explorer.training.jobs import TrainingJob

from . import persist, sidebar, state

FIGURE1 = ("He et al. Fig. 1: 20 vs 56 layers, plain and residual; and which skip trains "
           "(Tables 1–2), recorded")


def experiments(sidebar_residual: bool) -> dict[str, str]:
    """The experiments, named for what will be trained: the sidebar's net may be the plain one."""
    twin = ("the sidebar's network vs its plain twin" if sidebar_residual
            else "the sidebar's plain network vs its residual twin")
    return {"twin": twin, "figure1": FIGURE1}


def twin_label(sidebar_residual: bool) -> str:
    return f"Train the {'plain' if sidebar_residual else 'residual'} twin too"
FIGURE1_RUNS = ("resnet20", "resnet56")
DEFAULTS = TrainConfig()


@dataclass(frozen=True)
class Setup:
    experiment: str
    runs: dict[str, NetSpec]
    config: TrainConfig
    download: bool

    def describe(self) -> str:
        return ", ".join(f"{label}: {spec.depth} layers at {spec.image_size} px with the "
                         f"dataset's {spec.num_classes} classes"
                         for label, spec in self.runs.items())


def show_job_settings(job: TrainingJob, experiment: str) -> None:
    """Make the (disabled) controls show the running job's settings, not the defaults."""
    c = job.config
    for key, value in (("train_experiment", experiment), ("train_dataset", c.dataset),
                       ("train_image_size", c.resolved_image_size()), ("train_n", c.train_size),
                       ("train_epochs", c.epochs), ("train_batch", c.batch_size),
                       ("train_lr", c.lr), ("train_twin", c.twin)):
        persist.show(key, value)


def choose_experiment(disabled: bool, recorded: TrainConfig | None = None,
                      sidebar_residual: bool = True) -> str:
    """The experiment radio; switching to Fig. 1 loads the recorded recipe into the controls
    (so "run it again live" repeats it), switching back loads the defaults."""
    named = experiments(sidebar_residual)
    experiment = persist.widget(st.radio, "Experiment", "train_experiment", "twin",
                                options=list(named), format_func=named.get,
                                horizontal=True, disabled=disabled)
    previous = persist.kept("train_experiment_before")
    if previous is not None and previous != experiment and not disabled:
        recipe = recorded if experiment == "figure1" and recorded else DEFAULTS
        for key, value in (("train_n", recipe.train_size), ("train_epochs", recipe.epochs),
                           ("train_batch", recipe.batch_size), ("train_lr", recipe.lr)):
            persist.show(key, value)
    persist.remember("train_experiment_before", experiment)
    return experiment


def draw(choice: state.Choice, experiment: str, disabled: bool) -> Setup:
    """Draw the recipe's controls and return the setup (raises ValueError when invalid)."""
    cols = st.columns(3)
    dataset = persist.widget(cols[0].selectbox, "Dataset", "train_dataset", DEFAULTS.dataset,
                             options=list(TRAINABLE),
                             format_func=lambda n: DATASETS[n].describe(), disabled=disabled)
    info = DATASETS[dataset]
    download = not info.offline and persist.widget(
        cols[0].checkbox, "Download if missing", "train_download", False, disabled=disabled,
        help="Needs internet. Offline, use the synthetic shapes.")
    image_size = persist.widget(cols[1].number_input, "Image size (px)", "train_image_size",
                                info.native_size, min_value=8, max_value=256, disabled=disabled,
                                help=f"{info.title}'s own size is {info.native_size} px.")
    twin = persist.widget(cols[2].checkbox, twin_label(choice.spec.skip), "train_twin",
                          DEFAULTS.twin, disabled=disabled or experiment == "figure1")
    cols = st.columns(4)
    train_size = persist.widget(cols[0].number_input, "Training images", "train_n",
                                DEFAULTS.train_size, min_value=64, max_value=200_000, step=500,
                                disabled=disabled,
                                help="Images per epoch (shapes are rendered, never repeated).")
    epochs = persist.widget(cols[1].number_input, "Epochs", "train_epochs", DEFAULTS.epochs,
                            min_value=1, max_value=100, disabled=disabled)
    batch = persist.widget(cols[2].number_input, "Batch size", "train_batch", DEFAULTS.batch_size,
                           min_value=2, max_value=1024, disabled=disabled)
    lr = persist.widget(cols[3].number_input, "Peak learning rate", "train_lr", DEFAULTS.lr,
                        min_value=1e-4, max_value=2.0, step=0.005, format="%.4f",
                        disabled=disabled, help="Reached after a one-epoch linear warm-up, "
                                                "then cosine decay to zero.")
    config = DEFAULTS.replace(dataset=dataset, image_size=int(image_size),
                              train_size=int(train_size), epochs=int(epochs),
                              batch_size=int(batch), lr=float(lr), seed=choice.seed,
                              twin=True if experiment == "figure1" else bool(twin),
                              device=choice.device.type)
    if experiment == "figure1":
        runs = {name: config.fit(PRESETS[name]) for name in FIGURE1_RUNS}
    else:
        runs = {"sidebar": config.fit(choice.spec)}
    return Setup(experiment, runs, config, bool(download))


def suggest_small_image_net(setup: Setup) -> None:
    """An ImageNet stem (7×7/2 conv + max-pool) leaves a 32-px image 8 px wide before the first
    block: such nets learn slowly here. Say so, with the measured number, and offer ResNet-20."""
    spec = next(iter(setup.runs.values()))
    if spec.stem != "imagenet" or spec.image_size > 64:
        return
    st.info(f"This network's ImageNet stem shrinks {spec.image_size}-px images to "
            f"{spec.image_size // 4} px before its first block, so it learns slowly on small "
            f"images (measured: ResNet-18 reached 51 % test accuracy after the default run, "
            f"ResNet-20 86 %). For a run that learns in minutes, train the CIFAR-style ResNet-20.")
    st.button("Use ResNet-20 in the sidebar", key="train_use_resnet20",
              on_click=sidebar.apply_preset, args=("resnet20",))


def data_factory(config: TrainConfig, download: bool):
    """spec → (train, val) sets from the registry (called in the job's thread)."""
    def make(spec: NetSpec):
        train_set, val_set, _ = config.splits(spec.image_size, download)
        return train_set, val_set
    return make
