"""A tiny model registry (timm style): each architecture is a factory registered by name.

Every model maps normalised lightness ``L / 100`` of shape ``(B, 1, H, W)`` to
``(B, C, H, W)``: ``C = 2`` normalised a,b for regression models, ``C = K`` logits
for per-pixel classification over a palette or ab bins.
"""

from __future__ import annotations

from typing import Callable

import torch.nn as nn

from tinta.errors import TintaError

_REGISTRY: dict[str, Callable[..., nn.Module]] = {}
_DESCRIPTIONS: dict[str, str] = {}


def register(name: str, description: str):
    def deco(fn: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        _REGISTRY[name] = fn
        _DESCRIPTIONS[name] = description
        return fn

    return deco


def _load_all() -> None:
    from tinta.models import lab_models, palette_models  # noqa: F401  (registers)


def list_architectures() -> dict[str, str]:
    _load_all()
    return dict(_DESCRIPTIONS)


def create_model(name: str, out_channels: int, **kwargs) -> nn.Module:
    """Build architecture ``name`` with ``out_channels`` outputs per pixel."""
    _load_all()
    if name not in _REGISTRY:
        raise TintaError(f"unknown model {name!r}; choose from: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name](out_channels=out_channels, **kwargs)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
