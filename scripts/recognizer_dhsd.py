"""The recognizer experiment of issue 4: a CRNN trained on the DHSD train writers (real data only),
with and without the ``light`` augmentation, scored on the DHSD test writers.

    python scripts/recognizer_dhsd.py [--data data/dhsd] [--runs runs/recognizer_dhsd] [--steps 6000]

``--data`` holds the fixed writer-disjoint split (``scrabblegan prepare csv ... --split-file
scripts/splits/dhsd.json``). Each run is ``scrabblegan recognizer train`` in ``RUNS/<augment>``; the
script resumes unfinished runs, so rerun it after an interruption. Then ``RUN/best.pt`` (best
validation CER) is evaluated on ``test/`` with the greedy decoder, and with the lexicon decoder
whose word list is every DHSD text (train, val and test). Writes
``scripts/results/recognizer_dhsd.json``.
"""
from __future__ import annotations

import argparse
import logging
import platform
import sys
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from hwdatasets import Shards  # noqa: E402
from hwdatasets.atomic import write_json_atomic  # noqa: E402
from recognizer.evaluate import load_lexicon_trie, load_recognizer, predict, scores  # noqa: E402
from recognizer.train import TrainConfig, train  # noqa: E402

RESULT = REPO / "scripts" / "results" / "recognizer_dhsd.json"


def run_one(data: Path, runs: Path, augment: str, args: argparse.Namespace) -> dict:
    """Train (or resume) one run, then score its best checkpoint on the test writers."""
    cfg = TrainConfig(train=[str(data / "train")], val=[str(data / "val")], out=str(runs / augment), steps=args.steps,
                      batch_size=args.batch_size, augment=augment, seed=args.seed, val_every=args.val_every,
                      patience=args.patience, device="cpu", threads=args.threads, progress=False)
    command = (f"scrabblegan recognizer train --train {cfg.train[0]} --val {cfg.val[0]} --out {cfg.out} "
               f"--steps {cfg.steps} --batch-size {cfg.batch_size} --augment {augment} --seed {cfg.seed} "
               f"--val-every {cfg.val_every} --patience {cfg.patience} --threads {cfg.threads} --resume")
    start = time.time()
    status = train(cfg, resume=True)
    model, codec, state = load_recognizer(Path(cfg.out) / "best.pt")
    test = Shards(data / "test")
    texts = sorted({t for split in ("train", "val", "test") for t in Shards(data / split).texts()})
    lexicon_path = runs / "dhsd_texts.txt"
    lexicon_path.write_text("\n".join(texts) + "\n", encoding="utf-8")
    _, refs, greedy = predict(model, test, codec, batch_size=64)
    _, _, lexical = predict(model, test, codec, batch_size=64, decoder="lexicon",
                            lexicon=load_lexicon_trie(lexicon_path, codec))
    return {
        "augment": augment,
        "greedy": {k: round(v, 4) for k, v in scores(refs, greedy).items()},
        "lexicon": {k: round(v, 4) for k, v in scores(refs, lexical).items()},
        "cer": round(scores(refs, greedy)["cer"], 4), "wer": round(scores(refs, greedy)["wer"], 4),
        "test_count": len(refs), "best_step": state["step"], "best_val_cer": round(status["best_cer"], 4),
        "steps_done": status["step"], "stopped": status["stopped"], "wall_s_this_session": round(time.time() - start),
        "settings": cfg.to_dict(), "command": command,
        "evaluate": f"scrabblegan recognizer evaluate --model {cfg.out}/best.pt --data {data / 'test'} "
                    f"[--decoder lexicon --lexicon {lexicon_path}]",
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=REPO / "data" / "dhsd", help="DHSD split (train/ val/ test/)")
    p.add_argument("--runs", type=Path, default=REPO / "runs" / "recognizer_dhsd", help="run folders")
    p.add_argument("--augment", nargs="+", default=["none", "light"], help="augmentation presets to compare")
    p.add_argument("--steps", type=int, default=6000)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--val-every", type=int, default=250)
    p.add_argument("--patience", type=int, default=8)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1, help="torch threads (1 is fastest on the busy 2-core CPU)")
    args = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    results = []
    for augment in args.augment:
        results.append(run_one(args.data, args.runs, augment, args))
        write_json_atomic(RESULT, {
            "experiment": "CRNN on DHSD train writers (real only), greedy and lexicon CER/WER on the test writers",
            "machine": f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} torch thread(s), "
                       f"torch {torch.__version__}", "runs": results})
    return 0


if __name__ == "__main__":
    sys.exit(main())
