"""Heads: what a model predicts per pixel, its loss, and how its output becomes a,b.

    from tinta.heads import head_from_dict
    head = head_from_dict({"name": "regression", "loss": "huber"})
    ab = head.predict(model(x), head.main, saturation=1.2)

``HEADS`` maps a name (``regression``, ``perceptual``, ``palette``, ``bins``, ``joint``, ``chroma``) to its class
(:func:`head_class`: unknown names raise); add a head by subclassing :class:`Head` in a module here
(``for_training`` included), decorating it with :func:`register_head` and importing it below.
"""

from tinta.heads.base import (
    HEADS,
    MAX_SATURATION,
    Decoding,
    Head,
    check_saturation,
    head_class,
    head_from_dict,
    register_head,
)
from tinta.heads.bins import DEFAULT_TEMPERATURE, ABBins, BinsHead
from tinta.heads.chroma import ChromaHead
from tinta.heads.joint import JointHead
from tinta.heads.palette import PaletteHead
from tinta.heads.perceptual import PerceptualHead
from tinta.heads.regression import RegressionHead

__all__ = ["HEADS", "MAX_SATURATION", "DEFAULT_TEMPERATURE", "ABBins", "BinsHead", "ChromaHead", "Decoding", "Head",
           "JointHead", "PaletteHead", "PerceptualHead", "RegressionHead", "check_saturation", "head_class",
           "head_from_dict",
           "register_head"]
