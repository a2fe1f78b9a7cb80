// tinta serve: the page. Photos come from the file inputs, drag-and-drop (files or a picture's URL,
// anywhere on the page), paste or the examples. Each photo is sent once (POST /sessions: the server
// keeps it); every tweak is POST /sessions/ID/render with the settings only, for a preview at the size
// shown (the download is painted at full size). Changes are debounced; the latest request for a photo
// wins (a newer one aborts the older, a late answer is dropped); a busy server (503) is retried after
// its Retry-After; the page sends as many photos at once as the server has workers.
import { Batch } from "./batch.js";
import { Compare } from "./compare.js";
import { Guide } from "./guide.js";
import { Hints, parseHintsFile } from "./hints.js";

const $ = (id) => document.getElementById(id);
const PREVIEW = 1600; // long side of the server's grey copy of an input the browser cannot show

function previewSize(item) { // the long side the picture is shown at, in device pixels (256-pixel steps, 512..2048)
  const w = $("stage").clientWidth || 960;
  const aspect = item.width && item.height ? item.width / item.height : 1.5;
  const long = (aspect >= 1 ? w : w / aspect) * (window.devicePixelRatio || 1);
  return Math.min(2048, Math.max(512, Math.ceil(long / 256) * 256));
}
const debounceMs = () => window.TINTA_DEBOUNCE_MS ?? 150;
const state = { items: [], viewed: null, gen: 0, models: {}, queue: [], active: 0, workers: 2, nextId: 0, timer: null };

const compare = new Compare($("stage"), $("split"));
const hints = new Hints({ stage: $("stage"), layer: $("hint-layer"), image: $("before"), color: $("hint-color"),
                          cursor: $("hint-cursor"), onChange: (item, burst) => rerender(item, burst),
                          onSelect: () => { syncHintButtons(); suggestSoon(); } });
const guide = new Guide({ file: $("reference"), thumb: $("reference-thumb"), box: $("reference-box"),
                          remove: $("reference-remove"), form: $("palette-form"), text: $("palette"),
                          onChange: () => rerenderAll(), onPick: (color) => pickColor(color) });
const batch = new Batch({ section: $("batch"), list: $("batch-list"), zip: $("zip"), live: $("batch-live"),
                          onView: (item) => view(item), onRetry: (item) => retry(item), fullResult });

function say(text, isError = false) { // the live region: written only when what it says changes
  const s = $("status");
  if (s.textContent !== text) s.textContent = text;
  s.className = isError ? "err" : "";
}

const model = () => state.models[$("model").value];
const takesHints = () => Boolean(model()?.takes_hints);

function fields(item, extra = {}) {
  const form = new FormData();
  form.append("model", $("model").value);
  form.append("saturation", $("saturation").value);
  if ($("render-size").value) form.append("render_size", $("render-size").value);
  if ($("format").value) form.append("format", $("format").value);
  if (item.hints.length && takesHints()) form.append("hints", JSON.stringify(hints.payload(item)));
  form.append("preview", String(previewSize(item)));
  for (const [k, v] of Object.entries(extra)) form.append(k, v);
  guide.append(form);
  return form;
}

function fileName(response, fallback) {
  const cd = response.headers.get("Content-Disposition") || "";
  const m = cd.match(/filename\*=UTF-8''([^;]+)/);
  return m ? decodeURIComponent(m[1]) : fallback;
}

async function httpError(r) {
  let text;
  try { text = (await r.json()).error || r.statusText; } catch { text = `${r.status} ${r.statusText}`; }
  const e = new Error(text);
  e.status = r.status;
  const after = Number(r.headers.get("Retry-After"));
  if (r.status === 503 && Number.isFinite(after) && r.headers.has("Retry-After")) e.retryAfter = after;
  return e;
}

function clearResult(item) {
  if (item.resultUrl) URL.revokeObjectURL(item.resultUrl);
  if (item.fullUrl) URL.revokeObjectURL(item.fullUrl);
  item.fullUrl = item.fullFor = null;
  item.result = item.resultUrl = item.resultName = null;
  item.previewed = false;
}

