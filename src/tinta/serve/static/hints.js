// Colour hints on the viewed photo: click to drop one (in picture pixels), drag to move it,
// pick its colour, Delete to remove it. Every change calls onChange (the page re-renders,
// latest request wins).
export class Hints {
  constructor({ stage, layer, image, color, onChange }) {
    this.stage = stage;
    this.layer = layer;
    this.image = image; // the input <img>: its natural size is the picture's
    this.color = color;
    this.onChange = onChange;
    this.item = null;
    this.selected = null;
    this.active = false;
    layer.addEventListener("pointerdown", (e) => this.onLayerDown(e));
    color.addEventListener("input", () => {
      if (this.selected) { this.selected.color = color.value; this.draw(); this.changed(); }
    });
  }

  setItem(item) {
    this.item = item;
    this.selected = null;
    this.draw();
  }

  setActive(on) {
    this.active = on;
    this.stage.classList.toggle("hinting", on);
  }

  get list() { return this.item ? this.item.hints : []; }

  changed() { this.onChange(this.item); }

  toPicture(e) {
    const r = this.image.getBoundingClientRect();
    const w = this.image.naturalWidth, h = this.image.naturalHeight;
    const x = Math.min(w - 1, Math.max(0, ((e.clientX - r.left) / r.width) * w));
    const y = Math.min(h - 1, Math.max(0, ((e.clientY - r.top) / r.height) * h));
    return { x: Math.round(x), y: Math.round(y) };
  }

  onLayerDown(e) {
    if (!this.active || !this.item || e.target !== this.layer) return;
    const { x, y } = this.toPicture(e);
    const hint = { x, y, color: this.color.value };
    this.item.hints.push(hint);
    this.select(hint);
    this.changed();
  }

  select(hint) {
    this.selected = hint;
    if (hint) this.color.value = hint.color;
    this.draw();
    if (hint) this.layer.querySelector(`[data-index="${this.list.indexOf(hint)}"]`)?.focus();
  }

  remove(hint) {
    const i = this.list.indexOf(hint);
    if (i < 0) return;
    this.list.splice(i, 1);
    this.selected = null;
    this.draw();
    this.changed();
  }

  clear() {
    if (!this.item || !this.item.hints.length) return;
    this.item.hints.length = 0;
    this.selected = null;
    this.draw();
    this.changed();
  }

  marker(hint, index) {
    const w = this.image.naturalWidth || 1, h = this.image.naturalHeight || 1;
    const b = document.createElement("button");
    b.type = "button";
    b.className = "hint" + (hint === this.selected ? " selected" : "");
    b.dataset.index = String(index);
    b.style.left = (100 * (hint.x + 0.5)) / w + "%";
    b.style.top = (100 * (hint.y + 0.5)) / h + "%";
    b.style.background = hint.color;
    b.setAttribute("aria-label", `colour hint ${index + 1} at ${hint.x}, ${hint.y}, ${hint.color}`);
    b.addEventListener("pointerdown", (e) => this.drag(e, hint, b));
    b.addEventListener("keydown", (e) => this.key(e, hint));
    b.addEventListener("focus", () => { if (this.selected !== hint) { this.selected = hint; this.color.value = hint.color; this.mark(); } });
    return b;
  }

  mark() {
    for (const b of this.layer.children) b.classList.toggle("selected", this.list[Number(b.dataset.index)] === this.selected);
  }

  drag(e, hint, button) {
    e.preventDefault();
    e.stopPropagation();
    this.selected = hint;
    this.color.value = hint.color;
    this.mark();
    button.focus();
    button.setPointerCapture(e.pointerId);
    let moved = false;
    const move = (ev) => {
      const p = this.toPicture(ev);
      hint.x = p.x; hint.y = p.y; moved = true;
      const w = this.image.naturalWidth, h = this.image.naturalHeight;
      button.style.left = (100 * (p.x + 0.5)) / w + "%";
      button.style.top = (100 * (p.y + 0.5)) / h + "%";
    };
    const up = () => {
      button.removeEventListener("pointermove", move);
      button.removeEventListener("pointerup", up);
      if (moved) { this.draw(); this.changed(); }
    };
    button.addEventListener("pointermove", move);
    button.addEventListener("pointerup", up);
  }

  key(e, hint) {
    const step = e.shiftKey ? 10 : 1;
    const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
    if (e.key === "Delete" || e.key === "Backspace") {
      e.preventDefault();
      this.remove(hint);
    } else if (moves[e.key]) {
      e.preventDefault();
      hint.x = Math.min(this.image.naturalWidth - 1, Math.max(0, hint.x + moves[e.key][0]));
      hint.y = Math.min(this.image.naturalHeight - 1, Math.max(0, hint.y + moves[e.key][1]));
      this.select(hint);
      this.changed();
    }
  }

  draw() {
    this.layer.replaceChildren(...this.list.map((h, i) => this.marker(h, i)));
  }

  payload(item) {
    return item.hints.map((h) => ({ x: h.x, y: h.y, color: h.color }));
  }
}
