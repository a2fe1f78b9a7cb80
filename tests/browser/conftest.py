"""Browser tests: Playwright's Python package driving Debian's chromium (`make setup-browser`;
never `playwright install`). They skip, saying why, where chromium or Playwright is missing;
CI installs both. Screenshots go to build/test-artifacts/browser/."""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from browser.server import HintTaker, Painter, ServedModels, SlowForBig, running
from tinta.inference import load_model
from tinta.serve import Limits

from helpers import make_run, photo

ARTIFACTS = Path(__file__).resolve().parents[2] / "build" / "test-artifacts" / "browser"


def chromium_path() -> str | None:
    return os.environ.get("TINTA_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser():
    path = chromium_path()
    if path is None:
        pytest.skip("no chromium on this machine: `make setup-browser` installs Debian's (CI does)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("Playwright's Python package is missing: `make setup` installs it (dev extra)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The server the page talks to: the default model is a tiny untrained run (0.8 s slower for
    big.png, 240 px wide), plus `painter` (its answer encodes the saturation), `hint-test` (paints
    its hints) and `guided-test` (an untrained guided-unet run: the real hint path)."""
    root = tmp_path_factory.mktemp("browser")
    run = make_run(root / "run")
    models = ServedModels(str(run), wrap=lambda c: SlowForBig(c, seconds=0.8, width=200, upto=250))
    guided = load_model(str(make_run(root / "guided", model="guided-unet")))  # untrained, takes hints
    models.extra.update({"painter": Painter(seconds=0.8, width=200, upto=250),
                         "hint-test": HintTaker(models.load(None).inner), "guided-test": guided})
    models.allowed += ["painter", "hint-test", "guided-test"]
    files = root / "files"
    files.mkdir()
    for name, (h, w) in {"big.png": (160, 240), "small.png": (32, 48), "other.png": (40, 30)}.items():
        Image.fromarray(photo(h, w)).convert("L").save(files / name)
    (files / "notes.txt").write_text("not a picture")
    with running(run, models=models, limits=Limits(workers=2, queue=8)) as srv:
        yield {"url": srv.url, "files": files, "models": models, "server": srv}


@pytest.fixture
def page(browser, site, request):
    context = browser.new_context(viewport={"width": 1200, "height": 850}, accept_downloads=True)
    pg = context.new_page()
    problems = []
    pg.on("pageerror", lambda e: problems.append(str(e)))
    handled = ("status of 400", "status of 503")  # answers the page shows (an error, a retry)
    pg.on("console", lambda m: problems.append(m.text)
          if m.type == "error" and not any(h in m.text for h in handled) else None)
    pg.goto(site["url"])
    pg.wait_for_function("document.querySelectorAll('#model option').length > 0")
    yield pg
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()
    assert not problems, problems


def png_bytes(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()
