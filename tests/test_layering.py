"""The layering of the package (docs/architecture.md), enforced: imports point down, never up,
no import cycles (function-local imports included), inference never loads training code,
`tinta --help` never loads torch, and the architecture document places every module."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
ARCHITECTURE = Path(__file__).resolve().parents[1] / "docs" / "architecture.md"

# lowest first; a module may import its own layer and the layers below it
LAYERS = [
    ["tinta.errors", "tinta.files", "tinta.color"],
    ["tinta.imageio", "tinta.palette", "tinta.kmeans", "tinta.data", "tinta.hints"],
    ["tinta.models", "tinta.heads", "tinta.prior"],
    ["tinta.runs", "tinta.pretrained"],
    ["tinta.inference", "tinta.export", "tinta.batch", "tinta.video", "tinta.distributed"],
    ["tinta.evaluate", "tinta.serve"],
    ["tinta.train"],
    ["tinta.cli", "tinta.__main__", "tinta"],
]


def _layer(module: str) -> int:
    best = None
    for i, names in enumerate(LAYERS):
        for n in names:
            if (module == n or module.startswith(n + ".")) and (best is None or len(n) > len(best[1])):
                best = (i, n)
    assert best is not None, f"{module} is in no layer: add it to LAYERS and docs/architecture.md"
    return best[0]


def _modules() -> dict[str, Path]:
    out = {}
    for p in (SRC / "tinta").rglob("*.py"):
        parts = p.relative_to(SRC).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = p
    return out


def _imports(path: Path, module: str) -> set[str]:
    """Every tinta module ``path`` imports, at the top or inside functions."""
    found = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("tinta")}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            if base.startswith("tinta"):
                found |= {f"{base}.{a.name}" for a in node.names} | {base}
    return found


def _graph() -> dict[str, set[str]]:
    mods = _modules()
    graph = {}
    for m, p in mods.items():
        deps = set()
        for imp in _imports(p, m):
            while imp not in mods and "." in imp:  # `from tinta.heads import Head` -> tinta.heads
                imp = imp.rpartition(".")[0]
            if imp in mods and imp != m and not m.startswith(imp + "."):
                deps.add(imp)
        graph[m] = deps
    return graph


def test_imports_point_down_the_layers():
    wrong = [f"{m} (layer {_layer(m)}) imports {d} (layer {_layer(d)})"
             for m, deps in _graph().items() for d in deps if _layer(d) > _layer(m)]
    assert not wrong, "\n".join(wrong)


def test_nothing_but_the_cli_imports_training():
    users = [m for m, deps in _graph().items() if any(d.startswith("tinta.train") for d in deps)
             and not m.startswith(("tinta.train", "tinta.cli"))]
    assert not users, users


def test_only_the_cli_uses_ray():
    """tinta.distributed (Ray) sits beside the batch; nothing but the command line imports it."""
    users = [m for m, deps in _graph().items() if "tinta.distributed" in deps and not m.startswith("tinta.cli")]
    assert not users, users


def test_no_import_cycles():
    graph, state, cycles = _graph(), {}, []

    def visit(m, stack):
        state[m] = "open"
        for d in sorted(graph.get(m, ())):
            if state.get(d) == "open":
                cycles.append(stack[stack.index(d):] + [d] if d in stack else [m, d])
            elif d not in state:
                visit(d, stack + [d])
        state[m] = "done"

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    # a package importing its own submodules (to register them) is not a cycle of concern
    cycles = [c for c in cycles if not all(x.startswith(c[0]) or c[0].startswith(x) for x in c)]
    assert not cycles, cycles


def _run(code: str) -> str:
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                       env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"})
    assert r.returncode == 0, r.stderr[-2000:]
    return r.stdout.strip()


def test_inference_never_loads_training_code():
    out = _run("import sys, tinta, numpy as np\n"
               "from tinta import batch, export, serve\n"
               "from tinta.evaluate import evaluate, compare\n"
               "tinta.colorize(np.zeros((8, 8), np.uint8), model='vivid')\n"
               "print(sorted(m for m in sys.modules if m.startswith(('tinta.train', 'tinta.distributed', 'ray'))))")
    assert out == "[]"


def test_help_does_not_import_torch():
    out = _run("import sys\nfrom tinta.cli import main\nrc = main(['--help'])\n"
               "print(rc, 'torch' in sys.modules, 'numpy' in sys.modules)")
    assert out.splitlines()[-1] == "0 False False"


def test_the_architecture_document_places_every_module():
    doc = ARCHITECTURE.read_text()
    module_map = doc[doc.index("## Module map"):doc.index("\n## ", doc.index("## Module map") + 1)]
    named = set(re.findall(r"`([\w/]+\.py)`", module_map)) - {"tests/test_layering.py"}
    files = {p.relative_to(SRC / "tinta").as_posix() for p in (SRC / "tinta").rglob("*.py")}
    assert not files - named, f"modules missing from docs/architecture.md's module map: {sorted(files - named)}"
    assert not named - files, f"the module map names modules that do not exist: {sorted(named - files)}"
    for layer in range(len(LAYERS)):  # each module is listed under the layer test_layering gives it
        line = next(ln for ln in module_map.split("\n- ")[1:] if ln.startswith(f"**{layer}**"))
        for f in set(re.findall(r"`([\w/]+\.py)`", line)):
            module = "tinta." + f.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
            assert _layer("tinta" if f == "__init__.py" else module) == layer, f"{f} is not in layer {layer}"
