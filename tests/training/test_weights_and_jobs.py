"""Weight sources (never downloading in tests) and background training jobs."""

import threading
import urllib.error

import pytest
import torch
import torchvision

import torchvision.models._api as tv_api
from explorer import NetSpec
from explorer.slots import gate
from explorer.data.shapes import ShapesDataset
from explorer.training.config import TrainConfig
from explorer.training.jobs import TrainingJob
from explorer.io.weights import pretrained_torchvision

TINY = NetSpec(layers=(1, 1), base_width=4, stem="cifar", num_classes=8, image_size=16)


def test_pretrained_weights_offline_give_a_clear_error(monkeypatch):
    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network")
    monkeypatch.setattr(tv_api, "load_state_dict_from_url", offline)
    with pytest.raises(ValueError) as info:
        pretrained_torchvision("resnet18")
    # Issue 19: words, not a raw "<urlopen error ...>"
    assert str(info.value).startswith("No internet connection: torchvision's pretrained "
                                      "resnet18 weights need a 46.8 MB download.")
    assert "urlopen" not in str(info.value)
    with pytest.raises(ValueError, match="only"):
        pretrained_torchvision("resnet20")


def test_new_torchvision_presets_load_pretrained_weights_too(monkeypatch):
    reference = torchvision.models.resnext50_32x4d().eval()
    monkeypatch.setattr(tv_api, "load_state_dict_from_url",
                        lambda *a, **k: reference.state_dict())
    ours = pretrained_torchvision("resnext50_32x4d")
    x = torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        torch.testing.assert_close(ours(x), reference(x))


def test_pretrained_weights_load_into_our_model_and_match_torchvision(monkeypatch):
    reference = torchvision.models.resnet18().eval()
    monkeypatch.setattr(tv_api, "load_state_dict_from_url",
                        lambda *a, **k: reference.state_dict())
    ours = pretrained_torchvision("resnet18")
    assert not ours.training
    x = torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        torch.testing.assert_close(ours(x), reference(x))


def make_data(spec):
    return (ShapesDataset(64, spec.image_size, 0, "train"),
            ShapesDataset(32, spec.image_size, 0, "val"))


def test_job_trains_in_the_background_and_reports_events():
    job = TrainingJob({"tiny": TINY}, TrainConfig(epochs=1, batch_size=32, lr=0.05),
                      make_data, device="cpu").start()
    job.wait(120)
    assert not job.running and job.error is None and not job.stopped
    assert set(job.results["tiny"].models) == {"residual", "plain"}
    kinds = {(e.run, e.event.variant, e.event.kind) for e in job.events.snapshot()}
    assert ("tiny", "plain", "epoch") in kinds and ("tiny", "residual", "step") in kinds
    assert job.progress()[0] == pytest.approx(1.0)


def test_job_stops_between_runs_and_reports_errors():
    job = TrainingJob({"a": TINY, "b": TINY}, TrainConfig(epochs=20, batch_size=8, lr=0.05),
                      make_data, device="cpu")
    job.stop()  # stopped before it starts: nothing is trained
    job.start().wait(60)
    assert job.results == {} and job.stopped

    def broken(spec):
        raise ValueError("no such dataset")
    failing = TrainingJob({"a": TINY}, TrainConfig(epochs=1, batch_size=8), broken, "cpu").start()
    failing.wait(60)
    assert failing.error == "ValueError: no such dataset" and not failing.running


def test_gates_nest_without_waiting_for_themselves_and_bound_gpu_holders(monkeypatch):
    import explorer.slots as slot_module

    with gate("cpu"), gate("cpu"), gate("cpu"):  # one thread, one CPU slot: no deadlock
        pass
    assert slot_module._cpu_gate.acquire(blocking=False)  # and the slot came back
    slot_module._cpu_gate.release()
    slots = threading.BoundedSemaphore(2)
    monkeypatch.setattr(slot_module, "_gpu_gate", slots)
    inside, peak, lock = [0], [0], threading.Lock()
    release = threading.Event()

    def hold():
        with gate("cuda"):
            with lock:
                inside[0] += 1
                peak[0] = max(peak[0], inside[0])
            release.wait(5)
            with lock:
                inside[0] -= 1

    threads = [threading.Thread(target=hold) for _ in range(5)]
    for t in threads:
        t.start()
    threading.Event().wait(0.3)
    assert peak[0] == 2  # the other three are queued
    release.set()
    for t in threads:
        t.join(5)
    assert inside[0] == 0 and peak[0] == 2


def test_shipped_checkpoints_pair_up_as_twins():
    from explorer.io.weights import load_shipped, shipped_checkpoints, twin_of

    shipped = shipped_checkpoints()
    assert {"resnet20", "resnet20-plain"} <= shipped.keys()
    assert twin_of("resnet20") == "resnet20-plain" and twin_of("resnet20-plain") == "resnet20"
    assert shipped["resnet20"].spec.skip and not shipped["resnet20-plain"].spec.skip
    assert shipped["resnet20"].accuracy == pytest.approx(0.9975)
    model, spec = load_shipped("resnet20")
    assert not model.training and spec == shipped["resnet20"].spec
    with pytest.raises(ValueError, match="No shipped checkpoint"):
        load_shipped("resnet9000")
