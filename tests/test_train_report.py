"""The training page's sentences say what the numbers say, including 'no degradation'."""

from explorer import PRESETS
from explorer.training.train import History, TrainResult
from explorer.training.report import results_sentences, results_table


def result(spec, residual_loss, plain_loss, residual_acc=0.9, plain_acc=0.8):
    def history(loss, acc):
        return History(epochs=[{"epoch": 1, "loss": loss, "train_accuracy": acc,
                                "val_accuracy": acc - 0.05, "images_per_s": 100.0}])
    specs = {"residual": spec, "plain": spec.replace(skip=False)}
    return TrainResult(specs, {}, {"residual": history(residual_loss, residual_acc),
                                   "plain": history(plain_loss, plain_acc)}, False, 1.0, {})


def test_sentences_report_each_run_and_the_degradation_when_it_happens():
    results = {"resnet20": result(PRESETS["resnet20"], 0.3, 0.5),
               "resnet56": result(PRESETS["resnet56"], 0.2, 0.9, plain_acc=0.6)}
    lines = results_sentences(results)
    assert lines[0] == ("resnet20: after 1 epoch(s) the residual net reached 90.0% training "
                        "accuracy, the plain twin 80.0% (held-out: 85.0% vs 75.0%).")
    assert "56 layers ended at training loss 0.900, 20 layers at 0.500" in lines[2]
    assert "trained worse" in lines[2]
    assert list(results_table(results)["depth"]) == [20, 20, 56, 56]


def test_sentences_say_so_when_deeper_plain_nets_do_not_train_worse():
    results = {"20": result(PRESETS["resnet20"], 0.3, 0.9),
               "56": result(PRESETS["resnet56"], 0.2, 0.4)}
    assert "does not show the degradation effect" in results_sentences(results)[-1]
