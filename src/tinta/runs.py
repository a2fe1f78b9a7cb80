"""Run folders written by ``tinta train``, read through one typed schema, and model weights.

A run folder holds ``config.json`` (:class:`RunInfo`, written and read only through it: the
training configuration, the head, the model's construction arguments; first written by
:mod:`tinta.train.fit_heads` as soon as the head is fitted, for the other ranks of a distributed run
and for ``--resume``, then whole once the model exists), ``best.safetensors`` (the best weights so far),
``checkpoint/`` (the last epoch's weights, optimizer and state, committed as one unit: see
:mod:`tinta.train.checkpoint`), ``metrics.csv`` and, with ``tinta train --keep-epochs``, ``epochs/epoch-N.safetensors``
(each epoch's weights, fp16). Folders written by older versions (head
as ``task`` plus ``palette.json`` / ``bins.json``, or also in ``head.json``; checkpoint files at the top) still load.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn as nn
from safetensors.torch import load_file, save_file

from tinta.errors import TintaError
from tinta.files import atomic_write, not_a_file, read_json, write_json
from tinta.heads import Head, head_from_dict
from tinta.models import ColorizationModel, create_model
from tinta.prior import PRIOR_FILE, ColourIndex, PriorOptions, build_index


def save_weights(model: nn.Module, path: Path, half: bool = False, metadata: dict[str, str] | None = None) -> None:
    """The model's state dict as safetensors (fp16 with ``half``), written atomically."""
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    if half:
        state = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
    atomic_write(path, lambda tmp: save_file(state, str(tmp), metadata=metadata))


def load_weights(model: nn.Module, path: Path) -> None:
    """Load safetensors weights into ``model`` (any float dtype); TintaError if they do not fit."""
    if not Path(path).is_file():
        why = not_a_file(path)
        raise TintaError(f"{path}: checkpoint not found" if why == "no such file" else f"{path}: {why}")
    try:
        state = load_file(str(path))
    except Exception as e:
        raise TintaError(f"{path}: not a safetensors checkpoint ({e})") from None
    own = model.state_dict()
    state = {k: v.to(own[k].dtype) if k in own else v for k, v in state.items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise TintaError(f"{path}: weights do not fit this model (missing {missing[:3]}, unexpected {unexpected[:3]})")


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise TintaError("--device cuda: no CUDA device is available")
    return torch.device(name)


def _legacy_head(run_dir: Path, config: dict) -> dict:
    """The head description of a run folder written before heads were stored in config.json."""
    tc = config["train"]
    d = {"name": config["task"], "loss": tc.get("loss", "huber"), "temperature": tc.get("temperature"),
         "rebalance": tc.get("rebalance", True)}
    if config["task"] in ("bins", "palette"):
        d[config["task"]] = read_json(run_dir / f"{config['task']}.json")
    return d


CONFIG_FILE = "config.json"
EPOCHS = "epochs"  # tinta train --keep-epochs: each epoch's weights, epochs/epoch-N.safetensors
CONFIG_KEYS = frozenset({"train", "head", "task", "parameters", "pretrained_encoder", "data", "out_channels"})


@dataclass
class RunInfo:
    """``config.json`` of a run folder, typed."""

    architecture: str
    head: Head
    train: dict  # the TrainConfig as a dict
    width: int | None = None
    native_size: int | None = None  # short side the model trained at: its default render size
    parameters: int = 0
    pretrained_encoder: bool = False
    data: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)  # the rest of config.json (schedule, device, processes ...)

    @classmethod
    def create(cls, train: dict, head: Head, parameters: int = 0, pretrained_encoder: bool = False,
               data: dict | None = None, extra: dict | None = None) -> "RunInfo":
        """A run's info from what training knows; the architecture, width and native size come from
        ``train`` (and the training images' ``data["size"]``), as :meth:`read` finds them."""
        data = data or {}
        size = train.get("crop") or train.get("size") or (min(data["size"]) if data.get("size") else None)
        return cls(train["model"], head, train, train.get("width"), size, parameters, pretrained_encoder, data,
                   dict(extra or {}))

    @classmethod
    def from_dict(cls, c: dict, run_dir: str | Path) -> "RunInfo":
        """``config.json``'s contents ``c``; a folder written before heads were stored there also has its
        head's fitted part in ``run_dir``."""
        head = head_from_dict(c["head"] if isinstance(c.get("head"), dict) else _legacy_head(Path(run_dir), c))
        return cls.create(c["train"], head, c.get("parameters", 0), c.get("pretrained_encoder", False),
                          c.get("data", {}), {k: v for k, v in c.items() if k not in CONFIG_KEYS})

    @classmethod
    def read(cls, run_dir: str | Path) -> "RunInfo":
        run_dir = Path(run_dir)
        if not (run_dir / CONFIG_FILE).is_file():
            raise TintaError(f"{run_dir}: not a tinta run folder (no {CONFIG_FILE})")
        try:
            return cls.from_dict(read_json(run_dir / CONFIG_FILE), run_dir)
        except (KeyError, TypeError) as e:
            raise TintaError(f"{run_dir}/{CONFIG_FILE}: not a tinta run configuration (missing {e})") from None

    def to_dict(self) -> dict:
        """``config.json``: the other keys (schedule, device, processes ...) and the ones :meth:`read` knows
        (``task`` and ``out_channels`` for older readers)."""
        return {**self.extra, "train": self.train, "head": self.head.to_dict(), "task": self.head.name,
                "out_channels": self.head.out_channels, "parameters": self.parameters,
                "pretrained_encoder": self.pretrained_encoder, "data": self.data}

    def write(self, run_dir: str | Path) -> Path:
        """:meth:`to_dict` as ``run_dir/config.json`` (written atomically); returns its path."""
        return write_json(Path(run_dir) / CONFIG_FILE, self.to_dict())

    @property
    def roots(self) -> list[str]:
        """The data sources the run trained on (older runs: one path as a string)."""
        r = self.train.get("data_root") or []
        return [r] if isinstance(r, str) else list(r)

    def eval_root(self, override: str | None = None) -> str:
        """The data root to evaluate on: ``override``, else the run's only source."""
        if override:
            return override
        if len(self.roots) != 1:
            raise TintaError(f"this run trained on {len(self.roots)} data sources ({', '.join(self.roots)}); "
                             f"pass --data-root to say which one to evaluate on")
        return self.roots[0]

    def build_model(self, imagenet: bool = False) -> ColorizationModel:
        kw = {"width": self.width} if self.width else {}
        return create_model(self.architecture, self.head.out_channels, imagenet=imagenet, **kw)


