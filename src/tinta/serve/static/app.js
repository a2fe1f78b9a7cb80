// tinta serve: the page. Photos come from the file input, drag-and-drop, paste or the examples;
// each is sent to POST /colorize. The latest request for a photo wins: a newer one aborts the
// older (AbortController) and a late answer is dropped; an error clears the result.
import { Batch } from "./batch.js";
import { Compare } from "./compare.js";
import { Guide } from "./guide.js";
import { Hints } from "./hints.js";

const $ = (id) => document.getElementById(id);
const MAX_ACTIVE = 2; // requests in flight at once (the server colourizes 2 at a time by default)
const state = { items: [], viewed: null, gen: 0, models: {}, queue: [], active: 0, timer: null };

const compare = new Compare($("stage"), $("split"));
const hints = new Hints({ stage: $("stage"), layer: $("hint-layer"), image: $("before"), color: $("hint-color"),
                          onChange: (item) => rerender(item) });
const guide = new Guide({ file: $("reference"), thumb: $("reference-thumb"), box: $("reference-box"),
                          remove: $("reference-remove"), form: $("palette-form"), text: $("palette"),
                          onChange: () => rerenderAll(), onPick: (color) => pickColor(color) });
const batch = new Batch({ section: $("batch"), list: $("batch-list"), zip: $("zip"), onView: (item) => view(item) });

function say(text, isError = false) {
  $("status").textContent = text;
  $("status").className = isError ? "err" : "";
}

function fields(item) {
  const form = new FormData();
  form.append("file", item.file, item.name);
  form.append("model", $("model").value);
  form.append("saturation", $("saturation").value);
  if ($("render-size").value) form.append("render_size", $("render-size").value);
  if ($("format").value) form.append("format", $("format").value);
  if (item.hints.length) form.append("hints", JSON.stringify(hints.payload(item)));
  guide.append(form);
  return form;
}

function fileName(response, fallback) {
  const cd = response.headers.get("Content-Disposition") || "";
  const m = cd.match(/filename\*=UTF-8''([^;]+)/);
  return m ? decodeURIComponent(m[1]) : fallback;
}

async function errorText(response) {
  try { return (await response.json()).error || response.statusText; } catch { return `${response.status} ${response.statusText}`; }
}

function clearResult(item) {
  if (item.resultUrl) URL.revokeObjectURL(item.resultUrl);
  item.result = item.resultUrl = item.resultName = null;
}

async function render(item) {
  item.controller?.abort();
  const controller = new AbortController();
  const seq = ++item.seq;
  const current = () => seq === item.seq && item.gen === state.gen;
  Object.assign(item, { controller, busy: true, error: null, started: performance.now() });
  update(item);
  try {
    const r = await fetch("/colorize", { method: "POST", body: fields(item), signal: controller.signal });
    const body = r.ok ? await r.blob() : await errorText(r);
    if (!current()) return; // a newer request for this photo owns it now
    clearResult(item);
    if (r.ok) {
      Object.assign(item, { result: body, resultUrl: URL.createObjectURL(body), resultName: fileName(r, item.name),
                            seconds: (performance.now() - item.started) / 1000, model: r.headers.get("X-Tinta-Model") });
    } else {
      item.error = body;
    }
  } catch (e) {
    if (!current()) return;
    clearResult(item);
    item.error = e.name === "AbortError" ? "cancelled" : "the server did not answer (" + e.message + ")";
  } finally {
    if (current()) { item.busy = false; item.controller = null; update(item); }
  }
}

