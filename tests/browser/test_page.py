"""The page in headless chromium: upload -> result, latest request wins (defect 1), errors clear
the result (2), keyboard only (3), batch + zip, the before/after slider, paste / drop / examples,
colour hints, a reference photo (+ its eyedropper) or a palette, and a phone's one-column layout."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest

from browser.conftest import png_bytes
from browser.server import health, running, until, wait_done
from tinta.pretrained import registry

DONE = "#download:not([hidden])"
PIXEL_JS = """([sel, fx, fy]) => { const img = document.querySelector(sel); const c = document.createElement('canvas');
  c.width = img.naturalWidth; c.height = img.naturalHeight; const g = c.getContext('2d'); g.drawImage(img, 0, 0);
  return Array.from(g.getImageData(Math.floor(fx * c.width), Math.floor(fy * c.height), 1, 1).data).slice(0, 3); }"""



def test_upload_shows_the_result_with_its_name(page, site):
    page.set_input_files("#file", str(site["files"] / "small.png"))
    wait_done(page, "small-colour.png")
    assert page.eval_on_selector("#after", "i => [i.naturalWidth, i.naturalHeight, i.alt, i.hidden]") == [
        48, 32, "Colourized: small.png", False]
    assert page.get_attribute("#before", "alt") == "Input: small.png"
    assert "small.png: done in" in page.inner_text("#status")
    with page.expect_download() as dl:
        page.click("#download")
    assert dl.value.suggested_filename == "small-colour.png"


def test_the_latest_photo_wins(page, site):
    """Defect 1: a big photo, then at once a small one; the big answer must never replace it."""
    before = health(site)["abandoned"]
    page.set_input_files("#file", str(site["files"] / "big.png"))
    page.wait_for_timeout(300)
    page.set_input_files("#file", str(site["files"] / "small.png"))
    wait_done(page, "small-colour.png")
    page.wait_for_timeout(1000)  # past the moment the big one would have been answered
    assert page.eval_on_selector("#after", "i => i.naturalWidth") == 48
    assert page.get_attribute("#download", "download") == "small-colour.png"
    assert page.get_attribute("#before", "alt") == "Input: small.png"
    until(page, lambda: health(site)["abandoned"] > before)  # the aborted request's work was dropped by the server


def test_the_latest_setting_wins(page, site):
    """Defect 1 with settings: quick slider changes; the shown result is the last one asked for."""
    page.select_option("#model", "painter")
    page.set_input_files("#file", str(site["files"] / "big.png"))
    wait_done(page, "big-colour.png")
    failed = []
    page.on("requestfailed", lambda r: failed.append(r.failure))
    set_to = "(e, v) => { e.value = v; e.dispatchEvent(new Event('change')); }"
    painter, calls = site["models"].extra["painter"], site["models"].extra["painter"].calls
    page.eval_on_selector("#saturation", set_to, "0.3")
    until(page, lambda: painter.calls > calls)  # 0.3 is with the model (1.5 s for a big photo)
    page.eval_on_selector("#saturation", set_to, "1.7")
    page.wait_for_function("() => !document.querySelector('#stage').classList.contains('busy')"
                           " && document.querySelector('#after').complete", timeout=20000)
    assert page.evaluate(PIXEL_JS, ["#after", 0.5, 0.5])[0] == 170  # red = 100 x 1.7: the latest
    assert failed and "ABORTED" in failed[0].upper()


def test_an_error_clears_the_previous_result(page, site):
    """Defect 2: after a refused file, no old result and no download link remain."""
    page.set_input_files("#file", str(site["files"] / "small.png"))
    wait_done(page, "small-colour.png")
    page.set_input_files("#file", str(site["files"] / "notes.txt"))
    page.wait_for_selector("#status.err")
    assert "notes.txt: the picture is not a readable image" in page.inner_text("#status")
    assert page.is_hidden("#download") and page.get_attribute("#download", "href") is None
    assert page.is_hidden("#after") and page.get_attribute("#after", "src") is None


def _open_chooser_by_keyboard(page):
    """Space on the focused file input opens the chooser. Headless Chromium now and then drops the
    first key press (about 1 run in 6 here), so a second Space, then Enter, are tried before failing."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for key in ("Space", "Space", "Enter"):
        try:
            with page.expect_file_chooser(timeout=4000) as chooser:
                page.keyboard.press(key)
            return chooser.value
        except PlaywrightTimeout:
            assert page.evaluate("document.activeElement.id") == "file"
    raise AssertionError("no file chooser opened from the keyboard")


