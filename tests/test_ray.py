"""`tinta colorize --ray`: the batch on a Ray cluster (head + a second node, started here), with the
guarantees of the local command, a worker node killed mid-job, and a driver killed then rerun.

Marked ``ray`` (``make test-ray``; skipped when Ray is not installed): each test starts Ray processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from faults.conftest import one_line_error, snapshot, temp_files

from helpers import make_run, photo

ray = pytest.importorskip("ray")
from ray.cluster_utils import Cluster  # noqa: E402

pytestmark = pytest.mark.ray
REPO = Path(__file__).resolve().parents[1]
STORE = 100 << 20  # object store of each node: the dataset holds paths and outcomes, never pictures


@pytest.fixture(scope="module")
def cluster():
    """A head and a second node, one CPU each (one worker each), running this tree's tinta."""
    env = {"PYTHONPATH": str(REPO / "src"), "OMP_NUM_THREADS": "1", "RAY_AUTH_MODE": "disabled"}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    c = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "object_store_memory": STORE,
                                                      "include_dashboard": False})
    c.add_node(num_cpus=1, object_store_memory=STORE)
    c.wait_for_nodes()
    yield c
    c.shutdown()
    for k, v in saved.items():
        os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)


@pytest.fixture(scope="module")
def model_run(tmp_path_factory) -> Path:
    return make_run(tmp_path_factory.mktemp("ray-model") / "run")


def _pictures(folder: Path, n: int, h: int = 48, w: int = 64) -> Path:
    folder.mkdir(parents=True)
    for i in range(n):
        Image.fromarray(photo(h, w, seed=i)).save(folder / f"{i:03d}.png")
    return folder


def _start(model_run: Path, src: Path, out: Path, address: str, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "OMP_NUM_THREADS": "1", "RAY_AUTH_MODE": "disabled"}
    cmd = [sys.executable, "-m", "tinta", "colorize", str(src), "-o", str(out), "--checkpoint", str(model_run),
           "--ray", address, "--threads", "1", "--summary", str(out.parent / "summary.json"), *extra]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finish(p: subprocess.Popen, timeout: float = 600) -> tuple[str, str]:
    """The process's output; killed if it is not done within ``timeout`` (the test then fails)."""
    try:
        return p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        raise


def _wait_for_outputs(out: Path, n: int, p: subprocess.Popen, timeout: float = 120) -> int:
    deadline = time.time() + timeout
    while time.time() < deadline and p.poll() is None and len(list(out.glob("*.png"))) < n:
        time.sleep(0.05)
    return len(list(out.glob("*.png")))


def _whole(out: Path) -> list[str]:
    names = sorted(p.name for p in out.glob("*.png"))
    for name in names:
        Image.open(out / name).load()  # every file under its real name is a whole picture
    return names


def test_same_pictures_as_the_local_command(cluster, model_run, tmp_path, capsys):
    """The cluster runs the local command's job loop: byte-identical pictures, the same summary; a clip
    is colourized whole by one worker (all its frames)."""
    from tinta.cli import main
    from tinta.video import clips, io

    src = _pictures(tmp_path / "pics", 10)
    clips.write_clip(src / "clip.mkv", clips.clip_frames([clips.Shot(photo(96, 128), 12)], 64, 48), 12)
    args = [str(src), "-o", "", "--checkpoint", str(model_run), "--threads", "1", "--palette", "#c03020,#2050a0"]
    for where, extra in (("local", []), ("ray", ["--ray", cluster.address])):
        args[2] = str(tmp_path / where)
        assert main(["colorize", *args, *extra, "--summary", str(tmp_path / f"{where}.json")]) == 0
    local, on_ray = (snapshot(tmp_path / w) for w in ("local", "ray"))
    assert local.keys() == on_ray.keys() and {k: v for k, v in local.items() if k != "clip.mkv"} == \
        {k: v for k, v in on_ray.items() if k != "clip.mkv"}  # the clip: encoded by its own worker
    assert io.probe(tmp_path / "ray" / "clip.mkv").frames == 12
    local, on_ray = (json.loads((tmp_path / f"{w}.json").read_text()) for w in ("local", "ray"))
    assert local == on_ray and on_ray["done"] == 11 and on_ray["palette"] == "#c03020,#2050a0"
    assert "colourized 11 of 11" in capsys.readouterr().out


