"""Imports run one way: the README's Architecture table is the picture, and every import of the
package (also one inside a function) must point to a lower floor or stay in its own folder."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

from gan_style.models import MODELS, TranslationModel, build_model
from tests.conftest import REPO, tiny_config, write_images

PACKAGE = REPO / "gan_style"
# `cfg.model.name == "multistyle"`, or a tuple of model names such as ("cycle_gan", ...).
NAME_CHECK = re.compile(rf"""model\.name\s*(==|!=|in\b|not in\b)|\(["']({"|".join(MODELS)})["'],""")
README = (REPO / "README.md").read_text()


def floors() -> dict[str, int]:
    """`cli` -> 10, `training` -> 7, ... from the README's Architecture table."""
    text = README.split("## Architecture", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| (\d+) \| `([a-z_]+)` \|", text, flags=re.M)
    return {name: int(floor) for floor, name in rows}


def top_level(module: str) -> str:
    """`gan_style.data.held_out` -> `data`."""
    return module.split(".")[1]


def imports_of(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every `gan_style` import in the file, at any depth."""
    tree = ast.parse(path.read_text())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found += [(node.lineno, n) for n in names if n.startswith("gan_style.")]
    return found


def owner(path: Path) -> str:
    """The top-level module or folder a file belongs to."""
    return path.relative_to(PACKAGE).parts[0].removesuffix(".py")


def test_every_module_has_a_floor() -> None:
    placed = floors()
    modules = {owner(p) for p in PACKAGE.rglob("*.py")} - {"__init__"}
    assert sorted(modules - set(placed)) == []
    assert sorted(set(placed) - modules) == []  # no row for a module that is gone


def test_imports_run_down() -> None:
    placed = floors()
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        here = owner(path)
        if here == "__init__":
            continue
        for line, module in imports_of(path):
            there = top_level(module)
            if there != here and placed[there] >= placed[here]:
                wrong.append(f"{path.relative_to(REPO)}:{line} imports {module}")
    assert wrong == []


def test_a_sideways_import_is_caught(tmp_path: Path) -> None:
    """The check itself: an import of a module on the same floor is reported."""
    (tmp_path / "x.py").write_text("def f():\n    from gan_style.runtime import speed\n")
    assert imports_of(tmp_path / "x.py") == [(2, "gan_style.runtime")]
    assert floors()["runtime"] == floors()["data"]  # so data -> runtime would be refused


def module_name(path: Path) -> str:
    """`gan_style/inference/int8.py` -> `gan_style.inference.int8` (a package: its folder)."""
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, modules: set[str]) -> set[str]:
    """The package's modules a file imports, at any depth: `from gan_style.inference import
    int8` is the module `gan_style.inference.int8`."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                child = f"{node.module}.{alias.name}"
                found.add(child if child in modules else node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {m for m in found if m in modules}


def import_circles(paths: list[Path]) -> list[list[str]]:
    """Every circle of imports between the files, each as the modules it passes through."""
    modules = {module_name(p): p for p in paths}
    graph = {m: imported_modules(p, set(modules)) - {m} for m, p in modules.items()}
    circles, done = [], set()

    def visit(module: str, trail: list[str]) -> None:
        if module in trail:
            circles.append([*trail[trail.index(module) :], module])
            return
        if module in done:
            return
        for target in sorted(graph[module]):
            visit(target, [*trail, module])
        done.add(module)

    for module in sorted(graph):
        visit(module, [])
    return circles


def test_no_two_files_import_each_other_even_inside_a_folder() -> None:
    assert import_circles(sorted(PACKAGE.rglob("*.py"))) == []


def test_a_circle_inside_a_folder_is_caught(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check itself: two files of one folder that import each other (one inside a
    function) are reported."""
    folder = tmp_path / "gan_style" / "inference"
    folder.mkdir(parents=True)
    (folder / "a.py").write_text("from gan_style.inference.b import g\n")
    (folder / "b.py").write_text("def g():\n    from gan_style.inference import a\n")
    monkeypatch.setattr(sys.modules[__name__], "REPO", tmp_path)
    circles = import_circles(sorted(folder.glob("*.py")))
    assert ["gan_style.inference.a", "gan_style.inference.b", "gan_style.inference.a"] in circles


def test_no_model_name_is_tested_outside_models() -> None:
    """The rest of the code asks the model (`cycle`, `styled`, ...), not its name."""
    offenders = [
        f"{path.relative_to(REPO)}:{i}"
        for path in PACKAGE.rglob("*.py")
        if owner(path) not in ("models", "config")
        for i, line in enumerate(path.read_text().splitlines(), 1)
        if NAME_CHECK.search(line)
    ]
    assert offenders == []


def test_the_name_check_finds_what_it_should() -> None:
    assert NAME_CHECK.search('    if cfg.model.name == "multistyle":')
    assert NAME_CHECK.search('CYCLE_MODELS = ("cycle_gan", "multistyle")')
    assert not NAME_CHECK.search("    spec = model_class(cfg.model.name)")


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_model_meets_the_contract(name: str, tmp_path: Path) -> None:
    root = tmp_path / "data"
    write_images(root / "trainA", 2, seed=1)
    for style in ("monet", "ukiyoe"):
        write_images(root / "trainB" / style, 2, seed=2)
    write_images(root / "trainB", 2, seed=3)
    data = {"dataset_mode": "colorization"} if name == "colorization" else {}
    cfg = tiny_config(root, tmp_path / "runs", model={"name": name}, data=data)
    cls = MODELS[name]
    cfg = cls.prepare_config(cfg)
    model = build_model(cfg)
    assert isinstance(model, TranslationModel)
    inference = cls.inference_networks(cfg)
    assert list(inference) == list(model.named_generators)
    for key, net in inference.items():  # built as training builds them: the weights fit
        net.load_state_dict(model.named_generators[key].state_dict())
    assert ("G_BA" in inference) == cls.cycle
    assert (cfg.data.styles != []) == cls.styled


def test_the_core_dependencies_hold_no_inference_engine() -> None:
    """The training framework installs without the CPU engine; the engine is the `cpu` extra."""
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    engines = ("openvino", "onnxruntime", "onnx", "mnn")
    names = [re.split(r"[<>=\[ ;]", d)[0].lower() for d in project["dependencies"]]
    assert [n for n in names if n in engines] == []
    cpu = [re.split(r"[<>=\[ ;]", d)[0].lower() for d in project["optional-dependencies"]["cpu"]]
    assert "openvino" in cpu and "mnn" not in cpu
    assert "cpu" in (REPO / "Makefile").read_text().split("pip install -e")[1].splitlines()[0]
