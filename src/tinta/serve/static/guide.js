// Whole-picture colour guides, sent with every request: a reference photo (its colours are
// followed; its thumbnail is an eyedropper for the hint colour) or a palette. The server takes
// one of the two: while one is set, the other is disabled. Every change calls onChange.
export class Guide {
  constructor({ file, thumb, box, remove, form, text, onChange, onPick }) {
    Object.assign(this, { file, thumb, box, removeButton: remove, form, text, onChange, onPick });
    this.reference = null; // the chosen File
    this.palette = ""; // the applied palette text
    file.addEventListener("change", () => { if (file.files[0]) this.setReference(file.files[0]); file.value = ""; });
    remove.addEventListener("click", () => this.setReference(null));
    form.addEventListener("submit", (e) => { e.preventDefault(); this.setPalette(text.value.trim()); });
    thumb.addEventListener("click", (e) => this.pick(e));
  }

  async setReference(file) {
    this.reference = file;
    this.box.hidden = !file;
    this.sync();
    this.onChange();
    if (file) await this.drawThumb(file);
    if (!file) this.file.focus();
  }

  setPalette(text) {
    if (text === this.palette) return;
    this.palette = text;
    this.sync();
    this.onChange();
  }

  sync() { // one guide at a time
    this.text.disabled = this.form.querySelector("button").disabled = Boolean(this.reference);
    this.file.disabled = Boolean(this.palette);
  }

  async drawThumb(file) {
    const g = this.thumb.getContext("2d", { willReadFrequently: true });
    try {
      const bitmap = await createImageBitmap(file);
      const scale = Math.min(1, 200 / bitmap.width, 150 / bitmap.height);
      this.thumb.width = Math.max(1, Math.round(bitmap.width * scale));
      this.thumb.height = Math.max(1, Math.round(bitmap.height * scale));
      g.drawImage(bitmap, 0, 0, this.thumb.width, this.thumb.height);
      bitmap.close();
    } catch { // the browser cannot show it; the server says what is wrong
      this.thumb.width = this.thumb.height = 1;
    }
  }

  pick(e) {
    const r = this.thumb.getBoundingClientRect();
    const x = Math.min(this.thumb.width - 1, Math.floor(((e.clientX - r.left) / r.width) * this.thumb.width));
    const y = Math.min(this.thumb.height - 1, Math.floor(((e.clientY - r.top) / r.height) * this.thumb.height));
    const [red, green, blue] = this.thumb.getContext("2d", { willReadFrequently: true }).getImageData(x, y, 1, 1).data;
    this.onPick("#" + [red, green, blue].map((v) => v.toString(16).padStart(2, "0")).join(""));
  }

  append(form) {
    if (this.reference) form.append("reference", this.reference, this.reference.name || "reference.png");
    else if (this.palette) form.append("palette", this.palette);
  }
}
