"""`tinta serve` under load: the old server (stdlib http.server, as of commit a2bc1ad, loaded
from git history) and the new one (Starlette + uvicorn) side by side, in one run.

Load: 100 POST /colorize of a 640x480 grey JPEG (raw body), 8 at a time, from threads on this
machine against 127.0.0.1: requests/s, p50 / p95 latency, non-200 answers, and the server
process's peak RSS (VmHWM). Then 4 concurrent uploads of a 12-megapixel grey JPEG: wall time
and peak RSS (the new server must stay under 1.5 GB). Each scenario gets a fresh server process.

    python benchmarks/serve.py [--model default] [--requests 100] [--concurrency 8] [--skip-12mp]
"""

from __future__ import annotations

import argparse
import http.client
import io
import os
import platform
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
OLD_COMMIT = "a2bc1ad"
OLD = """
import sys
sys.path.insert(0, {folder!r})
from oldserve import make_server
s = make_server({model!r}, port=0, max_mb=100, max_megapixels=50)
s.quiet = True
print(s.server_address[1], flush=True)
s.serve_forever()
"""
NEW = """
from tinta.serve import make_server
s = make_server({model!r}, port=0, quiet=True)
print(s.url.rsplit(':', 1)[1].strip('/'), flush=True)
s.serve_forever()
"""


def old_server_source(folder: Path) -> None:
    """The old server's module and page, from git history, into ``folder``."""
    for src, dst in (("src/tinta/serve/__init__.py", "oldserve/__init__.py"), ("src/tinta/serve/page.html",
                                                                                "oldserve/page.html")):
        out = subprocess.run(["git", "show", f"{OLD_COMMIT}:{src}"], cwd=ROOT, capture_output=True, check=True)
        (folder / dst).parent.mkdir(parents=True, exist_ok=True)
        (folder / dst).write_bytes(out.stdout)


def start(kind: str, model: str, folder: Path) -> tuple[subprocess.Popen, int]:
    code = (OLD.format(folder=str(folder), model=model) if kind == "old" else NEW.format(model=model))
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    port = int(proc.stdout.readline())
    return proc, port


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def post(port: int, body: bytes, query: str = "") -> tuple[int, float]:
    t0 = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    try:
        conn.request("POST", "/colorize" + query, body=body, headers={"Content-Type": "image/jpeg"})
        r = conn.getresponse()
        r.read()
        return r.status, time.perf_counter() - t0
    finally:
        conn.close()


def grey_jpeg(w: int, h: int) -> bytes:
    y, x = np.mgrid[0:h, 0:w]
    grey = ((np.sin(x / 37) + np.cos(y / 23) + 2) * 60 + (x * 7 + y * 13) % 17).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(grey).save(buf, format="JPEG", quality=90)
    return buf.getvalue()


def load(kind: str, model: str, folder: Path, body: bytes, n: int, conc: int, query: str = "") -> dict:
    proc, port = start(kind, model, folder)
    try:
        post(port, body, query)  # warm: the first request pays lazy imports
        t0 = time.perf_counter()
        with ThreadPoolExecutor(conc) as pool:
            results = list(pool.map(lambda _: post(port, body, query), range(n)))
        wall = time.perf_counter() - t0
        lat = np.array([t for _, t in results])
        return {"req/s": n / wall, "p50 s": float(np.percentile(lat, 50)), "p95 s": float(np.percentile(lat, 95)),
                "non-200": sum(s != 200 for s, _ in results), "peak RSS MB": peak_rss_mb(proc.pid), "wall s": wall}
    finally:
        proc.terminate()
        proc.wait(30)


def table(title: str, cols: dict[str, dict]) -> None:
    print(f"\n{title}")
    names = list(cols)
    print(f"{'':14}" + "".join(f"{n:>18}" for n in names))
    for key in next(iter(cols.values())):
        cells = [cols[n][key] for n in names]
        print(f"{key:14}" + "".join(f"{c:>18.2f}" if isinstance(c, float) else f"{c:>18}" for c in cells))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="default")
    ap.add_argument("--requests", type=int, default=100)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--skip-12mp", action="store_true")
    args = ap.parse_args()
    folder = Path(tempfile.mkdtemp())
    old_server_source(folder)
    training = subprocess.run(["pgrep", "-fc", "tinta train"], capture_output=True, text=True).stdout.strip()
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPU cores, no GPU; python {platform.python_version()}; "
          f"'tinta train' processes running: {training or 0}; model {args.model}")
    small = grey_jpeg(640, 480)
    cols = {"old (PNG out)": load("old", args.model, folder, small, args.requests, args.concurrency),
            "new (JPEG out)": load("new", args.model, folder, small, args.requests, args.concurrency),
            "new (PNG out)": load("new", args.model, folder, small, args.requests, args.concurrency, "?format=png")}
    table(f"{args.requests} requests of a 640x480 grey JPEG ({len(small):,} bytes), {args.concurrency} at a time",
          cols)
    if not args.skip_12mp:
        big = grey_jpeg(4000, 3000)
        cols = {k: load(k, args.model, folder, big, 4, 4) for k in ("old", "new")}
        for c in cols.values():
            del c["req/s"]
        table(f"4 concurrent uploads of a 12-megapixel grey JPEG ({len(big):,} bytes)",
              {"old (PNG out)": cols["old"], "new (JPEG out)": cols["new"]})


if __name__ == "__main__":
    main()