async function ensureSession(item, signal) { // the photo is sent once; the server keeps it
  if (item.sid) return;
  const form = new FormData();
  form.append("file", item.file, item.name);
  form.append("name", item.name);
  const r = await fetch("/sessions", { method: "POST", body: form, signal });
  if (!r.ok) throw await httpError(r);
  const kept = await r.json();
  Object.assign(item, { sid: kept.id, width: kept.width, height: kept.height, note: kept.note || "" });
  if (item.unviewable) item.inputUrl = `/sessions/${kept.id}/input?size=${PREVIEW}`;
  if (item === state.viewed) { showViewed(); hints.draw(); }
}

async function post(item, extra, signal) {
  const send = () => fetch(`/sessions/${item.sid}/render`, { method: "POST", body: fields(item, extra), signal });
  await ensureSession(item, signal);
  let r = await send();
  if (r.status === 404) { item.sid = null; await ensureSession(item, signal); r = await send(); } // it was freed
  if (!r.ok) throw await httpError(r);
  return r;
}

function watchQueue(item, ticket, current) { // where the request stands in the server's queue
  const poll = async () => {
    if (!current() || !item.controller) return;
    try {
      const q = await (await fetch(`/queue/${ticket}`)).json();
      if (!current() || !item.controller) return;
      const phase = q.running ? "running" : q.position ? "queued" : item.phase;
      if (phase !== item.phase || q.position !== item.position) {
        Object.assign(item, { phase, position: q.position });
        update(item);
      }
    } catch { /* the answer will say */ }
    if (current() && item.controller && item.phase !== "running") item.queueTimer = setTimeout(poll, 400);
  };
  item.queueTimer = setTimeout(poll, 150);
}

async function render(item) {
  item.controller?.abort();
  clearTimeout(item.queueTimer);
  const controller = new AbortController();
  const seq = ++item.seq;
  const current = () => seq === item.seq && item.gen === state.gen;
  const ticket = `p${state.gen}-${item.id}-${seq}-${Math.random().toString(36).slice(2, 8)}`;
  Object.assign(item, { controller, busy: true, phase: "sending", position: null, error: null, cancelled: false,
                        started: performance.now(), retryAt: null });
  update(item);
  watchQueue(item, ticket, current);
  try {
    const r = await post(item, { ticket }, controller.signal);
    const body = await r.blob();
    if (!current()) return;
    clearResult(item);
    Object.assign(item, { result: body, resultUrl: URL.createObjectURL(body), resultName: fileName(r, item.name),
                          previewed: r.headers.get("X-Tinta-Preview") === "1", model: r.headers.get("X-Tinta-Model"),
                          seconds: (performance.now() - item.started) / 1000 });
    remember(item);
  } catch (e) {
    if (!current()) return;
    if (e.retryAfter !== undefined) { // busy: not an error; try again when the server says
      item.retryAt = Date.now() + 1000 * e.retryAfter;
      item.retryTimer = setTimeout(() => { item.retryTimer = null; if (current()) schedule(item, item === state.viewed); },
                                   1000 * e.retryAfter);
      item.controller = null;
      item.phase = "retry";
      update(item);
      return;
    }
    clearResult(item);
    item.error = e.name === "AbortError" ? (item.cancelled ? "cancelled" : "stopped")
      : e.status ? e.message : "the server did not answer (" + e.message + ")";
  } finally {
    clearTimeout(item.queueTimer);
    if (current() && !item.retryAt) { item.busy = false; item.controller = null; item.phase = null; update(item); }
  }
}

function remember(item) { // the history strip: the last results of this photo, with their settings
  item.history = item.history || [];
  const label = `${item.model}, saturation ${Number($("saturation").value).toFixed(1)}`
    + (item.hints.length && takesHints() ? `, ${item.hints.length} hint${item.hints.length > 1 ? "s" : ""}` : "");
  const keepUrl = URL.createObjectURL(item.result);
  item.history.unshift({ url: keepUrl, label, settings: snapshot(item) });
  for (const old of item.history.splice(6)) URL.revokeObjectURL(old.url);
}

function snapshot(item) {
  return { model: $("model").value, saturation: $("saturation").value, hints: JSON.stringify(item.hints) };
}

function pump() {
  while (state.active < state.workers && state.queue.length) {
    const item = state.queue.shift();
    if (item.gen !== state.gen) continue;
    state.active++;
    render(item).finally(() => { state.active--; pump(); });
  }
}

