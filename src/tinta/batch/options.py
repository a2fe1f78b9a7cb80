"""How a batch is colourized: :class:`ColorizeOptions`, the options of ``tinta colorize`` and of
:func:`tinta.batch.colorize_files` alike (each field's help is its command-line option's help).
Importing it loads no torch: ``tinta colorize --help`` is built from it."""

from __future__ import annotations

from dataclasses import dataclass, field

from tinta.errors import TintaError
from tinta.imageio import FORMATS
from tinta.video import CONTAINERS

BACKENDS = ("torch", "onnx")
GROUPS = {  # the argument groups of `tinta colorize --help`
    "Ray cluster": "colourize on a Ray cluster (pip install 'tinta[ray]'; docs/ray.md)",
    "colour hints": "steer the colours (point hints need a hint-taking model: --model guided)",
}


@dataclass(frozen=True, kw_only=True)
class ColorizeOptions:
    """Everything about a ``tinta colorize`` run but its inputs and output folder."""

    model: str = field(default="default", metadata={
        "help": "shipped weights name (see `tinta models`) or a run folder"})
    checkpoint: str | None = field(default=None, metadata={
        "help": "a run folder to use instead of --model (its best weights)", "metavar": "RUN"})
    saturation: float = field(default=1.0, metadata={"help": "chroma gain, 0 to 4 (1.0 = as predicted)"})
    render_size: int | None = field(default=None, metadata={
        "help": "short side the model sees (default: the model's own; 0: the full picture)"})
    format: str | None = field(default=None, metadata={
        "help": "output format (default: the input's); a picture format applies to pictures, a video container "
                "to videos", "choices": (*FORMATS, *CONTAINERS)})
    stabilize: bool = field(default=True, metadata={
        "help": "videos: keep colours steady along the motion (--no-stabilize: colourize every frame on its own)"})
    backend: str = field(default="torch", metadata={"help": "inference engine", "choices": BACKENDS})
    onnx: str | None = field(default=None, metadata={
        "help": "ONNX file for --backend onnx (its own metadata names the head; default: export --model to a "
                "temporary file)"})
    shard: str | None = field(default=None, metadata={
        "help": "process only shard I of N (0-based; default: torchrun's RANK/WORLD_SIZE, else all)", "metavar": "I/N"})
    skip_existing: bool = field(default=False, metadata={
        "help": "leave outputs that already exist (resume a batch)"})
    summary: str | None = field(default=None, metadata={
        "help": "also write the summary as JSON here", "metavar": "FILE.json"})
    threads: int | None = field(default=None, metadata={
        "help": "torch threads of each process (default: torch's own here; 1 per Ray worker)"})
    ray: str | None = field(default=None, metadata={
        "help": "run on Ray: auto (the cluster this machine belongs to, RAY_ADDRESS; the default), local (start "
                "one here), or HOST:PORT / ray://HOST:PORT; every input and output path must be the same on every "
                "node (a shared file system)", "const": "auto", "metavar": "ADDRESS", "group": "Ray cluster"})
    actors: int | None = field(default=None, metadata={
        "help": "most Ray workers (each keeps the model loaded and reserves --threads CPUs; default: as many as "
                "the cluster's CPUs allow)", "group": "Ray cluster"})
    chunk: int = field(default=8, metadata={
        "help": "pictures per Ray task (a video is a task of its own); larger on big clusters: docs/ray.md",
        "group": "Ray cluster"})
    hint: tuple[str, ...] = field(default=(), metadata={
        "help": "pixel X,Y of the input (after EXIF rotation) is this colour (its lightness is ignored); repeat "
                "for more hints", "repeat": True, "metavar": "X,Y=#RRGGBB", "group": "colour hints"})
    hints: str | None = field(default=None, metadata={
        "help": 'hints from a JSON list ([{"x": 120, "y": 80, "color": "#c03020"}, ...]) or a summary',
        "metavar": "FILE.json", "group": "colour hints"})
    reference: str | None = field(default=None, metadata={
        "help": "follow the colours of this photo", "metavar": "PICTURE", "group": "colour hints"})
    palette: str | None = field(default=None, metadata={
        "help": "follow these colours", "metavar": "'#RRGGBB,...'", "group": "colour hints"})

    def __post_init__(self):
        from tinta.heads import check_saturation
        from tinta.inference import check_render_size

        object.__setattr__(self, "saturation", check_saturation(self.saturation))
        object.__setattr__(self, "render_size", check_render_size(self.render_size))
        object.__setattr__(self, "hint", tuple(self.hint))
        for name, value in (("threads", self.threads), ("actors", self.actors), ("chunk", self.chunk)):
            if value is not None and value < 1:
                raise TintaError(f"--{name} must be at least 1, got {value}")
        if self.format is not None and self.format not in (*FORMATS, *CONTAINERS):
            raise TintaError(f"format {self.format!r} is none tinta writes ({', '.join([*FORMATS, *CONTAINERS])})")
        if self.backend not in BACKENDS:
            raise TintaError(f"backend must be one of {', '.join(BACKENDS)}, got {self.backend!r}")
        if self.onnx is not None and self.backend != "onnx":
            raise TintaError(f"--onnx {self.onnx} is the model of --backend onnx; add --backend onnx")

    @property
    def model_name(self) -> str:
        """The model to load: ``checkpoint`` (a run folder) when given, else ``model``."""
        return self.checkpoint or self.model

    def read_hints(self) -> list:
        """``hints`` (a file) then every ``hint``, parsed (a TintaError names a bad one; at most MAX_HINTS)."""
        from tinta.hints import as_hints, read_hints

        return as_hints([*(read_hints(self.hints) if self.hints is not None else []), *self.hint])

    def read_palette(self) -> list | None:
        """``palette`` by the library's one rule (text naming no colour is refused); None when not given."""
        from tinta.hints import parse_palette

        return None if self.palette is None else parse_palette(self.palette)

    def guide_record(self, hints: list) -> dict:
        """What the summary records of the hints used (``--hints`` reads them back)."""
        out = {"hints": [h.to_json() for h in hints]} if hints else {}
        if self.reference:
            out["reference"] = str(self.reference)
        if self.palette:
            out["palette"] = self.palette
        return out
