"""Shared helpers: the CLI binary, and a comparison of a Python result with
the CLI's JSON that spells out, independently of the bindings' converter,
how the JSON maps onto dicts and numpy arrays."""
import json
import os
import pathlib
import subprocess

import numpy as np
import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
MODELS = REPO / "examples" / "models"


@pytest.fixture(scope="session")
def cli():
    """Runs the repcollapse binary; returns (exit code, stdout, stderr)."""
    binary = os.environ.get("REPCOLLAPSE_BIN", str(REPO / "target" / "release" / "repcollapse"))
    if not os.path.exists(binary):
        pytest.skip(f"CLI binary {binary} not built (cargo build --release)")

    def run(*args, cwd=None):
        p = subprocess.run([binary, *map(str, args)], capture_output=True, text=True, cwd=cwd)
        return p.returncode, p.stdout, p.stderr

    return run


def cli_json(cli, *args, cwd=None):
    code, out, err = cli(*args, cwd=cwd)
    assert code == 0, err
    return json.loads(out)


def cli_error(cli, *args, cwd=None):
    """The CLI's message for a failing command, without its `error: ` prefix."""
    code, out, err = cli(*args, cwd=cwd)
    assert code != 0
    line = err.strip()
    assert line.startswith("error: "), err
    return code, line[len("error: "):]


def _as_array(items):
    if all(isinstance(x, dict) and set(x) == {"re", "im"} for x in items):
        return np.array([complex(np.nan if x["re"] is None else x["re"], np.nan if x["im"] is None else x["im"]) for x in items])
    return np.array([np.nan if x is None else x for x in items])


def assert_same(py, js, path="result", skip=()):
    """Asserts that the Python result `py` carries exactly the numbers of the
    CLI's JSON `js`: a JSON list of numbers must be a numpy array with the same
    values (bit for bit, NaN where JSON has null), a list of records with the
    same keys a dict of such columns, everything else the same shape."""
    if isinstance(js, dict):
        assert isinstance(py, dict), f"{path}: expected a dict, got {type(py)}"
        assert set(py) - set(skip) == set(js) - set(skip), f"{path}: keys {sorted(py)} != {sorted(js)}"
        for k in js:
            if k not in skip:
                assert_same(py[k], js[k], f"{path}.{k}")
    elif isinstance(js, list):
        if isinstance(py, np.ndarray):
            want = _as_array(js)
            assert py.shape == want.shape, f"{path}: shape {py.shape} != {want.shape}"
            np.testing.assert_array_equal(py, want, err_msg=path)
        elif isinstance(py, dict):
            assert js and all(isinstance(r, dict) for r in js), f"{path}: dict for a non-record list"
            for k in js[0]:
                assert_same(py[k], [r[k] for r in js], f"{path}.{k}")
            assert set(py) == set(js[0]), f"{path}: columns {sorted(py)} != {sorted(js[0])}"
        else:
            assert isinstance(py, list), f"{path}: expected a list, got {type(py)}"
            assert len(py) == len(js), f"{path}: length {len(py)} != {len(js)}"
            for i, (a, b) in enumerate(zip(py, js)):
                assert_same(a, b, f"{path}[{i}]")
    elif js is None:
        assert py is None or (isinstance(py, float) and np.isnan(py)), f"{path}: {py!r} != null"
    else:
        assert py == js and type(py) is type(js), f"{path}: {py!r} != {js!r}"
