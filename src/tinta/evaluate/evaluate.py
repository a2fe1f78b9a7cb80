"""``tinta evaluate``: score a trained run on a held-out split and draw a picture grid.

Metrics are means over images, on 8-bit sRGB, against the data set's files as they
are (JPEG 4:2:0 already low-passes the ground-truth chroma). Two reference rows come
with every evaluation: ``grey`` (the input itself, a = b = 0: the floor) and, for
palette models, ``quantized-gt`` (the ground truth snapped to the palette: the ceiling).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import torch
from PIL import Image

from tinta import color
from tinta.data.base import ImageSet, batch_rgb8, batch_to_lab, iterate_batches, spread_subset
from tinta.errors import TintaError
from tinta.evaluate import metrics
from tinta.files import atomic_write, sha256_file, write_json
from tinta.heads import Head
from tinta.inference import model_output, render_input, resolve_render_size, set_native_output, upsample_ab
from tinta.runs import load_run, weights_file

GRID_IMAGES = 16


def grid_indices(n: int, count: int = GRID_IMAGES) -> list[int]:
    """The same evenly spaced images of a split for every model."""
    count = min(count, n)
    return [round(i * (n - 1) / max(count - 1, 1)) for i in range(count)]


def save_grid(columns: list[torch.Tensor], path: Path, min_side: int = 96) -> None:
    """columns: list of uint8 ``(N, 3, H, W)``; one row per image, one column per entry."""
    rows = torch.stack(columns, dim=1)  # (N, C, 3, H, W)
    N, C, _, H, W = rows.shape
    scale = max(1, min_side // H)
    pad = 2
    canvas = torch.full((3, N * (H * scale + pad) + pad, C * (W * scale + pad) + pad), 255, dtype=torch.uint8)
    for i in range(N):
        for j in range(C):
            img = rows[i, j].repeat_interleave(scale, 1).repeat_interleave(scale, 2)
            y, x = pad + i * (H * scale + pad), pad + j * (W * scale + pad)
            canvas[:, y : y + H * scale, x : x + W * scale] = img
    atomic_write(path, lambda tmp: Image.fromarray(canvas.permute(1, 2, 0).numpy()).save(tmp, format="PNG"))


class _Acc:
    """Sums per-image metric tensors; ``means()`` gives the mean over images."""

    def __init__(self):
        self.sums: dict[str, float] = {}
        self.n = 0

    def add(self, name: str, values: torch.Tensor) -> None:
        self.sums[name] = self.sums.get(name, 0.0) + float(values.sum())

    def means(self) -> dict[str, float]:
        return {k: v / max(self.n, 1) for k, v in self.sums.items()}


def _score(acc: _Acc, prefix: str, pred8: torch.Tensor, gt8: torch.Tensor, with_ssim: bool) -> None:
    acc.add(f"{prefix}psnr", metrics.psnr(pred8, gt8))
    if with_ssim:
        acc.add(f"{prefix}ssim", metrics.ssim(pred8, gt8))
    cf_pred, cf_gt = metrics.colourfulness(pred8), metrics.colourfulness(gt8)
    acc.add(f"{prefix}colourfulness", cf_pred)
    acc.add(f"{prefix}cf_abs_diff", (cf_pred - cf_gt).abs())


def _columns(head: Head, decodings, out, L, gt8) -> dict[str, torch.Tensor]:
    """Every row's uint8 prediction for one batch: each decoding, grey, the head's reference rows."""
    preds = {d.label: color.rgb_to_uint8(upsample_ab(head.predict(out, d), L)) for d in decodings}
    preds["grey"] = color.rgb_to_uint8(color.lightness_to_grey(L)).expand(-1, 3, -1, -1)
    preds.update(head.references(gt8))
    return preds


class _Classifiers:
    """The ImageNet scores of one evaluation, each a per-image 0/1 summed into the rows:
    ``top1`` (EfficientNet-Lite0, :mod:`tinta.evaluate.semantic`) and ``judge_top1`` (the Lite2
    judge) where the classes are WordNet ids, and the judge's label-free ``agree`` (its top-1 on
    the row equals its top-1 on the ground truth; :mod:`tinta.evaluate.judge`) on any data, and ``fd``: the
    Frechet distance between the judge's pooled features of a row's pictures and of the ground truth."""

    def __init__(self, data: ImageSet, semantic: bool, judge: bool):
        from tinta.evaluate.semantic import Top1, imagenet_targets

        self.targets = imagenet_targets(data.classes, data.labels) if semantic or judge else None
        self.top1 = Top1() if semantic and self.targets is not None else None
        self.judge = _judge() if judge else None
        self.features: dict[str, list[torch.Tensor]] = {}  # row -> the judge's pooled features, batch by batch
        self.judge_seconds = 0.0  # the judge's share of the time: it classifies every row of every image

    def score(self, accs: dict[str, _Acc], gt_acc: _Acc, preds: dict, names: list[str], gt8, idx) -> None:
        """Add the scores of rows ``names`` of ``preds`` and of the ground truth ``gt8`` (images ``idx``)."""
        t = self.targets[idx] if self.targets is not None else None
        if self.top1 is not None:
            gt_acc.add("top1", self.top1.correct(gt8, t))
            for name in names:
                accs[name].add("top1", self.top1.correct(preds[name], t))
        if self.judge is None:
            return
        t0 = time.perf_counter()
        gt_class, feats = self.judge.embed(gt8)
        self.features.setdefault("gt", []).append(feats)
        if t is not None:
            gt_acc.add("judge_top1", (gt_class == t).float())
        for name in names:
            cls, feats = self.judge.embed(preds[name])
            self.features.setdefault(name, []).append(feats)
            accs[name].add("agree", (cls == gt_class).float())
            if t is not None:
                accs[name].add("judge_top1", (cls == t).float())
        self.judge_seconds += time.perf_counter() - t0

    def add_fd(self, results: dict[str, dict]) -> None:
        """``fd`` of every judged row against the ground truth (the same images: a paired comparison, 0 for
        the originals themselves; the grey row is the floor a colourization should beat)."""
        if self.judge is None or not self.features:
            return
        gt = torch.cat(self.features["gt"])
        if len(gt) < 2:
            return
        for name, feats in self.features.items():
            if name != "gt":
                results[name]["fd"] = metrics.frechet_distance(torch.cat(feats), gt)


def _judge():
    from tinta.data.base import cache_dir
    from tinta.evaluate.judge import Judge

    try:
        return Judge(cache=cache_dir() / "judge")
    except TintaError as e:
        raise TintaError(f"{e}; or evaluate without the semantic judge (--no-judge)") from e


def _add_grid(grid: dict, preds: dict, gt8, labels: list[str], sel: list[int]) -> None:
    """Grid columns: grey | each decoding | ground truth | the head's reference rows."""
    source = {**preds, "ground truth": gt8}
    for name in ["grey", *labels, "ground truth", *[k for k in preds if k not in labels and k != "grey"]]:
        grid.setdefault(name, []).append(source[name][sel])


