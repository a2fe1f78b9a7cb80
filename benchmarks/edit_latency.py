"""Latency of one hint edit in the web page's server, over HTTP: the kept picture against the re-upload path,
side by side in one run.

A real `tinta serve` (uvicorn on 127.0.0.1, in this process, ``--threads`` torch threads) and a 12-megapixel
grey JPEG (a bundled photo resized to 4000 x 3000). Each edit adds one point hint:

- *re-upload* (the page before issue 22): ``POST /colorize`` with the whole file and the hints; the answer
  is the full-resolution picture;
- *kept picture* (the page now): the photo was sent once (``POST /sessions``); an edit is
  ``POST /sessions/ID/render`` with the hints and ``preview=1024`` (what the page asks for when it shows
  the picture 960 CSS pixels wide on a screen of device pixel ratio 1); the model runs on the kept
  render-size input and only the preview is painted. ``--preview 2048`` is the page on a 2x screen.

Medians of ``--repeats`` edits after one warm-up each. Goal: an edit in <= 300 ms.

    python benchmarks/edit_latency.py [--model guided] [--threads 2] [--repeats 9]
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import os
import platform
import threading
import time
import uuid

import torch
from PIL import Image

from tinta.pretrained import EXAMPLES_DIR
from tinta.serve import Limits, ModelCache, make_server

GOAL_MS = 300.0


def photo_12mp() -> bytes:
    im = Image.open(EXAMPLES_DIR / "chelsea.jpg").convert("L").resize((4000, 3000), Image.Resampling.BICUBIC)
    buf = io.BytesIO()
    im.save(buf, format="JPEG", quality=92)
    return buf.getvalue()


def form(fields: dict, files: list[tuple[str, str, bytes]] = ()) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
             for k, v in fields.items()]
    for field, name, data in files:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{name}"\r\n'
                     f"Content-Type: application/octet-stream\r\n\r\n".encode() + data + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def post(port: int, path: str, body: bytes, ctype: str) -> tuple[int, bytes, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    try:
        conn.request("POST", path, body=body, headers={"Content-Type": ctype})
        r = conn.getresponse()
        return r.status, r.read(), dict(r.getheaders())
    finally:
        conn.close()


def timed(fn, repeats: int) -> float:
    """Median ms of ``fn`` after a warm-up (benchmarks/infer.py's ``timeit``)."""
    from infer import timeit

    return 1000 * timeit(fn, repeats)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="guided")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=9)
    ap.add_argument("--preview", type=int, default=1024, help="long side the page asks for (default 1024)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    server = make_server(args.model, port=0, quiet=True, models=ModelCache([args.model], args.model),
                         limits=Limits(max_bytes=50_000_000))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    port = server.sock.getsockname()[1]
    data = photo_12mp()
    hints = [{"x": 1200, "y": 900, "color": "#c03020"}]
    k = iter(range(10**6))

    def next_hints() -> str:
        i = next(k)
        hints.append({"x": (377 * i) % 4000, "y": (531 * i) % 3000, "color": "#30a040"})
        return json.dumps(hints[-20:])

    def reupload():
        body, ctype = form({"model": args.model, "hints": next_hints()}, [("file", "photo.jpg", data)])
        status, out, _ = post(port, "/colorize", body, ctype)
        assert status == 200, out[:200]

    status, out, _ = post(port, "/sessions", data, "image/jpeg")
    assert status == 201, out
    sid = json.loads(out)["id"]

    def edit():
        body, ctype = form({"model": args.model, "hints": next_hints(), "preview": args.preview})
        status, out, _ = post(port, f"/sessions/{sid}/render", body, ctype)
        assert status == 200, out[:200]

    full = timed(reupload, args.repeats)
    kept = timed(edit, args.repeats)
    server.should_exit = True
    thread.join(10)
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"model {args.model}, a 4000x3000 grey JPEG ({len(data):,} bytes), {args.threads} torch threads, "
          f"{platform.machine()} {platform.processor() or ''}, {os.cpu_count()} CPUs (load average {load}), "
          f"torch {torch.__version__}; median of {args.repeats}")
    print(f"{'re-upload: POST /colorize (full picture)':<52} {full:8.1f} ms")
    verdict = "met" if kept <= GOAL_MS else "NOT met"
    label = f"kept picture: POST /sessions/ID/render ({args.preview} px)"
    print(f"{label:<52} {kept:8.1f} ms   ({full / kept:.1f}x faster; goal <= {GOAL_MS:.0f} ms: {verdict})")


if __name__ == "__main__":
    main()
