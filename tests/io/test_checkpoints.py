"""Checkpoints: hostile uploads are refused without running anything; good ones round-trip."""

import io

import hostile_files
import pytest
import torch
from safetensors.torch import save as safetensors_save
from torch import nn

from explorer import NetSpec, build
from explorer.io.checkpoints import (
    apply_checkpoint, load_checkpoint, load_saved, save_checkpoint, validate_state_dict,
)

SPEC = NetSpec(layers=(1, 1), base_width=8, stem="cifar", num_classes=10, image_size=16)


def torch_bytes(obj) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


@pytest.fixture
def weights():
    return build(SPEC, seed=3).state_dict()


class WritesAMarker:
    """Unpickling this calls open(path, "w"): the file appears iff the pickle was executed."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


@pytest.mark.parametrize("name", ["evil.pt", "evil.pth"])
def test_code_carrying_pickle_is_refused_and_never_runs(tmp_path, weights, name):
    marker = tmp_path / "ran"
    payload = torch_bytes({**weights, "extra": WritesAMarker(marker)})
    with pytest.raises(ValueError, match="could run code"):
        load_checkpoint(payload, SPEC, name)
    assert not marker.exists()
    # Guard: the payload is real. A full unpickle does run it (here, harmlessly).
    torch.load(io.BytesIO(payload), weights_only=False)["extra"].close()
    assert marker.exists()


def test_pickled_module_is_refused(weights):
    payload = torch_bytes({"model": nn.Linear(2, 2)})
    with pytest.raises(ValueError, match="Python objects besides tensors"):
        load_checkpoint(payload, SPEC, "whole_model.pt")


def test_torchscript_archive_is_refused():
    with pytest.raises(ValueError, match="TorchScript"):
        load_checkpoint(hostile_files.torchscript(), SPEC, "scripted.pt")


def test_truncated_zip_is_refused(weights):
    payload = torch_bytes(weights)
    with pytest.raises(ValueError, match="damaged or truncated"):
        load_checkpoint(payload[: len(payload) // 2], SPEC, "cut.pt")


@pytest.mark.parametrize("payload, name, words", [
    (b"", "empty.pt", "empty"),
    (b"", "empty.safetensors", "empty"),
    (b"\x89PNG\r\n\x1a\n" + bytes(100), "photo.pt", "not a PyTorch checkpoint"),
    (b"garbage" * 20, "weights.safetensors", "safetensors"),
    (b"weights", "weights.ckpt", ".safetensors, .pt or .pth"),
    (b"weights", "no_extension", ".safetensors, .pt or .pth"),
])
def test_empty_garbage_and_unknown_formats(payload, name, words):
    with pytest.raises(ValueError, match=words):
        load_checkpoint(payload, SPEC, name)


def test_size_cap(weights):
    payload = torch_bytes(weights)
    with pytest.raises(ValueError, match="limit"):
        load_checkpoint(payload, SPEC, "big.pt", max_bytes=len(payload) - 1)


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
@pytest.mark.parametrize("fmt", ["pt", "safetensors"])
def test_nan_and_inf_are_refused(weights, bad, fmt):
    weights["fc.weight"][0, 0] = bad
    payload = torch_bytes(weights) if fmt == "pt" else safetensors_save(weights)
    with pytest.raises(ValueError, match="NaN or infinite values in fc.weight"):
        load_checkpoint(payload, SPEC, f"bad.{fmt}")


def test_non_tensor_entries_are_refused(weights):
    with pytest.raises(ValueError, match="not tensors: epoch"):
        load_checkpoint(torch_bytes({**weights, "epoch": 3}), SPEC, "mixed.pt")
    with pytest.raises(ValueError, match="dict of tensors"):
        load_checkpoint(torch_bytes([torch.zeros(1)]), SPEC, "list.pt")


def test_upload_name_is_never_a_path(tmp_path, weights):
    name = str(tmp_path / "nonexistent" / ".." / "x.pt")
    state_dict, report = load_checkpoint(torch_bytes(weights), SPEC, name)
    assert report.ok and not (tmp_path / "x.pt").exists()
    _, report = load_checkpoint(torch_bytes(weights), SPEC, "..\\..\\C:\\weights.PTH")
    assert report.ok


# ---- good files -------------------------------------------------------------------------
def _assert_same(a, b):
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=0)


def test_good_pt_round_trip(weights):
    state_dict, report = load_checkpoint(torch_bytes(weights), SPEC, "good.pt")
    assert report.ok and report.summary() == "Every weight matches the network."
    _assert_same(state_dict, weights)


def test_good_safetensors_round_trip(weights):
    state_dict, report = load_checkpoint(safetensors_save(weights), SPEC, "good.safetensors")
    assert report.ok
    _assert_same(state_dict, weights)


@pytest.mark.parametrize("key", ["state_dict", "model", "model_state_dict"])
def test_nested_state_dicts_and_dataparallel_prefix(weights, key):
    wrapped = {key: {f"module.{k}": v for k, v in weights.items()}, "epoch": 5}
    state_dict, report = load_checkpoint(torch_bytes(wrapped), SPEC, "trainer.pth")
    assert report.ok and key in report.summary() and "module." in report.summary()
    _assert_same(state_dict, weights)


def test_wrong_keys_are_listed(weights):
    weights["head.weight"] = weights.pop("fc.weight")
    _, report = load_checkpoint(torch_bytes(weights), SPEC, "renamed.pt")
    assert not report.ok
    assert report.missing == ("fc.weight",) and report.unexpected == ("head.weight",)
    assert "Missing 1 weight(s): fc.weight." in report.summary()
    assert "1 unexpected weight(s): head.weight." in report.summary()


def test_wrong_shapes_are_listed(weights):
    weights["fc.weight"] = torch.zeros(100, 16)
    _, report = load_checkpoint(torch_bytes(weights), SPEC, "wide.pt")
    assert report.mismatched == (("fc.weight", (100, 16), (10, 16)),)
    assert "fc.weight is 100×16 but the network needs 10×16" in report.summary()


def test_report_agrees_with_torch_load_state_dict(weights):
    """The meta-model comparison lists exactly what torch's own strict loading complains of."""
    weights.pop("layer1.0.bn1.weight")
    weights["extra.bias"] = torch.zeros(3)
    report = validate_state_dict(weights, SPEC)
    result = build(SPEC).load_state_dict(weights, strict=False)
    assert set(report.missing) == set(result.missing_keys)
    assert set(report.unexpected) == set(result.unexpected_keys)


