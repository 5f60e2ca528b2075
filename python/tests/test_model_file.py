"""repcollapse.Model: the same numbers as `repcollapse analyze`, the error
paths, and a large trajectory handed to numpy without per-element copies."""
import json
import re

import numpy as np
import pytest

import repcollapse as rc
from conftest import MODELS, assert_same, cli_error, cli_json


def test_fixed_points_match_cli(cli, tmp_path):
    js = cli_json(cli, "analyze", MODELS / "lorenz.toml", "fixed-points", "--json", "--out", tmp_path)
    py = rc.Model.from_file(MODELS / "lorenz.toml").fixed_points()
    assert len(py["fixed_points"]) == 3  # origin and the two convection rolls at rho = 28
    assert_same(py, js)


def test_integrate_matches_cli(cli, tmp_path):
    js = cli_json(cli, "analyze", MODELS / "lorenz.toml", "integrate", "--t-max", "5", "--points", "50",
                  "--set", "rho=10", "--json", "--out", tmp_path)
    py = rc.Model.from_file(MODELS / "lorenz.toml", rho=10).integrate(5, points=50)
    assert_same(py, js, skip=("state_matrix",))
    # state_matrix is the state matrix, and the named columns are views of it.
    assert py["state_matrix"].shape == (50, 3)
    np.testing.assert_array_equal(py["state_matrix"][:, 1], py["states"]["y"])


def test_continuation_matches_cli(cli, tmp_path):
    js = cli_json(cli, "analyze", MODELS / "pitchfork.toml", "continue", "--param", "mu", "--from", "-1", "--to", "1",
                  "--json", "--out", tmp_path)
    py = rc.Model.from_file(MODELS / "pitchfork.toml").continue_("mu", -1, 1)
    assert_same(py, js)
    assert any(b["kind"] == "branch" for b in py["bifurcations"])  # events stay a list of dicts


def test_boundary_matches_cli(cli, tmp_path):
    args = ["--param", "h", "--from", "-1", "--to", "1", "--param2", "r", "--from2", "0.05", "--to2", "2", "--grid", "12"]
    js = cli_json(cli, "analyze", MODELS / "cusp.toml", "boundary", *args, "--json", "--out", tmp_path)
    py = rc.Model.from_file(MODELS / "cusp.toml").boundary("h", -1, 1, "r", 0.05, 2, grid=12)
    assert_same(py, js)
    # The fold lines of the cusp are 27 h^2 = 4 r^3 (an independent closed form).
    for curve in py["curves"]:
        h, r = curve["points"]["h"], curve["points"]["r"]
        np.testing.assert_allclose(27 * h**2, 4 * r**3, rtol=1e-6, atol=1e-9)


def test_from_string_and_params():
    text = '''name = "decay"
[parameters]
k = 0.5
[state]
x = 2.0
[equations]
x = "-k*x"
'''
    m = rc.Model.from_string(text, k=2.0)
    assert (m.name, m.state_names, m.param_names, m.params) == ("decay", ["x"], ["k"], {"k": 2.0})
    r = m.integrate(1.0, points=11, rtol=1e-10, atol=1e-12)
    # x(t) = 2 exp(-k t): tolerance 1e-8 covers the solver's local tolerances (1e-10 relative).
    np.testing.assert_allclose(r["states"]["x"], 2 * np.exp(-2.0 * r["t"]), rtol=1e-8)
    assert m.with_params(x=1.0).initial_state == {"x": 1.0}
    assert "k = 2" in m.to_toml()


