"""Record He et al. Fig. 1 on shapes: one depth's twin pair (residual + plain), full histories."""
import argparse, json, time, platform
import torch
from pathlib import Path
from explorer.spec import preset
from explorer.data import ShapesDataset
from explorer.train import train, evaluate
from explorer.checkpoints import save_checkpoint

p = argparse.ArgumentParser()
p.add_argument("--preset"); p.add_argument("--epochs", type=int); p.add_argument("--train-size", type=int)
p.add_argument("--batch-size", type=int); p.add_argument("--lr", type=float); p.add_argument("--out")
p.add_argument("--threads", type=int, default=1)
a = p.parse_args()
torch.set_num_threads(a.threads)
spec = preset(a.preset).replace(num_classes=8)
out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
log = open(out / f"{a.preset}.log", "w")
def prog(e):
    if e.kind == "epoch" or e.step % 100 == 0:
        print(time.strftime("%H:%M:%S"), e.kind, e.variant, e.step, e.total_steps, round(e.loss, 4), e.val_accuracy, file=log, flush=True)
t = time.time()
r = train(spec, ShapesDataset(a.train_size, 32, 0, "train"), a.epochs, a.batch_size, a.lr, 0, "cpu",
          on_progress=prog, val_dataset=ShapesDataset(1000, 32, 0, "val"), twin=True, weight_decay=5e-4)
secs = time.time() - t
test = ShapesDataset(2000, 32, 0, "test")
rec = {"preset": a.preset, "args": vars(a), "seconds": secs, "threads": a.threads, "device": "cpu",
       "cpu": platform.processor() or platform.machine(), "torch": torch.__version__, "config": r.config, "variants": {}}
for name, m in r.models.items():
    save_checkpoint(m, r.specs[name], out / f"{a.preset}-{name}")
    rec["variants"][name] = {"steps": r.histories[name].steps, "epochs": r.histories[name].epochs,
                             "test_accuracy": evaluate(m, test), "check_accuracy": evaluate(m, torch.utils.data.Subset(test, range(500)))}
(out / f"{a.preset}.json").write_text(json.dumps(rec))
print("done", secs, {k: v["test_accuracy"] for k, v in rec["variants"].items()}, file=log, flush=True)
