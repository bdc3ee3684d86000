"""AppTest of the analysis pages: they run, and show the numbers explorer computes."""

import time

import pytest

from explorer import NetSpec, gradient_flow
from explorer.analysis.sweep import sweep_summary
from explorer.data.registry import DATASETS
from explorer.units import times

from streamlit.testing.v1 import AppTest

from apptest_util import APP, TIMEOUT, fresh_app, widget
from pages.widgets.state import url_query

TINY = NetSpec(layers=(1, 1, 1), base_width=8, stem="cifar", shortcut="A", num_classes=10,
               image_size=16)


def open_page(page: str, spec: NetSpec = TINY):
    at = fresh_app(url_query(spec))
    at.switch_page(f"pages/views/{page}.py").run()
    assert not at.exception, at.exception
    return at


def test_gradient_flow_page_reports_explorers_numbers():
    at = open_page("gradient_flow")
    flow = gradient_flow(TINY, seed=0, batch_size=8)
    assert at.info[0].value == flow.summary()
    ratio = flow.plain.conv1_grad_norm / flow.residual.conv1_grad_norm
    assert f"is {times(ratio)} the residual" in at.info[0].value
    assert at.title[0].value == "Gradient flow"
    assert widget(at, "w_layers").value == "1,1,1"  # the sidebar and its spec survive the switch


def test_gradient_flow_norm_none_and_mse_change_the_result():
    at = open_page("gradient_flow")
    before = at.info[0].value
    widget(at, "gf_norm").set_value("none").run()
    assert not at.exception
    after = at.info[0].value
    assert after != before
    assert after == gradient_flow(TINY.replace(norm="none"), seed=0, batch_size=8).summary()
    widget(at, "gf_loss").select("mse").run()
    assert at.info[0].value == gradient_flow(TINY.replace(norm="none"), seed=0, batch_size=8,
                                             loss="mse").summary()


def test_gradient_flow_depth_sweep_runs_and_bad_depths_are_explained():
    at = open_page("gradient_flow")
    widget(at, "sw_depths").input("8,14").run()
    widget(at, "sw_norms").set_value(["batch"]).run()
    widget(at, "sw_run").click().run()
    assert not at.exception
    frame = at.dataframe[0].value
    assert list(frame["depth"]) == [8, 14]
    said = [m.value for m in at.markdown]
    assert all(f"- {line}" in said for line in sweep_summary(frame))  # read off the table shown
    assert any("exploding or vanishing" in c.value for c in at.caption)
    widget(at, "sw_depths").input("9").run()  # refused before anything can be run
    assert any("6n+2" in e.value for e in at.error)


def test_grad_cam_page_with_random_weights_and_a_sample_photo():
    at = open_page("grad_cam", TINY.replace(image_size=32))
    widget(at, "cam_weights").select("random init of the sidebar's network").run()
    assert not at.exception
    assert at.multiselect(key="cam_samples").value  # a default sample is shown
    assert any("random weights" in c.value for c in at.caption)
    assert len(at.dataframe) >= 1  # top-5 table
    assert len(at.get("image")) >= 1 + 3  # the overlay and one panel per stage


def test_training_page_starts_polls_and_stops_a_run():
    at = open_page("training")
    widget(at, "train_n").set_value(256).run()
    widget(at, "train_epochs").set_value(50).run()
    # the sidebar net has 10 classes; trained on the shapes it gets theirs, and the page says so
    assert any(f"with the dataset's {DATASETS['shapes'].num_classes} classes" in c.value
               for c in at.caption)
    widget(at, "train_start").click().run()
    job = at.session_state["training_job"]
    deadline = time.time() + 60
    while not job.events and time.time() < deadline:
        time.sleep(0.2)
    assert job.running and job.events
    job.stop()
    job.wait(60)
    assert not job.running and job.stopped and job.error is None
    at.run()
    assert not at.exception
    assert any("stopped" in s.value for s in at.success)


