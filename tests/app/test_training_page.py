"""The Training page says when the sidebar's net is a poor fit for small images, with the
measured numbers, and switches to ResNet-20 in one click; its estimate is shown before Start."""

import time

from apptest_util import fresh_app, widget

from explorer import PRESETS


def test_an_imagenet_stem_on_32_px_images_gets_a_measured_hint_and_a_switch():
    at = fresh_app({"layers": "2,2,2,2"})  # ResNet-18
    at.switch_page("pages/views/training.py").run()
    assert at.session_state["spec"] == PRESETS["resnet18"]
    assert any("ImageNet stem shrinks 32-px images to 8 px" in i.value for i in at.info)
    widget(at, "train_use_resnet20").click().run()
    assert not at.exception and at.session_state["spec"] == PRESETS["resnet20"]
    assert not any("ImageNet stem" in i.value for i in at.info)
    assert any("Estimated time on this CPU" in c.value for c in at.caption)


def started(settings: dict):
    """A session on the Training page that set these widgets and pressed Start; its job."""
    at = fresh_app()
    at.switch_page("pages/views/training.py").run()
    for key, value in settings.items():
        widget(at, key).set_value(value).run()
    widget(at, "train_start").click().run()
    return at, at.session_state["training_job"]


def wait_for_steps(job, steps: int, timeout_s: float = 120) -> None:
    deadline = time.time() + timeout_s
    while sum(e.event.kind == "step" for e in job.events.snapshot()) < steps \
            and time.time() < deadline:
        time.sleep(0.2)


def test_a_running_job_shows_its_own_settings_after_a_page_switch():
    at, job = started({"train_n": 256, "train_epochs": 50, "train_lr": 0.01})
    try:
        wait_for_steps(job, 1)
        at.run()
        assert at.get("plotly_chart"), "the live chart is drawn while the run goes on"
        at.switch_page("pages/views/architecture.py").run()
        at.switch_page("pages/views/training.py").run()
        assert not at.exception
        assert widget(at, "train_n").value == 256 and widget(at, "train_epochs").value == 50
        assert widget(at, "train_lr").value == 0.01 and widget(at, "train_n").disabled
        assert job.config.train_size == 256 and job.config.epochs == 50 and job.config.lr == 0.01
    finally:
        job.stop()
        job.wait(120)


def test_a_run_stopped_early_shows_where_it_was_evaluated_and_says_it_is_too_early():
    import json

    at, job = started({"train_n": 2048, "train_epochs": 5})
    try:
        wait_for_steps(job, 3)
    finally:
        job.stop()
        job.wait(120)
    at.run()
    assert not at.exception and job.stopped
    figure = json.loads(at.get("plotly_chart")[0].proto.spec)
    held_out = [t for t in figure["data"] if t.get("xaxis") == "x2"]
    assert held_out and all(len(t["y"]) == 1 for t in held_out)  # where the stop was evaluated
    said = " ".join(m.value for m in at.markdown)
    assert "too early to judge" in said or "Nothing learned" not in said


def test_labels_name_what_is_trained_when_the_sidebar_holds_the_plain_net():
    at = fresh_app({"layers": "3,3,3", "base_width": "16", "stem": "cifar", "shortcut": "A",
                    "num_classes": "10", "image_size": "32", "skip": "0"})  # plain-20
    at.switch_page("pages/views/training.py").run()
    assert not at.session_state["spec"].skip
    radio = widget(at, "train_experiment")
    assert "the sidebar's plain network vs its residual twin" in radio.options
    assert widget(at, "train_twin").label == "Train the residual twin too"
    at = fresh_app()  # ResNet-20, the residual net
    at.switch_page("pages/views/training.py").run()
    assert "the sidebar's network vs its plain twin" in widget(at, "train_experiment").options
    assert widget(at, "train_twin").label == "Train the plain twin too"
