"""Models: a tiny registry of architectures (timm style), each a factory registered by name.

Every model is a :class:`ColorizationModel` and maps normalised lightness ``L / 100`` of shape
``(B, 1, H, W)`` to ``(B, C, H, W)``: ``C = 2`` normalised a,b for regression models, ``C = K``
logits for per-pixel classification over a palette or ab bins. The registry lives in
:mod:`tinta.models.registry`; the model modules register themselves there and are imported here.
"""

from tinta.models import context, guided, lab, small  # noqa: F401  (registers the architectures)
from tinta.models.base import ColorizationModel
from tinta.models.registry import (
    Architecture,
    architecture,
    count_parameters,
    create_model,
    list_architectures,
    register,
)

__all__ = ["Architecture", "ColorizationModel", "architecture", "count_parameters", "create_model",
           "list_architectures", "register"]
