"""The model registry (timm style): each architecture is a factory registered by name."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch.nn as nn

from tinta.errors import TintaError
from tinta.models.base import ColorizationModel


@dataclass(frozen=True)
class Architecture:
    factory: Callable[..., ColorizationModel]
    description: str
    default_head: str = "regression"  # what `tinta train --head auto` trains
    imagenet_encoder: bool = False  # takes ``imagenet=``: load ImageNet encoder weights when built for training


_REGISTRY: dict[str, Architecture] = {}


def register(name: str, description: str, default_head: str = "regression", imagenet_encoder: bool = False):
    def deco(fn: Callable[..., ColorizationModel]) -> Callable[..., ColorizationModel]:
        _REGISTRY[name] = Architecture(fn, description, default_head, imagenet_encoder)
        return fn

    return deco


def architecture(name: str) -> Architecture:
    if name not in _REGISTRY:
        raise TintaError(f"unknown model {name!r}; choose from: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name]


def list_architectures() -> dict[str, str]:
    return {name: a.description for name, a in _REGISTRY.items()}


def create_model(name: str, out_channels: int, imagenet: bool = True, **kwargs) -> ColorizationModel:
    """Build architecture ``name`` with ``out_channels`` outputs per pixel. ``imagenet=False``
    skips loading ImageNet encoder weights (the model's own weights are loaded next)."""
    arch = architecture(name)
    if arch.imagenet_encoder:
        kwargs["imagenet"] = imagenet
    model = arch.factory(out_channels=out_channels, **kwargs)
    if not isinstance(model, ColorizationModel):
        raise TypeError(f"the factory of model {name!r} built a {type(model).__name__}, not a ColorizationModel")
    return model


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
