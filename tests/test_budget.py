"""Resources: every page refuses work over the memory budget with the numbers, an out-of-memory
error becomes advice (and the next run works), and the GPU gate bounds concurrent holders."""

from __future__ import annotations

import os
import threading
import time

import pytest
import torch

import explorer
import explorer.budget as budget
import explorer.slots as slot_module
import explorer.analysis.gradcam
import explorer.training.jobs
from explorer import PRESETS, NetSpec, estimate
from explorer.training.config import TrainConfig
from explorer.budget import GiB, budget_bytes, check_fits
from explorer.slots import CPU_SLOTS, GPU_SLOTS, FairSlots, gate, training_slot
from explorer.analysis.sweep import sweep_spec
from explorer.units import format_bytes
from pages.widgets import state, weights_picker

from apptest_util import fresh_app, widget
from pages.widgets.state import url_query

ENV = "RESNET_EXPLORER_BUDGET_GB"
CPU = torch.device("cpu")
TINY = NetSpec(layers=(1, 1, 1), base_width=8, stem="cifar", shortcut="A", num_classes=10,
               image_size=16)
RESNET18_PARAMS = 11_689_512  # torchvision's resnet18


def set_budget(monkeypatch, n_bytes: float) -> None:
    monkeypatch.setenv(ENV, repr(n_bytes / GiB))


# ---- check_fits and the budget --------------------------------------------------------------
def test_check_fits_refuses_with_the_numbers(monkeypatch):
    monkeypatch.setenv(ENV, "0.01")
    need = estimate(PRESETS["resnet18"], 4).peak_bytes
    assert need > 2 * 4 * RESNET18_PARAMS  # weights and gradients, float32, at least
    with pytest.raises(ValueError) as info:
        check_fits(PRESETS["resnet18"], 4, CPU)
    message = str(info.value)
    assert f"about {format_bytes(need)} on cpu (batch 4, 224 px)" in message
    assert "but the budget is 10.7 MB." in message  # 0.01 GiB = 10,737,418 bytes


