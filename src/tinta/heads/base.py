"""What a model predicts per pixel and how that becomes colour: the :class:`Head`.

A head knows the number of output channels, the training targets and loss, how
outputs decode to a,b (:meth:`Head.predict`), how it is built for a training run
(:meth:`Head.for_training`), and how it is written to and read from JSON
(:meth:`Head.to_dict` / :func:`head_from_dict`). Everything else in tinta (training,
inference, evaluation, ONNX, shipped weights) goes through this interface; nothing outside
``tinta.heads`` asks which head it holds.
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import torch

from tinta.errors import TintaError

if TYPE_CHECKING:
    from tinta.data.base import ImageSet

MAX_SATURATION = 4.0
NETWORK_OPTIONS = ("bins", "palette")  # head options a trained network's output layer is fixed to


@dataclass(frozen=True)
class Decoding:
    """One way of turning a head's output into colour; ``label`` names it in reports."""

    label: str
    temperature: float | None = None  # bins: annealed-mean temperature
    own_lightness: bool = False  # palette: paint the palette colour's own L as well as its a,b


def check_saturation(saturation: float) -> float:
    """``saturation`` as a float in [0, MAX_SATURATION]; TintaError otherwise (NaN, inf, < 0, too big).
    0 gives grey, 1 the colours as predicted, above 1 more vivid ones."""
    try:
        s = float(saturation)
    except (TypeError, ValueError):
        raise TintaError(f"saturation must be a number, got {saturation!r}") from None
    if not math.isfinite(s) or not 0.0 <= s <= MAX_SATURATION:
        raise TintaError(f"saturation must be between 0 and {MAX_SATURATION:g}, got {saturation}")
    return s


class Head:
    """Base of the heads. Subclasses set ``name`` and ``out_channels`` and implement the methods."""

    name: ClassVar[str] = ""
    # heads whose description (and a run's weights) can start this one with --init-from (e.g. its outputs
    # begin with theirs)
    grows_from: ClassVar[tuple[str, ...]] = ()
    out_channels: int
    # Decode (and train) at the model's own output resolution (H/2 for the LAB models) instead of
    # the render size: for heads with many channels, upsampling logits costs far more than a,b.
    native_resolution: ClassVar[bool] = False
    # channels from this one on may be trained from 2x2-pooled features (a PooledOutput of
    # tinta.models.base, ``tinta train --bins-stride 4``); None: every channel at the output's size
    pooled_from: ClassVar[int | None] = None

    def targets(self, rgb8: torch.Tensor, lab: torch.Tensor) -> torch.Tensor:
        """uint8 sRGB ``(B, 3, H, W)`` and Lab ``(B, 3, H, W)`` -> what :meth:`loss` compares with."""
        raise NotImplementedError

    def loss(self, out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    @property
    def decodings(self) -> tuple[Decoding, ...]:
        """The decodings an evaluation reports, the main one first."""
        return (self.main,)

    @property
    def main(self) -> Decoding:
        """The decoding the model is used with (``tinta colorize``, the API, validation)."""
        raise NotImplementedError

    def predict(self, out: torch.Tensor, decoding: Decoding | None = None, saturation: float = 1.0) -> torch.Tensor:
        """Model output ``(B, C, h, w)`` -> a,b ``(B, 2, h, w)`` in Lab units; or, for a decoding
        with ``own_lightness``, Lab ``(B, 3, h, w)``. ``saturation`` in [0, 4] scales the chroma."""
        raise NotImplementedError

    @property
    def pooled_channels(self) -> tuple[int, int] | None:
        """Output channels ``[i, j)`` this head decodes from 2x2-pooled logits, which inference may then have
        the model compute from 2x2-pooled features (:attr:`tinta.models.ColorizationModel.eval_pooled`): the
        same numbers (the output layer is 1x1) for a quarter of the work. None: every channel at full size."""
        return None

    def colour_distribution(self, out: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor] | None:
        """Model output ``(B, C, h, w)`` -> (logits over colours ``(B, Q, h, w)``, their a,b ``(Q, 2)``) for a head
        that predicts a distribution over colours (the web page's colour suggestions); None for a head that
        predicts one colour per pixel."""
        return None

    def batch_stats(self, out: torch.Tensor, target: torch.Tensor) -> dict[str, float]:
        """Extra sums for validation (e.g. correct pixels of a classifier)."""
        return {}

    def references(self, rgb8: torch.Tensor) -> dict[str, torch.Tensor]:
        """Reference rows an evaluation adds for this head (e.g. the ground truth snapped to a
        palette: the ceiling of a palette model), as uint8 sRGB ``(B, 3, H, W)``."""
        return {}

    def with_temperatures(self, temperatures: tuple[float, ...]) -> "Head":
        """The same head reporting the given annealed-mean temperatures (heads without one: itself)."""
        return self

    def with_options(self, options: dict) -> "Head":
        """This head with some of its options changed (e.g. ``{"mix": 0}``: how a chroma head decodes), for the same
        network: TintaError for an option this head has not, one it does not keep, or its colour classes (ab bins,
        a palette), which are the network's."""
        if fixed := sorted(set(options) & set(NETWORK_OPTIONS)):
            raise TintaError(f"the {self.name} head's {', '.join(fixed)} belong to its network; they cannot change")
        if unknown := sorted(set(options) - set(inspect.signature(type(self)).parameters)):
            raise TintaError(f"the {self.name} head has no option {', '.join(unknown)}")
        head = head_from_dict({**self.to_dict(), **options})
        kept = head.to_dict()
        if lost := sorted(k for k, v in options.items() if kept.get(k) != v):
            raise TintaError(f"the {self.name} head does not keep {', '.join(f'{k}={options[k]!r}' for k in lost)}")
        return head

    def to_dict(self) -> dict:
        raise NotImplementedError

    @classmethod
    def from_dict(cls, d: dict) -> "Head":
        raise NotImplementedError

    @classmethod
    def for_training(cls, cfg, data: "ImageSet") -> "Head":
        """A new head for a training run: its options read from ``cfg`` (the training configuration,
        :class:`tinta.train.config.TrainConfig`, read by attribute: heads never import training), fitted
        where it needs fitting (ab bins on the training images ``data``; a palette on its data source's
        train and test pixels, as the first founding document does). Every head defines it."""
        raise TintaError(f"the {cls.name or cls.__name__} head cannot be trained: it defines no for_training")


HEADS: dict[str, type[Head]] = {}


def register_head(cls: type[Head]) -> type[Head]:
    HEADS[cls.name] = cls
    return cls


def head_class(name: str) -> type[Head]:
    """The registered head class called ``name``; TintaError naming the known ones otherwise."""
    if name not in HEADS:
        raise TintaError(f"unknown head {name!r}; known: {', '.join(sorted(HEADS))}")
    return HEADS[name]


def head_from_dict(d: dict) -> Head:
    """The head described by ``d`` (from :meth:`Head.to_dict`; older files name it ``task``)."""
    name = d.get("name", d.get("task"))
    cls = head_class(name)
    try:
        return cls.from_dict(d)
    except (KeyError, TypeError, ValueError) as e:
        raise TintaError(f"invalid {name} head description ({e.__class__.__name__}: {e})") from None
