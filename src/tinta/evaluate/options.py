"""The options of ``tinta evaluate`` and ``tinta compare``: frozen dataclasses whose field help is the
command-line help (:mod:`tinta.cli.args` builds the parsers). Importing this module loads no torch."""

from __future__ import annotations

from dataclasses import dataclass, field

from tinta.errors import TintaError

WEIGHTS = ("best", "last")


# The options evaluating and comparing share, declared once: each is a field of both dataclasses.
def _data_root():
    return field(default=None, metadata={"help": "data set path (default: the one each run trained on)"})


def _size():
    return field(default=None, metadata={
        "help": "resize the images to this short side and centre-crop (default: as they are)"})


def _render_size():
    return field(default=None, metadata={
        "help": "short side the model runs at, its output upsampled to the full image (default: the size the "
                "run trained at; 0: the full image)"})


def _temperatures():
    return field(default=None, metadata={
        "help": "bins models: annealed-mean temperatures to decode at (default: the run's own)"})


def _max_images():
    return field(default=None, metadata={"help": "score N images evenly spaced over the split (default: all)"})


def _judge():
    return field(default=True, metadata={
        "help": "the semantic judge (ImageNet EfficientNet-Lite2): `agree`, the share of images it classifies as "
                "it does the original, and on WordNet-id classes `judge_top1`; --no-judge skips it (faster)"})


def _check_scoring(options) -> None:
    """The checks of the shared options (a TintaError names the first bad one)."""
    from tinta.inference import check_render_size

    check_render_size(options.render_size)
    if options.size is not None and options.size < 0:
        raise TintaError(f"--size must be >= 0, got {options.size}")
    if options.max_images is not None and options.max_images < 1:
        raise TintaError(f"--max-images must be at least 1, got {options.max_images}")
    if options.temperatures is not None:
        object.__setattr__(options, "temperatures", tuple(options.temperatures))
        if not options.temperatures or not all(t > 0 for t in options.temperatures):
            raise TintaError(f"--temperatures must be positive numbers, got {list(options.temperatures)}")


@dataclass(frozen=True, kw_only=True)
class EvaluateOptions:
    """``tinta evaluate``: score one run on a held-out split (:func:`tinta.evaluate.evaluate.evaluate_run`)."""

    run_dir: str = field(metadata={"help": "run folder written by `tinta train`", "flags": ("--run",)})
    split: str = field(default="test", metadata={"help": "split to score (cifar10: test; imagenette: val)"})
    data_root: str | None = _data_root()
    weights: str = field(default="best", metadata={
        "help": "which weights of the run: best (lowest validation loss) or last (the latest epoch); "
                "--checkpoint is its old name here (elsewhere --checkpoint names a run folder)",
        "choices": WEIGHTS, "flags": ("--weights", "--checkpoint")})
    batch_size: int = field(default=64, metadata={"help": "images per forward pass"})
    max_images: int | None = _max_images()
    size: int | None = _size()
    render_size: int | None = _render_size()
    temperatures: tuple[float, ...] | None = _temperatures()
    semantic: bool = field(default=True, metadata={
        "help": "the ImageNet top-1 test (run by default on WordNet-id classes such as Imagenette)"})
    judge: bool = _judge()

    def __post_init__(self):
        _check_scoring(self)
        if self.weights not in WEIGHTS:
            raise TintaError(f"weights must be one of {', '.join(WEIGHTS)}, got {self.weights!r}")
        if self.batch_size < 1:
            raise TintaError(f"--batch-size must be at least 1, got {self.batch_size}")

    def evaluate(self, log=None) -> dict:
        """:func:`~tinta.evaluate.evaluate.evaluate_run` with these options -> its report."""
        from tinta.evaluate.evaluate import evaluate_run

        return evaluate_run(self.run_dir, split=self.split, data_root=self.data_root, which=self.weights,
                            batch_size=self.batch_size, max_images=self.max_images, render_size=self.render_size,
                            size=self.size, temperatures=self.temperatures, semantic=self.semantic,
                            judge=self.judge, log=log)


@dataclass(frozen=True, kw_only=True)
class CompareOptions:
    """``tinta compare``: runs against a baseline on one split (:func:`tinta.evaluate.compare.compare`)."""

    runs: tuple[str, ...] = field(metadata={"help": "run folders", "positional": True})
    baseline: str = field(metadata={"help": "the run the others are compared against"})
    out: str = field(metadata={"help": "report folder"})
    split: str = field(default="val", metadata={"help": "split to compare on"})
    data_root: str | None = _data_root()
    size: int | None = _size()
    render_size: int | None = _render_size()
    temperatures: tuple[float, ...] | None = _temperatures()
    judge: bool = _judge()
    ssim: bool = field(default=True, metadata={
        "help": "SSIM (float64, most of an evaluation's time on a CPU); --no-ssim skips it (faster)"})
    grid_images: int = field(default=8, metadata={"help": "images in the picture grid"})
    max_images: int | None = _max_images()

    def __post_init__(self):
        _check_scoring(self)
        if self.grid_images < 1:
            raise TintaError(f"--grid-images must be at least 1, got {self.grid_images}")

    def compare(self) -> dict:
        """:func:`~tinta.evaluate.compare.compare` of ``runs`` (folders, or names under ``out``) -> its summary."""
        from tinta.evaluate.compare import compare, resolve_runs

        runs = resolve_runs(list(self.runs), self.out)
        (baseline,) = resolve_runs([self.baseline], self.out)
        return compare(runs, baseline, self.out, split=self.split, data_root=self.data_root,
                       render_size=self.render_size, size=self.size, temperatures=self.temperatures,
                       max_images=self.max_images, grid_images=self.grid_images, judge=self.judge, ssim=self.ssim)
