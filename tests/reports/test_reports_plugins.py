"""Your own activation everywhere: its report, plugins, entry points, and directories
that symgrad did not write (which are never replaced)."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest
import sympy

from symgrad import register_activation, unregister_activation, z
from symgrad.cli.main import main
from symgrad.errors import InvalidArgument
from symgrad.reports import (
    MARKER,
    activation_report,
    build_reports,
    check_reports,
    load_plugins,
    report_names,
)

RELU = sympy.Piecewise((0, z <= 0), (z, True))


@pytest.fixture
def my_relu():
    act = register_activation("my_relu", RELU, reference="relu by hand", replace=True)
    yield act
    unregister_activation("my_relu")


def test_a_user_activation_report_is_the_catalogue_report_of_the_same_function(my_relu) -> None:
    # The same φ registered by hand gives the same page, byte for byte, up to its name and
    # reference: nothing a catalogue page shows is missing from a user's.
    mine = {o.path.replace("my_relu", "relu"): o.content.replace(b"my_relu", b"relu")
            for o in activation_report("my_relu")}
    theirs = {o.path: o.content for o in activation_report("relu")}
    assert mine.keys() == theirs.keys()
    page = mine["activation-relu.md"].decode().replace("my_relu", "relu")
    expected = theirs["activation-relu.md"].decode().replace(
        "Nair and Hinton 2010; Glorot, Bordes and Bengio 2011", "relu by hand")
    assert page == expected
    assert mine["figures/activation-relu.svg"] == theirs["figures/activation-relu.svg"]


def test_build_reports_for_registered_activations(my_relu, tmp_path: Path) -> None:
    out = tmp_path / "mine"
    files = build_reports(out, activations=["my_relu", my_relu])
    assert sorted(files) == ["README.md", "activation-my_relu.md",
                             "figures/activation-my_relu.svg"]
    index = (out / "README.md").read_text()
    assert "(activation-my_relu.md)" in index and "sigmoid-bound" not in index
    assert check_reports(out, activations=["my_relu"]) == ""
    assert "activation-my_relu" in report_names()


def test_an_activation_with_parameters_gets_its_own_page(tmp_path: Path) -> None:
    from symgrad import activation

    files = build_reports(tmp_path / "p", activations=[activation("leaky_relu", alpha=0.2)])
    assert "activation-leaky_relu-alpha-1-5.md" in files


def test_a_directory_symgrad_did_not_write_is_refused(tmp_path: Path) -> None:
    mine = tmp_path / "notes"
    mine.mkdir()
    (mine / "thesis.tex").write_text("mine")
    with pytest.raises(InvalidArgument, match="did not write"):
        build_reports(mine, only=["clipping"])
    assert main(["report", "--out", str(mine), "--only", "clipping"]) == 2
    assert sorted(p.name for p in mine.iterdir()) == ["thesis.tex"]
    # …but one symgrad wrote is updated in place, and an empty one is used
    (mine / "thesis.tex").unlink()
    build_reports(mine, only=["clipping"])
    assert (mine / "README.md").read_bytes().startswith(MARKER)
    build_reports(mine, only=["clipping"])


PLUGIN = textwrap.dedent('''
    import sympy
    from symgrad import register_activation, z

    def register():
        return register_activation("plugged", sympy.Piecewise((0, z <= 0), (z, True)),
                                   replace=True)
''')


@pytest.fixture
def plugin_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    (tmp_path / "my_plugin.py").write_text(PLUGIN + "\nregister()\n")
    (tmp_path / "my_plugin_fn.py").write_text(PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name in ("my_plugin", "my_plugin_fn"):
        sys.modules.pop(name, None)
    from symgrad import activation_names

    if "plugged" in activation_names():
        unregister_activation("plugged")


@pytest.mark.parametrize("spec", ["my_plugin", "my_plugin_fn:register"])
def test_a_plugin_module_registers_its_activations(plugin_module, spec: str) -> None:
    assert load_plugins([spec], entry_points=False) == ("plugged",)


def test_an_entry_point_is_loaded(plugin_module: Path) -> None:
    info = plugin_module / "plugged_pkg-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: plugged-pkg\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[symgrad.activations]\nplugged = my_plugin_fn:register\n")
    assert load_plugins() == ("plugged",)


def test_the_cli_loads_a_plugin_and_builds_its_report(plugin_module: Path,
                                                       capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    out = plugin_module / "reports"
    assert main(["report", "--plugin", "my_plugin_fn:register", "--no-entry-points",
                 "--activation", "plugged", "--out", str(out)]) == 0
    assert (out / "activation-plugged.md").is_file()
    assert "plugged" in capsys.readouterr().err


@pytest.mark.parametrize("modules,message", [
    ("my_plugin", "a list"), ([""], "module"), (["a:b:c"], "module"),
    (["no_such_module_here"], "cannot load"),
])
def test_bad_plugins_are_refused(modules, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        load_plugins(modules, entry_points=False)


def test_activations_must_be_a_list() -> None:
    with pytest.raises(InvalidArgument, match="list of names"):
        build_reports("/tmp/never-written", activations="relu")  # type: ignore[arg-type]
