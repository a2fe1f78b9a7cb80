"""Every command's options come from one frozen dataclass (its field help is the CLI help), the
server's request options and their OpenAPI description from one dataclass, formats from one table."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from tinta.batch import ColorizeOptions
from tinta.cli import build_parser, main
from tinta.cli.args import config_from_args
from tinta.cli.export import ExportOptions
from tinta.cli.palette import PaletteOptions
from tinta.data import InfoOptions
from tinta.data.download import DownloadOptions
from tinta.evaluate.options import CompareOptions, EvaluateOptions
from tinta.imageio import FORMATS, WEB_FORMATS
from tinta.prior import PriorOptions
from tinta.serve.options import ServeOptions

COMMANDS = {"colorize": ColorizeOptions, "evaluate": EvaluateOptions, "compare": CompareOptions,
            "serve": ServeOptions, "export": ExportOptions, "palette": PaletteOptions, "data info": InfoOptions,
            "data download": DownloadOptions, "prior": PriorOptions}
CLI = Path(__file__).resolve().parents[1] / "src" / "tinta" / "cli"


def _parse(argv: list[str]):
    return build_parser(argv[0]).parse_args(argv)


@pytest.mark.parametrize("command", COMMANDS)
def test_the_help_is_the_dataclass_help(command, capsys):
    assert main([*command.split(), "--help"]) == 0
    shown = "".join(capsys.readouterr().out.split())  # wrapped lines (argparse also breaks at hyphens)
    assert COMMANDS[command].__dataclass_params__.frozen
    for f in dataclasses.fields(COMMANDS[command]):
        assert "".join(f.metadata["help"].split()) in shown, (command, f.name)


@pytest.mark.parametrize("argv, want", [
    (["colorize", "x.jpg", "-o", "out"], ColorizeOptions()),
    (["colorize", "x.jpg", "-o", "out", "--no-stabilize", "--skip-existing", "--hint", "1,2=#ff0000", "--hint",
      "3,4=#00ff00", "--ray", "--format", "jpeg"],
     ColorizeOptions(stabilize=False, skip_existing=True, hint=("1,2=#ff0000", "3,4=#00ff00"), ray="auto",
                     format="jpeg")),
    (["serve", "--allow-host", "a", "--allow-host", "b", "--quiet", "--max-mb", "5"],
     ServeOptions(allow_host=("a", "b"), quiet=True, max_mb=5.0)),
    (["evaluate", "--run", "r", "--no-semantic", "--no-judge", "--temperatures", "0.2", "0.5"],
     EvaluateOptions(run_dir="r", semantic=False, judge=False, temperatures=(0.2, 0.5))),
    (["compare", "a", "b", "--baseline", "a", "--out", "o", "--no-ssim"],
     CompareOptions(runs=("a", "b"), baseline="a", out="o", ssim=False)),
])
def test_old_flags_give_the_same_options(argv, want):
    assert config_from_args(type(want), _parse(argv)) == want


def test_checkpoint_names_a_run_folder_and_evaluate_keeps_its_old_spelling(capsys):
    assert config_from_args(ColorizeOptions, _parse(["colorize", "x", "-o", "o", "--checkpoint", "runs/a"])) \
        .model_name == "runs/a"
    assert config_from_args(EvaluateOptions, _parse(["evaluate", "--run", "r", "--checkpoint", "last"])).weights \
        == "last"
    assert config_from_args(EvaluateOptions, _parse(["evaluate", "--run", "r", "--weights", "last"])).weights \
        == "last"
    assert main(["evaluate", "--run", "r", "--checkpoint", "runs/a"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "invalid choice: 'runs/a'" in err


def test_serve_limits_defaults_agree():
    from tinta.serve import Limits

    assert ServeOptions().limits() == Limits()
    with pytest.raises(Exception, match="--workers must be at least 1"):
        ServeOptions(workers=0)


def test_request_options_and_openapi_share_one_description():
    from tinta.serve.openapi import SPEC
    from tinta.serve.pictures import Options, parse_options

    params = {p["name"]: p for p in SPEC["paths"]["/colorize"]["post"]["parameters"]}
    assert list(params) == [f.name for f in dataclasses.fields(Options)]
    for f in dataclasses.fields(Options):
        assert params[f.name]["description"] == f.metadata["help"]
    opts = parse_options({"saturation": "2", "render_size": "64", "format": "JPG", "palette": "#102030"}, "a.png")
    assert (opts.saturation, opts.render_size, opts.format, opts.name, opts.palette) == \
        (2.0, 64, "jpeg", "a.png", [(16, 32, 48)])
    assert parse_options({}) == Options()


def test_one_format_table():
    from tinta.batch import READABLE
    from tinta.serve.app import EXAMPLE_SUFFIXES

    choices = dataclasses.fields(ColorizeOptions)[[f.name for f in dataclasses.fields(ColorizeOptions)]
                                                  .index("format")].metadata["choices"]
    assert set(FORMATS) <= set(choices) and {"." + k for k in FORMATS} <= READABLE
    assert set(WEB_FORMATS) == {"jpeg", "png", "webp"}
    assert {s.lstrip(".") for s in EXAMPLE_SUFFIXES} == {k for k, f in FORMATS.items() if f.web}


def test_a_commands_help_loads_no_torch():
    import subprocess
    import sys
    from pathlib import Path

    code = ("import sys, contextlib, io\nfrom tinta.cli import main\n"
            "for c in ('colorize', 'evaluate', 'compare', 'serve', 'demo', 'export', 'palette'):\n"
            "    with contextlib.redirect_stdout(io.StringIO()):\n        assert main([c, '--help']) == 0\n"
            "print(sorted(m for m in ('torch', 'starlette', 'uvicorn') if m in sys.modules))")
    src = Path(__file__).resolve().parents[1] / "src"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                       env={"PYTHONPATH": str(src), "PATH": "/usr/bin:/bin"})
    assert r.returncode == 0 and r.stdout.strip() == "[]", r.stderr[-2000:]


def test_no_command_writes_its_options_by_hand():
    """Options come from the dataclasses above; the only hand-written ones are ``--version``, ``tinta prior``'s
    run folder (the call's subject, as ``index_run(run, options)`` takes it) and ``tinta train --nproc`` (how
    many processes launch the configuration, not part of it)."""
    found = sorted((p.name, m) for p in CLI.glob("*.py") if p.name != "args.py"
                   for m in re.findall(r"add_argument\(\s*\"([^\"]+)\"", p.read_text()))
    assert found == [("__init__.py", "--version"), ("prior.py", "run"), ("train.py", "--nproc")]


def test_export_and_palette_refuse_bad_values_in_one_line(capsys):
    assert main(["export", "onnx", "--out", "x.onnx", "--opset", "5"]) == 2
    assert main(["palette", "--data-root", "x", "--k", "0"]) == 2
    err = capsys.readouterr().err
    assert "--opset must be between 13 and 21" in err and "--k and --n-init must be at least 1" in err
    assert "Traceback" not in err
