// Colour hints on the viewed photo, in picture pixels. With hint mode on: click the picture to drop
// one, drag a marker to move it, pick its colour, Delete to remove it; from the keyboard, the picture
// itself is focusable: arrows move a cursor (Shift: 10x), Enter drops a hint there. Undo / redo
// (Ctrl+Z, Ctrl+Shift+Z or Ctrl+Y) cover every change. With hint mode off the markers are shown but
// inert. Every change calls onChange (the page re-renders, debounced).
export class Hints {
  constructor({ stage, layer, image, color, cursor, onChange, onSelect }) {
    Object.assign(this, { stage, layer, image, color, cursor, onChange, onSelect });
    this.item = null;
    this.selected = null;
    this.active = false;
    this.recolouring = false; // a burst of colour-picker events is one undo step
    this.at = null; // the keyboard cursor, in picture pixels
    layer.addEventListener("pointerdown", (e) => this.onLayerDown(e));
    color.addEventListener("input", () => {
      if (!this.active || !this.selected) return; // the eyedropper or picker never changes a hidden hint
      if (!this.recolouring) { this.remember(); this.recolouring = true; }
      this.selected.color = color.value;
      this.mark();
      this.changed(true);
    });
    color.addEventListener("change", () => { this.recolouring = false; });
    stage.addEventListener("keydown", (e) => this.stageKey(e));
    stage.addEventListener("focus", () => { if (this.active) this.showCursor(); });
    stage.addEventListener("blur", () => { this.cursor.hidden = true; });
  }

  setItem(item) {
    this.item = item;
    this.selected = null;
    this.at = null;
    this.draw();
  }

  setActive(on) {
    this.active = on;
    this.stage.classList.toggle("hinting", on);
    if (on) {
      this.stage.tabIndex = 0;
      this.stage.setAttribute("role", "application");
      this.stage.setAttribute("aria-label", "Picture: arrow keys move the hint cursor (Shift: faster), Enter drops "
        + "a colour hint there, Tab reaches the hints");
    } else {
      this.stage.removeAttribute("tabindex");
      this.stage.removeAttribute("role");
      this.stage.removeAttribute("aria-label");
      this.cursor.hidden = true;
      this.selected = null;
    }
    this.draw();
  }

  get list() { return this.item ? this.item.hints : []; }

  size() { // the picture's own size (the server says it; the shown image may be a preview)
    const it = this.item;
    return [it?.width || this.image.naturalWidth || 1, it?.height || this.image.naturalHeight || 1];
  }

  changed(burst = false) { this.onChange(this.item, burst); } // burst: part of a run of changes (debounced)

  remember() { // before a change: the undo step
    if (!this.item) return;
    this.item.undo.push(JSON.stringify(this.list));
    if (this.item.undo.length > 100) this.item.undo.shift();
    this.item.redo = [];
  }

  restore(from, to) {
    if (!this.item || !from.length) return false;
    to.push(JSON.stringify(this.list));
    this.item.hints = JSON.parse(from.pop());
    this.selected = null;
    this.draw();
    this.changed();
    return true;
  }

  undo() { return this.item ? this.restore(this.item.undo, this.item.redo) : false; }

  redo() { return this.item ? this.restore(this.item.redo, this.item.undo) : false; }

  replace(list) { // loaded from a file
    this.remember();
    this.item.hints = list;
    this.selected = null;
    this.draw();
    this.changed();
  }

  toPicture(e) {
    const r = this.image.getBoundingClientRect();
    const [w, h] = this.size();
    const x = Math.min(w - 1, Math.max(0, ((e.clientX - r.left) / r.width) * w));
    const y = Math.min(h - 1, Math.max(0, ((e.clientY - r.top) / r.height) * h));
    return { x: Math.round(x), y: Math.round(y) };
  }

  add(x, y) {
    this.remember();
    const hint = { x, y, color: this.color.value };
    this.list.push(hint);
    this.select(hint);
    this.changed();
    return hint;
  }

  onLayerDown(e) {
    if (!this.active || !this.item || e.target !== this.layer) return;
    e.preventDefault();
    const { x, y } = this.toPicture(e);
    this.at = { x, y };
    this.add(x, y);
  }

