"""Regenerate the characterisation references in this folder from the CURRENT code.

    PYTHONPATH=src TINTA_CACHE=/tmp/charcache python tests/reference/make_reference.py

Writes, next to this file:
  colorize/<model>/<photo>.png  each shipped model on each bundled example photo,
                                shrunk to short side 96 (see ``shrink`` in the test file),
                                and <photo>-160.png for LARGE_CASES
  evaluate.json                 `tinta evaluate` metrics of the tiny training runs
  models.txt                    `tinta models` stdout (package folder written as <tinta>)

Only run this when a change of behaviour is intended; the point of the references is
that a refactor must reproduce them (tests/test_characterisation.py).
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # tests/ (for test_characterisation's builders)

import test_characterisation as tc  # noqa: E402


def main() -> None:
    import torch

    import tinta

    torch.set_num_threads(tc.TORCH_THREADS)  # as the tests run
    print(f"tinta from {tinta.__file__}")
    for model in tc.MODELS:
        colorizer = tinta.load_model(model)
        for photo in tc.example_photos():
            out = tc.reference_png(model, photo)
            out.parent.mkdir(parents=True, exist_ok=True)
            colorizer(tc.shrink(photo)).save(out)
            print(f"wrote {out.relative_to(HERE)}")
    for model, photo in tc.LARGE_CASES:
        out = tc.reference_png(model, photo, tc.LARGE_SHORT_SIDE)
        tinta.load_model(model)(tc.shrink(tc.examples_dir() / f"{photo}.jpg", tc.LARGE_SHORT_SIDE)).save(out)
        print(f"wrote {out.relative_to(HERE)}")

    metrics = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = tc.tiny_cifar_folder(Path(tmp) / "cifar")
        for name in tc.TINY_RUNS:
            metrics[name] = tc.train_and_evaluate(name, root, Path(tmp) / "runs")
    (HERE / "evaluate.json").write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n")
    print("wrote evaluate.json")

    (HERE / "models.txt").write_text(tc.models_stdout())
    print("wrote models.txt")


if __name__ == "__main__":
    main()
