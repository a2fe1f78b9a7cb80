"""``tinta data info`` (what a data root holds) and ``tinta data download`` (official CIFAR-10)."""

from __future__ import annotations

import argparse
import time
from collections import Counter

from tinta.cli.args import add_config_args, config_from_args
from tinta.data import InfoOptions
from tinta.data.download import DownloadOptions


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.description = ("Inspect a data root (tinta data info) or download CIFAR-10 (tinta data download).")
    p.set_defaults(_run=lambda args: p.print_help() or 0)
    dsub = p.add_subparsers(dest="data_command", metavar="ACTION")

    info = dsub.add_parser("info", help="count images, sizes, classes and skipped files per split",
                           description="Load every split of a data set (decoding once, then cached) and "
                           "print image count, size, classes and skipped files.")
    add_config_args(info, InfoOptions)
    info.set_defaults(_run=run_info)

    dl = dsub.add_parser("download", help="download the official CIFAR-10 python archive",
                         description="Download cifar-10-python.tar.gz into --to, verified by MD5; "
                         "then use --dataset cifar10 --data-root DIR.")
    add_config_args(dl, DownloadOptions)
    dl.set_defaults(_run=run_download)


def _class_summary(labels, classes: list[str]) -> str:
    counts = Counter(int(y) for y in labels.tolist())
    if not counts or set(counts) == {-1}:
        return "none (unlabelled)"
    parts = [f"{classes[i] if 0 <= i < len(classes) else i} {n}" for i, n in sorted(counts.items())]
    head = f"{len([i for i in counts if i >= 0])} of {len(classes)}: "
    return head + ", ".join(parts)


def run_info(args: argparse.Namespace) -> int:
    from tinta.data import check_root, dataset_splits, load_dataset

    o = config_from_args(InfoOptions, args)
    root = check_root(o.dataset, o.data_root)
    print(f"{o.dataset} at {root}")
    for split in dataset_splits(o.dataset, root):
        t0 = time.perf_counter()
        ds = load_dataset(o.dataset, root, split, classes=list(o.classes) or None, size=o.size)
        dt = time.perf_counter() - t0
        h, w = ds.size
        skipped = ", ".join(f"{k} {v}" for k, v in ds.skipped.items()) or "none"
        found = len(ds) + sum(ds.skipped.values())
        kept = f"{len(ds)} images" if found == len(ds) else f"{found} images found, {len(ds)} kept"
        print(f"  {split}: {kept}, {w}x{h} {ds.colorspace}, loaded in {dt:.1f} s")
        print(f"    classes: {_class_summary(ds.labels, ds.classes)}")
        print(f"    skipped: {skipped}")
    return 0


def run_download(args: argparse.Namespace) -> int:
    from tinta.data.download import download_cifar10

    o = config_from_args(DownloadOptions, args)
    path = download_cifar10(o.to, url=o.url, md5=o.md5)
    print(f"{path}: ok (use --dataset cifar10 --data-root {path.parent})")
    return 0
