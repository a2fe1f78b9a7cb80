"""Training configuration: one frozen dataclass; each field's help becomes a ``tinta train`` option."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from tinta.data import DATASETS
from tinta.errors import TintaError
from tinta.heads import DEFAULT_TEMPERATURE, HEADS
from tinta.heads.joint import DEFAULT_BINS_WEIGHT
from tinta.heads.regression import LOSSES
from tinta.models import architecture


@dataclass(frozen=True)
class TrainConfig:
    model: str = field(default="seed-cnn", metadata={"help": "architecture (see `tinta models`)"})
    dataset: str = field(default="cifar10", metadata={"help": "data set kind", "choices": tuple(DATASETS)})
    data_root: tuple[str, ...] = field(default=(), metadata={
        "help": "data set path (archive, folder or npy folder); repeat it to train on several sources at once"})
    source_weight: tuple[float, ...] = field(default=(), metadata={
        "help": "one per --data-root, in order: an epoch takes each source's training images this many times "
                "(0.5: an evenly spread half; 2: each image twice); default 1 for every source"})
    classes: tuple[str, ...] = field(default=(), metadata={"help": "class names or indices to keep (default: all)"})
    out: str = field(default="runs/default", metadata={"help": "run folder: checkpoints, config, metrics"})
    width: int | None = field(default=None, metadata={"help": "model channel width (default: the model's own)"})
    head: str = field(default="auto", metadata={"help": "what is predicted per pixel: palette colour index, "
                                                "ab regression, or ab-bin classification (Zhang et al. 2016); "
                                                "auto = palette for seed-cnn/small-unet, regression otherwise",
                                                "choices": ("auto", *HEADS)})
    bins: str = field(default="grid", metadata={"help": "bins head: 'grid' (size-10 ab grid, bins the training "
                                                "data uses) or a palette JSON whose colours' a,b are the bins"})
    bin_sigma: float = field(default=5.0, metadata={"help": "bins head: Gaussian sigma of the soft encoding "
                                                     "(ab units)"})
    bin_lambda: float = field(default=0.5, metadata={"help": "bins head: rebalancing mix with uniform "
                                                      "(0 = full rebalancing)"})
    rebalance: bool = field(default=True, metadata={"help": "bins head: weight pixels by class rebalancing"})
    bins_weight: float = field(default=DEFAULT_BINS_WEIGHT, metadata={
        "help": "joint head: weight of the bins loss beside the regression loss"})
    bins_stride: int = field(default=4, metadata={
        "help": "bins, joint and chroma heads on the LAB models (unet, resnet, vanilla-cnn ...): train the colour "
                "classes at 1/4 of the input size (4: from 2x2-pooled decoder features, as Zhang et al. do; the "
                "same weights, a 1.5x faster step) or at 1/2 (2). Other heads and models, and NoGAN's adversarial "
                "phase (the critic sees the whole output), train every output at the model's output size",
        "choices": (2, 4)})
    chroma_weight: float = field(default=1.0, metadata={
        "help": "chroma head: weight of the L1 loss of its chroma channel (|ab| / 110)"})
    chroma_target: str = field(default="length", metadata={
        "help": "chroma head: what its chroma channel learns: the truth's |ab|, or its projection on the predicted "
                "hue (short where that hue is wrong)", "choices": ("length", "projection")})
    perceptual_weight: float = field(default=0.05, metadata={
        "help": "perceptual head: weight of the frozen-Lite0 feature loss beside L1"})
    colourfulness_weight: float = field(default=0.5, metadata={
        "help": "perceptual head: weight of the colourfulness hinge (output less colourful than the truth)"})
    prior: str | None = field(default=None, metadata={
        "help": "hint-taking models: a colour index (`tinta prior`) filling the global hint of training pictures "
                "given none (their nearest photo left out); copied into the run, which then colourizes with it"})
    init_from: str | None = field(default=None, metadata={
        "help": "start from this run's best weights (tensors that fit; a head with more outputs keeps the "
                "run's first ones)"})
    temperature: float = field(default=DEFAULT_TEMPERATURE, metadata={"help": "bins head: annealed-mean "
                                                                      "temperature for validation"})
    palette: str | None = field(default=None, metadata={"help": "palette JSON (palette head); fitted on the "
                                                           "train+test pixels of --classes if not given"})
    k: int = field(default=24, metadata={"help": "palette size when the palette is fitted on the fly"})
    size: int | None = field(default=None, metadata={"help": "resize short side + centre crop on load (folder data)"})
    crop: int | None = field(default=None, metadata={"help": "random training crop (evaluation uses full images)"})
    flip: bool = field(default=True, metadata={"help": "random horizontal flips"})
    epochs: int = field(default=10, metadata={"help": "training epochs"})
    batch_size: int = field(default=64, metadata={"help": "images per optimisation step"})
    lr: float = field(default=1e-3, metadata={"help": "Adam learning rate (decoder / whole model)"})
    schedule: str = field(default="cosine", metadata={"help": "learning-rate schedule over all steps",
                                                      "choices": ("cosine", "constant")})
    weight_decay: float = field(default=0.0, metadata={"help": "AdamW weight decay"})
    loss: str = field(default="huber", metadata={"help": "regression loss on ab/110", "choices": LOSSES})
    freeze_epochs: int = field(default=1, metadata={"help": "epochs a pretrained encoder stays frozen (warm-up)"})
    encoder_lr_mult: float = field(default=0.1, metadata={"help": "pretrained encoder lr = lr x this after warm-up"})
    val_fraction: float = field(default=0.1, metadata={"help": "part of the train split held out for validation"})
    max_train: int | None = field(default=None, metadata={"help": "use at most this many training images"})
    max_val: int | None = field(default=None, metadata={"help": "use at most this many validation images"})
    seed: int = field(default=0, metadata={"help": "seed for initialisation, shuffling and augmentation"})
    threads: int | None = field(default=None, metadata={"help": "torch CPU threads (default: torch's choice)"})
    device: str = field(default="auto", metadata={"help": "auto, cpu, cuda or mps"})
    amp: str = field(default="auto", metadata={
        "help": "mixed precision: auto = bf16 while a pretrained encoder is frozen (1.5x faster there on a CPU, the "
                "same colours in an A/B: docs/colour-long-run.md), full precision once it trains; bf16 (CPU/CUDA) "
                "or fp16 (CUDA) throughout; off", "choices": ("auto", "off", "bf16", "fp16")})
    channels_last: bool = field(default=True, metadata={"help": "channels-last memory format (faster convolutions "
                                                         "on CPU and GPU)"})
    adversarial: float = field(default=0.0, metadata={
        "help": "NoGAN: weight of the adversarial loss; > 0 pretrains a critic on the --init-from model's colours, "
                "then trains against it for --max-train images with a snapshot every --snapshot-every"})
    critic_images: int = field(default=4000, metadata={"help": "NoGAN: images of critic pretraining"})
    snapshot_every: int = field(default=2000, metadata={"help": "NoGAN: images between snapshots"})
    compile: bool = field(default=False, metadata={"help": "torch.compile the model"})
    keep_epochs: bool = field(default=False, metadata={
        "help": "also keep each epoch's weights (fp16) as epochs/epoch-N.safetensors in --out: a long run's "
                "curve is scored from them (scripts/epoch_curve.py)"})
    resume: bool = field(default=False, metadata={"help": "continue the run in --out from its last checkpoint"})

    def __post_init__(self):
        checks = [("epochs", self.epochs >= 1, "at least 1"), ("batch-size", self.batch_size >= 1, "at least 1"),
                  ("lr", math.isfinite(self.lr) and self.lr > 0, "a positive number"),
                  ("encoder-lr-mult", math.isfinite(self.encoder_lr_mult) and self.encoder_lr_mult >= 0, ">= 0"),
                  ("weight-decay", math.isfinite(self.weight_decay) and self.weight_decay >= 0, ">= 0"),
                  ("temperature", math.isfinite(self.temperature) and self.temperature > 0, "a positive number"),
                  ("val-fraction", 0 < self.val_fraction < 1, "between 0 and 1"),
                  ("freeze-epochs", self.freeze_epochs >= 0, ">= 0"), ("k", self.k >= 2, "at least 2"),
                  ("size", self.size is None or 8 <= self.size <= 4096, "between 8 and 4096"),
                  ("crop", self.crop is None or self.crop >= 8, "at least 8"),
                  ("threads", self.threads is None or self.threads >= 1, "at least 1"),
                  ("adversarial", math.isfinite(self.adversarial) and self.adversarial >= 0, ">= 0"),
                  ("critic-images", self.critic_images >= 1, "at least 1"),
                  ("snapshot-every", self.snapshot_every >= 1, "at least 1"),
                  ("bins-stride", self.bins_stride in (2, 4), "2 or 4")]
        for name, ok, want in checks:
            if not ok:
                raise TintaError(f"--{name} must be {want}, got {getattr(self, name.replace('-', '_'))}")
        if self.keep_epochs and self.adversarial:
            raise TintaError("--keep-epochs keeps a supervised run's epochs; NoGAN (--adversarial) keeps its "
                             "snapshots every --snapshot-every images instead")
        if self.source_weight and len(self.source_weight) != len(self.roots):
            raise TintaError(f"--source-weight takes one weight per --data-root: {len(self.source_weight)} "
                             f"weights for {len(self.roots)} sources")
        if not all(math.isfinite(w) and w > 0 for w in self.source_weight):
            raise TintaError(f"--source-weight must be positive numbers, got {list(self.source_weight)}")
        for name in ("max_train", "max_val", "width"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise TintaError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(self, name)}")

    @property
    def resolved_head(self) -> str:
        return architecture(self.model).default_head if self.head == "auto" else self.head

    @property
    def roots(self) -> tuple[str, ...]:
        return (self.data_root,) if isinstance(self.data_root, str) else tuple(self.data_root)

    def model_kwargs(self) -> dict:
        return {"width": self.width} if self.width else {}

    def to_dict(self) -> dict:
        return asdict(self)
