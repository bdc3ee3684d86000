"""A training job ends with its session, takes the GPU slot only once its data is ready, keeps a
bounded event log, and weights its ETA by each run's cost."""

import threading
import time

import pytest

import explorer.training.jobs as jobs
from explorer import NetSpec
from explorer.training.config import TrainConfig
from explorer.training.cost import BACKWARD_FACTOR, run_cost
from explorer.training.jobs import EventLog, RunEvent, TrainingJob
from explorer.data.shapes import ShapesDataset
from explorer.training.train import ProgressEvent

TINY = NetSpec(layers=(1, 1), base_width=4, stem="cifar", num_classes=8, image_size=16)


def make_data(spec):
    return (ShapesDataset(64, spec.image_size, 0, "train"),
            ShapesDataset(16, spec.image_size, 0, "val"))


def step(n, kind="step"):
    return RunEvent("a", ProgressEvent(kind, "residual", n, 10**6, 1, 1, 1.0, 0.5, 0.1))


def test_a_job_whose_session_is_gone_stops_itself(monkeypatch):
    monkeypatch.setattr(jobs, "ORPHAN_GRACE_S", 0.3)
    monkeypatch.setattr(jobs, "ALIVE_POLL_S", 0.05)
    connected = threading.Event()
    connected.set()
    job = TrainingJob({"a": TINY}, TrainConfig(epochs=1000, batch_size=8, train_size=64),
                      make_data, "cpu", alive=connected.is_set).start()
    deadline = time.time() + 60
    while len(job.events) < 3 and time.time() < deadline:
        time.sleep(0.05)
    assert job.running
    connected.clear()  # the browser tab closed
    job.wait(600)
    assert not job.running and job.orphaned and job.stopped and job.error is None


def test_a_short_disconnect_within_the_grace_keeps_the_run(monkeypatch):
    monkeypatch.setattr(jobs, "ORPHAN_GRACE_S", 30)
    monkeypatch.setattr(jobs, "ALIVE_POLL_S", 0.0)
    polls = []

    def alive():  # disconnected for the first three polls (one per step here), then back
        polls.append(len(polls) >= 3)
        return polls[-1]

    job = TrainingJob({"a": TINY}, TrainConfig(epochs=2, batch_size=8, train_size=64),
                      make_data, "cpu", alive=alive).start()
    job.wait(600)
    assert False in polls and polls[-1]  # it did see the disconnect
    assert not job.orphaned and not job.stopped and job.results["a"].steps_done == 16


def test_the_gpu_slot_is_taken_only_once_the_data_is_ready(monkeypatch):
    order = []

    class Gate:
        def __init__(self, device, give_up):
            pass

        def __enter__(self):
            order.append("slot taken")
            return True

        def __exit__(self, *exc):
            order.append("slot freed")

    def slow_data(spec):
        order.append("data loading")
        time.sleep(0.2)
        order.append("data ready")
        return make_data(spec)

    monkeypatch.setattr(jobs, "training_slot", Gate)
    job = TrainingJob({"a": TINY}, TrainConfig(epochs=1, batch_size=32, train_size=64),
                      slow_data, "cpu").start()
    job.wait(600)
    assert order == ["data loading", "data ready", "slot taken", "slot freed"]


def test_the_event_log_is_thinned_never_truncated():
    log = EventLog(limit=100)
    for n in range(1, 1001):
        log.append(step(n))
        if n % 100 == 0:
            log.append(step(n, "epoch"))
    events = log.snapshot()
    assert len(events) <= 100 + 1
    steps = [e.event.step for e in events if e.event.kind == "step"]
    assert steps[0] == 1 and steps[-1] == 1000 and steps == sorted(steps)
    assert [e.event.step for e in events if e.event.kind == "epoch"] == list(range(100, 1001, 100))


def test_run_cost_by_hand():
    config = TrainConfig(train_size=64, epochs=2, batch_size=32, val_size=10, twin=True)
    from explorer.nets.measure import stage_table

    forward = stage_table(TINY, 1).total_mult_adds
    # 2 variants × forward × (2 epochs × 2 steps × 32 images × 3 + 2 epochs × 10 held-out)
    assert run_cost(TINY, config) == 2 * forward * (4 * 32 * BACKWARD_FACTOR + 20)
    assert run_cost(TINY, config.replace(twin=False)) == run_cost(TINY, config) / 2


