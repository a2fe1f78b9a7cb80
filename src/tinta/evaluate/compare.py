"""``tinta compare RUN... --baseline RUN --out DIR``: one report over several evaluated runs.

Writes ``report.md`` and ``report.html`` (a table of every metric and its difference
from the baseline, parameters, training time, inference ms per image on this CPU),
``grid.png`` (the same images through every model: grey | each model | ground truth)
and ``psnr_vs_colourfulness.png``.
"""

from __future__ import annotations

import html
import platform
import time
from functools import partial
from pathlib import Path

import torch
from PIL import Image, ImageDraw

from tinta import color
from tinta.data import load_dataset
from tinta.data.base import batch_rgb8, batch_to_lab, spread_subset
from tinta.errors import TintaError
from tinta.evaluate.evaluate import (
    evaluate_run,
    grid_indices,
    made_by,
    report_name,
    save_grid,
)
from tinta.files import atomic_write, read_json, write_json, write_text
from tinta.inference import predict_ab, resolve_render_size, set_decoding_output, set_native_output, upsample_ab
from tinta.runs import RunInfo, load_run, read_state


@torch.no_grad()
def inference_ms(model, head, size: int = 224, repeats: int = 5) -> float:
    """Median ms for one ``size x size`` image (batch 1, model and decoding, as ``tinta colorize`` runs them) on
    this machine's CPU."""
    L = torch.rand(1, 1, size, size) * 100
    set_decoding_output(model, head)
    predict_ab(model, head, L, 0)  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        predict_ab(model, head, L, 0)
        times.append(time.perf_counter() - t0)
    return 1000 * sorted(times)[len(times) // 2]


def scatter_png(curves: list[list[tuple[str, float, float]]], gt_cf: float, path: Path) -> None:
    """PSNR (x) vs colourfulness (y), drawn with Pillow: one colour per curve (a run's points,
    e.g. one per annealed-mean temperature, joined by lines); a dashed line at the ground truth's CF."""
    points = [p for c in curves for p in c]
    W, H, m = 640, 420, 60
    img = Image.new("RGB", (W, H), "white")
    d = ImageDraw.Draw(img)
    xs = [p[1] for p in points]
    ys = [p[2] for p in points] + [gt_cf, 0.0]
    x0, x1 = min(xs) - 0.5, max(xs) + 0.5
    y0, y1 = 0.0, max(ys) * 1.1 + 1
    px = lambda v: m + (v - x0) / (x1 - x0) * (W - 2 * m)  # noqa: E731
    py = lambda v: H - m - (v - y0) / (y1 - y0) * (H - 2 * m)  # noqa: E731
    d.rectangle([m, m, W - m, H - m], outline="black")
    for i in range(5):
        xv, yv = x0 + i * (x1 - x0) / 4, y0 + i * (y1 - y0) / 4
        d.text((px(xv) - 12, H - m + 6), f"{xv:.1f}", fill="black")
        d.text((8, py(yv) - 6), f"{yv:.0f}", fill="black")
    for x in range(m, W - m, 10):
        d.line([x, py(gt_cf), x + 5, py(gt_cf)], fill="gray")
    d.text((W - m - 150, py(gt_cf) - 14), f"ground truth CF {gt_cf:.1f}", fill="gray")
    palette = ["#d62728", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]
    for i, curve in enumerate(curves):
        c = palette[i % len(palette)]
        for (_, xa, ya), (_, xb, yb) in zip(curve, curve[1:]):
            d.line([px(xa), py(ya), px(xb), py(yb)], fill=c, width=2)
        for name, x, y in curve:
            d.ellipse([px(x) - 5, py(y) - 5, px(x) + 5, py(y) + 5], fill=c)
            d.text((px(x) + 8, py(y) - 6), name, fill=c)
    d.text((W // 2 - 60, H - 24), "PSNR (dB, higher = closer)", fill="black")
    d.text((m, 20), "colourfulness (Hasler & Suesstrunk)", fill="black")
    atomic_write(path, lambda tmp: img.save(tmp, format="PNG"))


def _wanted(report: dict | None, render_size: int, size, temperatures, max_images, root: str, judge: bool,
            made: dict | None = None) -> bool:
    """Whether a saved evaluation matches what is asked (else it is redone). ``made``: the run's head and weights
    now (:func:`~tinta.evaluate.evaluate.made_by`); an evaluation saved before they were recorded is trusted."""
    if report is None or report.get("render_size") != render_size or (size and report["size"][0] != size):
        return False
    if made and any(k in report and report[k] != v for k, v in made.items()):  # another decoding or other weights
        return False
    if report.get("data_root") != root:
        return False
    if report.get("max_images") != max_images:
        return False
    if judge and "fd" not in report["results"].get("grey", {}):  # written before (or without) the judge / FD
        return False
    swept = any(d.startswith("T=") for d in report.get("decodings", []))  # heads decoded at a temperature
    return not temperatures or not swept or report.get("decodings") == [f"T={t:g}" for t in temperatures]


def _evaluated(run: str, info: RunInfo, head, split: str, root: str, rs: int, size, temperatures, max_images,
               judge: bool, ssim: bool = True) -> dict:
    """``run``'s saved evaluation when it matches, else a new one; ``head``: the run's, as it is decoded."""
    path = Path(run) / f"{report_name(info, split, root)}.json"
    report = read_json(path) if path.exists() else None
    made = made_by(Path(run), "best", head) if report is not None else None
    if not _wanted(report, rs, size, temperatures, max_images, root, judge, made) or (
            ssim and "ssim" not in report["results"]["grey"]):
        print(f"evaluating {run} on {split} ...")
        report = evaluate_run(run, split, data_root=root, render_size=rs, size=size, temperatures=temperatures,
                              max_images=max_images, judge=judge, semantic=False, ssim=ssim)
    return report


def _rows(run: str, report: dict, info, rs: int, ms: float) -> list[dict]:
    state = read_state(Path(run)) or {"epoch": 0, "train_seconds": 0.0}
    decodings = report.get("decodings", [report["main_decoding"]])
    rows = []
    for dec in decodings:
        rows.append({
            "name": Path(run).name + (f" {dec}" if len(decodings) > 1 else ""), "run": run, "decoding": dec,
            "model": info.architecture, "task": report["task"], "metrics": report["results"][dec],
            "grey": report["results"]["grey"], "gt": report["results"]["gt"],
            "gt_colourfulness": report["results"]["gt"]["colourfulness"],
            "parameters": info.parameters, "pretrained": info.pretrained_encoder,
            "epochs": state["epoch"], "train_minutes": state["train_seconds"] / 60,
            "train_images": info.data.get("train"), "train_size": info.native_size,
            "render_size": rs, "ms_per_image_224": ms, "images": report["images"], "skipped": report["skipped"],
        })
    return rows


def compare(runs: list[str], baseline: str, out: str, split: str = "val", data_root: str | None = None,
            render_size: int | None = None, grid_images: int = 8, size: int | None = None,
            temperatures: tuple[float, ...] | None = None, max_images: int | None = None,
            judge: bool = True, ssim: bool = True) -> dict:
    """Evaluate (or reuse the evaluations of) ``runs`` and write the report into ``out``. ``render_size``:
    None = each run's own, 0 = full image. Bins runs give one row per annealed-mean temperature."""
    if baseline not in runs:
        runs = [baseline] + list(runs)
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows, columns, curves, lab, data = [], {}, [], None, None
    for run in runs:
        model, head, info = load_run(run)
        rs = resolve_render_size(render_size, info.native_size)
        if temperatures:
            head = head.with_temperatures(tuple(temperatures))
        report = _evaluated(run, info, head, split, info.eval_root(data_root), rs, size, temperatures, max_images,
                            judge, ssim)
        if lab is None:
            tc = info.train
            data = spread_subset(load_dataset(tc["dataset"], info.eval_root(data_root), split,
                                              classes=list(tc["classes"]) or None, size=size), max_images)
            raw = data.get(torch.tensor(grid_indices(len(data), grid_images)))
            lab = batch_to_lab(raw, data.colorspace)
            columns["grey"] = color.rgb_to_uint8(color.lightness_to_grey(lab[:, :1])).expand(-1, 3, -1, -1)
        new = _rows(run, report, info, rs, inference_ms(model, head))
        by_label = {d.label: d for d in head.decodings}
        set_native_output(model, head)
        for row in new:
            pred = predict_ab(model, head, lab[:, :1], rs, by_label.get(row["decoding"], head.main))
            columns[row["name"]] = color.rgb_to_uint8(upsample_ab(pred, lab[:, :1]))
        rows += new
        curves.append([(r["name"], r["metrics"]["psnr"], r["metrics"]["colourfulness"]) for r in new])
    columns["ground truth"] = batch_rgb8(raw, lab, data.colorspace)
    return _write_report(out_dir, rows, columns, curves, split, render_size, baseline)


def _write_report(out_dir: Path, rows, columns, curves, split, render_size, baseline) -> dict:
    save_grid(list(columns.values()), out_dir / "grid.png")
    base = next(r for r in rows if r["run"] == baseline)
    curves.append([("grey", rows[0]["grey"]["psnr"], 0.0)])
    scatter_png(curves, rows[0]["gt_colourfulness"], out_dir / "psnr_vs_colourfulness.png")
    summary = {"split": split, "render_size": render_size, "baseline": base["name"], "rows": rows,
               "machine": f"{platform.machine()} CPU, {torch.get_num_threads()} torch threads",
               "columns": list(columns)}
    write_json(out_dir / "report.json", summary)
    md = to_markdown(summary)
    write_text(out_dir / "report.md", md)
    write_text(out_dir / "report.html", to_html(summary, md))
    return summary


def _render(summary: dict) -> str:
    sizes = sorted({str(r["render_size"] or "full image") for r in summary["rows"]})
    return ", ".join(sizes) + (" (each run's training size)" if summary["render_size"] is None else "")


def _fmt(v: float, d: int = 2) -> str:
    return f"{v:.{d}f}"


def _delta(m: dict, b: dict, k: str, d: int = 2, s: float = 1) -> str:
    """Metric ``k`` of ``m`` and its change from the baseline ``b``, both times ``s``, to ``d`` places
    ("-" where ``m`` lacks it, no change where ``b`` does: evaluations written before it existed)."""
    if k not in m:
        return "-"
    return f"{_fmt(s * m[k], d)}" + (f" ({s * (m[k] - b[k]):+.{d}f})" if k in b else "")


# ImageNet scores, in percent: Lite0 top-1 (semantic.py), the Lite2 judge's agreement with its own
# class on the ground truth and its top-1 (judge.py). A column is shown when some row has the score.
SEMANTIC_COLUMNS = (("top1", "top-1 % (Δ)"), ("agree", "agree % (Δ)"), ("judge_top1", "judge top-1 % (Δ)"))


def _percent(m: dict, k: str) -> str:
    return _fmt(100 * m[k], 1) if k in m else "-"


def table_rows(summary: dict) -> list[list[str]]:
    base = next(r for r in summary["rows"] if r["name"] == summary["baseline"])
    sem = [k for k, _ in SEMANTIC_COLUMNS if any(k in r["metrics"] for r in summary["rows"])]
    fd = ["fd"] if any("fd" in r["metrics"] for r in summary["rows"]) else []
    head = (["model", "PSNR dB (Δ)", "SSIM (Δ)", "CF (Δ)", "CF gap to GT (Δ)"]
            + [title for k, title in SEMANTIC_COLUMNS if k in sem] + ["FD (Δ)"] * len(fd)
            + ["params", "ImageNet", "epochs", "train min", "ms/img 224"])
    out = [head]
    for r in summary["rows"]:
        cell = partial(_delta, r["metrics"], base["metrics"])
        out.append([r["name"], cell("psnr"), cell("ssim", 3), cell("colourfulness", 1), cell("cf_abs_diff", 1)]
                   + [cell(k, 1, 100) for k in sem] + [cell(k, 2) for k in fd]
                   + [f"{r['parameters'] / 1e6:.2f}M", "yes" if r["pretrained"] else "no", str(r["epochs"]),
                      _fmt(r["train_minutes"], 1), _fmt(r["ms_per_image_224"], 1)])
    g, gt = summary["rows"][0]["grey"], {**summary["rows"][0]["gt"], "agree": 1.0}  # agree: 1 by definition
    out.append(["grey (floor)", _fmt(g["psnr"]), _fmt(g["ssim"], 3) if "ssim" in g else "-", "0.0",
                _fmt(g["cf_abs_diff"], 1)]
               + [_percent(g, k) for k in sem] + [_fmt(g[k], 2) if k in g else "-" for k in fd] + [""] * 5)
    if sem or fd:
        out.append(["ground truth", "", "", _fmt(gt["colourfulness"], 1), "0.0"]
                   + [_percent(gt, k) for k in sem] + ["0.00"] * len(fd) + [""] * 5)
    return out


def verdict(summary: dict) -> str:
    rows = summary["rows"]
    best = max(rows, key=lambda r: r["metrics"]["psnr"])
    base = next(r for r in rows if r["name"] == summary["baseline"])
    grey = rows[0]["grey"]["psnr"]
    beats = [r["name"] for r in rows if r["metrics"]["psnr"] > grey]
    return (f"Best PSNR: **{best['name']}** at {best['metrics']['psnr']:.2f} dB, "
            f"{best['metrics']['psnr'] - base['metrics']['psnr']:+.2f} dB over the baseline {base['name']} "
            f"and {best['metrics']['psnr'] - grey:+.2f} dB over grey output ({grey:.2f} dB). "
            f"Models above grey: {', '.join(beats) or 'none'} of {len(rows)}.")


def to_markdown(summary: dict) -> str:
    t = table_rows(summary)
    lines = ["| " + " | ".join(t[0]) + " |", "|" + "---|" * len(t[0])]
    lines += ["| " + " | ".join(r) + " |" for r in t[1:]]
    r0 = summary["rows"][0]
    return "\n".join([
        f"# Comparison on `{summary['split']}` ({r0['images']} images; skipped {r0['skipped']})", "",
        verdict(summary), "",
        *lines, "",
        f"Δ is the difference from the baseline `{summary['baseline']}`. Metrics are means over images on 8-bit "
        f"sRGB against the data set's JPEG files as they are; ground-truth colourfulness {r0['gt_colourfulness']:.1f}. "
        f"Model render size (short side): {_render(summary)}. Inference: batch 1, "
        f"224x224, {summary['machine']}." + _semantic_note(t[0]), "",
        f"![grid](grid.png)  \nColumns: {' | '.join(summary['columns'])}", "",
        "![PSNR vs colourfulness](psnr_vs_colourfulness.png)", "",
    ])


def _semantic_note(head: list[str]) -> str:
    notes = {"top-1 % (Δ)": "top-1: ImageNet top-1 of EfficientNet-Lite0 (the unet encoder's network)",
             "agree % (Δ)": "agree: share of images the judge (ImageNet EfficientNet-Lite2, used by no model) "
                            "puts in the class it gives the ground truth",
             "judge top-1 % (Δ)": "judge top-1: the judge's ImageNet top-1",
             "FD (Δ)": "FD: Frechet distance between the judge's pooled features of the row's pictures and of the "
                       "originals, the same images (FID's formula; lower is closer to the real photos; grey is "
                       "the floor)"}
    found = [v for k, v in notes.items() if k in head]
    return (" " + "; ".join(found) + ".") if found else ""


def to_html(summary: dict, md: str) -> str:
    t = table_rows(summary)
    cells = "".join("<tr>" + "".join(f"<{'th' if i == 0 else 'td'}>{html.escape(c)}</{'th' if i == 0 else 'td'}>"
                                     for c in row) + "</tr>" for i, row in enumerate(t))
    return (f"<!doctype html><meta charset='utf-8'><title>tinta comparison</title>"
            f"<style>body{{font-family:sans-serif;max-width:1100px;margin:auto}}td,th{{padding:4px 8px;"
            f"border-bottom:1px solid #ddd;text-align:right}}</style>"
            f"<h1>Comparison on {html.escape(summary['split'])}</h1>"
            f"<p>{html.escape(verdict(summary).replace('**', ''))}</p>"
            f"<table>{cells}</table><p>Columns of the grid: {html.escape(' | '.join(summary['columns']))}</p>"
            f"<img src='grid.png'><img src='psnr_vs_colourfulness.png'>")


def resolve_runs(runs: list[str], out: str) -> list[str]:
    """Run folders as given; shipped weight names (``default``, ``vivid`` ...) laid out as run folders
    under ``OUT/shipped/NAME`` so they are scored the same way."""
    from tinta.pretrained import as_run, registry

    shipped, resolved = registry(), []
    for r in runs:
        if (Path(r) / "config.json").exists():
            resolved.append(r)
        elif r in shipped:
            resolved.append(str(as_run(r, Path(out) / "shipped" / r)))
        else:
            raise TintaError(f"{r}: not a tinta run folder (no config.json) nor a shipped model ({', '.join(shipped)})")
    return resolved