function pump() {
  while (state.active < MAX_ACTIVE && state.queue.length) {
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
  pump();
}

function rerender(item) {
  if (!item) return;
  if (item.controller) { render(item); return; } // in flight: replace it at once (the old one is aborted)
  schedule(item, true);
}

function rerenderAll() {
  if (state.viewed) rerender(state.viewed);
  for (const item of state.items) if (item !== state.viewed) schedule(item);
}

function update(item) {
  batch.show(state.items, state.viewed);
  if (item === state.viewed) showViewed();
}

function showViewed() {
  const item = state.viewed;
  const stage = $("stage"), after = $("after"), link = $("download");
  $("viewer").hidden = !item || Boolean(item.unviewable);
  if (!item) return;
  if ($("before").getAttribute("src") !== item.inputUrl) {
    $("before").src = item.inputUrl;
    hints.setItem(item);
  }
  $("before").alt = "Input: " + item.name;
  const ready = Boolean(item.result) && !item.busy;
  after.hidden = !item.result;
  if (item.resultUrl) { if (after.getAttribute("src") !== item.resultUrl) after.src = item.resultUrl; }
  else after.removeAttribute("src");
  after.alt = item.result ? "Colourized: " + item.name : "";
  stage.classList.toggle("has-result", Boolean(item.result));
  stage.classList.toggle("busy", item.busy);
  $("viewer").setAttribute("aria-busy", String(item.busy));
  link.hidden = !ready;
  if (ready) { link.href = item.resultUrl; link.download = item.resultName; link.textContent = "Download " + item.resultName; }
  else { link.removeAttribute("href"); link.removeAttribute("download"); }
  if (item.busy) tick();
  else if (item.error) say(`${item.name}: ${item.error}`, true);
  else if (item.result) say(`${item.name}: done in ${item.seconds.toFixed(2)} s (model ${item.model})`);
  clearInterval(state.timer);
  if (item.busy) state.timer = setInterval(tick, 100);
}

function tick() {
  const item = state.viewed;
  if (!item || !item.busy) return;
  const s = item.started ? (performance.now() - item.started) / 1000 : 0;
  say(`Colourizing ${item.name}… ${s.toFixed(1)} s`);
}

function view(item) {
  state.viewed = item;
  batch.show(state.items, item);
  showViewed();
}

function take(files) {
  files = [...files].filter((f) => f && f.size !== undefined);
  if (!files.length) return;
  state.gen++;
  for (const old of state.items) { old.controller?.abort(); clearResult(old); URL.revokeObjectURL(old.inputUrl); }
  state.queue = [];
  state.items = files.map((file, i) => ({ id: i, file, name: file.name || `pasted-${i + 1}.png`, hints: [], seq: 0,
                                          gen: state.gen, inputUrl: URL.createObjectURL(file), busy: true }));
  view(state.items[0]);
  for (const item of state.items) schedule(item);
}

function pickColor(color) { // the eyedropper: the hint colour, and the selected hint's
  $("hint-color").value = color;
  $("hint-color").dispatchEvent(new Event("input"));
}

function setHintMode(on) {
  const m = state.models[$("model").value];
  const allowed = Boolean(m && m.takes_hints);
  on = on && allowed;
  $("hint-mode").disabled = !allowed;
  $("hint-mode").title = allowed ? "" : "This model takes no colour hints; choose one that does (e.g. guided).";
  $("hint-mode").setAttribute("aria-pressed", String(on));
  for (const id of ["hint-color-label", "hint-delete", "hint-clear", "hint-help"]) $(id).hidden = !on;
  hints.setActive(on);
  compare.dragEnabled = !on;
}

function describeModel() {
  const m = state.models[$("model").value];
  $("model-desc").textContent = m ? m.description.replace(/[.\s]*$/, ".") + (m.takes_hints ? " Takes colour hints." : "") : "";
  setHintMode($("hint-mode").getAttribute("aria-pressed") === "true");
}

async function loadModels() {
  const r = await fetch("/models");
  const data = await r.json();
  for (const m of data.models) {
    state.models[m.name] = m;
    const o = document.createElement("option");
    o.value = m.name;
    o.textContent = m.name + (m.takes_hints ? " (colour hints)" : "");
    o.selected = m.name === data.default;
    $("model").append(o);
  }
  describeModel();
}

async function loadExamples() {
  const r = await fetch("/examples");
  for (const ex of (await r.json()).examples) {
    const b = document.createElement("button");
    b.type = "button";
    b.setAttribute("aria-label", "Example photo " + ex.name);
    const img = document.createElement("img");
    img.src = ex.url;
    img.alt = "";
    b.append(img);
    b.addEventListener("click", async () => {
      const blob = await (await fetch(ex.url)).blob();
      take([new File([blob], ex.name, { type: blob.type })]);
    });
    $("examples").append(b);
  }
}

function wire() {
  $("before").addEventListener("load", (e) => {
    $("stage").style.setProperty("--aspect", String(e.target.naturalWidth / e.target.naturalHeight));
    hints.draw();
  });
  $("before").addEventListener("error", () => { // the browser cannot show it (not a picture?)
    if (state.viewed) { state.viewed.unviewable = true; $("viewer").hidden = true; }
  });
  $("file").addEventListener("change", (e) => { take(e.target.files); e.target.value = ""; });
  const drop = $("drop");
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => { e.preventDefault(); drop.classList.remove("over"); take(e.dataTransfer.files); });
  document.addEventListener("paste", (e) => {
    const files = [...(e.clipboardData?.files || [])];
    if (files.length) { e.preventDefault(); take(files); }
  });
  $("saturation").addEventListener("input", () => { $("saturation-value").value = Number($("saturation").value).toFixed(1); });
  $("saturation").addEventListener("change", rerenderAll);
  $("render-size").addEventListener("change", rerenderAll);
  $("format").addEventListener("change", rerenderAll);
  $("model").addEventListener("change", () => { describeModel(); rerenderAll(); });
  $("hint-mode").addEventListener("click", () => setHintMode($("hint-mode").getAttribute("aria-pressed") !== "true"));
  $("hint-delete").addEventListener("click", () => hints.selected && hints.remove(hints.selected));
  $("hint-clear").addEventListener("click", () => hints.clear());
}

wire();
loadModels();
loadExamples();