def test_eta_weights_runs_by_their_cost():
    deep = TINY.replace(layers=(4, 4))
    job = TrainingJob({"small": TINY, "deep": deep}, TrainConfig(), make_data, "cpu")
    costs = job.costs()
    job.started = time.time() - 10
    job.events.append(RunEvent("small", ProgressEvent("step", "plain", 375, 375, 1, 1, 1, 1, 1)))
    fraction, eta = job.progress()
    assert fraction == pytest.approx(costs["small"] / (costs["small"] + costs["deep"]))
    assert fraction < 0.5  # the deep run costs more: done with one of two runs is not half
    assert eta == pytest.approx(10 * (1 - fraction) / fraction, rel=0.05)


def test_the_eta_waits_for_the_first_steps_and_counts_from_the_first_slot():
    job = TrainingJob({"small": TINY}, TrainConfig(), make_data, "cpu")  # 750 steps
    job.started = time.time() - 100  # 90 s of it queued for a slot
    job.training_started = time.time() - 10
    job.events.append(RunEvent("small", ProgressEvent("step", "plain", 1, 750, 1, 1, 1, 1, 1)))
    fraction, eta = job.progress()
    assert fraction < 0.02 and eta is None  # one step says nothing about speed yet
    job.events.append(RunEvent("small", ProgressEvent("step", "plain", 375, 750, 1, 1, 1, 1, 1)))
    fraction, eta = job.progress()
    assert eta == pytest.approx(10 * (1 - fraction) / fraction, rel=0.05)  # not 100 s


def test_trainings_queue_for_a_slot_and_a_queued_job_that_is_stopped_ends_at_once(monkeypatch):
    import explorer.slots as slot_module

    monkeypatch.setattr(slot_module, "_training_gate", slot_module.FairSlots(1))
    config = TrainConfig(epochs=50, batch_size=8, train_size=64)
    first = TrainingJob({"a": TINY}, config, make_data, "cpu").start()
    deadline = time.time() + 60
    while first.phase != "training" and time.time() < deadline:
        time.sleep(0.05)
    queued = TrainingJob({"a": TINY}, config, make_data, "cpu").start()
    while queued.phase != "waiting for a free training slot" and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    assert queued.running and queued.events.last() is None  # not one step while it waits
    queued.stop()
    queued.wait(5)
    assert not queued.running and queued.results == {}  # ended without taking the slot
    assert first.running  # the one training goes on
    first.stop()
    first.wait(60)
    assert slot_module._training_gate.acquire(blocking=False)  # the slot is free again


def test_an_orphaned_queued_job_ends_within_the_grace(monkeypatch):
    import explorer.slots as slot_module

    slots = slot_module.FairSlots(1)
    monkeypatch.setattr(slot_module, "_training_gate", slots)
    monkeypatch.setattr(jobs, "ORPHAN_GRACE_S", 0.5)
    monkeypatch.setattr(jobs, "ALIVE_POLL_S", 0.1)
    assert slots.acquire()  # somebody else's training holds the only slot
    job = TrainingJob({"a": TINY}, TrainConfig(epochs=1, batch_size=8, train_size=64), make_data,
                      "cpu", alive=lambda: False).start()
    job.wait(10)
    assert not job.running and job.orphaned and job.results == {}
    assert slots.waiting == 0
    slots.release()


def test_a_waiter_that_gives_up_just_as_the_slot_arrives_passes_it_on():
    from explorer.slots import FairSlots

    slots = FairSlots(1)
    assert slots.acquire()
    quit_now, results = threading.Event(), []

    def waiter(give_up):
        results.append(slots.acquire(give_up=give_up, poll_s=0.01))

    first = threading.Thread(target=waiter, args=(quit_now.is_set,))
    second = threading.Thread(target=waiter, args=(lambda: False,))
    first.start()
    while slots.waiting < 1:
        time.sleep(0.001)
    second.start()
    while slots.waiting < 2:
        time.sleep(0.001)
    quit_now.set()
    slots.release()  # handed to the first waiter, which gives up: the second must get it
    first.join(5)
    second.join(5)
    assert sorted(results) == [False, True]
    slots.release()
    assert slots.acquire(blocking=False)


def test_the_speed_measurement_is_renewed_once_it_is_ten_minutes_old(monkeypatch):
    from types import SimpleNamespace

    import explorer.training.cost as cost

    clock, calls = [1000.0], []
    monkeypatch.setattr(cost, "time", SimpleNamespace(monotonic=lambda: clock[0]))
    monkeypatch.setattr(cost, "_measured", {})
    monkeypatch.setattr(cost, "_time_reference_steps", lambda device: calls.append(device) or 5.0)
    assert cost.measured_throughput("cpu") == 5.0
    clock[0] += cost.MEASUREMENT_TTL_S - 1
    cost.measured_throughput("cpu")
    assert calls == ["cpu"]  # still fresh
    clock[0] += 2
    cost.measured_throughput("cpu")
    assert calls == ["cpu", "cpu"]  # measured again