def test_keyboard_only(page, site):
    """Defect 3: choose a photo, move the comparison and download with the keyboard alone."""
    assert page.get_attribute("#status", "aria-live") == "polite"
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "file":
            break
    assert page.evaluate("document.activeElement.id") == "file"
    chooser = _open_chooser_by_keyboard(page)
    chooser.set_files(str(site["files"] / "small.png"))
    wait_done(page, "small-colour.png")
    page.focus("#split")
    for _ in range(3):
        page.keyboard.press("ArrowLeft")
    assert page.eval_on_selector("#stage", "s => s.style.getPropertyValue('--split')") == "47%"
    page.focus("#download")
    with page.expect_download() as dl:
        page.keyboard.press("Enter")
    assert dl.value.suggested_filename == "small-colour.png"


def test_batch_with_status_per_file_and_zip(page, site):
    files = [str(site["files"] / n) for n in ("small.png", "other.png", "notes.txt")]
    page.set_input_files("#file", files)
    page.wait_for_function("() => { const s = [...document.querySelectorAll('#batch-list .state')];"
                           " return s.length === 3 && s.every(x => !/waiting|colourizing/.test(x.textContent)); }",
                           timeout=20000)
    states = page.eval_on_selector_all("#batch-list .state", "s => s.map(x => x.textContent)")
    assert states[0].startswith("done") and states[1].startswith("done") and states[2].startswith("error")
    page.click("button[aria-label='View other.png']")
    wait_done(page, "other-colour.png")
    assert page.eval_on_selector("#after", "i => i.naturalWidth") == 30
    with page.expect_download() as dl:
        page.click("#zip")
    z = zipfile.ZipFile(io.BytesIO(open(dl.value.path(), "rb").read()))
    assert sorted(z.namelist()) == ["other-colour.png", "small-colour.png"]


def test_the_before_after_slider(page, site):
    page.set_input_files("#file", str(site["files"] / "other.png"))
    wait_done(page, "other-colour.png")
    box = page.locator("#stage").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.25, box["y"] + box["height"] / 2)
    split = page.eval_on_selector("#stage", "s => parseInt(s.style.getPropertyValue('--split'))")
    assert 22 <= split <= 28 and page.input_value("#split") == str(split)
    clip = page.eval_on_selector("#after", "i => getComputedStyle(i).clipPath")
    assert clip.startswith("inset(") and f"{split}%" in clip


def test_paste_drop_and_examples(page, site):
    make_file = """async ([name, url]) => { const b = await (await fetch(url)).blob();
      const dt = new DataTransfer(); dt.items.add(new File([b], name, {type: b.type})); return dt; }"""
    dt = page.evaluate_handle(make_file, ["pasted.jpg", "/examples/chelsea.jpg"])
    page.evaluate("dt => document.dispatchEvent(new ClipboardEvent('paste', {clipboardData: dt}))", dt)
    wait_done(page, "pasted-colour.jpg")
    dt = page.evaluate_handle(make_file, ["dropped.jpg", "/examples/coffee.jpg"])
    page.dispatch_event("#drop", "drop", {"dataTransfer": dt})
    wait_done(page, "dropped-colour.jpg")
    page.click("button[aria-label='Example photo rocket.jpg']")
    wait_done(page, "rocket-colour.jpg")


