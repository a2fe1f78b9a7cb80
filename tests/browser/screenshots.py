"""The screenshots of the page in README.md and docs/guide-serve.md, with a real model on the bundled example photos:

    python tests/browser/screenshots.py [--model default] [--hint-model guided] [--out docs/img]

writes serve-result.jpg (a result with the before/after slider), serve-batch.jpg (four photos,
per-file status, "download all") and, with a hint-taking model, serve-hints.jpg.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))

from browser.conftest import chromium_path  # noqa: E402
from tinta.pretrained import EXAMPLES_DIR, registry  # noqa: E402
from tinta.serve import ModelCache, make_server  # noqa: E402

DONE = "() => { const a = document.querySelector('#download'); return a && !a.hidden; }"


def shoot(page, path: Path) -> None:
    page.wait_for_timeout(300)
    page.screenshot(path=str(path), type="jpeg", quality=78)
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
    shoot(page, out / "serve-hints.jpg")


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
        if args.hint_model:
            hints(page, args.out, args.hint_model)
        browser.close()
    server.should_exit = True


if __name__ == "__main__":
    main()
