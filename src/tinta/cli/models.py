"""``tinta models``: the registered architectures and the weights shipped with tinta."""

from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.description = ("List the model architectures tinta can train and the trained weights it ships.")


def run(args: argparse.Namespace) -> int:
    from tinta.models import list_architectures
    from tinta.pretrained import WEIGHTS_DIR, registry

    print("architectures (tinta train --model NAME):")
    for name, desc in sorted(list_architectures().items()):
        print(f"  {name:<12} {desc}")
    reg = registry()
    print("\nshipped weights (tinta colorize --model NAME):" + ("" if reg else " none"))
    for name, e in sorted(reg.items()):
        metrics = ", ".join(f"{k} {v}" for k, v in e.metrics.items())
        size = f"the weights of {e.decoding_of}" if e.decoding_of else f"{e.bytes / 1e6:.1f} MB"
        print(f"  {name:<12} {e.architecture} ({e.head.name}), {size}, data {e.data}")
        print(f"  {'':<12} {e.description}; {metrics}; card: {WEIGHTS_DIR / e.card}")
    return 0
