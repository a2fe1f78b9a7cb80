"""The models a server offers: the shipped weights plus the ``--model`` it started with, each
loaded once on first use (one load at a time) and shared by every request; a request's render
size gets a light copy of the loaded :class:`~tinta.inference.Colorizer`, not a second load."""

from __future__ import annotations

import threading

from tinta.errors import TintaError
from tinta.inference import load_model
from tinta.pretrained import WEIGHTS_DIR, registry

# What the page says of each shipped model, in plain words (the registry's descriptions are for researchers).
PLAIN = {
    "default": "Natural colours for any photo. The best all-round choice.",
    "vivid": "Bolder, more saturated colours; sometimes too bold.",
    "guided": "Lets you steer the colours: click the picture to say what colour a spot should be, "
              "or give a reference photo or palette. Without hints it colours like the default.",
    "cifar-horse": "A tiny test model trained on 32 x 32 pictures of horses. Not for real photos.",
}
TOY = {"cifar-horse"}  # offered only when asked for (the page's "show test models")


class ModelCache:
    """``allowed``: the names a request may ask for; ``default``: the one used when it names none."""

    def __init__(self, allowed: list[str], default: str):
        self.allowed, self.default = list(dict.fromkeys([default, *allowed])), default
        self._loaded: dict = {}
        self._lock = threading.Lock()

    def load(self, name: str | None):
        name = name or self.default
        if name not in self.allowed:
            raise TintaError(f"unknown model {name!r}; this server offers {', '.join(self.allowed)}")
        with self._lock:
            if name not in self._loaded:
                self._loaded[name] = load_model(name)
            return self._loaded[name]

    def get(self, name: str | None, render_size: int | None = None):
        """The colorizer for ``name`` (None: the default) at ``render_size`` (None: the model's own); another
        render size is a light copy sharing the weights."""
        return self.load(name).at_render_size(render_size)

    def describe(self) -> list[dict]:
        """What the page shows about each model: its description and whether it takes point hints."""
        shipped = registry()
        out = []
        for name in self.allowed:
            entry = shipped.get(name)
            colorizer = self.load(name)
            out.append({"name": name, "description": entry.description if entry else f"run folder {name}",
                        "summary": PLAIN.get(name) or (f"A model trained here (run folder {name})." if not entry
                                                       else entry.description),
                        "toy": name in TOY,
                        "card": bool(entry and entry.card and (WEIGHTS_DIR / entry.card).is_file()),
                        "render_size": colorizer.render_size,
                        "takes_hints": bool(getattr(colorizer, "takes_hints", False))})
        return out

    def card(self, name: str) -> str:
        entry = registry().get(name)
        if entry is None or not entry.card or not (WEIGHTS_DIR / entry.card).is_file():
            raise KeyError(name)
        return (WEIGHTS_DIR / entry.card).read_text()
