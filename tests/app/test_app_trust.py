"""AppTest of the "Trust the map" page: its panels show what explorer computes, and weights it
cannot score get a sentence instead of a traceback."""

import pytest

from explorer import NetSpec, build
from explorer.analysis import trust_runs as runs
from explorer.analysis.trust_report import localisation_sentences, sanity_sentences
from explorer.io.twins import Twins, shipped_twins

from apptest_util import fresh_app, widget

PAGE = "pages/views/trust_map.py"
TINY = NetSpec(layers=(1, 1), base_width=4, stem="cifar", shortcut="A", num_classes=10,
               image_size=16)


@pytest.fixture(scope="module")
def shipped():
    return shipped_twins("resnet20")


def open_page():
    at = fresh_app()
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def infos(at):
    return [i.value for i in at.info]


def warnings(at):
    return [w.value for w in at.warning]


def test_opens_on_the_shipped_pair_with_the_defaults():
    at = open_page()
    assert at.title[0].value == "Trust the map"
    assert "checkpoints/resnet20, checkpoints/resnet20-plain" in at.caption[0].value
    assert [t.label for t in at.tabs] == ["Sanity check", "Localisation"]
    opening = " ".join(m.value for m in at.markdown)
    assert "measure different things" in opening and "deletion curves" in opening
    assert "a method can pass one and fail another" in opening
    estimates = [c.value for c in at.caption if "on this CPU" in c.value]
    assert len(estimates) == 2 and all("**at least about" in c for c in estimates)
    assert widget(at, "tm_san_methods").value == ["gradcam", "gradcam++", "layercam", "scorecam"]
    assert widget(at, "tm_san_layer").value == "layer3"
    assert widget(at, "tm_san_images").value == 8
    assert widget(at, "tm_loc_images").value == 64
    assert not warnings(at)


def test_sanity_check_shows_explorers_sentences_charts_and_csv(shipped):
    at = open_page()
    widget(at, "tm_san_methods").set_value(["gradcam"]).run()
    widget(at, "tm_san_images").set_value(2).run()
    widget(at, "tm_san_run").click().run()
    assert not at.exception, at.exception
    seed = runs.cascade_seed(shipped)
    assert seed == 1  # the shipped pair was trained from seed 0 (checkpoints/*/metrics.json)
    want = {net: runs.sanity_for(model, "shapes", 2, "layer3", ["gradcam"], seed)
            for net, model in shipped.nets().items()}
    said = "\n\n".join(sanity_sentences(want, 2))
    assert said in infos(at)
    assert said.startswith("Each point of these curves averages the maps of only 2 images")
    charts = at.get("plotly_chart")
    assert len(charts) == 2  # the curves and the strip of one method
    assert "seed 1" in " ".join(c.value for c in at.caption)
    table = at.dataframe[0].value
    assert len(table) == 2 * 12 and list(table["randomised"][:2]) == ["trained", "fc"]
    assert set(table["method"]) == {"Grad-CAM"} and "method_id" not in table
    assert [b.label for b in at.get("download_button")] == ["Sanity steps (.csv)"]


def test_localisation_shows_explorers_scores(shipped):
    at = open_page()
    widget(at, "tm_loc_methods").set_value(["gradcam"]).run()
    widget(at, "tm_loc_images").set_value(4).run()
    widget(at, "tm_loc_run").click().run()
    assert not at.exception, at.exception
    want = {net: runs.localisation_for(model, 4, ["gradcam"])
            for net, model in shipped.nets().items()}
    accuracy = {net: runs.heldout_accuracy(model, 4) for net, model in shipped.nets().items()}
    assert "\n\n".join(localisation_sentences(want, accuracy)) in infos(at)
    table = at.dataframe[0].value
    assert list(table["stage"]) == ["layer1", "layer2", "layer3"] * 2
    assert set(table["method"]) == {"Grad-CAM"} and "method_id" not in table
    assert list(table["pointing"]) == [100 * s.pointing for f in want.values() for s in f.scores]
    assert len(at.get("plotly_chart")) == 1


def test_zero_images_or_no_method_get_a_sentence():
    at = open_page()
    widget(at, "tm_san_images").set_value(0).run()
    assert not at.exception
    assert any("The number of images must be between 1 and 64, not 0" in e.value
               for e in at.error)
    widget(at, "tm_loc_methods").set_value([]).run()
    assert "Pick at least one method above." in infos(at)


def test_random_weights_are_refused_by_both_panels():
    at = open_page()
    widget(at, "cam_weights").set_value("random init of the sidebar's network").run()
    assert not at.exception, at.exception
    said = warnings(at)
    assert any("nothing learned for the cascade to randomise" in w for w in said)
    assert any("needs a network trained on those shapes" in w and "random weights" in w
               for w in said)


def test_a_pair_trained_on_another_dataset_is_checked_but_not_scored():
    model = build(TINY, seed=0).eval()
    twin = build(TINY.replace(skip=False), seed=0).eval()
    pair = Twins(model, TINY, "session", "a tiny pair trained on CIFAR-10", twin,
                 classes=tuple(str(i) for i in range(10)), dataset="cifar10", seed=3)
    at = open_page()
    at.session_state["trained_models"] = pair
    at.run()
    widget(at, "cam_weights").set_value("trained in this session").run()
    assert not at.exception, at.exception
    assert any("these are weights that learned cifar10" in w for w in warnings(at))
    assert widget(at, "tm_san_layer").value == "layer2"  # the last stage of this net
    widget(at, "tm_san_methods").set_value(["layercam"]).run()
    widget(at, "tm_san_images").set_value(2).run()
    widget(at, "tm_san_run").click().run()
    assert not at.exception, at.exception
    captions = " ".join(c.value for c in at.caption)
    assert "the class the trained net predicts" in captions and "seed 4" in captions
    want = {net: runs.sanity_for(m, "cifar10", 2, "layer2", ["layercam"], 4)
            for net, m in pair.nets().items()}
    assert "\n\n".join(sanity_sentences(want, 2)) in infos(at)
