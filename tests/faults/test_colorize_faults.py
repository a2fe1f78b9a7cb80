"""`tinta colorize` with bad input and faults: a clear one-line error or the right result,
inputs byte-identical afterwards, no half-written or temporary file left behind."""

from __future__ import annotations

import json
import os
import sys

import numpy as np
import pytest
from PIL import Image

from faults.conftest import colorize, one_line_error, snapshot, temp_files
from tinta.errors import TintaError

from helpers import photo, small_tmpfs

# (extra arguments, words the one-line error must hold); inputs are the `pics` folder unless the case names its own
USER_MISTAKES = [
    (["--saturation", "nan"], "saturation must be between 0 and 4"),
    (["--saturation", "-1"], "saturation must be between 0 and 4"),
    (["--saturation", "1e9"], "saturation must be between 0 and 4"),
    (["--saturation", "inf"], "saturation must be between 0 and 4"),
    (["--render-size", "-5"], "render size must be 0"),
    (["--render-size", "100000"], "render size must be 0"),
    (["--render-size", "8"], "render size must be 0 (the full picture) or between 16 and 2048"),
    (["--shard", "2/2"], "need 0 <= I < N"),
    (["--shard", "x"], "--shard must look like I/N"),
    (["--summary", "notes.txt"], "give a path ending in .json"),
    (["--backend", "onnx", "--onnx", "missing.onnx"], "ONNX file not found"),
    (["--model", "no-such-model"], "no shipped weights named 'no-such-model'"),
    (["--hint", "10,20=red"], "hint '10,20=red': 'red' is not a colour"),
    (["--hint", "10=#c03020"], "hint '10=#c03020': write it as X,Y=#rrggbb"),
    (["--hint", "nan,1=#c03020"], "'nan' is not a pixel coordinate"),
    (["--hints", "missing.json"], "--hints missing.json: cannot read a JSON list of hints"),
    (["--hint", "1,1=#c03020"], "takes no point hints; use a hint-taking model"),
    (["--reference", "missing.jpg"], "missing.jpg: no such file"),
    (["--palette", "#c03020,blue"], "'blue' is not a colour"),
    (["--palette", "#c03020", "--reference", "missing.jpg"], "give a reference picture or a palette, not both"),
]


@pytest.mark.parametrize("extra, words", USER_MISTAKES)
def test_user_mistakes_are_one_line_errors(model_run, pics, tmp_path, capsys, monkeypatch, extra, words):
    monkeypatch.chdir(tmp_path)
    before = snapshot(pics)
    argv = [str(pics), "-o", str(tmp_path / "out"), *extra]
    if "--model" in extra:
        from tinta.cli import main

        rc = main(["colorize", *argv])
    else:
        rc = colorize(model_run, *argv)
    assert rc == 2
    one_line_error(capsys, words)
    assert snapshot(pics) == before and not temp_files(tmp_path)


