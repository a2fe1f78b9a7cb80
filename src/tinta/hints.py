"""Colour hints (Zhang et al. 2017, "Real-Time User-Guided Image Colorization with Learned Deep Priors").

*Point hints* say "this pixel is this colour": ``Hint(x, y, (r, g, b))`` in the input picture's pixel
coordinates (after EXIF rotation). Only the colour's a,b are used; its lightness is the picture's own.
A hint-taking model sees them as three planes beside L at its render size: a/110 and b/110 over a
``HINT_PATCH``-pixel square at the hint, and a mask that is 1 there, 0 elsewhere.

*Global hints* say "these are the picture's colours": an ab histogram (``GLOBAL_GRID`` x ``GLOBAL_GRID``
cells over a,b in [-GLOBAL_RANGE, GLOBAL_RANGE], plus a flag that it is given) of a reference photo or
of a palette's colours. The training-free alternative, :func:`transfer_ab_stats`, moves an automatic
result's a,b mean and spread onto the reference's.

Training simulates hints from the ground truth (:func:`sample_hint_planes`): many pictures get none,
the others a log-uniform number of points, each the mean a,b of a small patch of random size.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

import torch

from tinta import color
from tinta.errors import TintaError
from tinta.files import describe_os_error

HINT_PATCH = 3  # side, in render pixels, of the square a point hint covers at inference
TRAIN_PATCHES = (1, 2, 3, 4, 5)  # patch sides drawn for simulated hints
NO_HINT_FRACTION = 0.3  # share of training pictures with no point hints
MAX_TRAIN_HINTS = 128  # simulated point counts are log-uniform in 1..MAX_TRAIN_HINTS - 1
GLOBAL_FRACTION = 0.2  # share of training pictures given their own ab histogram
GLOBAL_GRID, GLOBAL_RANGE = 16, 96.0
GLOBAL_DIM = GLOBAL_GRID * GLOBAL_GRID + 1  # histogram cells + "given" flag
HINT_CHANNELS = 3  # a/110, b/110, mask
# hint propagation (set by scripts/tune_hint_propagation.py on Imagenette *train* pictures)
PROP_SIGMA_XY = 0.1  # spatial reach, as a share of the short side
PROP_SIGMA_L = 10.0  # lightness difference (L units) across which a hint still reaches
PROP_PRIOR = 0.01  # weight of the model's own colour against the hints' (normalised convolution)

# limits on what users give, the same in the CLI, the API and tinta serve
MAX_HINTS = 500  # point hints per picture or clip
MAX_HINTS_FILE_BYTES = 8 << 20  # a --hints file (a JSON list, or a summary holding one)

RGB = tuple[int, int, int]
_HEX = re.compile(r"#?([0-9a-fA-F]{6}|[0-9a-fA-F]{3})")


@dataclass(frozen=True)
class Hint:
    """A point hint: pixel ``(x, y)`` of the input picture (x to the right, y down) is ``rgb``."""

    x: float
    y: float
    rgb: RGB

    def to_json(self) -> dict:
        return {"x": self.x, "y": self.y, "color": "#" + "".join(f"{v:02x}" for v in self.rgb)}

    def __str__(self) -> str:
        return f"{self.x:g},{self.y:g}={self.to_json()['color']}"


def parse_color(text) -> RGB:
    """'#c03020', 'c03020', '#c32' or an (r, g, b) sequence of 0..255 -> (r, g, b)."""
    if isinstance(text, str):
        m = _HEX.fullmatch(text.strip())
        if not m:
            raise TintaError(f"{text!r} is not a colour; write it as #rrggbb, e.g. #c03020")
        h = m.group(1) if len(m.group(1)) == 6 else "".join(c * 2 for c in m.group(1))
        return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)
    try:
        rgb = tuple(int(v) for v in text)
        ok = len(rgb) == 3 and all(0 <= v <= 255 and v == float(w) for v, w in zip(rgb, text))
    except (TypeError, ValueError, OverflowError):  # OverflowError: an infinite component
        ok = False
    if not ok:
        raise TintaError(f"{text!r} is not a colour; give three whole numbers 0..255 or #rrggbb")
    return rgb  # type: ignore[return-value]


def _coordinate(v, hint) -> float:
    try:
        f = float(v)
    except (TypeError, ValueError):
        f = math.nan
    if not math.isfinite(f):
        raise TintaError(f"hint {hint!r}: {v!r} is not a pixel coordinate")
    return f


def parse_hint(text: str) -> Hint:
    """'X,Y=COLOUR' (as ``--hint`` takes it), e.g. '120,80=#c03020' -> Hint."""
    pos, sep, col = str(text).partition("=")
    xy = pos.split(",")
    if not sep or len(xy) != 2:
        raise TintaError(f"hint {text!r}: write it as X,Y=#rrggbb, e.g. 120,80=#c03020")
    try:
        rgb = parse_color(col)
    except TintaError as e:
        raise TintaError(f"hint {text!r}: {e}") from None
    return Hint(_coordinate(xy[0], text), _coordinate(xy[1], text), rgb)


def as_hint(item) -> Hint:
    """A Hint, an (x, y, colour) sequence, a {"x", "y", "color"} dict or an 'X,Y=COLOUR' string -> Hint."""
    if isinstance(item, Hint):
        return item
    if isinstance(item, str):
        return parse_hint(item)
    if isinstance(item, dict):
        if not {"x", "y", "color"} <= set(item):
            raise TintaError(f"hint {item!r}: needs x, y and color")
        item = (item["x"], item["y"], item["color"])
    if not isinstance(item, (list, tuple)) or len(item) != 3:
        raise TintaError(f"hint {item!r}: give (x, y, colour)")
    try:
        rgb = parse_color(item[2])
    except TintaError as e:
        raise TintaError(f"hint {item!r}: {e}") from None
    return Hint(_coordinate(item[0], item), _coordinate(item[1], item), rgb)


HINTS_FORM = "a list of hints such as [(120, 80, '#c03020')] or ['120,80=#c03020']"


def as_hints(items) -> list[Hint]:
    """A list (or other iterable) of hints in any form :func:`as_hint` takes -> Hints; at most MAX_HINTS
    (counted before any is parsed). A string or a single hint is a TypeError naming the expected form."""
    if items is None:
        return []
    if isinstance(items, (str, bytes, dict, Hint)):
        raise TypeError(f"hints must be {HINTS_FORM}, not a {type(items).__name__}")
    try:
        items = list(itertools.islice(items, MAX_HINTS + 1))
    except TypeError:
        raise TypeError(f"hints must be {HINTS_FORM}, not a {type(items).__name__}") from None
    if len(items) > MAX_HINTS:
        raise TintaError(f"too many point hints (more than {MAX_HINTS}); give at most {MAX_HINTS}")
    return [as_hint(h) for h in items]


def read_hints(path: str | Path) -> list[Hint]:
    """A JSON file: a list of hints (``{"x", "y", "color"}``, ``[x, y, colour]`` or 'X,Y=COLOUR'),
    or a summary written by ``tinta colorize`` (its ``"hints"`` list); at most MAX_HINTS_FILE_BYTES."""
    what = f"--hints {path}: cannot read a JSON list of hints"
    try:
        with open(path, "rb") as f:  # a FIFO (a shell's <(...)) is read too, as far as the limit
            raw = f.read(MAX_HINTS_FILE_BYTES + 1)
    except OSError as e:
        raise TintaError(f"{what} ({describe_os_error(e)})") from None
    if len(raw) > MAX_HINTS_FILE_BYTES:
        raise TintaError(f"{what} (larger than {MAX_HINTS_FILE_BYTES >> 20} MB)")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        raise TintaError(f"{what} ({e.__class__.__name__})") from None
    if isinstance(data, dict) and "hints" in data:
        data = data["hints"]
    if not isinstance(data, list):
        raise TintaError(f"--hints {path}: expected a JSON list of hints")
    return as_hints(data)


def check_hints(hints: list[Hint], width: int, height: int) -> None:
    """Every hint inside the picture (``0 <= x < width``, ``0 <= y < height``), or a TintaError naming it."""
    for h in hints:
        if not (0 <= h.x < width and 0 <= h.y < height):
            raise TintaError(f"hint {h} is outside the picture ({width}x{height} pixels)")


def displayed_to_stored(hints: list[Hint], width: int, height: int, rotation: int) -> list[Hint]:
    """Point hints on a video's displayed frames -> the same points on its stored frames (``width`` x
    ``height``, as decoded), for a display ``rotation`` in degrees counter-clockwise (a phone video's;
    the displayed frame is ``np.rot90(stored, rotation // 90)``). Hints outside the displayed frame are
    refused, as on a photo, whose hints are in its EXIF-rotated pixels."""
    k = (int(rotation) // 90) % 4
    check_hints(hints, *((height, width) if k % 2 else (width, height)))

    def flip(v: float, n: int) -> float:  # pixel v counted from the other end of n pixels
        return max(n - 1 - v, 0.0)

    turn = {0: lambda x, y: (x, y), 1: lambda x, y: (flip(y, width), x),
            2: lambda x, y: (flip(x, width), flip(y, height)), 3: lambda x, y: (y, flip(x, height))}[k]
    return [Hint(*turn(h.x, h.y), h.rgb) for h in hints]


def colours_ab(colours: list[RGB]) -> torch.Tensor:
    """Colours (r, g, b) -> their a,b ``(N, 2)`` in Lab units."""
    if not colours:
        return torch.zeros(0, 2)
    rgb = torch.tensor(colours, dtype=torch.float32).T[:, :, None]  # (3, N, 1)
    return color.rgb_to_lab(rgb / 255.0)[1:, :, 0].T  # (N, 2)


def hint_ab(hints: list[Hint]) -> torch.Tensor:
    """The hints' colours -> their a,b ``(N, 2)`` in Lab units."""
    return colours_ab([h.rgb for h in hints])


def hint_planes(hints: list[Hint], size: tuple[int, int], render: tuple[int, int]) -> torch.Tensor:
    """Point hints on a picture of ``size`` (H, W) -> planes ``(1, 3, h, w)`` at the ``render`` size:
    a/110, b/110 over a HINT_PATCH square at each hint (a later hint wins), mask 1 there."""
    h, w = render
    planes = torch.zeros(1, HINT_CHANNELS, h, w)
    r = HINT_PATCH // 2
    cys, cxs = hint_cells(hints, size, render)
    for cy, cx, ab in zip(cys.tolist(), cxs.tolist(), color.normalize_ab(hint_ab(hints))):
        ys, xs = slice(max(cy - r, 0), cy + r + 1), slice(max(cx - r, 0), cx + r + 1)
        planes[0, :2, ys, xs] = ab[:, None, None]
        planes[0, 2, ys, xs] = 1.0
    return planes


def hint_cells(hints: list[Hint], size: tuple[int, int], grid: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
    """The grid cells ``(ys, xs)`` (each ``(N,)``) of hints on a picture of ``size`` (H, W) for a ``grid`` (h, w)."""
    (H, W), (h, w) = size, grid
    ys = torch.tensor([min(int(hn.y * h / H), h - 1) for hn in hints], dtype=torch.long)
    xs = torch.tensor([min(int(hn.x * w / W), w - 1) for hn in hints], dtype=torch.long)
    return ys, xs


def propagate_hints(ab: torch.Tensor, L: torch.Tensor, hints: list[Hint], size: tuple[int, int],
                    sigma_xy: float = PROP_SIGMA_XY, sigma_l: float = PROP_SIGMA_L,
                    prior: float = PROP_PRIOR) -> torch.Tensor:
    """Predicted a,b ``(1, 2, h, w)`` (Lab units) corrected towards the point hints: each hint's residual
    (its a,b minus the prediction there) spreads to pixels near it in place and lightness (L ``(1, 1, h, w)``
    in [0, 100] on the same grid), a normalised convolution in which the prediction weighs ``prior``
    (Levin et al. 2004 in spirit, in closed form). Far from every hint the prediction is unchanged."""
    if not hints:
        return ab
    h, w = ab.shape[-2:]
    ys, xs = hint_cells(hints, size, (h, w))
    resid = hint_ab(hints).to(ab) - ab[0, :, ys, xs].T  # (N, 2)
    gy = torch.arange(h, dtype=ab.dtype, device=ab.device)[None, :, None]
    gx = torch.arange(w, dtype=ab.dtype, device=ab.device)[None, None, :]
    s2 = 2 * (sigma_xy * min(h, w)) ** 2
    d = ((gy - ys[:, None, None].to(ab)) ** 2 + (gx - xs[:, None, None].to(ab)) ** 2) / s2  # (N, h, w)
    d = d + (L[0, 0][None] - L[0, 0, ys, xs][:, None, None]) ** 2 / (2 * sigma_l**2)
    wgt = torch.exp(-d)  # (N, h, w)
    corr = torch.einsum("nhw,nc->chw", wgt, resid) / (wgt.sum(0) + prior)  # (2, h, w)
    return ab + corr[None]


def train_hint_counts(batch: int, gen: torch.Generator) -> torch.Tensor:
    """Simulated point counts ``(B,)``: 0 for NO_HINT_FRACTION of pictures, else log-uniform."""
    u = torch.rand(batch, generator=gen)
    n = (MAX_TRAIN_HINTS ** torch.rand(batch, generator=gen)).long()  # 1 .. MAX_TRAIN_HINTS - 1
    return torch.where(u < NO_HINT_FRACTION, torch.zeros_like(n), n)


def sample_hint_planes(ab: torch.Tensor, counts: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Ground-truth a,b ``(B, 2, h, w)`` (Lab units) -> simulated hint planes ``(B, 3, h, w)``:
    ``counts[i]`` points for picture i, each the mean a,b of a square of a random side in TRAIN_PATCHES."""
    B, _, h, w = ab.shape
    planes = torch.zeros(B, HINT_CHANNELS, h, w, device=ab.device)
    abn = color.normalize_ab(ab)
    for i in range(B):
        n = int(counts[i])
        if n == 0:
            continue
        sides = torch.tensor(TRAIN_PATCHES)[torch.randint(len(TRAIN_PATCHES), (n,), generator=gen)]
        ys = (torch.rand(n, generator=gen) * (h - sides + 1)).long()
        xs = (torch.rand(n, generator=gen) * (w - sides + 1)).long()
        for s, y, x in zip(sides.tolist(), ys.tolist(), xs.tolist()):
            planes[i, :2, y:y + s, x:x + s] = abn[i, :, y:y + s, x:x + s].mean((1, 2), keepdim=True)
            planes[i, 2, y:y + s, x:x + s] = 1.0
    return planes


def sample_hints(rgb8: torch.Tensor, n: int, gen: torch.Generator, patch: int = 1) -> list[Hint]:
    """``n`` point hints read from a ground-truth picture ``(3, H, W)`` uint8: uniform positions,
    each hint the mean colour of the ``patch``-pixel square there (for measuring hints curves)."""
    _, H, W = rgb8.shape
    ys = (torch.rand(n, generator=gen) * (H - patch + 1)).long().tolist()
    xs = (torch.rand(n, generator=gen) * (W - patch + 1)).long().tolist()
    hints = []
    for y, x in zip(ys, xs):
        mean = rgb8[:, y:y + patch, x:x + patch].float().mean((1, 2)).round().long().tolist()
        hints.append(Hint(x + patch / 2, y + patch / 2, tuple(mean)))
    return hints


def ab_histogram(ab: torch.Tensor) -> torch.Tensor:
    """a,b ``(B, 2, H, W)`` (Lab units) -> global hint ``(B, GLOBAL_DIM)``: the normalised histogram
    over GLOBAL_GRID^2 cells (values beyond the range fall in the edge cells) and a flag of 1."""
    B = ab.shape[0]
    cell = ((ab + GLOBAL_RANGE) / (2 * GLOBAL_RANGE) * GLOBAL_GRID).long().clamp(0, GLOBAL_GRID - 1)
    idx = (cell[:, 0] * GLOBAL_GRID + cell[:, 1]).reshape(B, -1)  # (B, H*W)
    hist = torch.zeros(B, GLOBAL_GRID * GLOBAL_GRID, device=ab.device)
    hist.scatter_add_(1, idx, torch.ones_like(idx, dtype=hist.dtype))
    hist = hist / hist.sum(1, keepdim=True).clamp(min=1)
    return torch.cat([hist, torch.ones(B, 1, device=ab.device)], dim=1)


def no_global_hint(batch: int, device=None) -> torch.Tensor:
    return torch.zeros(batch, GLOBAL_DIM, device=device)


def train_global_hints(ab: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Global hints ``(B, GLOBAL_DIM)`` for training: the picture's own histogram for GLOBAL_FRACTION
    of pictures, none (zeros) for the rest."""
    given = (torch.rand(ab.shape[0], generator=gen) < GLOBAL_FRACTION).to(ab.device)
    return torch.where(given[:, None], ab_histogram(ab), no_global_hint(ab.shape[0], ab.device))


EMPTY_PALETTE = "the palette is empty; give one colour or more, e.g. '#c03020,#2050a0'"
_PALETTE_SEP = re.compile(r"[,\s]+")


def palette_ab(palette) -> torch.Tensor:
    """A palette (see :func:`as_palette`) -> a,b ``(1, 2, 1, N)``."""
    return colours_ab(as_palette(palette)).T[None, :, None, :]


def parse_palette(text: str) -> list[RGB]:
    """'#c03020,#2050a0' (commas and/or spaces between colours) -> [(192, 48, 32), (32, 80, 160)];
    text naming no colour (empty, only commas or spaces) is refused. The one rule for the CLI, the API
    and tinta serve."""
    colours = [parse_color(c) for c in _PALETTE_SEP.split(str(text)) if c]
    if not colours:
        raise TintaError(EMPTY_PALETTE)
    return colours


def as_palette(palette) -> list[RGB]:
    """A palette as the CLI writes it ('#c03020,#2050a0') or a list of colours (#rrggbb strings or
    (r, g, b)) -> [(r, g, b), ...], one colour or more."""
    if isinstance(palette, str):
        return parse_palette(palette)
    if isinstance(palette, (bytes, dict)) or not hasattr(palette, "__iter__"):
        raise TypeError(f"palette must be a string like '#c03020,#2050a0' or a list of colours, "
                        f"not a {type(palette).__name__}")
    colours = [parse_color(c) for c in palette]
    if not colours:
        raise TintaError(EMPTY_PALETTE)
    return colours


def rgb8_ab(rgb8: torch.Tensor) -> torch.Tensor:
    """uint8 ``(H, W, 3)`` -> a,b ``(1, 2, H, W)``."""
    return color.rgb_to_lab(rgb8.permute(2, 0, 1)[None].float() / 255.0)[:, 1:]


def transfer_ab_stats(ab: torch.Tensor, ref_ab: torch.Tensor, eps: float = 1.0) -> torch.Tensor:
    """Training-free global hint (Reinhard et al. 2001, on a,b only): a,b ``(B, 2, h, w)`` shifted and
    scaled per channel so their mean and standard deviation are the reference's ``(1, 2, h', w')``."""
    mu, sd = ab.mean((2, 3), keepdim=True), ab.std((2, 3), keepdim=True)
    ref = ref_ab.flatten(2)
    rmu, rsd = ref.mean(2)[..., None, None], ref.std(2)[..., None, None] if ref.shape[2] > 1 else 0 * mu
    return (ab - mu) * (rsd / (sd + eps)).clamp(0.5, 3.0) + rmu  # spread kept within 0.5x..3x