function schedule(item, first = false) {
  state.queue = state.queue.filter((i) => i !== item);
  if (first) state.queue.unshift(item); else state.queue.push(item);
  item.busy = true;
  item.retryAt = null;
  item.phase = null;
  update(item);
  pump();
}

function sendNow(item) {
  if (item.controller) { render(item); return; } // in flight: replace it at once (the old one is aborted)
  if (state.queue.includes(item)) return; // waiting: it will read the settings when it goes
  schedule(item, true);
}

function rerender(item, debounce = true) { // a burst of changes (a colour picker, arrow keys) sends one request;
  // a single change (a hint dropped or deleted, undo) goes at once
  if (!item) return;
  clearTimeout(item.debounce);
  clearTimeout(item.retryTimer);
  item.retryTimer = null;
  item.busy = true;
  update(item);
  if (!debounce) { sendNow(item); return; }
  item.debounce = setTimeout(() => { item.debounce = null; sendNow(item); }, debounceMs());
}

function rerenderAll() {
  if (state.viewed) rerender(state.viewed);
  for (const item of state.items) if (item !== state.viewed && !state.queue.includes(item)) schedule(item);
}

function retry(item) {
  item.error = null;
  schedule(item, true);
}

function update(item) {
  batch.show(state.items, state.viewed);
  if (item === state.viewed) showViewed();
}

function showViewed() {
  const item = state.viewed;
  const stage = $("stage"), after = $("after"), link = $("download");
  $("viewer").hidden = !item;
  $("cancel").hidden = !item || !item.busy || !item.controller;
  $("retry").hidden = !item || !item.error;
  if (!item) return;
  if ($("before").getAttribute("src") !== item.inputUrl) {
    $("before").src = item.inputUrl;
    hints.setItem(item);
  }
  $("before").alt = "Input: " + item.name;
  const ready = Boolean(item.result) && !item.busy;
  after.hidden = !item.result;
  const shown = state.zoomed && item.fullFor === item.resultUrl ? item.fullUrl : item.resultUrl;
  if (state.zoomed && item.result && item.previewed && item.fullFor !== item.resultUrl && !item.busy) loadFull(item);
  if (shown) { if (after.getAttribute("src") !== shown) after.src = shown; }
  else after.removeAttribute("src");
  after.alt = item.result ? "Colourized: " + item.name : "";
  stage.classList.toggle("has-result", Boolean(item.result));
  stage.classList.toggle("busy", item.busy);
  $("viewer").setAttribute("aria-busy", String(item.busy));
  link.hidden = !ready;
  if (ready) {
    link.href = item.previewed ? `/sessions/${item.sid}/download` : item.resultUrl;
    link.download = item.resultName;
    link.textContent = "Download " + item.resultName;
  } else { link.removeAttribute("href"); link.removeAttribute("download"); }
  $("photo-note").hidden = !item.note;
  $("photo-note").textContent = item.note ? `${item.name}: ${item.note}` : "";
  showHintNote();
  showHistory(item);
  if (item.error) say(`${item.name}: ${item.error}`, true);
  else if (item.retryAt) say(`${item.name}: the server is busy; trying again in ${Math.ceil((item.retryAt - Date.now()) / 1000)} s`);
  else if (item.busy && item.phase === "queued") say(`${item.name}: waiting for the server (number ${item.position} in line)`);
  else if (item.busy) say(`Colourizing ${item.name}…`);
  else if (item.result) say(`${item.name}: done in ${item.seconds.toFixed(2)} s (model ${item.model})`);
  clearInterval(state.timer);
  $("elapsed").textContent = "";
  if (item.busy) state.timer = setInterval(tick, 250);
}

function tick() { // the seconds counter: outside the live region, so screen readers are not flooded
  const item = state.viewed;
  if (!item || !item.busy || !item.started) { $("elapsed").textContent = ""; return; }
  $("elapsed").textContent = `${((performance.now() - item.started) / 1000).toFixed(1)} s`;
}

function showHintNote() {
  const item = state.viewed;
  const aside = Boolean(item && item.hints.length && !takesHints());
  $("stage").classList.toggle("hints-aside", aside);
  $("hint-note").hidden = !aside;
  if (aside) {
    const n = item.hints.length;
    $("hint-note").textContent = `${n} colour hint${n > 1 ? "s are" : " is"} kept aside: the model ${$("model").value} `
      + "takes none, so they are not sent. Choose a model that takes hints (such as guided) to use them again.";
  }
}

