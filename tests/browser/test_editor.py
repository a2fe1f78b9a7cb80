"""The page of issue 22 in headless chromium: one test (at least) per defect 1-9, and the editor's features
(a photo kept on the server, undo / redo, keyboard hints, hints saved and loaded as the CLI's JSON, cancel,
retry, compare and history). No test waits a fixed time for the page: each waits for a condition (the
debounce window is made long, 1 s, where a test counts the requests of a burst)."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
from PIL import Image

from browser.conftest import ARTIFACTS, png_bytes
from browser.server import health, until, wait_done
from tinta.hints import read_hints

from helpers import photo

IDLE = ("() => { const s = document.querySelector('#stage'); return !s.classList.contains('busy')"
        " && s.classList.contains('has-result') && document.querySelector('#after').complete; }")



def _renders(page) -> list:
    sent = []
    page.on("request", lambda r: sent.append(r) if r.url.endswith("/render") else None)
    return sent


def _hinting(page, site, name="other.png"):
    """The hint-test model, a photo, hint mode on."""
    page.select_option("#model", "hint-test")
    page.set_input_files("#file", str(site["files"] / name))
    wait_done(page, name.replace(".png", "-colour.png"))
    page.click("#hint-mode")


def _one_hint_placed(page, site):
    """:func:`_hinting`, then one click at the centre, seen by the model and rendered; returns the model."""
    taker = site["models"].extra["hint-test"]
    _hinting(page, site)
    _click_at(page, 0.5, 0.5)
    until(page, lambda: taker.seen and taker.seen[-1] == [(15, 20, (192, 48, 32))])
    page.wait_for_function(IDLE)
    return taker


def _click_at(page, fx: float, fy: float):
    box = page.locator("#before").bounding_box()
    page.mouse.click(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)


# --- defect 1: a mouse drag moves the divider -------------------------------------------------------------

def test_a_mouse_drag_moves_the_divider(page, site):
    page.set_input_files("#file", str(site["files"] / "other.png"))
    wait_done(page, "other-colour.png")
    cancelled = page.evaluate_handle("() => { const c = {n: 0}; document.querySelector('#stage')"
                                     ".addEventListener('pointercancel', () => c.n++); return c; }")
    box = page.locator("#before").bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.7, box["y"] + box["height"] / 2, steps=8)
    page.mouse.up()
    split = page.eval_on_selector("#stage", "s => parseInt(s.style.getPropertyValue('--split'))")
    assert 68 <= split <= 72 and page.input_value("#split") == str(split)
    assert cancelled.evaluate("c => c.n") == 0  # no native image drag took the pointer


# --- defect 2: hints with a model that takes none -----------------------------------------------------------

def test_hints_are_kept_aside_for_a_model_that_takes_none(page, site):
    taker = _one_hint_placed(page, site)
    page.select_option("#model", site["models"].default)  # takes no hints
    page.wait_for_function(IDLE)
    assert "done in" in page.inner_text("#status") and page.is_visible("#download")
    assert "kept aside" in page.inner_text("#hint-note") and page.is_hidden(".hint")
    page.select_option("#model", "hint-test")  # they come back
    until(page, lambda: len(taker.seen) >= 3 and taker.seen[-1] == [(15, 20, (192, 48, 32))])
    page.wait_for_function(IDLE)
    assert page.is_hidden("#hint-note") and page.is_visible(".hint")


# --- defect 3: a picture the browser cannot show ------------------------------------------------------------

def test_a_tiff_is_shown_from_the_servers_copy(page, site, tmp_path):
    tif = tmp_path / "scan.tif"
    Image.fromarray(photo(40, 60)).convert("L").save(tif)
    page.set_input_files("#file", str(tif))
    wait_done(page, "scan-colour.tif".replace(".tif", ".png"))
    page.wait_for_function("() => { const b = document.querySelector('#before');"
                           " return b.complete && b.naturalWidth > 0 && b.src.includes('/sessions/'); }")
    assert page.is_visible("#before") and page.is_visible("#after") and page.is_visible("#viewer")


# --- defect 4: bursts are debounced -------------------------------------------------------------------------

def test_colour_picker_and_arrow_bursts_send_one_request_each(page, site):
    page.evaluate("window.TINTA_DEBOUNCE_MS = 1000")
    sent = _renders(page)
    _hinting(page, site)
    _click_at(page, 0.5, 0.5)
    page.wait_for_function(IDLE)
    n = len(sent)
    page.eval_on_selector("#hint-color", """e => { for (let i = 0; i < 15; i++) {
        e.value = '#' + (0x100000 + i * 0x0a0a0a).toString(16).slice(-6); e.dispatchEvent(new Event('input')); } }""")
    page.wait_for_function(IDLE)
    assert len(sent) == n + 1
    n = len(sent)
    page.focus("#saturation")
    for _ in range(8):
        page.keyboard.press("ArrowRight")
    page.wait_for_function(IDLE)
    assert len(sent) == n + 1 and page.input_value("#saturation") == "1.8"


# --- defect 5: accessibility ------------------------------------------------------------------------------

def test_the_live_status_is_written_once_per_state(page, site):
    page.select_option("#model", "painter")  # big.png takes 0.8 s
    page.evaluate("""() => { window.statusWrites = 0; new MutationObserver(() => window.statusWrites++)
        .observe(document.querySelector('#status'), {childList: true, characterData: true, subtree: true}); }""")
    page.set_input_files("#file", str(site["files"] / "big.png"))
    wait_done(page, "big-colour.png")
    assert page.evaluate("window.statusWrites") <= 5  # colourizing, (waiting, colourizing), done: not 10 a second
    assert page.get_attribute("#elapsed", "aria-hidden") == "true"


def test_batch_rows_are_announced(page, site):
    page.set_input_files("#file", [str(site["files"] / n) for n in ("small.png", "other.png")])
    page.wait_for_function("() => /All done/.test(document.querySelector('#batch-live').textContent)", timeout=20000)
    assert page.get_attribute("#batch-live", "aria-live") == "polite"


def test_hints_from_the_keyboard_and_focus_after_delete(page, site):
    taker = site["models"].extra["hint-test"]
    _hinting(page, site)  # other.png: 30 x 40
    page.focus("#stage")
    assert page.evaluate("document.activeElement.id") == "stage" and page.is_visible("#hint-cursor")
    for key in ("ArrowRight", "ArrowRight", "ArrowDown"):
        page.keyboard.press(key)
    page.keyboard.press("Enter")  # the cursor starts at the centre (15, 20); a step is 1 pixel here
    until(page, lambda: taker.seen and taker.seen[-1] == [(17, 21, (192, 48, 32))])
    size = page.locator(".hint").bounding_box()
    assert size["width"] >= 24 and size["height"] >= 24  # WCAG 2.5.8
    page.focus(".hint")
    page.keyboard.press("Delete")
    page.wait_for_function("() => document.querySelectorAll('.hint').length === 0")
    assert page.evaluate("document.activeElement.id") == "stage"  # not <body>
    until(page, lambda: taker.seen[-1] == [])


# --- defect 6: the batch ----------------------------------------------------------------------------------

def _copies(site, tmp_path, n: int) -> list[str]:
    data = (site["files"] / "big.png").read_bytes()
    paths = []
    for i in range(n):
        p = tmp_path / f"big{i}.png"
        p.write_bytes(data)
        paths.append(str(p))
    return paths


def test_a_batch_says_waiting_for_photos_not_yet_sent(page, site, tmp_path):
    page.select_option("#model", "painter")  # 0.8 s each
    page.set_input_files("#file", _copies(site, tmp_path, 4))
    page.wait_for_function("() => { const s = [...document.querySelectorAll('#batch-list .state')]"
                           ".map(x => x.textContent);"
                           " return s.length === 4 && s.filter(t => t === 'waiting').length >= 1"
                           " && s.some(t => /colourizing|in line/.test(t)); }")
    page.wait_for_function("() => [...document.querySelectorAll('#batch-list .state')]"
                           ".every(x => x.textContent.startsWith('done'))", timeout=30000)


def test_a_busy_server_is_retried_after_retry_after(page, site):
    refused = []

    def busy_once(route):
        if not refused:
            refused.append(1)
            return route.fulfill(status=503, headers={"Retry-After": "1", "Content-Type": "application/json"},
                                 body='{"error": "the server is busy"}')
        return route.continue_()

    page.route("**/render", busy_once)
    page.set_input_files("#file", str(site["files"] / "small.png"))
    page.wait_for_function("() => /busy; trying again/.test(document.querySelector('#status').textContent)")
    wait_done(page, "small-colour.png")
    assert refused == [1] and "done in" in page.inner_text("#status")


def test_the_page_sends_as_many_at_once_as_the_server_has_workers(browser, site, tmp_path):
    context = browser.new_context()
    page = context.new_page()
    page.route("**/health", lambda route: route.fulfill(json={"ok": True, "workers": 1}))
    page.goto(site["url"])
    page.wait_for_function("document.body.dataset.workers === '1' && document.querySelectorAll('#model option').length")
    page.select_option("#model", "painter")
    flying, most = set(), []
    page.on("request", lambda r: (flying.add(r), most.append(len(flying))) if r.url.endswith("/render") else None)
    page.on("requestfinished", lambda r: flying.discard(r))
    page.set_input_files("#file", _copies(site, tmp_path, 3))
    page.wait_for_function("() => [...document.querySelectorAll('#batch-list .state')]"
                           ".every(x => x.textContent.startsWith('done'))", timeout=30000)
    assert len(most) == 3 and max(most) == 1
    context.close()


def test_one_photo_can_be_added_to_a_batch_and_a_failed_one_retried(page, site):
    page.set_input_files("#file", [str(site["files"] / n) for n in ("small.png", "notes.txt")])
    page.wait_for_selector("button[aria-label='Retry notes.txt']")
    sessions = []
    # small.png's own upload first, so the listener below counts the retry's upload only
    page.wait_for_function("() => [...document.querySelectorAll('#batch-list .state')]"
                           ".some(s => s.textContent.startsWith('done'))", timeout=20000)
    page.on("request", lambda r: sessions.append(r) if r.url.endswith("/sessions") else None)
    page.click("button[aria-label='Retry notes.txt']")
    until(page, lambda: len(sessions) == 1)
    page.wait_for_selector("button[aria-label='Retry notes.txt']")
    page.set_input_files("#add-file", str(site["files"] / "other.png"))
    page.wait_for_function("() => document.querySelectorAll('#batch-list li').length === 3")
    page.wait_for_function("() => [...document.querySelectorAll('#batch-list .state')].map(s => s.textContent)"
                           ".filter(t => t.startsWith('done')).length === 2", timeout=20000)


# --- defect 7: the zip is built in the page ------------------------------------------------------------------

def test_download_all_builds_the_zip_in_the_page(page, site):
    posted = []
    page.on("request", lambda r: posted.append(r.url) if r.method == "POST" and r.url.endswith("/zip") else None)
    page.set_input_files("#file", [str(site["files"] / n) for n in ("small.png", "other.png")])
    page.wait_for_function("() => [...document.querySelectorAll('#batch-list .state')]"
                           ".every(x => x.textContent.startsWith('done'))", timeout=20000)
    with page.expect_download() as dl:
        page.click("#zip")
    z = zipfile.ZipFile(io.BytesIO(open(dl.value.path(), "rb").read()))
    assert z.testzip() is None and sorted(z.namelist()) == ["other-colour.png", "small-colour.png"]
    assert Image.open(io.BytesIO(z.read("small-colour.png"))).size == (48, 32)
    assert posted == []


# --- defect 8 --------------------------------------------------------------------------------------------

def test_markers_are_inert_with_hint_mode_off_and_the_eyedropper_leaves_them(page, site):
    taker = _one_hint_placed(page, site)
    page.click("#hint-mode")  # off
    calls = len(taker.seen)
    hint = page.locator(".hint").bounding_box()
    page.mouse.move(hint["x"] + hint["width"] / 2, hint["y"] + hint["height"] / 2)
    page.mouse.down()
    page.mouse.move(hint["x"] - 40, hint["y"] + 30, steps=4)
    page.mouse.up()
    solid = png_bytes(np.full((30, 40, 3), (48, 160, 80), np.uint8))
    page.set_input_files("#reference", files=[{"name": "ref.png", "mimeType": "image/png", "buffer": solid}])
    page.wait_for_selector("#reference-thumb:not([hidden])")
    page.wait_for_function(IDLE)
    page.click("#reference-thumb")  # the eyedropper, hint mode off
    assert page.input_value("#hint-color") == "#30a050"
    page.wait_for_function(IDLE)
    assert all(seen == [(15, 20, (192, 48, 32))] for seen in taker.seen[calls:])  # not moved, not recoloured


def test_a_url_or_a_photo_dropped_on_the_result_is_taken(page, site):
    page.set_input_files("#file", str(site["files"] / "small.png"))
    wait_done(page, "small-colour.png")
    dt = page.evaluate_handle("url => { const dt = new DataTransfer(); dt.setData('text/uri-list', url); return dt; }",
                              site["url"] + "examples/coffee.jpg")
    page.dispatch_event("#stage", "drop", {"dataTransfer": dt})
    wait_done(page, "coffee-colour.jpg")
    dt = page.evaluate_handle("""async () => { const b = await (await fetch('/examples/rocket.jpg')).blob();
        const dt = new DataTransfer(); dt.items.add(new File([b], 'dropped.jpg', {type: b.type})); return dt; }""")
    page.dispatch_event("#after", "drop", {"dataTransfer": dt})
    wait_done(page, "dropped-colour.jpg")


def test_a_models_failure_is_said(browser, site):
    context = browser.new_context()
    page = context.new_page()
    page.route("**/models", lambda route: route.fulfill(status=500, json={"error": "internal error: boom"}))
    page.goto(site["url"])
    page.wait_for_selector("#status.err")
    assert "Could not load the list of models: internal error: boom" in page.inner_text("#status")
    context.close()


# --- defect 9: words ----------------------------------------------------------------------------------------

def test_plain_descriptions_test_models_hidden_and_a_colour_photo_noted(browser, site):
    fake = {"default": site["models"].default, "models": [
        {"name": site["models"].default, "description": "U-Net ... annealed mean T=0.38", "summary": "Natural colours.",
         "toy": False, "takes_hints": False, "render_size": 32, "card": False},
        {"name": "painter", "description": "x", "summary": "A tiny test model.", "toy": True, "takes_hints": False,
         "render_size": None, "card": False}]}
    context = browser.new_context()
    page = context.new_page()
    page.route("**/models", lambda route: route.fulfill(json=fake))
    page.goto(site["url"])
    page.wait_for_function("document.querySelectorAll('#model option').length > 0")
    assert page.inner_text("#model-desc") == "Natural colours."
    assert page.eval_on_selector_all("#model option", "o => o.map(x => x.value)") == [site["models"].default]
    page.check("#show-toy")
    assert page.eval_on_selector_all("#model option", "o => o.map(x => x.value)") == [site["models"].default, "painter"]
    colour = site["files"].parent / "colour.png"
    Image.fromarray(photo(32, 48)).save(colour)
    page.set_input_files("#file", str(colour))
    wait_done(page, "colour-colour.png")
    assert "colours of its own" in page.inner_text("#photo-note")
    context.close()


# --- the kept picture, undo / redo, save / load, cancel, compare, history --------------------------------------

def test_an_edit_sends_no_upload_and_is_timed(page, site):
    taker = site["models"].extra["hint-test"]
    uploads = []
    page.on("request", lambda r: uploads.append(r) if r.url.endswith("/sessions") else None)
    _hinting(page, site)
    page.evaluate("""() => { window.shown = []; document.querySelector('#after')
        .addEventListener('load', () => window.shown.push(performance.now())); }""")
    page.evaluate("window.t0 = performance.now()")
    _click_at(page, 0.5, 0.5)
    until(page, lambda: taker.seen and taker.seen[-1] == [(15, 20, (192, 48, 32))])
    page.wait_for_function(IDLE)
    ms = page.evaluate("window.shown.at(-1) - window.t0")
    assert len(uploads) == 1  # the photo went once; the edit sent only its settings
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "edit-latency.json").write_text(json.dumps({"photo": "other.png 40x30", "hint_edit_ms": ms}))


def test_undo_redo_and_hints_saved_and_loaded_as_the_clis_json(page, site, tmp_path):
    taker = site["models"].extra["hint-test"]
    _hinting(page, site)
    _click_at(page, 0.25, 0.25)
    _click_at(page, 0.75, 0.75)
    until(page, lambda: taker.seen and len(taker.seen[-1]) == 2)
    page.keyboard.press("Control+z")
    page.wait_for_function("() => document.querySelectorAll('.hint').length === 1")
    until(page, lambda: len(taker.seen[-1]) == 1)
    page.keyboard.press("Control+Shift+z")
    page.wait_for_function("() => document.querySelectorAll('.hint').length === 2")
    until(page, lambda: len(taker.seen[-1]) == 2)
    with page.expect_download() as dl:
        page.click("#hint-save")
    saved = tmp_path / dl.value.suggested_filename
    dl.value.save_as(saved)
    assert saved.name == "other-hints.json"
    assert [(h.x, h.y, h.rgb) for h in read_hints(saved)] == taker.seen[-1]  # the CLI reads it
    mine = tmp_path / "mine.json"
    mine.write_text(json.dumps([{"x": 3, "y": 4, "color": "#00ff00"}, "10,12=#0000ff"]))
    page.set_input_files("#hint-load", str(mine))
    until(page, lambda: taker.seen[-1] == [(3, 4, (0, 255, 0)), (10, 12, (0, 0, 255))])
    page.click("#hint-undo")  # loading is one step
    until(page, lambda: len(taker.seen[-1]) == 2 and taker.seen[-1][0][2] == (192, 48, 32))


def test_cancel_stops_the_running_photo(page, site, monkeypatch):
    before = health(site)["abandoned"]
    painter = site["models"].extra["painter"]
    monkeypatch.setattr(painter, "seconds", 120)  # until cancelled, on any machine
    calls = painter.calls
    page.select_option("#model", "painter")
    page.set_input_files("#file", str(site["files"] / "big.png"))
    page.wait_for_selector("#cancel:not([hidden])")
    until(page, lambda: painter.calls > calls)  # the photo is with the model, not still on its way
    page.click("#cancel")
    page.wait_for_selector("#status.err")
    assert "cancelled" in page.inner_text("#status") and page.is_visible("#retry")
    until(page, lambda: health(site)["abandoned"] > before)
    monkeypatch.undo()
    page.click("#retry")
    wait_done(page, "big-colour.png")


def test_compare_two_models_side_by_side_and_the_history(page, site):
    page.set_input_files("#file", str(site["files"] / "other.png"))
    wait_done(page, "other-colour.png")
    page.select_option("#compare-model", "painter")
    page.click("#compare-go")
    page.wait_for_function("() => { const s = document.querySelector('#side');"
                           " const r = document.querySelector('#side-right');"
                           " return !s.hidden && r.complete && r.naturalWidth === 30; }")
    assert page.inner_text("#side-right-label") == "painter"
    page.eval_on_selector("#saturation", "e => { e.value = '1.5'; e.dispatchEvent(new Event('change')); }")
    page.wait_for_function("() => document.querySelectorAll('#history-list .history-item').length === 2")
    assert "saturation 1.5" in page.inner_text("#history-list")
    page.click("#history-list .history-item >> nth=1")
    assert "saturation 1.0" in page.inner_text("#side-right-label")


def test_zoom_to_100_percent_pan_and_the_full_size_download(page, site, tmp_path):
    """A photo larger than the page shows: the result is a preview at the size shown (960 CSS pixels wide
    here: 1024); 100% shows the full-size result (painted on demand), scrolled by keys or a drag; the
    download is the full size."""
    big = tmp_path / "wide.png"
    Image.fromarray(photo(1000, 2000)).convert("L").save(big)
    page.set_input_files("#file", str(big))
    wait_done(page, "wide-colour.png")
    assert page.eval_on_selector("#after", "i => i.naturalWidth") == 1024
    page.click("#zoom")
    page.wait_for_function("() => { const a = document.querySelector('#after');"
                           " return a.complete && a.naturalWidth === 2000; }")
    assert round(page.locator("#stage").bounding_box()["width"]) == 2000
    assert page.eval_on_selector("#zoom-box", "b => b.scrollWidth > b.clientWidth")
    box = page.locator("#zoom-box").bounding_box()
    page.mouse.move(box["x"] + 400, box["y"] + 100)
    page.mouse.down()
    page.mouse.move(box["x"] + 200, box["y"] + 100, steps=4)  # a drag to the left pans right
    page.mouse.up()
    assert page.eval_on_selector("#zoom-box", "b => b.scrollLeft") == 200
    page.focus("#zoom-box")
    for _ in range(3):
        page.keyboard.press("ArrowRight")  # keys scroll (smoothly: wait for it)
    page.wait_for_function("() => document.querySelector('#zoom-box').scrollLeft > 200")
    with page.expect_download() as dl:
        page.click("#download")
    assert Image.open(dl.value.path()).size == (2000, 1000)
    page.click("#zoom")
    assert page.locator("#stage").bounding_box()["width"] < 1000


def test_colour_suggestions_at_a_hint(page, site):
    """The likeliest colours at a dropped hint, from the model; one click recolours the hint."""
    page.select_option("#model", "guided-test")
    page.set_input_files("#file", str(site["files"] / "other.png"))
    wait_done(page, "other-colour.png")
    page.click("#hint-mode")
    _click_at(page, 0.5, 0.5)
    page.wait_for_selector("#suggestions:not([hidden]) button")
    colour = page.get_attribute("#suggestions button >> nth=0", "data-color")
    assert "Likely colours at 15, 20" in page.inner_text("#suggestions")
    page.click("#suggestions button >> nth=0")
    page.wait_for_function("c => document.querySelector('.hint').style.background !== '' &&"
                           " document.querySelector('#hint-color').value === c", arg=colour)
    page.wait_for_function(IDLE)


def test_a_hint_edit_on_a_12_megapixel_photo_is_timed(page, site, tmp_path):
    """The edit path at full scale: a 4000 x 3000 photo sent once, a hint dropped, a preview back. The
    time from the click to the new result shown is written to build/test-artifacts/browser/
    edit-latency-12mp.json (not asserted: a loaded machine would fail it; benchmarks/edit_latency.py
    holds the goal)."""
    from tinta.pretrained import EXAMPLES_DIR

    big = tmp_path / "large.jpg"
    Image.open(EXAMPLES_DIR / "chelsea.jpg").convert("L").resize((4000, 3000)).save(big, quality=90)
    uploads = _renders(page)
    page.select_option("#model", "guided-test")
    page.set_input_files("#file", str(big))
    wait_done(page, "large-colour.jpg")
    page.click("#hint-mode")
    n = len(uploads)
    page.evaluate("""() => { window.shown = null; document.querySelector('#after')
        .addEventListener('load', () => { window.shown = performance.now(); }, {once: true}); }""")
    box = page.locator("#before").bounding_box()
    t0 = page.evaluate("performance.now()")
    page.mouse.click(box["x"] + box["width"] * 0.4, box["y"] + box["height"] * 0.4)
    page.wait_for_function("() => window.shown !== null", timeout=60000)
    ms = page.evaluate("window.shown") - t0
    assert len(uploads) == n + 1 and page.eval_on_selector("#after", "i => i.naturalWidth") <= 2048
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "edit-latency-12mp.json").write_text(json.dumps(
        {"photo": "chelsea.jpg enlarged to 4000x3000", "model": "guided-test (untrained guided-unet run)",
         "click_to_result_ms": round(ms, 1), "preview_width": page.eval_on_selector("#after", "i => i.naturalWidth")}))
    print(f"hint edit on a 12-megapixel photo: {ms:.0f} ms from the click to the result shown")


def test_a_multi_frame_photo_says_it_was_colourized_in_part(page, site, tmp_path):
    """Issue 21.6 on the page: the note under the status says only the first frame was colourized."""
    frames = [Image.fromarray(photo(30, 40, seed=i)).convert("L") for i in range(3)]
    gif = tmp_path / "anim.gif"
    frames[0].save(gif, save_all=True, append_images=frames[1:])
    page.set_input_files("#file", str(gif))
    wait_done(page, "anim-colour.png")
    assert "only the first of its 3 frames" in page.inner_text("#photo-note")