  stageKey(e) {
    if (!this.active || !this.item || e.target !== this.stage) return;
    const [w, h] = this.size();
    const step = Math.max(1, Math.round(Math.max(w, h) / (e.shiftKey ? 10 : 100)));
    const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
    if (!this.at) this.at = { x: Math.floor(w / 2), y: Math.floor(h / 2) };
    if (moves[e.key]) {
      e.preventDefault();
      this.at.x = Math.min(w - 1, Math.max(0, this.at.x + moves[e.key][0]));
      this.at.y = Math.min(h - 1, Math.max(0, this.at.y + moves[e.key][1]));
      this.showCursor();
    } else if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      this.add(this.at.x, this.at.y);
      this.stage.focus(); // keep the cursor: several hints in a row
      this.showCursor();
    }
  }

  showCursor() {
    if (!this.item) return;
    const [w, h] = this.size();
    if (!this.at) this.at = { x: Math.floor(w / 2), y: Math.floor(h / 2) };
    this.cursor.hidden = false;
    this.cursor.style.left = (100 * (this.at.x + 0.5)) / w + "%";
    this.cursor.style.top = (100 * (this.at.y + 0.5)) / h + "%";
    this.stage.setAttribute("aria-description", `cursor at ${this.at.x}, ${this.at.y}`);
  }

  select(hint) {
    this.selected = hint;
    if (hint) this.color.value = hint.color;
    this.draw();
    if (hint) this.button(hint)?.focus();
    this.onSelect?.(hint);
  }

  button(hint) { return this.layer.querySelector(`[data-index="${this.list.indexOf(hint)}"]`); }

  remove(hint) {
    const i = this.list.indexOf(hint);
    if (i < 0) return;
    this.remember();
    this.list.splice(i, 1);
    this.selected = null;
    this.draw();
    this.changed();
    // focus never falls to <body>: the next hint, else the previous, else the picture
    const next = this.list[Math.min(i, this.list.length - 1)];
    if (next) this.select(next); else this.stage.focus();
  }

  clear() {
    if (!this.item || !this.item.hints.length) return;
    this.remember();
    this.item.hints.length = 0;
    this.selected = null;
    this.draw();
    this.changed();
  }

  marker(hint, index) {
    const [w, h] = this.size();
    const b = document.createElement("button");
    b.type = "button";
    b.className = "hint" + (hint === this.selected ? " selected" : "");
    b.dataset.index = String(index);
    b.style.left = (100 * (hint.x + 0.5)) / w + "%";
    b.style.top = (100 * (hint.y + 0.5)) / h + "%";
    b.style.background = hint.color;
    b.setAttribute("aria-label", `colour hint ${index + 1} at ${hint.x}, ${hint.y}, ${hint.color}`);
    if (!this.active) { b.tabIndex = -1; b.setAttribute("aria-hidden", "true"); b.disabled = true; return b; }
    b.addEventListener("pointerdown", (e) => this.drag(e, hint, b));
    b.addEventListener("keydown", (e) => this.key(e, hint));
    b.addEventListener("focus", () => {
      if (this.selected !== hint) { this.selected = hint; this.color.value = hint.color; this.mark(); this.onSelect?.(hint); }
    });
    return b;
  }

  mark() {
    for (const b of this.layer.children) {
      const hint = this.list[Number(b.dataset.index)];
      b.classList.toggle("selected", hint === this.selected);
      if (hint) b.style.background = hint.color;
    }
  }

  drag(e, hint, button) {
    if (!this.active) return;
    e.preventDefault();
    e.stopPropagation();
    this.selected = hint;
    this.color.value = hint.color;
    this.mark();
    button.focus();
    button.setPointerCapture(e.pointerId);
    const start = JSON.stringify(this.list);
    let moved = false;
    const move = (ev) => {
      const p = this.toPicture(ev);
      hint.x = p.x; hint.y = p.y; moved = true;
      const [w, h] = this.size();
      button.style.left = (100 * (p.x + 0.5)) / w + "%";
      button.style.top = (100 * (p.y + 0.5)) / h + "%";
    };
    const up = () => {
      button.removeEventListener("pointermove", move);
      button.removeEventListener("pointerup", up);
      button.removeEventListener("pointercancel", up);
      if (moved) {
        this.item.undo.push(start);
        this.item.redo = [];
        this.draw();
        this.button(hint)?.focus();
        this.changed();
      }
    };
    button.addEventListener("pointermove", move);
    button.addEventListener("pointerup", up);
    button.addEventListener("pointercancel", up);
  }

  key(e, hint) {
    const [w, h] = this.size();
    const step = e.shiftKey ? 10 : 1;
    const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
    if (e.key === "Delete" || e.key === "Backspace") {
      e.preventDefault();
      this.remove(hint);
    } else if (moves[e.key]) {
      e.preventDefault();
      this.remember();
      hint.x = Math.min(w - 1, Math.max(0, hint.x + moves[e.key][0]));
      hint.y = Math.min(h - 1, Math.max(0, hint.y + moves[e.key][1]));
      this.select(hint);
      this.changed(true);
    }
  }

  draw() {
    this.layer.replaceChildren(...this.list.map((h, i) => this.marker(h, i)));
  }

  payload(item) {
    return item.hints.map((h) => ({ x: h.x, y: h.y, color: h.color }));
  }
}

// A hints file as the CLI reads it (tinta colorize --hints FILE): a JSON list of {"x", "y", "color"}
// (or [x, y, colour], or "X,Y=#rrggbb"), or a summary with a "hints" list -> [{x, y, color}].
export function parseHintsFile(text) {
  let data = JSON.parse(text);
  if (data && !Array.isArray(data) && Array.isArray(data.hints)) data = data.hints;
  if (!Array.isArray(data)) throw new Error("expected a JSON list of hints");
  const colour = (c) => {
    const m = /^#?([0-9a-f]{6}|[0-9a-f]{3})$/i.exec(String(c).trim());
    if (!m) throw new Error(`${JSON.stringify(c)} is not a colour (#rrggbb)`);
    const hex = m[1].length === 3 ? [...m[1]].map((d) => d + d).join("") : m[1];
    return "#" + hex.toLowerCase();
  };
  return data.map((h) => {
    let x, y, c;
    if (typeof h === "string") {
      const m = /^\s*([-\d.]+)\s*,\s*([-\d.]+)\s*=\s*(\S+)\s*$/.exec(h);
      if (!m) throw new Error(`hint ${JSON.stringify(h)}: write it as X,Y=#rrggbb`);
      [x, y, c] = [m[1], m[2], m[3]];
    } else if (Array.isArray(h) && h.length === 3) {
      [x, y, c] = h;
    } else if (h && typeof h === "object") {
      ({ x, y, color: c } = h);
    }
    x = Number(x); y = Number(y);
    if (!Number.isFinite(x) || !Number.isFinite(y)) throw new Error(`hint ${JSON.stringify(h)}: needs x, y and color`);
    return { x: Math.round(x), y: Math.round(y), color: colour(c) };
  });
}