def test_ray_without_ray_installed_is_one_line(model_run, pics, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    before = snapshot(pics)
    assert colorize(model_run, str(pics), "-o", str(tmp_path / "out"), "--ray", "local") == 2
    one_line_error(capsys, "--ray needs Ray", "pip install 'tinta[ray]'")
    assert colorize(model_run, str(pics), "-o", str(tmp_path / "out"), "--ray", "--shard", "0/2") == 2
    one_line_error(capsys, "--ray shares the inputs out itself")
    assert snapshot(pics) == before and not list((tmp_path / "out").iterdir())


def test_summary_flag_never_eats_an_input(model_run, pics, tmp_path, capsys):
    """`--summary a.jpg b.jpg` used to replace a.jpg with JSON."""
    before = snapshot(pics)
    rc = colorize(model_run, "--summary", str(pics / "a.jpg"), str(pics / "b.png"), "-o", str(tmp_path / "out"))
    assert rc == 2
    one_line_error(capsys, "ending in .json")
    (pics / "s.json").write_text("{}")
    rc = colorize(model_run, str(pics), "-o", str(tmp_path / "out"), "--summary", str(pics / "s.json"))
    assert rc == 0 and json.loads((pics / "s.json").read_text())["done"] == 3  # a JSON summary may be replaced
    (pics / "s.json").unlink()
    assert snapshot(pics) == before


def test_summary_refuses_folders_inputs_and_non_json_files(model_run, pics, tmp_path, capsys):
    (tmp_path / "d.json").mkdir()
    (tmp_path / "notes.json").write_text("my own notes, not JSON")
    for target, words in ((tmp_path / "d.json", "is a folder"), (tmp_path / "notes.json", "not valid JSON")):
        assert colorize(model_run, str(pics), "-o", str(tmp_path / "o"), "--summary", str(target)) == 2
        one_line_error(capsys, words)
    assert (tmp_path / "notes.json").read_text() == "my own notes, not JSON"


def test_shard_guard_knows_every_input(model_run, tmp_path, capsys):
    """`tinta colorize nest -o nest/sub --shard 1/2` used to overwrite nest/sub/x.jpg (an input of shard 0)."""
    nest = tmp_path / "nest"
    (nest / "sub").mkdir(parents=True)
    Image.fromarray(photo(seed=1)).save(nest / "x.jpg")
    Image.fromarray(photo(seed=2)).save(nest / "sub" / "x.jpg")
    before = snapshot(nest)
    rcs = [colorize(model_run, str(nest), "-o", str(nest / "sub"), "--shard", f"{i}/2") for i in range(2)]
    assert 1 in rcs  # the shard holding nest/x.jpg refuses to write over nest/sub/x.jpg
    assert "would overwrite an input" in capsys.readouterr().out
    assert {k: v for k, v in snapshot(nest).items() if k in before} == before


def test_same_names_in_two_folders_never_collide(model_run, tmp_path, capsys):
    for d, seed in (("d1", 1), ("d2", 2)):
        (tmp_path / d).mkdir()
        Image.fromarray(photo(seed=seed)).save(tmp_path / d / "x.jpg")
    out = tmp_path / "out"
    assert colorize(model_run, str(tmp_path / "d1"), str(tmp_path / "d2"), "-o", str(out)) == 0
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*.jpg")) == ["d1/x.jpg", "d2/x.jpg"]
    assert "colourized 2 of 2" in capsys.readouterr().out


def test_format_change_never_merges_two_inputs(model_run, tmp_path, capsys):
    Image.fromarray(photo(seed=1)).save(tmp_path / "photo.jpg")
    Image.fromarray(photo(seed=2)).save(tmp_path / "photo.png")
    out = tmp_path / "out"
    assert colorize(model_run, str(tmp_path / "photo.jpg"), str(tmp_path / "photo.png"), "-o", str(out),
                    "--format", "png") == 0
    assert sorted(p.name for p in out.iterdir()) == ["photo-jpg.png", "photo-png.png"]


@pytest.mark.parametrize("kind", ["empty folder", "heic only", "no extension", "fifo", "dev null"])
def test_inputs_that_yield_no_picture_are_an_error(model_run, tmp_path, capsys, kind):
    d = tmp_path / "in"
    d.mkdir()
    target = d
    if kind == "heic only":
        (d / "a.heic").write_bytes(b"\x00\x00\x00\x18ftypheic")
    elif kind == "no extension":
        target = d / "picture"
        Image.fromarray(photo()).save(target, format="PNG")
    elif kind == "fifo":
        target = d / "pipe.png"
        os.mkfifo(target)
    elif kind == "dev null":
        target = "/dev/null"
    assert colorize(model_run, str(target), "-o", str(tmp_path / "out")) == 2
    one_line_error(capsys, "no pictures to colourize")


def test_unusable_output_folder_is_found_before_the_model_runs(model_run, pics, tmp_path, capsys):
    (tmp_path / "afile").write_text("x")
    assert colorize(model_run, str(pics), "-o", str(tmp_path / "afile")) == 2
    one_line_error(capsys, "is a file")
    assert colorize(model_run, str(pics), "-o", str(tmp_path / "afile" / "sub")) == 2
    one_line_error(capsys, "cannot create the folder")


def test_per_file_errors_name_the_file_once(model_run, pics, tmp_path, capsys):
    (pics / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    assert colorize(model_run, str(pics), "-o", str(tmp_path / "out")) == 1
    line = next(ln for ln in capsys.readouterr().out.splitlines() if "failed:" in ln)
    assert line.count("broken.jpg") == 1 and "not a readable image" in line


def test_skip_existing_and_stale_temp_files_on_rerun(model_run, pics, tmp_path, capsys):
    out = tmp_path / "out"
    assert colorize(model_run, str(pics), "-o", str(out)) == 0
    first = snapshot(out)
    stale = out / f".a.jpg{'.tinta-tmp-'}999999999"  # left by a killed run (no such process)
    stale.write_bytes(b"half a picture")
    other = out / ".someone-elses.tmp"
    other.write_bytes(b"not ours")
    (out / "b.png").unlink()
    capsys.readouterr()
    assert colorize(model_run, str(pics), "-o", str(out), "--skip-existing") == 0
    assert "skipped 2 already there" in capsys.readouterr().out
    assert not stale.exists() and other.exists()  # only tinta's own temp files, of dead processes, are swept
    assert snapshot(out).keys() >= first.keys()


def test_multi_frame_inputs_are_reported(model_run, tmp_path, capsys):
    frames = [Image.fromarray(photo(seed=i)) for i in range(3)]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:])
    frames[0].save(tmp_path / "pages.tif", save_all=True, append_images=frames[1:])
    summary = tmp_path / "s.json"
    rc = colorize(model_run, str(tmp_path / "anim.gif"), str(tmp_path / "pages.tif"), "-o", str(tmp_path / "out"),
                  "--summary", str(summary))
    assert rc == 1  # something was not colourized: said in the exit code
    s = json.loads(summary.read_text())
    assert s["done"] == 2 and s["partial"] == 2
    assert sum("only the first of its 3 frames" in n for n in s["notes"]) == 2