def test_a_finished_run_is_handed_to_grad_cam_and_gradient_flow():
    from explorer.analysis.batches import analysis_batch
    from explorer.analysis.gradflow import compare_models

    at = open_page("training")
    widget(at, "train_n").set_value(128).run()
    widget(at, "train_epochs").set_value(1).run()
    widget(at, "train_start").click().run()
    job = at.session_state["training_job"]
    job.wait(120)
    assert job.error is None and not job.stopped
    at.run()
    widget(at, "use_sidebar").click().run()
    assert not at.exception
    trained = at.session_state["trained_models"]
    assert trained.model is job.results["sidebar"].models["residual"]

    at.switch_page("pages/views/grad_cam.py").run()
    widget(at, "cam_weights").select("trained in this session").run()
    assert not at.exception
    assert any("trained in this session" in c.value for c in at.caption)

    at.switch_page("pages/views/gradient_flow.py").run()
    widget(at, "gf_weights").set_value("trained in this session").run()
    assert not at.exception
    # Trained nets are measured on held-out images by default (issue 19), not seeded noise.
    inputs, targets = analysis_batch(trained.spec, "shapes", 8, 0)
    want = compare_models(trained.model, trained.twin, inputs, targets)
    assert at.info[0].value == want.summary()


def test_grad_cam_page_shipped_default_and_other_captum_methods():
    at = open_page("grad_cam", TINY.replace(image_size=32))
    assert widget(at, "cam_weights").value == "shipped: resnet20"
    assert any("resnet20" in c.value and "99.8%" in c.value for c in at.caption)
    widget(at, "cam_methods").set_value(["integrated_gradients", "occlusion"]).run()
    assert not at.exception
    assert len(at.get("image")) >= 2 * (1 + 3 + 2)  # both twins: overlay, stages, two methods


def test_shipped_models_are_loaded_once_and_hooked_under_their_lock(monkeypatch):
    import torch

    import explorer.analysis.gradcam as gradcam
    import explorer.io.twins as twins
    import pages.widgets.weights_picker as picker

    loads, held = [], []
    real_load, real_cam = twins.load_shipped, gradcam.grad_cam

    def counted_load(name, device):
        loads.append(name)
        return real_load(name, device)

    def cam_checking_the_lock(model, *args, **kwargs):
        shared = picker.shipped("resnet20", torch.device("cpu"))  # the process's one copy
        held.append((model in (shared.model, shared.twin), shared.lock.locked()))
        return real_cam(model, *args, **kwargs)

    monkeypatch.setattr(twins, "load_shipped", counted_load)
    monkeypatch.setattr(gradcam, "grad_cam", cam_checking_the_lock)
    open_page("grad_cam", TINY.replace(image_size=32))  # caches cleared first
    assert sorted(loads) == ["resnet20", "resnet20-plain"]
    second = AppTest.from_file(APP, default_timeout=TIMEOUT)  # another student, caches kept
    second.run().switch_page("pages/views/grad_cam.py").run()
    widget(second, "cam_layer").set_value("layer1").run()  # computed on the shared models
    assert not second.exception
    assert len(loads) == 2  # nothing loaded again
    assert held and all(ours and locked for ours, locked in held)


def test_grad_cam_results_are_computed_once_for_every_session_asking_the_same(monkeypatch):
    import explorer.analysis.gradcam as gradcam

    calls = []

    def counted(function):
        def wrapper(*args, **kwargs):
            calls.append(function.__name__)
            return function(*args, **kwargs)
        return wrapper

    monkeypatch.setattr(gradcam, "grad_cam", counted(gradcam.grad_cam))
    monkeypatch.setattr(gradcam, "grad_cam_grid", counted(gradcam.grad_cam_grid))
    first = open_page("grad_cam", TINY.replace(image_size=32))  # caches cleared first
    samples = len(first.multiselect(key="cam_samples").value)
    assert calls.count("grad_cam_grid") == 2 * samples  # this net and its twin
    computed = len(calls)  # the grid calls grad_cam once per stage

    def tables(at):
        return [d.value.to_dict() for d in at.dataframe]

    second = AppTest.from_file(APP, default_timeout=TIMEOUT)  # another student, caches kept
    for key, value in TINY.replace(image_size=32).to_query().items():
        second.query_params[key] = value
    second.run().switch_page("pages/views/grad_cam.py").run()
    assert not second.exception
    assert len(calls) == computed  # nothing computed again
    assert tables(second) == tables(first)

    widget(second, "cam_layer").set_value("layer1").run()  # another question is computed
    assert calls[computed:] == ["grad_cam"] * 2 * samples  # the grids are the same as before