def test_old_checkpoints_without_batch_counters_load(weights):
    old = {k: v for k, v in weights.items() if not k.endswith("num_batches_tracked")}
    _, report = load_checkpoint(safetensors_save(old), SPEC, "old.safetensors")
    assert report.ok
    apply_checkpoint(build(SPEC), old)


def test_apply_checkpoint_is_strict(weights):
    model = build(SPEC, seed=99)
    apply_checkpoint(model, weights)
    _assert_same(model.state_dict(), weights)
    weights["fc.bias"] = torch.zeros(11)
    with pytest.raises(ValueError, match="fc.bias is 11 but the network needs 10"):
        apply_checkpoint(build(SPEC), weights)


def test_save_and_load_saved_give_identical_logits(tmp_path):
    model = build(SPEC, seed=5)
    x = torch.randn(2, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    model.train()
    model(torch.randn(8, 3, 16, 16, generator=torch.Generator().manual_seed(1)))  # move BN stats
    model.eval()
    with torch.no_grad():
        expected = model(x)
    directory = save_checkpoint(model, SPEC, tmp_path / "run")
    assert sorted(p.name for p in directory.iterdir()) == ["model.safetensors", "spec.json"]

    loaded, spec = load_saved(directory)
    assert spec == SPEC and not loaded.training
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), expected, rtol=0, atol=0)
    _assert_same(loaded.state_dict(), model.state_dict())