def test_rank_environment_must_be_numbers(model_run, pics, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("RANK", "x")
    monkeypatch.setenv("WORLD_SIZE", "2")
    assert colorize(model_run, str(pics), "-o", str(tmp_path / "out")) == 2
    one_line_error(capsys, "RANK")


def test_full_disk_leaves_no_partial_output(model_run, pics, tmp_path, capsys):
    """A 64 KB tmpfs as the output folder: outputs that do not fit fail cleanly, without leftovers."""
    with small_tmpfs(tmp_path, "64k") as disk:
        big = tmp_path / "big"
        big.mkdir()
        rng = np.random.default_rng(0)
        for i in range(3):  # noise does not compress: each PNG ~ 90 KB, larger than the disk
            Image.fromarray(rng.integers(0, 255, (120, 250, 3), dtype=np.uint8)).save(big / f"{i}.png")
        before = snapshot(big)
        rc = colorize(model_run, str(big), "-o", str(disk), "--summary", str(disk / "s.json"))
        assert rc in (1, 2)
        out = capsys.readouterr()
        assert "Traceback" not in out.err
        failed = [ln for ln in out.out.splitlines() if ln.startswith("  failed:")]
        assert failed and all("no space left on the disk" in ln and str(disk) in ln for ln in failed), out.out
        if rc == 2:  # the summary did not fit either: said in the one error line, which names it
            assert "no space left on the disk" in out.err and "s.json" in out.err, out.err
        assert not temp_files(disk) and snapshot(big) == before
        for p in disk.glob("*.png"):  # whatever was written is a whole picture
            Image.open(p).load()


def test_photo_without_a_suffix_is_read_with_a_picture_format(model_run, tmp_path, capsys):
    """Regression: `tinta colorize picture --format png` used to refuse the photo (it was read before)."""
    d = tmp_path / "in"
    d.mkdir()
    Image.fromarray(photo()).save(d / "picture", format="JPEG")
    before = snapshot(d)
    assert colorize(model_run, str(d / "picture"), "-o", str(tmp_path / "out")) == 2
    one_line_error(capsys, "no pictures to colourize", "give --format png to read it as a picture")
    assert colorize(model_run, str(d / "picture"), "-o", str(tmp_path / "out"), "--format", "png") == 0
    assert Image.open(tmp_path / "out" / "picture.png").size == (56, 40)
    assert snapshot(d) == before and not temp_files(tmp_path)


def test_paths_of_the_wrong_kind_are_named_for_what_they_are(model_run, pics, tmp_path, capsys):
    """Messages used to say 'no such file' (or 'not found') for a folder or a FIFO."""
    from tinta.cli import main

    os.mkfifo(tmp_path / "pipe.mp4")
    (tmp_path / "folder.onnx").mkdir()
    out = ["-o", str(tmp_path / "out")]
    cases = [
        (["colorize", str(pics), *out, "--model", str(pics / "a.jpg")], "is not a folder; give a run folder"),
        (["colorize", str(pics), *out, "--checkpoint", str(model_run), "--backend", "onnx", "--onnx",
          str(tmp_path / "folder.onnx")], "is a folder, not a file"),
        (["colorize", str(pics), *out, "--checkpoint", str(model_run), "--hints", str(tmp_path)], "is a folder"),
    ]
    for argv, words in cases:
        assert main(argv) == 2
        one_line_error(capsys, words)
    import tinta

    with pytest.raises(TintaError, match="is a FIFO \\(named pipe\\), not a regular file"):
        tinta.colorize_video(tmp_path / "pipe.mp4", tmp_path / "out.mp4", model=str(model_run))
    with pytest.raises(TintaError, match="is a folder, not a file"):
        tinta.colorize(tmp_path / "folder.onnx", model=str(model_run))
    assert not temp_files(tmp_path)