LINK = "checkpoint"  # the run's committed checkpoint: a link to a hidden .checkpoint-EPOCH folder


def checkpoint_dir(run_dir: Path) -> Path | None:
    """The committed checkpoint folder of a run (a legacy run: the run folder itself), or None."""
    run_dir = Path(run_dir)
    if (run_dir / LINK / "state.json").is_file():
        return (run_dir / LINK).resolve()
    if (run_dir / "state.json").is_file():
        return run_dir
    return None


def read_state(run_dir: Path) -> dict | None:
    """The committed training state (epoch, best score, seconds) of a run, or None."""
    ck = checkpoint_dir(run_dir)
    return read_json(ck / "state.json") if ck else None


def weights_file(run_dir: Path, which: str) -> Path:
    """``best`` or ``last`` weights of a run (older folders kept ``last`` at the top)."""
    run_dir = Path(run_dir)
    ck = checkpoint_dir(run_dir)
    if which == "last" and ck is not None:
        return ck / "last.safetensors"
    return run_dir / f"{which}.safetensors"


def load_run(run_dir: str | Path, which: str = "best",
             device: str = "cpu") -> tuple[ColorizationModel, Head, RunInfo]:
    """(model in eval mode, head, run info) of a finished or interrupted run."""
    info = RunInfo.read(run_dir)
    model = info.build_model()
    load_weights(model, weights_file(Path(run_dir), which))
    if (Path(run_dir) / PRIOR_FILE).is_file() and model.takes_hints:
        model.prior = ColourIndex.load(Path(run_dir) / PRIOR_FILE)  # the run's retrieved colour prior
    return model.to(resolve_device(device)).eval(), info.head, info


def index_run(run_dir: str | Path, opts: PriorOptions) -> Path:
    """Build the retrieved colour prior of a hint-taking run (:mod:`tinta.prior`) from the ``train`` split of
    ``opts.data_root`` into ``<run_dir>/prior.safetensors``; returns its path."""
    from tinta.data import load_dataset
    from tinta.data.base import concat_sets

    model, _, info = load_run(run_dir)
    if not model.takes_hints:
        raise TintaError(f"{run_dir}: a colour index is built for a hint-taking model (guided-unet), "
                         f"not {info.architecture}")
    model.prior = None  # keys are the encoder's own features, whatever index the run had
    sets = [load_dataset(opts.dataset, root, "train", size=opts.size or info.native_size) for root in opts.data_root]
    index = build_index(model, concat_sets(sets, "train"), opts.count, opts.k)
    index.save(Path(run_dir) / PRIOR_FILE)
    return Path(run_dir) / PRIOR_FILE
