"""Running a colourization model on images of any size.

The model sees a resized copy of the lightness (short side ``render_size``); its output
is upsampled back to full resolution and joined with the full-resolution L, so no
detail of the input is lost: only chroma, which the eye resolves coarsely, comes
from the smaller render.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from tinta import color


def render_shape(h: int, w: int, render_size: int | None) -> tuple[int, int]:
    """(h, w) scaled so the short side is ``render_size`` (even sides); unchanged if None."""
    if not render_size or min(h, w) == render_size:
        return h, w
    s = render_size / min(h, w)
    return max(2, round(h * s / 2) * 2), max(2, round(w * s / 2) * 2)


@torch.no_grad()
def model_output(model: torch.nn.Module, L: torch.Tensor, render_size: int | None = None,
                 upsample: bool = True) -> torch.Tensor:
    """L ``(B, 1, H, W)`` in [0, 100] -> the model's output ``(B, C, H, W)`` at full size,
    computed at ``render_size`` and upsampled bilinearly (``upsample=False``: left at render size)."""
    H, W = L.shape[-2:]
    x = color.normalize_l(L)
    rh, rw = render_shape(H, W, render_size)
    if (rh, rw) != (H, W):
        x = F.interpolate(x, size=(rh, rw), mode="bilinear", antialias=True, align_corners=False)
    out = model(x)
    if upsample and out.shape[-2:] != (H, W):
        out = F.interpolate(out, size=(H, W), mode="bilinear", align_corners=False)
    return out


def decode_full(task, out: torch.Tensor, L: torch.Tensor, decoding: str | None = None) -> torch.Tensor:
    """sRGB ``(B, 3, H, W)`` from model output ``out`` at full or render size: bins outputs are
    decoded at render size and their a,b upsampled (as :class:`Colorizer` does; decoding 313
    bins at full size costs far more), other outputs are upsampled first."""
    H, W = L.shape[-2:]
    if task.name == "bins" and out.shape[-2:] != (H, W):
        t = float(decoding.split("=")[1]) if decoding else None
        ab = F.interpolate(task.predict_ab(out, temperature=t), size=(H, W), mode="bilinear", align_corners=False)
        return color.lab_to_rgb(color.join_lab(L, ab))
    if out.shape[-2:] != (H, W):
        out = F.interpolate(out, size=(H, W), mode="bilinear", align_corners=False)
    return task.decode(out, L, decoding=decoding)


def upsample_rows(small: torch.Tensor, H: int, W: int, y0: int, y1: int) -> torch.Tensor:
    """Rows ``y0:y1`` of ``small`` ``(1, C, h, w)`` bilinearly upsampled to ``(H, W)``:
    the same values as ``F.interpolate(small, (H, W), mode="bilinear")`` but only the
    strip is ever materialised (align_corners=False, edges clamped)."""
    ys = (torch.arange(y0, y1, dtype=torch.float32) + 0.5) / H * 2 - 1  # (s,)
    xs = (torch.arange(W, dtype=torch.float32) + 0.5) / W * 2 - 1  # (W,)
    grid = torch.stack(torch.meshgrid(ys, xs, indexing="ij")[::-1], dim=-1)[None]  # (1, s, W, 2) as (x, y)
    return F.grid_sample(small, grid.to(small.dtype), mode="bilinear", padding_mode="border", align_corners=False)


class Colorizer:
    """A loaded model, ready for pictures of any size: ``Colorizer(...)(image) -> PIL.Image``.

    ``render_size`` is the short side the model sees (None: the full picture);
    ``saturation`` scales the predicted chroma (1.0 = as predicted).
    """

    def __init__(self, model: torch.nn.Module, task, render_size: int | None = 224, name: str = ""):
        self.model, self.task, self.render_size, self.name = model.eval(), task, render_size, name

    @torch.no_grad()
    def predict_ab_small(self, L: torch.Tensor, saturation: float = 1.0) -> torch.Tensor:
        """L ``(1, 1, H, W)`` -> ab ``(1, 2, h, w)`` at render size."""
        H, W = L.shape[-2:]
        rh, rw = render_shape(H, W, self.render_size)
        x = color.normalize_l(L)
        if (rh, rw) != (H, W):
            x = F.interpolate(x, size=(rh, rw), mode="bilinear", antialias=True, align_corners=False)
        return self.task.predict_ab(self.model(x), saturation=saturation)

    @torch.no_grad()
    def colorize_lightness(self, L: "np.ndarray", saturation: float = 1.0) -> "np.ndarray":
        """Full-resolution L ``(H, W)`` float32 -> sRGB uint8 ``(H, W, 3)``, in row strips."""
        import numpy as np

        from tinta.imageio import STRIP_ROWS

        H, W = L.shape
        Lt = torch.from_numpy(L)[None, None]  # (1, 1, H, W)
        ab = self.predict_ab_small(Lt, saturation)  # (1, 2, h, w)
        out = np.empty((H, W, 3), dtype=np.uint8)
        for y in range(0, H, STRIP_ROWS):
            y1 = min(H, y + STRIP_ROWS)
            lab = torch.cat([Lt[:, :, y:y1], upsample_rows(ab, H, W, y, y1)], dim=1)  # (1, 3, s, W)
            out[y:y1] = color.rgb_to_uint8(color.lab_to_rgb(lab))[0].permute(1, 2, 0).numpy()
        return out

    def __call__(self, image, saturation: float = 1.0):
        """Path / PIL image / numpy array -> colour PIL image (alpha kept when present)."""
        from PIL import Image

        from tinta.imageio import read_picture

        pic = read_picture(image)
        im = Image.fromarray(self.colorize_lightness(pic.L, saturation), "RGB")
        if pic.alpha is not None:
            im.putalpha(Image.fromarray(pic.alpha, "L"))
        if pic.icc_profile:
            im.info["icc_profile"] = pic.icc_profile
        return im


def load_model(name_or_path: str = "default", render_size: int | None = -1) -> Colorizer:
    """A :class:`Colorizer` from a shipped weight name (``tinta models``) or a run folder.
    ``render_size=-1`` uses the model's own (shipped weights record theirs; runs: the size they trained at)."""
    from pathlib import Path

    from tinta.pretrained import load_pretrained, registry

    if Path(name_or_path).is_dir():
        from tinta.train.loop import load_run

        model, task, config = load_run(name_or_path)
        tc = config["train"]
        native = tc.get("crop") or tc.get("size") or min(config["data"]["size"])
        return Colorizer(model, task, native if render_size == -1 else render_size, str(name_or_path))
    if name_or_path not in registry() and ("/" in name_or_path or name_or_path.startswith(".")):
        from tinta.errors import TintaError

        raise TintaError(f"{name_or_path}: no such run folder")
    model, task, entry = load_pretrained(name_or_path)
    return Colorizer(model, task, entry["render_size"] if render_size == -1 else render_size, name_or_path)


def colorize(image, model: str | Colorizer = "default", saturation: float = 1.0):
    """Colourize one picture (path, PIL image or numpy array) -> PIL image."""
    colorizer = model if isinstance(model, Colorizer) else load_model(model)
    return colorizer(image, saturation=saturation)
