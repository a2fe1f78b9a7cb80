// The before/after comparison: the result is drawn over the input and clipped at the split; the
// split follows the range input (keyboard) and a drag on the picture (mouse, pen or touch). The
// pictures are not draggable (a mouse drag would start the browser's own image drag and cancel
// the pointer events).
export class Compare {
  constructor(stage, range) {
    this.stage = stage;
    this.range = range;
    this.dragEnabled = true;
    range.addEventListener("input", () => this.set(Number(range.value)));
    stage.addEventListener("dragstart", (e) => e.preventDefault());
    stage.addEventListener("pointerdown", (e) => {
      if (!this.dragEnabled || !stage.classList.contains("has-result") || e.button > 0) return;
      e.preventDefault(); // no text selection, no native drag
      stage.setPointerCapture(e.pointerId);
      this.follow(e);
      const move = (ev) => this.follow(ev);
      const up = () => {
        stage.removeEventListener("pointermove", move);
        stage.removeEventListener("pointerup", up);
        stage.removeEventListener("pointercancel", up);
      };
      stage.addEventListener("pointermove", move);
      stage.addEventListener("pointerup", up);
      stage.addEventListener("pointercancel", up);
    });
    this.set(Number(range.value));
  }

  follow(e) {
    const r = this.stage.querySelector("#before").getBoundingClientRect();
    this.set(Math.round(((e.clientX - r.left) / r.width) * 100));
  }

  set(percent) {
    const p = Math.max(0, Math.min(100, percent));
    this.stage.style.setProperty("--split", p + "%");
    this.range.value = String(p);
    this.range.setAttribute("aria-valuetext", `${p}% input, ${100 - p}% colour`);
  }
}