function showHistory(item) {
  const strip = $("history");
  const list = item?.history || [];
  strip.hidden = list.length < 2;
  if (strip.hidden) return;
  const buttons = list.map((h, i) => {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "history-item";
    b.setAttribute("aria-label", `Earlier result ${i + 1}: ${h.label}; show it beside the latest`);
    const img = document.createElement("img");
    img.src = h.url;
    img.alt = "";
    img.draggable = false;
    const cap = document.createElement("span");
    cap.textContent = h.label;
    b.append(img, cap);
    b.addEventListener("click", () => showSideBySide(item, h));
    return b;
  });
  $("history-list").replaceChildren(...buttons);
}

function showSideBySide(item, entry, label = null) {
  $("side").hidden = false;
  $("side-left").src = item.resultUrl || "";
  $("side-left-label").textContent = "latest: " + (item.history?.[0]?.label || "");
  $("side-right").src = entry.url;
  $("side-right-label").textContent = label || entry.label;
}

async function compareWith() { // the viewed photo with another model, beside the current result
  const item = state.viewed, other = $("compare-model").value;
  if (!item || !other) return;
  const form = fields(item, { remember: "0" });
  form.set("model", other);
  if (!state.models[other]?.takes_hints) form.delete("hints");
  $("compare-go").disabled = true;
  try {
    await ensureSession(item);
    const r = await fetch(`/sessions/${item.sid}/render`, { method: "POST", body: form });
    if (!r.ok) throw await httpError(r);
    const url = URL.createObjectURL(await r.blob());
    showSideBySide(item, { url }, `${other}`);
  } catch (e) {
    say(`Compare: ${e.message}`, true);
  } finally {
    $("compare-go").disabled = false;
  }
}

let suggestTimer = null, suggested = "";

function suggestSoon() { // colour suggestions for the selected hint: the model's likeliest colours there
  clearTimeout(suggestTimer);
  const item = state.viewed, hint = hints.selected;
  if (!hints.active || !item || !hint) { $("suggestions").hidden = true; suggested = ""; return; }
  const others = item.hints.filter((h) => h !== hint);
  const key = JSON.stringify([item.id, $("model").value, hint.x, hint.y, others]);
  if (key === suggested) return;
  suggestTimer = setTimeout(async () => {
    suggested = key;
    const form = new FormData();
    form.append("model", $("model").value);
    if ($("render-size").value) form.append("render_size", $("render-size").value);
    form.append("x", String(Math.round(hint.x)));
    form.append("y", String(Math.round(hint.y)));
    if (others.length) form.append("hints", JSON.stringify(others.map(({ x, y, color }) => ({ x, y, color }))));
    try {
      await ensureSession(item);
      const r = await fetch(`/sessions/${item.sid}/suggest`, { method: "POST", body: form });
      if (!r.ok) throw await httpError(r);
      if (hints.selected !== hint) return;
      showSuggestions(hint, (await r.json()).colours);
    } catch { $("suggestions").hidden = true; }
  }, debounceMs());
}

function showSuggestions(hint, colours) {
  const label = document.createElement("span");
  label.className = "note";
  label.textContent = `Likely colours at ${Math.round(hint.x)}, ${Math.round(hint.y)}:`;
  const swatches = colours.map((c) => {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "swatch";
    b.style.background = c.color;
    b.dataset.color = c.color;
    const share = c.share === null ? "" : ` (${Math.round(100 * c.share)}%)`;
    b.setAttribute("aria-label", `Use ${c.color}${share}`);
    b.title = `${c.color}${share}`;
    b.addEventListener("click", () => { if (hints.selected === hint) pickColor(c.color); hints.button(hint)?.focus(); });
    return b;
  });
  $("suggestions").replaceChildren(label, ...swatches);
  $("suggestions").hidden = false;
}

async function fullResult(item) { // the full-size picture of a result (a preview's is painted on demand)
  if (!item.previewed) return item.result;
  const r = await fetch(`/sessions/${item.sid}/download`);
  if (!r.ok) throw await httpError(r);
  return await r.blob();
}