def test_bad_model_file_is_value_error_with_cli_message(cli, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "bad"\n[parameters]\nk = 1.0\n[state]\nx = 1.0\n[equations]\nx = "-kk*x"\n')
    code, msg = cli_error(cli, "analyze", bad, "fixed-points", "--out", tmp_path)
    assert code == 2
    with pytest.raises(ValueError) as e:
        rc.Model.from_file(bad)
    assert str(e.value) == msg
    assert "did you mean `k`?" in msg


def test_unknown_parameter_is_value_error_with_cli_message(cli, tmp_path):
    code, msg = cli_error(cli, "analyze", MODELS / "cusp.toml", "continue", "--param", "hh", "--from", "0", "--to", "1",
                          "--out", tmp_path)
    with pytest.raises(ValueError) as e:
        rc.Model.from_file(MODELS / "cusp.toml").continue_("hh", 0, 1)
    # The same request and check (src/request/); the field is named as each
    # front end spells it: `--param` on the command line, `param` in Python.
    assert "`--param`" in msg
    assert str(e.value) == msg.replace("`--param`", "`param`")
    code, msg = cli_error(cli, "analyze", MODELS / "cusp.toml", "fixed-points", "--set", "hh=1", "--out", tmp_path)
    with pytest.raises(ValueError) as e:
        rc.Model.from_file(MODELS / "cusp.toml", hh=1)
    assert str(e.value) == msg
    with pytest.raises(ValueError, match="method"):
        rc.Model.from_file(MODELS / "cusp.toml").integrate(method="rk4")
    with pytest.raises(ValueError, match="`k`"):
        rc.Model.from_file(MODELS / "cusp.toml", k="one")


def test_divergence_is_runtime_error(cli, tmp_path):
    text = 'name = "blowup"\n[parameters]\n[state]\nx = 1.0\n[equations]\nx = "x^2"\n'
    path = tmp_path / "blowup.toml"
    path.write_text(text)
    # x' = x^2, x(0) = 1 blows up at t = 1.
    code, msg = cli_error(cli, "analyze", path, "integrate", "--t-max", "2", "--out", tmp_path)
    assert code == 1
    with pytest.raises(RuntimeError) as e:
        rc.Model.from_file(path).integrate(2)
    # The CLI also names the partial output it wrote; Python writes no files.
    cli_msg = re.sub(r" \(the \d+ output times up to t = \S+ were written to [^)]*\)", "", msg)
    assert cli_msg != msg and str(e.value) == cli_msg


def test_missing_file_is_value_error(cli, tmp_path):
    code, msg = cli_error(cli, "analyze", tmp_path / "nope.toml", "fixed-points", "--out", tmp_path)
    with pytest.raises(ValueError) as e:
        rc.Model.from_file(tmp_path / "nope.toml")
    assert str(e.value) == msg


def test_large_trajectory_is_handed_over_without_copies():
    m = rc.Model.from_file(MODELS / "hopf.toml")
    n = 1_000_000
    r = m.integrate(100.0, points=n)
    t, y = r["t"], r["state_matrix"]
    assert t.shape == (n,) and y.shape == (n, len(m.state_names)) and y.dtype == np.float64
    # The buffers are Rust Vecs moved into numpy: their owner is rust-numpy's
    # container, not a copy made by numpy from Python floats.
    assert type(t.base).__name__ == "PySliceContainer"
    assert type(y.base).__name__ == "PySliceContainer"
    for name in m.state_names:
        col = r["states"][name]
        assert np.shares_memory(col, y) and not col.flags.owndata


def _study(tmp_path, name, body):
    path = tmp_path / f"{name}.toml"
    path.write_text(f'study = "model-analysis"\ntitle = "{name}"\nmodel = "{MODELS / "cusp.toml"}"\n{body}\n')
    return path


def test_one_request_through_cli_study_and_python(cli, tmp_path):
    """The same continuation and boundary request, written in the three
    syntaxes (CLI flags, a model-analysis study file, Python arguments),
    reaches the engine as one request (src/request/) and gives the same
    numbers: the CLI's JSON against Python's result and the study's
    summary, and the CLI's CSV files against the study's, byte for byte."""
    cont = ["continue", "--param", "h", "--from", "-1", "--to", "1"]
    js = cli_json(cli, "analyze", MODELS / "cusp.toml", *cont, "--json", "--out", tmp_path / "cli-c")
    py = rc.Model.from_file(MODELS / "cusp.toml").continue_("h", -1, 1)
    assert_same(py, js)
    bnd = ["boundary", "--param", "h", "--from", "-1", "--to", "1", "--param2", "r", "--from2", "0.05", "--to2", "2"]
    jb = cli_json(cli, "analyze", MODELS / "cusp.toml", *bnd, "--grid-check", "--json", "--out", tmp_path / "cli-b")
    pb = rc.Model.from_file(MODELS / "cusp.toml").boundary("h", -1, 1, "r", 0.05, 2, grid_check=True)
    assert_same(pb, jb)
    study = _study(tmp_path, "req", 'continue = { param = "h", from = -1, to = 1 }\n'
                   'boundary = { param = "h", from = -1, to = 1, param2 = "r", from2 = 0.05, to2 = 2 }')
    code, _, err = cli("run", study, "--out", tmp_path / "study", "--quiet")
    assert code == 0, err
    summary = json.loads((tmp_path / "study" / "req" / "summary.json").read_text())
    assert summary["continuation"]["bifurcations"] == js["bifurcations"]
    assert summary["boundary"]["grid_check"] == jb["grid_check"]
    for verb, files in (("c", ["continuation.csv"]), ("b", ["boundary.csv", "boundary_points.csv", "boundary_grid.csv"])):
        for f in files:
            assert (tmp_path / f"cli-{verb}" / f).read_bytes() == (tmp_path / "study" / "req" / f).read_bytes(), f


def test_request_errors_name_the_field_in_each_syntax(cli, tmp_path):
    """One validation, three spellings of the field: `--ds` (CLI),
    `continue.to` (study file), `ds` (Python)."""
    code, msg = cli_error(cli, "analyze", MODELS / "cusp.toml", "continue", "--param", "h", "--from", "0", "--to", "1",
                          "--ds", "0", "--out", tmp_path)
    assert code == 2 and "`--ds`" in msg, msg
    with pytest.raises(ValueError, match="`ds`"):
        rc.Model.from_file(MODELS / "cusp.toml").continue_("h", 0, 1, ds=0)
    study = _study(tmp_path, "bad", 'continue = { param = "h", from = 1, to = 1 }')
    code, _, err = cli("run", study, "--out", tmp_path / "o", "--quiet")
    assert code == 2 and "`continue.to`" in err and "continue.from = 1" in err, err


PERIODIC_COLUMNS = ("param", "period", "min", "max", "stable", "n_unstable", "multipliers", "multiplier_moduli", "trivial_multiplier")


def test_periodic_orbits_match_cli(cli, tmp_path):
    js = cli_json(cli, "analyze", MODELS / "brusselator.toml", "periodic", "--param", "b", "--from", "1", "--to", "2.5",
                  "--json", "--out", tmp_path)
    py = rc.Model.from_file(MODELS / "brusselator.toml").periodic_orbits("b", 1, 2.5)
    # Everything the CLI prints, with the same numbers ...
    assert_same(py, js, skip=PERIODIC_COLUMNS)
    assert py["start"]["from"] == "hopf" and py["stop"] == "parameter-bound"
    # ... and the cycles as columns built from the same points.
    pts = js["points"]
    assert len(pts) > 3
    for key in ("param", "period", "stable", "n_unstable", "multiplier_moduli", "trivial_multiplier"):
        np.testing.assert_array_equal(py[key], np.array([p[key] for p in pts]), err_msg=key)
    for side in ("min", "max"):
        for name in ("x", "y"):
            np.testing.assert_array_equal(py[side][name], np.array([p[side][name] for p in pts]))
    want = np.array([[complex(re, im) for re, im in p["multipliers"]] for p in pts])
    assert py["multipliers"].shape == (len(pts), 2)
    np.testing.assert_array_equal(py["multipliers"], want)
    # Past the supercritical Hopf point at b = 2 the cycles are stable and grow.
    assert py["stable"].all()
    assert np.all(np.diff(py["max"]["x"]) > 0)


def test_periodic_orbits_validate_like_the_cli(cli, tmp_path):
    m = rc.Model.from_file(MODELS / "brusselator.toml")
    code, msg = cli_error(cli, "analyze", MODELS / "brusselator.toml", "periodic", "--param", "b", "--from", "1", "--to", "2.5",
                          "--ncol", "9", "--out", tmp_path)
    assert code == 2
    with pytest.raises(ValueError) as e:
        m.periodic_orbits("b", 1, 2.5, ncol=9)
    # The same message, the field spelled as Python spells it.
    assert str(e.value) == msg.replace("`--ncol`", "`ncol`")
    with pytest.raises(ValueError, match="from_orbit"):
        m.periodic_orbits("b", 1, 2.5, from_hopf=True, from_orbit=True)
    with pytest.raises(ValueError, match=r"`ds`.*\(0, ds_max = 0.5\]"):
        m.periodic_orbits("b", 1, 2.5, ds=1.0)
    # The step bound names the Python keyword that raises it.
    r = m.periodic_orbits("b", 1, 3, max_steps=3)
    assert r["stop"] == "max-steps" and len(r["param"]) == 4
    assert "(max_steps = 3)" in r["stop_note"] and "raise max_steps" in r["stop_note"]