def test_every_input_counted_and_never_overwritten(cluster, model_run, tmp_path, capsys):
    """A broken picture fails with its reason, an output that would replace an input is refused, and
    the ONNX backend travels to the workers as bytes."""
    from tinta.cli import main

    src = _pictures(tmp_path / "pics", 4)
    (src / "broken.png").write_bytes(b"\x89PNG not really")
    (src / "sub").mkdir()
    Image.fromarray(photo(seed=8)).save(src / "x.png")  # its output would be sub/x.png, an input
    Image.fromarray(photo(seed=9)).save(src / "sub" / "x.png")
    before = snapshot(src)
    onnx = tmp_path / "m.onnx"
    assert main(["export", "onnx", "--model", str(model_run), "--out", str(onnx)]) == 0
    argv = ["colorize", str(src), "-o", str(src / "sub"), "--backend", "onnx", "--onnx", str(onnx),
            "--ray", cluster.address, "--summary", str(tmp_path / "s.json")]
    assert main(argv) == 1
    s = json.loads((tmp_path / "s.json").read_text())
    reasons = {Path(f["input"]).name: f["reason"] for f in s["failures"]}
    assert reasons.keys() == {"broken.png", "x.png"} and "would overwrite an input" in reasons["x.png"]
    assert (s["done"], s["skipped"], s["failed"]) == (5, 0, 2)  # 7 inputs, each counted once
    assert {k: v for k, v in snapshot(src).items() if k in before} == before and not temp_files(src)


def test_worker_node_killed_mid_job(cluster, model_run, tmp_path):
    """The second node dies mid-job (and is not replaced): its task runs again on the head; every input
    is colourized, once, nothing is half-written, and the summary counts each input once."""
    n = 160
    src, out = _pictures(tmp_path / "pics", n, 96, 128), tmp_path / "out"
    before = snapshot(src)
    worker = cluster.list_all_nodes()[1]
    p = _start(model_run, src, out, cluster.address, "--actors", "2")
    written = _wait_for_outputs(out, 10, p)
    cluster.remove_node(worker, allow_graceful=False)  # SIGKILL of the node's raylet and its workers
    try:
        stdout, err = _finish(p)
    finally:
        cluster.add_node(num_cpus=1, object_store_memory=STORE)  # two nodes again for the other tests
    if written >= n:
        pytest.skip("the job finished before the node was killed")
    assert p.returncode == 0, err[-3000:]
    s = json.loads((tmp_path / "summary.json").read_text())
    assert (s["done"], s["failed"], s["skipped"]) == (n, 0, 0), s
    assert _whole(out) == sorted(f"{i:03d}.png" for i in range(n)) and not temp_files(out)
    assert snapshot(src) == before


def test_driver_killed_then_rerun_finishes(cluster, model_run, tmp_path):
    n = 120
    src, out = _pictures(tmp_path / "pics", n, 96, 128), tmp_path / "out"
    p = _start(model_run, src, out, cluster.address)
    written = _wait_for_outputs(out, 5, p)
    p.send_signal(signal.SIGKILL)
    p.communicate(timeout=60)
    if written >= n:
        pytest.skip("the job finished before the driver was killed")
    _whole(out)
    p = _start(model_run, src, out, cluster.address, "--skip-existing")
    stdout, err = _finish(p)
    assert p.returncode == 0, err[-3000:]
    s = json.loads((tmp_path / "summary.json").read_text())
    assert s["done"] + s["skipped"] == n and s["skipped"] >= written and s["failed"] == 0, s
    assert f"skipped {s['skipped']} already there" in stdout
    assert _whole(out) == sorted(f"{i:03d}.png" for i in range(n)) and not temp_files(out)


def test_library_entry_point(cluster, model_run, tmp_path):
    from tinta.batch import Options
    from tinta.distributed import RayOptions, colorize_dataset

    src, out = _pictures(tmp_path / "pics", 5), tmp_path / "out"
    seen = []

    def progress(outcomes, total):
        seen.append(total)
        return outcomes

    summary = colorize_dataset([str(src)], out, str(model_run), Options(saturation=1.5), RayOptions(cluster.address),
                               progress=progress)
    assert (summary["done"], summary["failed"], seen) == (5, 0, [5]) and len(_whole(out)) == 5
    summary = colorize_dataset([str(src)], out, str(model_run), Options(skip_existing=True),
                               RayOptions(cluster.address))
    assert (summary["done"], summary["skipped"]) == (0, 5)


def test_unreachable_cluster_is_one_line_error(model_run, tmp_path, capsys):
    from tinta.cli import main

    src = _pictures(tmp_path / "pics", 1)
    assert main(["colorize", str(src), "-o", str(tmp_path / "out"), "--checkpoint", str(model_run),
                 "--ray", "ray://127.0.0.1:9"]) == 2
    one_line_error(capsys, "--ray ray://127.0.0.1:9: cannot reach a Ray cluster")
