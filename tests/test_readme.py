"""The README is the user's reference: it must keep up with the schema, the Makefile and the
command's parsers."""

from __future__ import annotations

import argparse
import dataclasses
import re
from pathlib import Path

import pytest

from gan_style import benchmark, quality
from gan_style.cli import build_parser
from gan_style.config import all_keys

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text()
MAKEFILE = (REPO / "Makefile").read_text()
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9_-]*")
# Options of other programs that the README shows (torchrun, in the multi-node example).
OTHER_TOOLS = {"--nnodes", "--node_rank", "--nproc_per_node", "--rdzv_backend", "--rdzv_endpoint",
               "--standalone"}  # fmt: skip


def section(title: str) -> str:
    """The README's text under `## title`, up to the next heading of that level."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## )", README, flags=re.M | re.S)
    assert match, f"README has no '## {title}' section"
    return match.group(1)


def subcommands(parser: argparse.ArgumentParser, prefix: str = "") -> dict[str, set[str]]:
    """`train` -> its option strings, `data download` -> ..., for every (nested) command."""
    out: dict[str, set[str]] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                out[f"{prefix}{name}"] = set(sub._option_string_actions)
                out |= subcommands(sub, f"{prefix}{name} ")
    return out


COMMANDS = subcommands(build_parser()) | {
    "bench": set(benchmark.build_parser()._option_string_actions),
    "quality": set(quality.build_parser()._option_string_actions),
}


CONFIGURATION = (REPO / "docs" / "configuration.md").read_text()  # the README links it
MODELS = (REPO / "docs" / "models.md").read_text()  # every stylize option, linked too


def test_every_config_key_is_documented() -> None:
    documented = set(re.findall(r"^\| `([a-z_.0-9]+)` \|", CONFIGURATION, flags=re.M))
    assert set(all_keys()) - documented == set()
    assert "docs/configuration.md" in README


def test_the_readme_guides_and_links_its_measurements() -> None:
    """A guide of about 600 lines; the measurement logs live in docs/, linked from it."""
    assert len(README.splitlines()) <= 610
    for page in ("performance", "quality", "evaluation", "configuration", "models"):
        assert f"(docs/{page}.md)" in README and (REPO / "docs" / f"{page}.md").is_file()


def test_every_translate_option_is_a_translate_options_field() -> None:
    """The command passes its options as values (`TranslateOptions`): none is left behind."""
    from gan_style.inference.options import TranslateOptions

    parser = build_parser()._subparsers._group_actions[0].choices["translate"]
    options = {a.dest for a in parser._actions if a.option_strings and a.dest != "help"}
    fields = {f.name for f in dataclasses.fields(TranslateOptions)}
    assert options - {"out"} <= fields


def test_every_make_target_is_documented() -> None:
    targets = re.findall(r"^([a-z]+):.*## ", MAKEFILE, flags=re.M)
    assert targets and [t for t in targets if f"make {t}" not in README] == []


def test_quick_start_is_two_make_targets_that_exist() -> None:
    block = re.search(r"```bash\n(.*?)```", section("Quick start"), flags=re.S)
    assert block, "the quick start has no command block"
    commands = [line.split("#")[0].split() for line in block.group(1).splitlines()]
    targets = [words[1] for words in commands if words[:1] == ["make"]]
    assert targets[:2] == ["demo", "test"]
    recipes = dict(re.findall(r"^([a-z]+):[^\n]*\n((?:\t[^\n]*\n)+)", MAKEFILE, flags=re.M))
    assert "gan-style train demo" in recipes["demo"] and "pytest" in recipes["test"]


def documented_options() -> dict[str, set[str]]:
    """The options the README shows with each command: in its synopsis, in `gan-style CMD ...`
    examples, the stylize option table (docs/models.md), and `make bench ARGS=...`."""
    names = sorted(COMMANDS, key=len, reverse=True)  # `data download` before `data`
    found: dict[str, set[str]] = {}
    current = None
    for line in README.splitlines():
        if not line.startswith(" "):  # a synopsis continuation line belongs to the line above
            current = None
        for match in re.finditer(r"gan-style ([a-z]+(?: [a-z]+)?)", line):
            words = match.group(1).split()
            command = next((n for n in names if n.split() == words[: len(n.split())]), None)
            if command is None:  # prose: "install gan-style editable"
                continue
            current = command
            rest = line[match.end() :].split("`")[0]
            found.setdefault(current, set()).update(FLAG.findall(rest))
        if current and line.startswith(" ") and "gan-style" not in line:
            found[current].update(FLAG.findall(line))
        if "make bench ARGS" in line:
            found.setdefault("bench", set()).update(FLAG.findall(line.split("make bench")[1]))
        if "make quality [ARGS" in line or "make quality ARGS" in line:
            found.setdefault("quality", set()).update(FLAG.findall(line.split("make quality")[1]))
    table = re.findall(r"^\| (`--.*?) \|", MODELS.split("## pix2pix")[0], flags=re.M)
    found.setdefault("stylize", set()).update(FLAG.findall(" ".join(table)))
    return found


def test_documented_options_exist_in_their_command() -> None:
    documented = documented_options()
    assert {"train", "translate", "stylize", "bench"} <= set(documented)
    missing = {
        command: sorted(flags - COMMANDS[command])
        for command, flags in documented.items()
        if flags - COMMANDS[command]
    }
    assert missing == {}


def test_every_option_in_the_readme_exists_somewhere() -> None:
    """Options mentioned in prose (`--quality-seeds`), here or in docs/models.md, must exist in
    some command too."""
    known = set().union(*COMMANDS.values()) | OTHER_TOOLS
    assert sorted(set(FLAG.findall(README + MODELS)) - known) == []


def test_stylize_options_are_the_library_defaults() -> None:
    from gan_style.neural_style import StyleOptions

    args = build_parser().parse_args(["stylize", "c.png", "s.png", "--out", "o.png"])
    for f in dataclasses.fields(StyleOptions):
        assert getattr(args, f.name) == getattr(StyleOptions(), f.name), f.name
    args = build_parser().parse_args(
        ["stylize", "c.png", "s.png", "--out", "o.png", "--style-weight", "3",
         "--style-layers", "conv1_1,conv2_1", "--preserve-colors", "luminance"]
    )  # fmt: skip
    assert args.style_weight == 3.0 and isinstance(args.style_weight, float)
    assert args.style_layers == ("conv1_1", "conv2_1") and args.preserve_colors == "luminance"


@pytest.mark.parametrize("command", ["translate", "evaluate", "gallery", "export", "stylize"])
def test_each_command_has_a_synopsis(command: str) -> None:
    assert re.search(rf"^gan-style {command} ", section("The `gan-style` command"), flags=re.M)
