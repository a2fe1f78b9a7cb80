// The list of chosen photos: per-file status, "view" to show one in the comparison, a
// download per result, and "download all" (the server packs the results into a zip).
export class Batch {
  constructor({ section, list, zip, onView }) {
    this.section = section;
    this.list = list;
    this.zip = zip;
    this.onView = onView;
    zip.addEventListener("click", () => this.downloadAll());
  }

  show(items, viewed) {
    this.items = items;
    this.section.hidden = items.length < 2;
    this.list.replaceChildren(...items.map((item) => this.row(item, item === viewed)));
    this.zip.disabled = !items.some((i) => i.result);
  }

  row(item, viewed) {
    const li = document.createElement("li");
    li.className = viewed ? "viewed" : "";
    li.dataset.name = item.name;
    const img = document.createElement("img");
    img.src = item.inputUrl;
    img.alt = "";
    const text = document.createElement("div");
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = item.name;
    const state = document.createElement("span");
    state.className = "state" + (item.error ? " err" : "");
    state.textContent = item.error ? "error: " + item.error
      : item.busy ? "colourizing…" : item.result ? `done in ${item.seconds.toFixed(1)} s` : "waiting";
    text.append(name, state);
    const view = document.createElement("button");
    view.type = "button";
    view.textContent = "View";
    view.setAttribute("aria-pressed", String(viewed));
    view.setAttribute("aria-label", "View " + item.name);
    view.addEventListener("click", () => this.onView(item));
    li.append(img, text, view);
    return li;
  }

  async downloadAll() {
    const done = this.items.filter((i) => i.result);
    if (!done.length) return;
    const form = new FormData();
    for (const item of done) form.append("file", item.result, item.resultName);
    this.zip.disabled = true;
    try {
      const r = await fetch("/zip", { method: "POST", body: form });
      if (!r.ok) throw new Error((await r.json()).error);
      const a = document.createElement("a");
      a.href = URL.createObjectURL(await r.blob());
      a.download = "tinta-colour.zip";
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(a.href), 60000);
    } catch (e) {
      alert("Could not pack the zip: " + e.message);
    } finally {
      this.zip.disabled = false;
    }
  }
}
