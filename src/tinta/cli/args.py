"""Frozen dataclass configs whose field help strings become CLI options.

A field ``lr: float = field(default=1e-3, metadata={"help": "Adam learning rate"})``
becomes ``--lr LR`` with that help text and default; ``bool`` fields become
``--flag/--no-flag``; ``Optional[...]`` fields default to None.
"""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from typing import Any, TypeVar

T = TypeVar("T")


def _base_type(tp: Any) -> Any:
    origin = typing.get_origin(tp)
    if origin is typing.Union or origin is types.UnionType:
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return _base_type(args[0])
    return tp


def add_config_args(parser: argparse.ArgumentParser, cls: type, skip: tuple[str, ...] = ()) -> None:
    """Add one ``--option`` per field of the dataclass ``cls``."""
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if f.name in skip:
            continue
        flag = "--" + f.name.replace("_", "-")
        tp = _base_type(hints[f.name])
        help_ = f.metadata.get("help", "")
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
        kw: dict[str, Any] = {"dest": f.name, "default": default}
        if "choices" in f.metadata:
            kw["choices"] = f.metadata["choices"]
        if tp is bool:
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, help=help_, **kw)
        elif typing.get_origin(tp) in (list, tuple):
            (item,) = typing.get_args(tp)[:1]
            kw["default"] = list(default)  # `--flag a b` and `--flag a --flag b` both give [a, b]
            parser.add_argument(flag, nargs="+", action="extend", type=item, help=f"{help_} (default: {default})", **kw)
        else:
            parser.add_argument(flag, type=tp, help=f"{help_} (default: {default})", **kw)


def number(text: str) -> float:
    """argparse type: a float (range checks belong to the option's own validator)."""
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None


def whole_number(text: str) -> int:
    """argparse type: an int."""
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None


def non_negative(text: str) -> int:
    """argparse type: an int >= 0."""
    v = whole_number(text)
    if v < 0:
        raise argparse.ArgumentTypeError("must be >= 0")
    return v


def positive(text: str) -> int:
    """argparse type: an int >= 1."""
    v = whole_number(text)
    if v < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return v


def config_from_args(cls: type[T], args: argparse.Namespace, **overrides: Any) -> T:
    values = {f.name: getattr(args, f.name) for f in dataclasses.fields(cls) if hasattr(args, f.name)}
    values.update(overrides)
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if isinstance(values.get(f.name), list) and typing.get_origin(_base_type(hints[f.name])) is tuple:
            values[f.name] = tuple(values[f.name])
    return cls(**values)  # type: ignore[call-arg]


def config_to_argv(cfg: Any) -> list[str]:
    """The command-line options that give back ``cfg`` (a dataclass instance) with :func:`config_from_args`."""
    argv: list[str] = []
    hints = typing.get_type_hints(type(cfg))
    for f in dataclasses.fields(cfg):
        value, flag = getattr(cfg, f.name), "--" + f.name.replace("_", "-")
        if _base_type(hints[f.name]) is bool:
            argv.append(flag if value else "--no-" + flag[2:])
        elif value is None:
            continue
        elif isinstance(value, (list, tuple)):
            argv += [flag, *map(str, value)] if value else []
        else:
            argv += [flag, str(value)]
    return argv
