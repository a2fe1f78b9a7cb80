"""``tinta models``: the registered architectures and the weights shipped with tinta."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("models", help="list architectures and shipped weights",
                       description="List the model architectures tinta can train and the trained weights it ships.")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from tinta.models import list_architectures
    from tinta.pretrained import WEIGHTS_DIR, registry

    print("architectures (tinta train --model NAME):")
    for name, desc in sorted(list_architectures().items()):
        print(f"  {name:<12} {desc}")
    reg = registry()
    print("\nshipped weights (tinta colorize --model NAME):" + ("" if reg else " none"))
    for name, e in sorted(reg.items()):
        metrics = ", ".join(f"{k} {v}" for k, v in e.get("metrics", {}).items())
        print(f"  {name:<12} {e['architecture']} ({e['task']}), {e['bytes'] / 1e6:.1f} MB, data {e['data']}")
        print(f"  {'':<12} {e['description']}; {metrics}; card: {WEIGHTS_DIR / e['card']}")
    return 0
