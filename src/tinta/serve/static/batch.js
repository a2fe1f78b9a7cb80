// The list of chosen photos: per-file state (waiting, in the server's queue, colourizing, done, error),
// "View" to show one, "Retry" for a failed one, and "Download all" (a zip built in the page). State
// changes of the rows are announced in their own polite live region.
import { makeZip } from "./zip.js";

export function rowState(item) {
  if (item.error) return { text: "error: " + item.error, kind: "error" };
  if (item.retryAt) return { text: `server busy: retrying in ${Math.max(1, Math.ceil((item.retryAt - Date.now()) / 1000))} s`, kind: "waiting" };
  if (item.busy && item.phase === "running") return { text: "colourizing…", kind: "running" };
  if (item.busy && item.phase === "queued") return { text: `waiting for the server (number ${item.position} in line)`, kind: "waiting" };
  if (item.busy && item.phase === "sending") return { text: "colourizing…", kind: "running" };
  if (item.busy) return { text: "waiting", kind: "waiting" };
  if (item.result) return { text: `done in ${item.seconds.toFixed(1)} s`, kind: "done" };
  return { text: "waiting", kind: "waiting" };
}

export class Batch {
  constructor({ section, list, zip, live, onView, onRetry, fullResult }) {
    Object.assign(this, { section, list, zip, live, onView, onRetry, fullResult });
    this.items = [];
    this.told = new Map(); // item -> the kind last announced
    zip.addEventListener("click", () => this.downloadAll());
  }

  show(items, viewed) {
    this.items = items;
    this.section.hidden = items.length < 2;
    this.list.replaceChildren(...items.map((item) => this.row(item, item === viewed)));
    this.zip.disabled = !items.some((i) => i.result);
    this.announce(items);
  }

  announce(items) {
    if (items.length < 2) return;
    const news = [];
    for (const item of items) {
      const { kind } = rowState(item);
      const was = this.told.get(item);
      if (was !== kind && (kind === "done" || kind === "error" || (kind === "running" && was))) {
        news.push(`${item.name}: ${kind === "done" ? "done" : kind === "error" ? "failed" : "colourizing"}`);
      }
      this.told.set(item, kind);
    }
    if (news.length) {
      const left = items.filter((i) => i.busy).length;
      this.live.textContent = news.join(". ") + (left ? `. ${left} to go.` : ". All done.");
    }
  }

  row(item, viewed) {
    const li = document.createElement("li");
    li.className = viewed ? "viewed" : "";
    li.dataset.name = item.name;
    const img = document.createElement("img");
    img.src = item.inputUrl;
    img.alt = "";
    img.draggable = false;
    const text = document.createElement("div");
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = item.name;
    const { text: said, kind } = rowState(item);
    const state = document.createElement("span");
    state.className = "state " + kind + (kind === "error" ? " err" : "");
    state.textContent = said;
    text.append(name, state);
    const view = document.createElement("button");
    view.type = "button";
    view.textContent = "View";
    view.setAttribute("aria-pressed", String(viewed));
    view.setAttribute("aria-label", "View " + item.name);
    view.addEventListener("click", () => this.onView(item));
    li.append(img, text, view);
    if (item.error) {
      const retry = document.createElement("button");
      retry.type = "button";
      retry.textContent = "Retry";
      retry.setAttribute("aria-label", "Retry " + item.name);
      retry.addEventListener("click", () => this.onRetry(item));
      li.append(retry);
    }
    return li;
  }

  async downloadAll() {
    const done = this.items.filter((i) => i.result);
    if (!done.length) return;
    this.zip.disabled = true;
    try {
      const files = [];
      for (const item of done) files.push([item.resultName, await this.fullResult(item)]);
      const a = document.createElement("a");
      a.href = URL.createObjectURL(await makeZip(files));
      a.download = "tinta-colour.zip";
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(a.href), 60000);
      this.live.textContent = `The zip of ${files.length} photos is ready.`;
    } catch (e) {
      this.live.textContent = "Could not pack the zip: " + e.message;
    } finally {
      this.zip.disabled = false;
    }
  }
}
