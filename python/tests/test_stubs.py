"""The type stub is generated from the registry's schemas and committed;
this fails when a schema changed and the stub was not regenerated."""
import pathlib

from repcollapse import _stubgen

STUB = pathlib.Path(__file__).resolve().parents[1] / "repcollapse" / "__init__.pyi"


def test_stub_is_in_sync_with_the_registry():
    assert STUB.read_text() == _stubgen.stub(), (
        "python/repcollapse/__init__.pyi is out of date: run "
        "`python -m repcollapse._stubgen > python/repcollapse/__init__.pyi`")


def test_stub_is_valid_python_and_names_every_parameter():
    import ast

    import repcollapse as rc

    tree = ast.parse(STUB.read_text())
    defs = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "theory"]
    assert len(defs) == len(rc.models()) + 1
    for m, d in zip(rc.models(), defs):
        assert [a.arg for a in d.args.kwonlyargs] == [p["name"] for p in m["params"]]
