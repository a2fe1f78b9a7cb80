"""Command-line options built from frozen dataclasses: each field is an option, its metadata's help
the option's help. Every command's options are declared this way (``TrainConfig``, ``ColorizeOptions``,
``EvaluateOptions``, ``CompareOptions``, ``ServeOptions``, ``PriorOptions``, ``ExportOptions``,
``PaletteOptions``, ``InfoOptions``, ``DownloadOptions``), next to the code they configure; only the
parser is built here.

A field ``lr: float = field(default=1e-3, metadata={"help": "Adam learning rate"})`` becomes
``--lr LR`` with that help text and default; ``bool`` fields become ``--flag/--no-flag``;
``Optional[...]`` fields default to None; a field without a default is required; tuple fields take
several values (``--flag a b``). Metadata keys besides ``help``:

- ``choices``: the values allowed;
- ``flags``: the option strings when not ``--field-name`` (``("-o", "--out")``);
- ``positional``: a positional argument (a tuple field: one or more values);
- ``repeat``: a tuple field given once per value (``--hint A --hint B``);
- ``const``: the value of the flag given bare (``--ray`` alone means ``--ray auto``);
- ``metavar``; ``group``: the title of the argument group the option is listed under.

Range checks belong to the dataclass (``__post_init__``), so the CLI, the Python API and the
server refuse the same values with the same words.
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


def _is_sequence(tp: Any) -> bool:
    return typing.get_origin(tp) in (list, tuple)


def _flags(f: dataclasses.Field) -> tuple[str, ...]:
    return tuple(f.metadata.get("flags", ("--" + f.name.replace("_", "-"),)))


def _help(text: str, default: Any) -> str:
    """The help, with the default appended unless there is none to show or the help says it."""
    if default in (None, (), []) or "default" in text:
        return text
    return f"{text} (default: {default})"


def _argument(f: dataclasses.Field, tp: Any) -> tuple[tuple[str, ...], dict[str, Any]]:
    """(option strings, argparse keywords) of one field."""
    meta = f.metadata
    kw: dict[str, Any] = {k: meta[k] for k in ("choices", "metavar") if k in meta}
    item = typing.get_args(tp)[0] if _is_sequence(tp) else tp
    if meta.get("positional"):
        return (f.name,), {**kw, "nargs": "+" if _is_sequence(tp) else None, "type": item, "help": meta.get("help")}
    if f.default is not dataclasses.MISSING:
        default = f.default
    elif f.default_factory is not dataclasses.MISSING:
        default = f.default_factory()
    else:
        default, kw["required"] = None, True
    kw.update(dest=f.name, default=default, help=_help(meta.get("help", ""), default))
    if tp is bool:
        kw.update(action=argparse.BooleanOptionalAction, help=meta.get("help", ""))
    elif _is_sequence(tp):
        kw["default"] = None if default is None else list(default)  # `--flag a b` and `--flag a --flag b`: [a, b]
        kw.update(type=item, **({"action": "append"} if meta.get("repeat") else {"nargs": "+", "action": "extend"}))
    elif "const" in meta:
        kw.update(type=tp, nargs="?", const=meta["const"])
    else:
        kw["type"] = tp
    return _flags(f), kw


def add_config_args(parser: argparse.ArgumentParser, cls: type, skip: tuple[str, ...] = (),
                    groups: dict[str, str] | None = None) -> None:
    """Add one option per field of the dataclass ``cls``; ``groups``: a description per group title."""
    hints = typing.get_type_hints(cls)
    sections: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.name in skip:
            continue
        target = parser
        title = f.metadata.get("group")
        if title is not None:
            if title not in sections:
                sections[title] = parser.add_argument_group(title, (groups or {}).get(title))
            target = sections[title]
        names, kw = _argument(f, _base_type(hints[f.name]))
        target.add_argument(*names, **kw)


def config_from_args(cls: type[T], args: argparse.Namespace, **overrides: Any) -> T:
    values = {f.name: getattr(args, f.name) for f in dataclasses.fields(cls) if hasattr(args, f.name)}
    values.update(overrides)
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if isinstance(values.get(f.name), list) and typing.get_origin(_base_type(hints[f.name])) is tuple:
            values[f.name] = tuple(values[f.name])
    return cls(**values)  # type: ignore[call-arg]


def config_to_argv(cfg: Any) -> list[str]:
    """The command-line arguments that give back ``cfg`` (a dataclass instance) with :func:`config_from_args`."""
    argv: list[str] = []
    hints = typing.get_type_hints(type(cfg))
    for f in dataclasses.fields(cfg):
        value, flag = getattr(cfg, f.name), _flags(f)[-1]
        if f.metadata.get("positional"):
            argv = [*map(str, value if isinstance(value, (list, tuple)) else [value]), *argv]
        elif _base_type(hints[f.name]) is bool:
            argv.append(flag if value else "--no-" + flag[2:])
        elif value is None:
            continue
        elif isinstance(value, (list, tuple)):
            argv += [a for v in value for a in (flag, str(v))] if f.metadata.get("repeat") else \
                [flag, *map(str, value)] if value else []
        else:
            argv += [flag, str(value)]
    return argv