@torch.no_grad()
def evaluate_model(model, head: Head, data: ImageSet, batch_size: int = 64, ssim_metric: bool = True,
                   render_size: int = 0, semantic: bool = False, judge: bool = False) -> tuple[dict, dict]:
    """-> (results, grid columns). Results hold one dict of metric means per decoding, plus the
    reference rows (``grey``, the head's own such as ``quantized-gt``) and ``gt`` colourfulness.
    The model runs at the resolved ``render_size`` (0: the image's own size; :func:`evaluate_run` resolves
    a run's with :func:`tinta.inference.resolve_render_size`) and its a,b are upsampled to
    the full image, as ``tinta colorize`` does (:mod:`tinta.inference`). With ``semantic`` and
    WordNet-id classes, every decoding, ``grey`` and ``gt`` also get ``top1``: ImageNet top-1 of
    EfficientNet-Lite0 (see :mod:`tinta.evaluate.semantic`). With ``judge``, every decoding and
    ``grey`` get ``agree`` (the Lite2 judge's top-1 equals its top-1 on the ground truth), and with
    WordNet-id classes they and ``gt`` get ``judge_top1`` (see :mod:`tinta.evaluate.judge`)."""
    scorer = _Classifiers(data, semantic, judge)
    set_native_output(model, head)
    decodings = head.decodings
    labels = [d.label for d in decodings]
    accs: dict[str, _Acc] = {}
    gt_acc, counts = _Acc(), {"correct": 0.0, "pixels": 0.0}
    pick = set(grid_indices(len(data)))
    grid: dict[str, list[torch.Tensor]] = {}
    t_model = 0.0
    for idx in iterate_batches(len(data), batch_size):
        raw = data.get(idx)
        lab = batch_to_lab(raw, data.colorspace)
        gt8, L = batch_rgb8(raw, lab, data.colorspace), lab[:, :1]
        t0 = time.perf_counter()
        out = model_output(model, render_input(L, render_size), L.shape[-2:])  # no hints: automatic quality
        t_model += time.perf_counter() - t0
        preds = _columns(head, decodings, out, L, gt8)
        if out.shape[-2:] == L.shape[-2:]:  # per-pixel accuracy of classifiers, when rendered at full size
            for k, v in head.batch_stats(out, head.targets(gt8, lab)).items():
                counts[k] = counts.get(k, 0.0) + v
        for name, pred8 in preds.items():
            accs.setdefault(name, _Acc()).n += len(idx)
            _score(accs[name], "", pred8, gt8, ssim_metric)
        gt_acc.n += len(idx)
        gt_acc.add("colourfulness", metrics.colourfulness(gt8))
        scorer.score(accs, gt_acc, preds, labels + ["grey"], gt8, idx)
        sel = [i for i, j in enumerate(idx.tolist()) if j in pick]
        if sel:
            _add_grid(grid, preds, gt8, labels, sel)
    results = {name: a.means() for name, a in accs.items()}
    if counts["pixels"]:
        for d in decodings:
            results[d.label]["accuracy"] = counts["correct"] / counts["pixels"]
    results["gt"] = gt_acc.means()
    scorer.add_fd(results)
    results["model_ms_per_image"] = 1000 * t_model / max(len(data), 1)
    if scorer.judge is not None:
        results["judge_seconds"] = scorer.judge_seconds
    return results, {k: torch.cat(v) for k, v in grid.items() if v}