def test_check_fits_compares_the_estimate_with_the_budget_exactly(monkeypatch):
    need = estimate(TINY, 8).peak_bytes
    set_budget(monkeypatch, need + 64)
    check_fits(TINY, 8, CPU)
    set_budget(monkeypatch, need - 64)
    with pytest.raises(ValueError, match="budget"):
        check_fits(TINY, 8, CPU)
    est = estimate(TINY, 8)  # inference keeps the weights and a quarter of the activations
    set_budget(monkeypatch, est.param_bytes + est.activation_bytes // 4 + 64)
    check_fits(TINY, 8, CPU, training=False)


def test_budget_is_half_of_what_is_free(monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=None: (8 * GiB, 80 * GiB))
    assert budget_bytes(torch.device("cuda")) == 4 * GiB
    monkeypatch.setattr(budget, "_available_ram", lambda: 6 * GiB)
    assert budget_bytes(CPU) == 3 * GiB


@pytest.mark.parametrize("text", ["abc", "inf", "nan", "-1", "0"])
def test_a_broken_budget_setting_is_a_clear_error(monkeypatch, text):
    monkeypatch.setenv(ENV, text)
    with pytest.raises(ValueError, match=f"{ENV} must be a positive number of GiB"):
        check_fits(TINY, 1, CPU)


# ---- the GPU gate ---------------------------------------------------------------------------
def test_gate_has_gpu_slots_and_frees_a_slot_when_the_job_fails():
    taken = [slot_module._gpu_gate.acquire(blocking=False) for _ in range(GPU_SLOTS)]
    try:
        assert all(taken) and not slot_module._gpu_gate.acquire(blocking=False)  # all are taken
        with gate("cpu"):  # the CPU's slots are others
            pass
    finally:
        for _ in range(GPU_SLOTS):
            slot_module._gpu_gate.release()
    with pytest.raises(RuntimeError):
        with gate("cuda"):
            raise RuntimeError("the job failed")
    acquired = [slot_module._gpu_gate.acquire(blocking=False) for _ in range(GPU_SLOTS)]
    for _ in range(sum(acquired)):
        slot_module._gpu_gate.release()
    assert all(acquired)  # every slot came back


def test_cpu_slots_are_the_cores_over_torchs_threads_and_a_training_queues_apart():
    assert CPU_SLOTS == max(1, (os.cpu_count() or 1) // torch.get_num_threads())
    taken = [slot_module._cpu_gate.acquire(blocking=False) for _ in range(CPU_SLOTS)]
    try:
        assert all(taken) and not slot_module._cpu_gate.acquire(blocking=False)
        with training_slot("cpu", lambda: False) as taken:  # trainings queue apart
            assert taken
    finally:
        for _ in range(CPU_SLOTS):
            slot_module._cpu_gate.release()
    assert slot_module._cpu_gate.acquire(blocking=False)  # every slot came back
    slot_module._cpu_gate.release()


def test_waiters_get_the_slot_in_the_order_they_came():
    slots, order, lock = FairSlots(1), [], threading.Lock()
    slots.acquire()

    def job(n):
        slots.acquire()
        with lock:
            order.append(n)
        slots.release()

    threads = []
    for n in range(8):
        threads.append(threading.Thread(target=job, args=(n,)))
        threads[-1].start()
        while slots.waiting < n + 1:  # queued before the next one arrives
            time.sleep(0.001)
    slots.release()
    for t in threads:
        t.join(10)
    assert order == list(range(8))
    assert slots.acquire(blocking=False)  # and the slot is free again


def test_many_threads_never_exceed_gpu_slots():
    inside, peak, lock, start = [0], [0], threading.Lock(), threading.Barrier(3 * GPU_SLOTS)

    def job():
        start.wait(5)
        for _ in range(20):
            with gate("cuda"):
                with lock:
                    inside[0] += 1
                    peak[0] = max(peak[0], inside[0])
                threading.Event().wait(0.001)
                with lock:
                    inside[0] -= 1

    threads = [threading.Thread(target=job) for _ in range(3 * GPU_SLOTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert peak[0] == GPU_SLOTS and inside[0] == 0


# ---- every page refuses with the numbers ----------------------------------------------------
def open_page(page: str, spec: NetSpec = TINY):
    at = fresh_app(url_query(spec))
    if page != "architecture":
        at.switch_page(f"pages/views/{page}.py").run()
    return at


def refusal(at, need: int) -> str:
    assert not at.exception
    found = [e.value for e in at.error if "This needs about" in e.value]
    assert found, [e.value for e in at.error]
    assert f"about {format_bytes(need)} on cpu" in found[0] and "but the budget is" in found[0]
    return found[0]


def test_architecture_page_refuses_to_build_over_budget(monkeypatch):
    est = estimate(TINY, 1)
    need = est.param_bytes + est.activation_bytes // 4
    set_budget(monkeypatch, need / 2)
    at = open_page("architecture")
    assert not any("Built live on" in c.value for c in at.caption)  # built only when asked
    widget(at, "arch_build_live").click().run()
    assert refusal(at, need).startswith("Could not build the network:")
    assert at.metric  # the numbers (meta device) are still shown
    monkeypatch.setenv(ENV, "8")
    widget(at, "arch_build_live").click().run()
    assert not at.exception and not at.error
    assert any("Built live on" in c.value for c in at.caption)


def test_gradient_flow_page_and_depth_sweep_refuse_over_budget(monkeypatch):
    flow_need = estimate(TINY, 8).peak_bytes
    sweep_need = estimate(sweep_spec("basic", 20, image_size=16), 8).peak_bytes
    assert flow_need < sweep_need
    set_budget(monkeypatch, flow_need / 2)
    at = open_page("gradient_flow")
    assert refusal(at, flow_need).startswith("Gradient flow:")
    set_budget(monkeypatch, (flow_need + sweep_need) / 2)
    at.run()
    assert not at.error and at.info[0].value.startswith("At conv1")  # it fits now
    widget(at, "sw_depths").input("8,20").run()
    widget(at, "sw_norms").set_value(["batch"]).run()
    widget(at, "sw_run").click().run()
    assert refusal(at, sweep_need).startswith("Depth sweep:")
    assert not at.session_state["sweeps"]  # nothing was run


def test_grad_cam_page_refuses_over_budget(monkeypatch):
    spec = TINY.replace(image_size=32)
    need = estimate(spec, 1).peak_bytes
    set_budget(monkeypatch, need / 2)
    at = open_page("grad_cam", spec)
    widget(at, "cam_weights").select("random init of the sidebar's network").run()
    refusal(at, need)
    assert not at.get("image")
    monkeypatch.setenv(ENV, "8")
    at.run()
    assert not at.exception and not at.error and at.get("image")


def test_grad_cam_comparison_methods_are_checked_at_their_batch_of_16(monkeypatch):
    spec = TINY.replace(image_size=32)
    one, sixteen = estimate(spec, 1).peak_bytes, estimate(spec, 16).peak_bytes
    set_budget(monkeypatch, (one + sixteen) / 2)
    at = open_page("grad_cam", spec)
    widget(at, "cam_weights").select("random init of the sidebar's network").run()
    assert not at.exception and not at.error and at.get("image")  # Grad-CAM alone fits
    widget(at, "cam_methods").set_value(["integrated_gradients"]).run()
    refusal(at, sixteen)
    assert "(batch 16, 32 px)" in at.error[0].value


def test_grad_cam_page_does_not_build_a_network_whose_weights_exceed_the_budget(monkeypatch):
    spec = PRESETS["resnet18"]
    built = []
    import explorer.io.twins as twins_module

    real_build = twins_module.build
    monkeypatch.setattr(twins_module, "build",
                        lambda *args, **kw: built.append(args) or real_build(*args, **kw))
    monkeypatch.setenv(ENV, "0.01")  # resnet18's weights alone are 45 MB
    at = open_page("grad_cam", spec)
    widget(at, "cam_weights").select("random init of the sidebar's network").run()
    refusal(at, estimate(spec, 1).peak_bytes)
    assert built == []  # refused before anything was allocated


def test_training_page_refuses_over_budget(monkeypatch):
    run_spec = TINY.replace(num_classes=8, image_size=32)  # the sidebar net, fitted to shapes
    need = estimate(run_spec, TrainConfig().batch_size).peak_bytes
    set_budget(monkeypatch, need / 2)
    at = open_page("training")
    assert not at.exception
    widget(at, "train_start").click().run()
    assert refusal(at, need).startswith("Training:")
    assert "training_job" not in at.session_state


# ---- out of memory: advice, then the next run works -----------------------------------------
def cuda_oom():
    return torch.OutOfMemoryError(
        "CUDA out of memory. Tried to allocate 20.00 GiB (GPU 0; 79.10 GiB total capacity)")


def cpu_oom():
    return RuntimeError("[enforce fail at alloc_cpu.cpp:118] data. DefaultCPUAllocator: can't "
                        "allocate memory: you tried to allocate 68719476736 bytes. Error code 12 "
                        "(Cannot allocate memory)")


OOMS = {"torch.OutOfMemoryError": cuda_oom, "CPU allocator": cpu_oom}


def raiser(make):
    def fail(*args, **kwargs):
        raise make()
    return fail


def advice(at) -> str:
    assert not at.exception
    found = [e.value for e in at.error if "ran out of memory" in e.value]
    assert found, [e.value for e in at.error]
    assert "Tried to allocate" not in found[0] and "alloc_cpu" not in found[0]
    return found[0]


@pytest.mark.parametrize("oom", list(OOMS))
def test_out_of_memory_while_building_gives_advice(monkeypatch, oom):
    import explorer.nets.timing as timing

    monkeypatch.setattr(timing, "build", raiser(OOMS[oom]))
    at = open_page("architecture")
    widget(at, "arch_build_live").click().run()
    assert advice(at).startswith("Could not build the network:")
    monkeypatch.undo()
    widget(at, "arch_build_live").click().run()
    assert not at.exception and not at.error
    assert any("Built live on" in c.value for c in at.caption)


@pytest.mark.parametrize("oom", list(OOMS))
def test_out_of_memory_in_gradient_flow_gives_advice(monkeypatch, oom):
    monkeypatch.setattr(explorer, "gradient_flow", raiser(OOMS[oom]))
    at = open_page("gradient_flow")
    assert advice(at).startswith("Gradient flow:")
    monkeypatch.undo()
    at.run()
    assert not at.exception and not at.error and at.info[0].value.startswith("At conv1")


@pytest.mark.parametrize("oom", list(OOMS))
def test_out_of_memory_in_grad_cam_gives_advice(monkeypatch, oom):
    monkeypatch.setattr(explorer.analysis.gradcam, "grad_cam", raiser(OOMS[oom]))
    at = open_page("grad_cam", TINY.replace(image_size=32))
    widget(at, "cam_weights").select("random init of the sidebar's network").run()
    advice(at)
    monkeypatch.undo()
    at.run()
    assert not at.exception and not at.error and at.get("image")


@pytest.mark.parametrize("oom", list(OOMS))
def test_out_of_memory_in_a_training_job_gives_advice(monkeypatch, oom):
    monkeypatch.setattr(explorer.training.jobs, "train", raiser(OOMS[oom]))
    at = open_page("training")
    widget(at, "train_start").click().run()
    job = at.session_state["training_job"]
    job.wait(60)
    at.run()
    assert advice(at).startswith("Training ran out of memory")
    monkeypatch.undo()
    at.run()
    assert not at.exception
    assert not widget(at, "train_start").disabled  # ready to start again


def test_a_device_may_be_named_by_a_string():
    from explorer.io.twins import random_twins

    check_fits(NetSpec(layers=(1, 1), base_width=4, stem="cifar", image_size=16), 1, "cpu")
    assert random_twins(NetSpec(layers=(1, 1), base_width=4, stem="cifar", image_size=16)).twin
