"""A tiny model registry (timm style): each architecture is a factory registered by name.

Every model maps normalised lightness ``L / 100`` of shape ``(B, 1, H, W)`` to
``(B, C, H, W)``: ``C = 2`` normalised a,b for regression models, ``C = K`` logits
for per-pixel classification over a palette or ab bins.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch.nn as nn

from tinta.errors import TintaError


@dataclass(frozen=True)
class Architecture:
    factory: Callable[..., nn.Module]
    description: str
    default_head: str = "regression"  # what `tinta train --head auto` trains
    imagenet_encoder: bool = False  # takes ``imagenet=``: load ImageNet encoder weights when built for training


_REGISTRY: dict[str, Architecture] = {}


def register(name: str, description: str, default_head: str = "regression", imagenet_encoder: bool = False):
    def deco(fn: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        _REGISTRY[name] = Architecture(fn, description, default_head, imagenet_encoder)
        return fn

    return deco


def architecture(name: str) -> Architecture:
    if name not in _REGISTRY:
        raise TintaError(f"unknown model {name!r}; choose from: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name]


def list_architectures() -> dict[str, str]:
    return {name: a.description for name, a in _REGISTRY.items()}


def create_model(name: str, out_channels: int, imagenet: bool = True, **kwargs) -> nn.Module:
    """Build architecture ``name`` with ``out_channels`` outputs per pixel. ``imagenet=False``
    skips loading ImageNet encoder weights (the model's own weights are loaded next)."""
    arch = architecture(name)
    if arch.imagenet_encoder:
        kwargs["imagenet"] = imagenet
    return arch.factory(out_channels=out_channels, **kwargs)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


from tinta.models import context, guided, lab, small  # noqa: E402,F401  (registers the architectures)
