"""The screenshots of the page in README.md and docs/guide-serve.md, with a real model on the bundled example photos:

    python tests/browser/screenshots.py [--model default] [--hint-model guided] [--out docs/img]

writes serve-result.jpg (a result with the before/after slider), serve-batch.jpg (four photos,
per-file status, "download all"), serve-compare.jpg (two models side by side and the history strip),
serve-zoom.jpg (a 3200 x 2130 photo at 100%: the bundled chelsea.jpg enlarged, since the bundled
photos are small) and, with a hint-taking model, serve-hints.jpg (the hint editor with the colour
suggestions at the selected hint).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))

from browser.conftest import chromium_path  # noqa: E402
from tinta.pretrained import EXAMPLES_DIR, registry  # noqa: E402
from tinta.serve import ModelCache, make_server  # noqa: E402

DONE = "() => { const a = document.querySelector('#download'); return a && !a.hidden; }"


def shoot(page, path: Path, full: bool = False) -> None:
    page.wait_for_timeout(300)
    page.screenshot(path=str(path), type="jpeg", quality=78, full_page=full)
    print(f"{path}: {path.stat().st_size:,} bytes")


def hints(page, out: Path, model: str) -> None:
    page.select_option("#model", model)
    page.set_input_files("#file", str(EXAMPLES_DIR / "chelsea.jpg"))
    page.wait_for_function(DONE, timeout=120000)
    page.click("#hint-mode")
    box = page.locator("#before").bounding_box()
    for fx, fy, colour in ((0.37, 0.40, "#3a9a40"), (0.70, 0.47, "#3a9a40"), (0.57, 0.80, "#e08080")):
        page.mouse.click(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)
        page.fill("#hint-color", colour)  # the new hint is the selected one
        page.wait_for_timeout(300)
    page.wait_for_function("() => !document.querySelector('#stage').classList.contains('busy')", timeout=120000)
    page.eval_on_selector("#split", "e => { e.value = 12; e.dispatchEvent(new Event('input')); }")
    page.focus(".hint >> nth=0")  # select the first hint: its colour suggestions
    page.wait_for_selector("#suggestions:not([hidden]) button", timeout=120000)
    shoot(page, out / "serve-hints.jpg", full=True)


def compare(page, out: Path, other: str) -> None:
    page.set_input_files("#file", str(EXAMPLES_DIR / "coffee.jpg"))
    page.wait_for_function(DONE, timeout=120000)
    page.eval_on_selector("#saturation", "e => { e.value = 1.4; e.dispatchEvent(new Event('change')); }")
    page.wait_for_function("() => document.querySelectorAll('#history-list .history-item').length === 2",
                           timeout=120000)
    page.select_option("#compare-model", other)
    page.click("#compare-go")
    page.wait_for_function("() => { const r = document.querySelector('#side-right');"
                           " return !document.querySelector('#side').hidden && r.complete && r.naturalWidth > 0; }",
                           timeout=120000)
    shoot(page, out / "serve-compare.jpg", full=True)


def zoom(page, out: Path, tmp: Path) -> None:
    from PIL import Image

    big = tmp / "chelsea-large.jpg"
    Image.open(EXAMPLES_DIR / "chelsea.jpg").resize((3200, 2130), Image.Resampling.BICUBIC).save(big, quality=90)
    page.set_input_files("#file", str(big))
    page.wait_for_function(DONE, timeout=120000)
    page.click("#zoom")
    page.wait_for_function("() => document.querySelector('#after').naturalWidth === 3200", timeout=120000)
    page.eval_on_selector("#zoom-box", "b => { b.scrollLeft = 1100; b.scrollTop = 700; }")
    page.eval_on_selector("#split", "e => { e.value = 40; e.dispatchEvent(new Event('input')); }")
    shoot(page, out / "serve-zoom.jpg")
    page.click("#zoom")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="default")
    ap.add_argument("--hint-model", default="guided" if "guided" in registry() else None)
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "img")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    offered = sorted(registry()) + ([args.hint_model] if args.hint_model else [])
    server = make_server(args.model, port=0, quiet=True, models=ModelCache(offered, args.model))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    args.out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path())
        page = browser.new_page(viewport={"width": 1100, "height": 700})
        page.goto(server.url)
        page.wait_for_function("document.querySelectorAll('#model option').length > 0")
        page.set_input_files("#file", str(EXAMPLES_DIR / "chelsea.jpg"))
        page.wait_for_function(DONE, timeout=120000)
        page.eval_on_selector("#split", "e => { e.value = 42; e.dispatchEvent(new Event('input')); }")
        shoot(page, args.out / "serve-result.jpg")
        page.set_viewport_size({"width": 1100, "height": 900})
        page.set_input_files("#file", sorted(str(f) for f in EXAMPLES_DIR.glob("*.jpg")))
        page.wait_for_function("() => [...document.querySelectorAll('#batch-list .state')]"
                               ".every(s => s.textContent.startsWith('done'))", timeout=120000)
        page.click("button[aria-label='View coffee.jpg']")
        page.wait_for_function(DONE)
        shoot(page, args.out / "serve-batch.jpg")
        compare(page, args.out, "vivid" if args.model != "vivid" else "default")
        with tempfile.TemporaryDirectory() as tmp:
            zoom(page, args.out, Path(tmp))
        if args.hint_model:
            hints(page, args.out, args.hint_model)
        browser.close()
    server.should_exit = True


if __name__ == "__main__":
    main()