async function setZoom(on) { // 100%: one picture pixel per CSS pixel, the full-size result, panned by drag or keys
  const item = state.viewed;
  state.zoomed = Boolean(on && item);
  $("viewer").classList.toggle("zoomed", state.zoomed);
  $("zoom").setAttribute("aria-pressed", String(state.zoomed));
  $("zoom").textContent = state.zoomed ? "Fit to the window" : "Zoom to 100%";
  compare.dragEnabled = !state.zoomed && !hints.active;
  if (state.zoomed) {
    $("stage").style.setProperty("--full-w", `${item.width || $("before").naturalWidth}px`);
    $("zoom-box").tabIndex = 0;
    $("zoom-box").setAttribute("aria-label", "The picture at 100%: arrow keys scroll");
    await loadFull(item);
  } else {
    $("zoom-box").removeAttribute("tabindex");
    $("zoom-box").removeAttribute("aria-label");
  }
  showViewed();
}

async function loadFull(item) { // the full-size result for the zoomed view (a preview is painted at full size)
  if (!item?.result || !item.previewed || item.fullFor === item.resultUrl) return;
  const forUrl = item.resultUrl;
  try {
    const blob = await fullResult(item);
    if (item.resultUrl !== forUrl) return;
    if (item.fullUrl) URL.revokeObjectURL(item.fullUrl);
    Object.assign(item, { fullUrl: URL.createObjectURL(blob), fullFor: forUrl });
    if (item === state.viewed) showViewed();
  } catch (e) { say(`${item.name}: could not get the full-size picture (${e.message})`, true); }
}

function wireZoom() {
  $("zoom").addEventListener("click", () => setZoom(!state.zoomed));
  const box = $("zoom-box");
  box.addEventListener("pointerdown", (e) => { // pan
    if (!state.zoomed || hints.active || e.button > 0) return;
    e.preventDefault();
    const start = { x: e.clientX, y: e.clientY, left: box.scrollLeft, top: box.scrollTop };
    box.setPointerCapture(e.pointerId);
    const move = (ev) => { box.scrollLeft = start.left - (ev.clientX - start.x); box.scrollTop = start.top - (ev.clientY - start.y); };
    const up = () => { box.removeEventListener("pointermove", move); box.removeEventListener("pointerup", up); };
    box.addEventListener("pointermove", move);
    box.addEventListener("pointerup", up);
  });
}

function view(item) {
  if (state.zoomed && item !== state.viewed) setZoom(false);
  state.viewed = item;
  $("side").hidden = true;
  batch.show(state.items, item);
  showViewed();
}

function newItem(file, i) {
  return { id: state.nextId++, file, name: file.name || `pasted-${i + 1}.png`, hints: [], undo: [], redo: [], seq: 0,
           gen: state.gen, inputUrl: URL.createObjectURL(file), busy: true, history: [] };
}

function take(files, add = false) {
  files = [...files].filter((f) => f && f.size !== undefined);
  if (!files.length) return;
  if (!add) {
    state.gen++;
    for (const old of state.items) {
      old.controller?.abort();
      clearTimeout(old.debounce);
      clearTimeout(old.retryTimer);
      clearResult(old);
      URL.revokeObjectURL(old.inputUrl);
      if (old.sid) fetch(`/sessions/${old.sid}`, { method: "DELETE" }).catch(() => {});
    }
    state.queue = [];
    state.items = [];
  }
  const added = files.map((f, i) => newItem(f, state.items.length + i));
  state.items.push(...added);
  if (!add || !state.viewed) view(added[0]); else batch.show(state.items, state.viewed);
  for (const item of added) schedule(item);
}

function pickColor(color) { // the eyedropper: the hint colour (and the selected hint's, in hint mode)
  $("hint-color").value = color;
  $("hint-color").dispatchEvent(new Event("input"));
  $("hint-color").dispatchEvent(new Event("change"));
}

function syncHintButtons() {
  const item = state.viewed;
  $("hint-undo").disabled = !item?.undo?.length;
  $("hint-redo").disabled = !item?.redo?.length;
  $("hint-delete").disabled = !hints.selected;
  $("hint-clear").disabled = !item?.hints?.length;
  $("hint-save").disabled = !item?.hints?.length;
}