JUDGE_SECONDS = 0.1  # per picture, Lite2 at 260 px on one thread of a shared 2-core CPU (evaluate/judge.py)


def judge_cost(images: int, rows: int) -> str:
    """A line on what the semantic judge will cost: it classifies every row (decodings, grey, ground truth)."""
    seconds = images * rows * JUDGE_SECONDS
    took = f"{seconds / 60:.0f} min" if seconds >= 90 else f"{seconds:.0f} s"
    return (f"the semantic judge classifies {images * rows:,} pictures ({images:,} images x {rows} rows, upscaled "
            f"to 260 px): about {took} on a 2-core CPU; --no-judge skips it")


def report_name(info, split: str, data_root: str | None = None) -> str:
    """``eval-SPLIT`` for the run's own data; ``eval-SPLIT-SOURCE`` (the data root's name) otherwise,
    so evaluations of one run on several data sets do not replace each other."""
    if not data_root or info.roots == [str(data_root)]:
        return f"eval-{split}"
    source = Path(data_root).name.removesuffix(".gz").removesuffix(".tar").removesuffix(".tgz")
    return f"eval-{split}-{source}"


def made_by(run_dir: Path, which: str, head: Head) -> dict:
    """What an evaluation's numbers depend on besides its options: the head as decoded and the weights' sha256
    (a saved evaluation is reused only while both are unchanged)."""
    return {"head": json.loads(json.dumps(head.to_dict())),
            "weights_sha256": sha256_file(weights_file(Path(run_dir), which))}


def evaluate_run(run_dir: str | Path, split: str = "test", data_root: str | None = None, which: str = "best",
                 batch_size: int = 64, max_images: int | None = None, render_size: int | None = None,
                 size: int | None = None, temperatures: tuple[float, ...] | None = None,
                 semantic: bool = True, judge: bool = True, ssim: bool = True, log=None) -> dict:
    """Score a run on ``split``: images at their own size (or resized to ``size``), the model at
    ``render_size`` (None: the size it trained at; 0: the full image), classifier heads decoded at
    each of ``temperatures`` (default: the run's own); ``semantic`` / ``judge``: the ImageNet scores
    of :func:`evaluate_model`. Writes ``eval-SPLIT[-SOURCE].json`` and a picture grid beside it.
    ``log``: called with a line saying what the judge will cost before it starts (it is most of the time)."""
    from tinta.data import load_dataset

    run_dir = Path(run_dir)
    model, head, info = load_run(run_dir, which)
    rs = resolve_render_size(render_size, info.native_size)
    if temperatures:
        head = head.with_temperatures(tuple(temperatures))
    tc = info.train
    classes = list(tc["classes"]) or None
    root = info.eval_root(data_root)
    data = load_dataset(tc["dataset"], root, split, classes=classes, size=size)
    data = spread_subset(data, max_images)
    if judge and log is not None:
        log(judge_cost(len(data), len(head.decodings) + 2))
    results, grid = evaluate_model(model, head, data, batch_size, ssim_metric=ssim, render_size=rs,
                                  semantic=semantic, judge=judge)
    report = {
        "run": str(run_dir), "data_root": str(root),
        "checkpoint": which, "model": info.architecture, "task": head.name,
        "split": split, "images": len(data), "max_images": max_images, "render_size": rs, "skipped": data.skipped,
        "size": list(data.size), "decodings": [d.label for d in head.decodings], "main_decoding": head.main.label,
        "pretrained_encoder": info.pretrained_encoder, "parameters": info.parameters, "results": results,
        **made_by(run_dir, which, head),
    }
    name = report_name(info, split, data_root)
    write_json(run_dir / f"{name}.json", report)
    grid_file = run_dir / f"{name.replace('eval-', 'grid-', 1)}.png"
    save_grid(list(grid.values()), grid_file)
    report["grid"], report["report"] = str(grid_file), str(run_dir / f"{name}.json")
    report["grid_columns"] = list(grid)
    return report