def test_colour_hints(page, site):
    """Click to drop a hint, pick its colour, drag it, delete it: each change re-renders."""
    taker = site["models"].extra["hint-test"]
    assert page.is_disabled("#hint-mode")  # the default model takes no hints
    page.select_option("#model", "hint-test")
    page.set_input_files("#file", str(site["files"] / "other.png"))  # 30 x 40
    wait_done(page, "other-colour.png")
    page.click("#hint-mode")
    page.fill("#hint-color", "#00ff00")
    box = page.locator("#before").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.25)
    until(page, lambda: taker.seen[-1] == [(15, 10, (0, 255, 0))])
    page.wait_for_function("() => !document.querySelector('#stage').classList.contains('busy')")
    assert page.evaluate(PIXEL_JS, ["#after", 0.5, 0.25]) == [0, 255, 0]
    page.fill("#hint-color", "#ff0000")  # recolour the selected hint
    until(page, lambda: taker.seen[-1] == [(15, 10, (255, 0, 0))])
    hint = page.locator(".hint").bounding_box()
    page.mouse.move(hint["x"] + hint["width"] / 2, hint["y"] + hint["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.25, box["y"] + box["height"] * 0.75, steps=4)
    page.mouse.up()
    until(page, lambda: taker.seen[-1] == [(8, 30, (255, 0, 0))])
    page.focus(".hint")
    page.keyboard.press("Delete")
    page.wait_for_function("() => document.querySelectorAll('.hint').length === 0")
    until(page, lambda: taker.seen[-1] == [])


def _rendered(page, sent: list, count: int) -> list:
    """Once the page has sent `count` requests and shows the last answer: its centre pixel."""
    until(page, lambda: len(sent) >= count)
    page.wait_for_function("() => !document.querySelector('#stage').classList.contains('busy')"
                           " && document.querySelector('#after').complete", timeout=20000)
    return page.evaluate(PIXEL_JS, ["#after", 0.5, 0.5])


def test_reference_photo_is_sent_and_its_thumbnail_is_an_eyedropper(page, site):
    """A solid green reference turns the result green; its thumbnail picks the hint colour; removing it
    gives the plain result back. (Chromium hides multipart file bodies from Playwright: judged by pixels.)"""
    sent = []
    page.on("request", lambda r: sent.append(r) if r.url.endswith("/render") else None)
    page.select_option("#model", "guided-test")
    page.set_input_files("#file", str(site["files"] / "other.png"))
    plain = _rendered(page, sent, 1)
    solid = png_bytes(np.full((30, 40, 3), (48, 160, 80), np.uint8))
    page.set_input_files("#reference", files=[{"name": "ref.png", "mimeType": "image/png", "buffer": solid}])
    guided = _rendered(page, sent, 2)
    assert guided != plain and guided[1] > guided[0] and guided[1] > guided[2], (plain, guided)
    assert "done in" in page.inner_text("#status") and page.is_disabled("#palette")
    page.click("#reference-thumb")  # the eyedropper
    assert page.input_value("#hint-color") == "#30a050"
    page.click("#reference-remove")
    assert _rendered(page, sent, 3) == plain
    assert page.is_hidden("#reference-thumb") and page.is_enabled("#palette")


def test_a_bad_palette_shows_the_error_and_clears_the_result(page, site):
    page.set_input_files("#file", str(site["files"] / "small.png"))
    wait_done(page, "small-colour.png")
    page.fill("#palette", "#c03020,#zz0000")
    page.press("#palette", "Enter")
    page.wait_for_selector("#status.err")
    assert "'#zz0000' is not a colour" in page.inner_text("#status")
    assert page.is_hidden("#download") and page.is_hidden("#after") and page.is_disabled("#reference")


def _hint_round_trip(page, model: str, photo: str, done: str):
    page.select_option("#model", model)
    page.set_input_files("#file", photo)
    wait_done(page, done)
    page.click("#hint-mode")
    box = page.locator("#before").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.4, box["y"] + box["height"] * 0.4)
    page.wait_for_function("() => document.querySelectorAll('.hint').length === 1")
    page.wait_for_function("() => { const s = document.querySelector('#stage');"
                           " return !s.classList.contains('busy') && s.classList.contains('has-result'); }",
                           timeout=60000)
    assert "done in" in page.inner_text("#status")


def test_colour_hints_through_a_real_hint_taking_model(page, site):
    """The real path: hints from the page -> the form -> Colorizer(hints=...) of a guided-unet."""
    before = health(site)["done"]
    _hint_round_trip(page, "guided-test", str(site["files"] / "other.png"), "other-colour.png")
    assert health(site)["done"] >= before + 2  # without, then with the hint


@pytest.mark.skipif("guided" not in registry(), reason="the shipped `guided` model has not landed yet")
def test_colour_hints_with_the_shipped_guided_model(browser):
    from tinta.pretrained import EXAMPLES_DIR
    from tinta.serve import ModelCache

    with running("guided", models=ModelCache(["guided"], "guided")) as srv:
        context = browser.new_context(viewport={"width": 1200, "height": 850})
        page = context.new_page()
        page.goto(srv.url)
        page.wait_for_function("document.querySelectorAll('#model option').length > 0")
        _hint_round_trip(page, "guided", str(EXAMPLES_DIR / "chelsea.jpg"), "chelsea-colour.jpg")
        page.screenshot(path=str(_artifacts() / "guided.png"))
        context.close()


def test_phone_layout_is_one_column(browser, site):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(site["url"])
    page.set_input_files("#file", str(site["files"] / "small.png"))
    wait_done(page, "small-colour.png")
    drop, view, controls = (page.locator(s).bounding_box() for s in ("#drop", "#stage", ".controls"))
    assert abs(drop["x"] - controls["x"]) < 2 and drop["y"] < view["y"] < controls["y"]
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(_artifacts() / "phone.png"), full_page=True)
    context.close()


def _artifacts():
    from browser.conftest import ARTIFACTS

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