function setHintMode(on) {
  const allowed = takesHints();
  on = on && allowed;
  $("hint-mode").disabled = !allowed;
  $("hint-mode").title = allowed ? "" : "This model takes no colour hints; choose one that does (e.g. guided).";
  $("hint-mode").setAttribute("aria-pressed", String(on));
  $("hint-tools").hidden = $("hint-help").hidden = !on;
  hints.setActive(on);
  compare.dragEnabled = !on && !state.zoomed;
  if (!on) $("suggestions").hidden = true;
  syncHintButtons();
}

function describeModel() {
  const m = model();
  $("model-desc").textContent = m ? (m.summary || m.description) + (m.takes_hints ? " Takes colour hints." : "") : "";
  setHintMode($("hint-mode").getAttribute("aria-pressed") === "true");
  showHintNote();
}

function fillModels(data) {
  const showToy = $("show-toy").checked;
  const chosen = $("model").value || data.default;
  const options = [], others = [];
  for (const m of data.models) {
    state.models[m.name] = m;
    if (m.toy && !showToy && m.name !== data.default) continue;
    const o = document.createElement("option");
    o.value = m.name;
    o.textContent = m.name + (m.takes_hints ? " (colour hints)" : "") + (m.toy ? " (test model)" : "");
    o.selected = m.name === chosen;
    options.push(o);
    others.push(o.cloneNode(true));
  }
  $("model").replaceChildren(...options);
  $("compare-model").replaceChildren(...others);
  $("show-toy-label").hidden = !data.models.some((m) => m.toy);
}

async function loadModels() {
  try {
    const r = await fetch("/models");
    if (!r.ok) throw await httpError(r);
    state.modelList = await r.json();
    fillModels(state.modelList);
    describeModel();
  } catch (e) {
    say("Could not load the list of models: " + e.message + ". Reload the page to try again.", true);
    $("model-desc").textContent = "No model list: the server did not give it.";
  }
}

async function loadWorkers() { // send as many photos at once as the server colourizes
  try {
    const h = await (await fetch("/health")).json();
    if (h.workers > 0) state.workers = h.workers;
  } catch { /* keep 2 */ }
  document.body.dataset.workers = String(state.workers);
}

async function loadExamples() {
  try {
    const r = await fetch("/examples");
    for (const ex of (await r.json()).examples) {
      const b = document.createElement("button");
      b.type = "button";
      b.setAttribute("aria-label", "Example photo " + ex.name);
      const img = document.createElement("img");
      img.src = ex.url;
      img.alt = "";
      img.draggable = false;
      b.append(img);
      b.addEventListener("click", async () => {
        const blob = await (await fetch(ex.url)).blob();
        take([new File([blob], ex.name, { type: blob.type })]);
      });
      $("examples").append(b);
    }
  } catch { /* no examples */ }
}

async function takeUrl(url) { // a picture dragged from another page: fetch it (the other site must allow it)
  try {
    const r = await fetch(url);
    if (!r.ok) throw new Error(`${r.status} ${r.statusText}`);
    const blob = await r.blob();
    const name = decodeURIComponent(new URL(url, location.href).pathname.split("/").pop() || "") || "dropped-picture";
    take([new File([blob], name, { type: blob.type })]);
  } catch (e) {
    say(`Could not fetch the dropped picture ${url} (${e.message}); save it and drop the file instead.`, true);
  }
}

function onDrop(e) {
  e.preventDefault();
  $("drop").classList.remove("over");
  document.body.classList.remove("dragging");
  const files = [...(e.dataTransfer?.files || [])];
  if (files.length) { take(files); return; }
  const uri = (e.dataTransfer?.getData("text/uri-list") || e.dataTransfer?.getData("text/plain") || "")
    .split(/\r?\n/).find((l) => l && !l.startsWith("#"));
  if (uri && /^(https?:|blob:|data:image\/)/.test(uri.trim())) takeUrl(uri.trim());
  else if (uri) say("The dropped text is not a picture or a picture's address.", true);
}

function saveHints() {
  const item = state.viewed;
  if (!item || !item.hints.length) return;
  const blob = new Blob([JSON.stringify(hints.payload(item), null, 1) + "\n"], { type: "application/json" });
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = item.name.replace(/\.[^.]*$/, "") + "-hints.json";
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 60000);
}

