"""The CAM family against pytorch-grad-cam, the reference implementation of each method.

pytorch-grad-cam keeps a map's positive part, min-max scales it and resizes it to the input with
OpenCV; the same is done to ours before comparing, so what is compared is the method itself.
"""

import copy

import numpy as np
import pytest
import torch
from pytorch_grad_cam import GradCAM, GradCAMPlusPlus, LayerCAM, ScoreCAM
from pytorch_grad_cam.utils.image import scale_cam_image
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

from explorer.analysis.cam_methods import CAM_METHODS
from explorer.analysis.cam_weights import gradient_map
from explorer.analysis.gradcam import cam_batch, grad_cam
from explorer.data.heldout import heldout_for
from explorer.io.weights import load_shipped

THEIRS = {"gradcam": GradCAM, "gradcam++": GradCAMPlusPlus, "layercam": LayerCAM,
          "scorecam": ScoreCAM}
IMAGES = 8


@pytest.fixture(scope="module")
def resnet20():
    model, _ = load_shipped("resnet20")
    return model


@pytest.fixture(scope="module")
def shapes(resnet20):
    return heldout_for(resnet20.spec, IMAGES)


def reference_maps(model, method, layer, x, targets) -> np.ndarray:
    theirs = copy.deepcopy(model)  # it leaves .grad on every parameter
    cam = THEIRS[method](model=theirs, target_layers=[theirs.get_submodule(layer)])
    return cam(input_tensor=x, targets=[ClassifierOutputTarget(int(t)) for t in targets])


@pytest.mark.parametrize("layer", ["layer2", "layer3"])
@pytest.mark.parametrize("method", CAM_METHODS)
def test_each_method_agrees_with_pytorch_grad_cam(resnet20, shapes, method, layer):
    x, labels = shapes
    ours = cam_batch(resnet20, x, layer, labels, method)
    theirs = reference_maps(resnet20, method, layer, x, labels)
    ours_scaled = scale_cam_image(ours.raw.clamp_min(0).numpy(), tuple(x.shape[-2:][::-1]))
    for i in range(IMAGES):
        a, b = ours_scaled[i].ravel(), theirs[i].ravel()
        if a.std() == 0 or b.std() == 0:  # no positive evidence: both flat
            assert a.std() == b.std() == 0
            continue
        assert np.corrcoef(a, b)[0, 1] >= 0.99, (method, layer, i)
    assert torch.equal(ours.targets, labels)


def test_batch_and_single_image_agree(resnet20, shapes):
    x, labels = shapes
    batch = cam_batch(resnet20, x[:3], "layer3", labels[:3], "gradcam++")
    for i in range(3):
        one = grad_cam(resnet20, x[i:i + 1], "layer3", target=int(labels[i]), method="gradcam++")
        torch.testing.assert_close(one.raw, batch.raw[i], rtol=1e-4, atol=1e-6)
        torch.testing.assert_close(one.heatmap, batch.heatmaps[i], rtol=1e-4, atol=1e-6)


def test_weightings_by_hand():
    # Two channels of a 1×2 map; activations A and gradients G chosen by hand.
    A = torch.tensor([[[[1.0, 3.0]], [[2.0, 0.0]]]])
    G = torch.tensor([[[[0.5, -1.0]], [[2.0, 0.0]]]])
    # Grad-CAM: w = mean(G) = (-0.25, 1.0) → -0.25·A0 + 1·A1 = (1.75, -0.75)
    torch.testing.assert_close(gradient_map("gradcam", A, G), torch.tensor([[[1.75, -0.75]]]))
    # Layer-CAM: Σ relu(G)·A = (0.5·1 + 2·2, 0) = (4.5, 0)
    torch.testing.assert_close(gradient_map("layercam", A, G), torch.tensor([[[4.5, 0.0]]]))
    # Grad-CAM++: α = g² / (2g² + ΣA · g³); channel 0: ΣA = 4, at g = 0.5: 0.25 / (0.5 + 0.5) =
    # 0.25, w0 = 0.5·0.25 = 0.125 (g = -1 gives relu 0); channel 1: ΣA = 2, at g = 2:
    # 4 / (8 + 16) = 1/6, w1 = 2/6 = 1/3. Map: 0.125·A0 + A1/3 = (0.125 + 2/3, 0.375)
    expected = torch.tensor([[[0.125 + 2 / 3, 0.375]]])
    torch.testing.assert_close(gradient_map("gradcam++", A, G), expected, rtol=1e-5, atol=1e-5)


def test_score_cam_reports_progress_and_unknown_methods_are_refused(resnet20, shapes):
    x, labels = shapes
    seen = []
    cam_batch(resnet20, x[:2], "layer3", labels[:2], "scorecam",
              on_progress=lambda done, total, _: seen.append((done, total)), chunk=48)
    assert seen[-1] == (128, 128) and len(seen) == 3  # 2 images × 64 channels, 48 at a time
    with pytest.raises(ValueError, match="gradcam\\+\\+"):
        cam_batch(resnet20, x, "layer3", labels, "eigencam")
    with pytest.raises(ValueError, match="one per image"):
        cam_batch(resnet20, x[:2], "layer3", [1], "layercam")
