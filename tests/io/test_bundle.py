"""Trained models travel: the Training page's zip holds weights, spec, TrainConfig, metrics and
class names, and reads back (in memory, safetensors only) to the same logits."""

import io
import json
import zipfile

import pytest
import torch

from explorer import NetSpec
from explorer.io.bundle import bundle_runs, read_bundle
from explorer.training.config import TrainConfig
from explorer.training.runner import run_metrics
from explorer.data.shapes import CLASSES, MEAN, STD, ShapesDataset
from explorer.training.train import train

TINY = NetSpec(layers=(1, 1), base_width=4, stem="cifar", num_classes=8, image_size=16)


@pytest.fixture(scope="module")
def trained():
    config = TrainConfig(train_size=64, epochs=1, batch_size=32, twin=True)
    result = train(TINY, ShapesDataset(64, 16, 0), config, val_dataset=ShapesDataset(16, 16, 0, "val"))
    metrics = {("sidebar", v): run_metrics(result, v, "test") for v in result.models}
    return result, bundle_runs({"sidebar": result}, metrics)


def test_a_bundle_reads_back_to_the_same_nets_with_their_facts(trained):
    result, data = trained
    nets = read_bundle(data)
    assert [n.spec.skip for n in nets] == [True, False]  # residual first
    x = ShapesDataset(4, 16, 0, "test").get_batch(torch.arange(4))[0]
    for net in nets:
        variant = "residual" if net.spec.skip else "plain"
        model = result.models[variant]
        assert net.spec == result.specs[variant]
        rebuilt = type(model)(net.spec)
        rebuilt.load_state_dict(net.state_dict)
        with torch.no_grad():
            assert torch.equal(rebuilt.eval()(x), model(x))
        assert net.classes == CLASSES
        assert net.normalization == (MEAN, STD)
        assert TrainConfig.from_dict(net.metrics["config"]) == result.config
        assert net.metrics["steps_done"] == 2 and net.metrics["val_accuracy"] is not None


def zipped(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


@pytest.mark.parametrize("data, message", [
    (b"not a zip", "damaged or not a zip"),
    (zipped({"readme.txt": b"hello"}), "no trained net"),
    (zipped({"a/spec.json": TINY.to_json().encode()}), "no model.safetensors"),
    (zipped({"a/spec.json": TINY.to_json().encode(), "a/model.safetensors": b"junk"}), "damaged"),
    (zipped({"a/spec.json": b"{not json", "a/model.safetensors": b"x"}), "not a valid network"),
    (zipped({f"f{i}.txt": b"" for i in range(100)}), "at most 64 files"),
    (zipped({"big.bin": b"\0" * (2 * 2**20)}), "unpacked"),
])
def test_hostile_bundles_are_refused_in_one_sentence(data, message):
    with pytest.raises(ValueError, match=message):
        read_bundle(data, max_bytes=2**20)


def test_a_pickle_inside_a_bundle_is_never_loaded(trained):
    _, data = trained
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        files = {n: archive.read(n) for n in archive.namelist()}
    files["sidebar/residual/model.safetensors"] = b"\x80\x04cos\nsystem\n."  # a pickle
    with pytest.raises(ValueError, match="damaged"):
        read_bundle(zipped(files))
    assert json.loads(files["sidebar/residual/metrics.json"])["classes"] == list(CLASSES)


def test_the_grad_cam_upload_takes_a_bundle_with_its_own_facts(trained):
    from explorer.io.twins import uploaded_twins

    result, data = trained
    weights = uploaded_twins(data, "trained-models.zip", TINY, device=torch.device("cpu"))
    assert weights.spec == result.specs["residual"] and weights.classes == CLASSES
    assert weights.normalization == (MEAN, STD)
    x = ShapesDataset(2, 16, 0, "test").get_batch(torch.arange(2))[0]
    with torch.no_grad():
        assert torch.equal(weights.model(x), result.models["residual"](x))
        assert torch.equal(weights.twin(x), result.models["plain"](x))
    assert "held-out accuracy" in weights.description


def test_the_sidebar_loads_a_network_from_a_bundle_or_a_spec_file(trained):
    from pages.widgets import downloads
    from pages.widgets.spec_file import spec_from_file

    result, data = trained
    assert spec_from_file("trained-models.zip", data) == result.specs["residual"]
    assert spec_from_file("spec.json", TINY.to_json().encode()) == TINY
    download = downloads.spec_json(TINY, 3, 8)
    assert spec_from_file("spec-custom.json", download.encode()) == TINY  # Architecture's file
    assert download.count('"block"') == 1  # issue 19: the spec once, not under two keys
    with pytest.raises(ValueError, match="not text"):
        spec_from_file("spec.json", b"\xff\xfe\x00")
    with pytest.raises(ValueError):
        spec_from_file("spec.json", b'{"block": "pentagon"}')