async function loadHints(file) {
  const item = state.viewed;
  if (!item || !file) return;
  try {
    const list = parseHintsFile(await file.text());
    const [w, h] = hints.size();
    const outside = list.filter((p) => p.x < 0 || p.y < 0 || p.x >= w || p.y >= h);
    if (outside.length) throw new Error(`${outside.length} hint(s) lie outside this ${w}x${h} picture`);
    hints.replace(list);
    say(`${item.name}: ${list.length} hints loaded from ${file.name}`);
  } catch (e) {
    say(`${file.name}: not a hints file (${e.message})`, true);
  }
}

function wire() {
  $("before").addEventListener("load", (e) => {
    $("stage").style.setProperty("--aspect", String(e.target.naturalWidth / e.target.naturalHeight));
    hints.draw();
  });
  $("before").addEventListener("error", () => { // the browser cannot show it (a TIFF ...): the server's grey copy
    const item = state.viewed;
    if (!item || item.unviewable) return;
    item.unviewable = true;
    if (item.sid) { item.inputUrl = `/sessions/${item.sid}/input?size=${PREVIEW}`; showViewed(); }
  });
  $("file").addEventListener("change", (e) => { take(e.target.files); e.target.value = ""; });
  $("add-file").addEventListener("change", (e) => { take(e.target.files, true); e.target.value = ""; });
  const drop = $("drop");
  document.addEventListener("dragover", (e) => {
    e.preventDefault();
    document.body.classList.add("dragging");
    drop.classList.toggle("over", drop.contains(e.target));
  });
  document.addEventListener("dragleave", (e) => { if (!e.relatedTarget) { document.body.classList.remove("dragging"); drop.classList.remove("over"); } });
  document.addEventListener("drop", onDrop);
  document.addEventListener("paste", (e) => {
    const files = [...(e.clipboardData?.files || [])];
    if (files.length) { e.preventDefault(); take(files); }
  });
  $("saturation").addEventListener("input", () => {
    $("saturation-value").value = Number($("saturation").value).toFixed(1);
    rerenderAll();
  });
  $("saturation").addEventListener("change", rerenderAll); // (the same burst: debounced into one request)
  $("render-size").addEventListener("change", rerenderAll);
  $("format").addEventListener("change", rerenderAll);
  $("model").addEventListener("change", () => { describeModel(); rerenderAll(); });
  $("show-toy").addEventListener("change", () => { if (state.modelList) { fillModels(state.modelList); describeModel(); } });
  $("hint-mode").addEventListener("click", () => setHintMode($("hint-mode").getAttribute("aria-pressed") !== "true"));
  $("hint-delete").addEventListener("click", () => hints.selected && hints.remove(hints.selected));
  $("hint-clear").addEventListener("click", () => { hints.clear(); $("stage").focus(); });
  $("hint-undo").addEventListener("click", () => { hints.undo(); syncHintButtons(); });
  $("hint-redo").addEventListener("click", () => { hints.redo(); syncHintButtons(); });
  $("hint-save").addEventListener("click", saveHints);
  $("hint-load").addEventListener("change", (e) => { loadHints(e.target.files[0]); e.target.value = ""; });
  $("cancel").addEventListener("click", () => {
    const item = state.viewed;
    if (!item?.controller) return;
    item.cancelled = true;
    item.controller.abort();
  });
  $("retry").addEventListener("click", () => state.viewed && retry(state.viewed));
  $("compare-go").addEventListener("click", compareWith);
  $("side-close").addEventListener("click", () => { $("side").hidden = true; });
  document.addEventListener("keydown", (e) => {
    const typing = /^(INPUT|SELECT|TEXTAREA)$/.test(e.target.tagName) && e.target.type !== "range";
    if (!(e.ctrlKey || e.metaKey) || typing || !hints.active) return;
    const key = e.key.toLowerCase();
    if (key === "z" && !e.shiftKey) { e.preventDefault(); hints.undo(); syncHintButtons(); }
    else if ((key === "z" && e.shiftKey) || key === "y") { e.preventDefault(); hints.redo(); syncHintButtons(); }
  });
  const origChange = hints.onChange;
  hints.onChange = (item, burst) => { origChange(item, burst); syncHintButtons(); showHintNote(); suggestSoon(); };
  wireZoom();
}

wire();
loadWorkers();
loadModels();
loadExamples();
