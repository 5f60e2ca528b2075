"""The built-in models through Python give the CLI's numbers, bit for bit;
invalid input raises ValueError with the CLI's message."""
import json

import numpy as np
import pytest

import repcollapse as rc
from conftest import MODELS, REPO, assert_same, cli_error, cli_json

# One configuration per model, small enough to simulate in a few seconds.
CASES = {
    "embedding": {"frustrated": 0.2, "per_class": 20, "seeds": 3, "t_max": 60.0, "points": 30},
    "head": {"variant": "symmetric", "weight_decay": 0.02, "frustrated": 0.25, "rho": 0.3, "per_class": 10,
             "seeds": 2, "t_max": 40.0, "points": 20},
    "teacher-student": {"input_dim": 100, "seeds": 2, "t_max": 10.0, "points": 10},
    "real-data": {"train_samples": 100, "inputs": "whitened", "noise_rate": 0.2, "eta_y": 0.2, "dt": 0.5,
                  "seeds": 2, "t_max": 10.0, "points": 10},
}


def sets(params):
    out = []
    for k, v in params.items():
        out += ["--set", f"{k}={json.dumps(v) if isinstance(v, str) else v}"]
    return out


@pytest.mark.parametrize("model", sorted(CASES))
def test_theory_matches_cli(cli, model):
    params = CASES[model]
    js = cli_json(cli, "theory", model, *sets(params), "--json")
    py = rc.theory(model, **params)
    assert_same(py, js)


@pytest.mark.parametrize("model", sorted(CASES))
def test_simulate_matches_cli(cli, model):
    params = CASES[model]
    js = cli_json(cli, "simulate", model, *sets(params), "--json")
    py = rc.simulate(model, progress=False, **params)
    assert_same(py, js)


@pytest.mark.parametrize("model", sorted(m for m in CASES if m != "real-data"))
def test_export_matches_cli(cli, model):
    code, out, err = cli("export", model)
    assert code == 0, err
    text = rc.export(model)
    assert text.strip() == out.strip()
    # ... and the exported file is a model file the engine reads.
    m = rc.Model.from_string(text)
    assert m.state_names


def test_real_data_export_is_refused_with_the_cli_message(cli):
    code, msg = cli_error(cli, "export", "real-data")
    assert code == 2 and "no closed low-dimensional" in msg
    with pytest.raises(ValueError, match="no closed low-dimensional"):
        rc.export("real-data")


def test_simulation_trajectory_is_numpy_columns():
    r = rc.simulate("embedding", progress=False, **CASES["embedding"])
    traj = r["separation_trajectory"]
    # t = 0 and the log grid (snapped to whole steps, so at most points + 1 times).
    n = len(traj["t"])
    assert isinstance(traj["t"], np.ndarray) and traj["t"].shape == (n,) and 2 < n <= CASES["embedding"]["points"] + 1
    assert traj["t"][0] == 0 and np.all(np.diff(traj["t"]) > 0)
    assert traj["min_label_distance"]["ci95"].shape == (n, 2)
    assert isinstance(r["fitted_slow_rate_per_seed"], np.ndarray)
    # Theory and simulation of the same run agree within the relative error the library reports.
    sim, th = traj["min_label_distance"]["mean"], traj["theory"]
    assert np.max(np.abs(sim - th) / th) <= r["max_relative_error_separation"] * (1 + 1e-12)


def test_numpy_scalars_and_kwargs_order():
    a = rc.theory("embedding", frustrated=0.2, classes=5)
    b = rc.theory("embedding", classes=np.int64(5), frustrated=np.float64(0.2))
    np.testing.assert_equal(a, b)  # recursive over dicts and lists, exact on arrays


@pytest.mark.parametrize("bad", [{"rho": 0.7}, {"rhoo": 0.1}, {"classes": 1}, {"pairing": "balance"}, {"classes": 4.5}])
def test_invalid_parameters_raise_value_error_with_cli_message(cli, bad):
    code, msg = cli_error(cli, "theory", "embedding", *sets(bad))
    assert code == 2
    with pytest.raises(ValueError) as e:
        rc.theory("embedding", **bad)
    assert str(e.value) == msg
    with pytest.raises(ValueError) as e:
        rc.simulate("embedding", progress=False, **bad)
    assert str(e.value) == msg


def test_unknown_model_and_unsupported_value():
    with pytest.raises(ValueError, match="did you mean `embedding`"):
        rc.theory("embeding")
    with pytest.raises(ValueError, match="`classes`"):
        rc.theory("embedding", classes=object())


def test_to_frame():
    pd = pytest.importorskip("pandas")
    r = rc.simulate("embedding", progress=False, **CASES["embedding"])
    df = rc.to_frame(r)
    assert len(df) == len(r["separation_trajectory"]["t"])
    np.testing.assert_array_equal(df["min_label_distance.mean"], r["separation_trajectory"]["min_label_distance"]["mean"])
    assert {"min_label_distance.ci95[0]", "min_label_distance.ci95[1]", "theory", "t"} <= set(df.columns)
    c = rc.Model.from_file(MODELS / "pitchfork.toml").continue_("mu", -1, 1)
    branches = rc.to_frame(c, "branches")
    assert set(branches["part"]) == set(range(len(c["branches"])))
    assert isinstance(branches, pd.DataFrame)


def test_run_study_matches_cli(cli, tmp_path):
    study = tmp_path / "cusp_study.toml"
    study.write_text(f'''study = "model-analysis"
title = "Cusp"
model = "{(MODELS / 'cusp.toml').as_posix()}"
continue = {{ param = "h", from = -1.0, to = 1.0 }}
''')
    code, out, err = cli("run", study, "--out", tmp_path / "cli", "--quiet")
    assert code == 0, err
    py = rc.run_study(study, out=tmp_path / "py", progress=False)
    want = json.loads((tmp_path / "cli" / "cusp_study" / "summary.json").read_text())
    got = json.loads((tmp_path / "py" / "cusp_study" / "summary.json").read_text())
    assert got == want
    assert_same(py["summary"], {k: v for k, v in want.items() if k not in ("crate_version", "study_file")})
    assert (tmp_path / "py" / "report.md").exists()
    with pytest.raises(ValueError, match="study"):
        bad = tmp_path / "bad.toml"
        bad.write_text('study = "slow-rat"\n')
        rc.run_study(bad, out=tmp_path / "bad")


def test_models_and_docstrings():
    names = [m["name"] for m in rc.models()]
    assert names == ["embedding", "head", "teacher-student", "real-data", "ssl"]
    for m in rc.models():
        assert m["schema_markdown"] in rc.theory.__doc__
        for p in m["params"]:
            assert f"`{p['name']}`" in m["schema_markdown"]
    assert "model-analysis" in rc.study_kinds()


@pytest.mark.parametrize("model", sorted(CASES))
def test_every_model_reports_progress(model):
    # One bar step per finished seed, for every model (issue 24), plus the
    # finite-data and head variants of Model T.
    cases = [dict(CASES[model])]
    if model == "teacher-student":
        cases += [dict(CASES[model], samples=40), dict(CASES[model], head="symmetric")]
    for params in cases:
        seen = []
        rc.simulate(model, progress=lambda pos, n, msg: seen.append((pos, n, msg)), **params)
        seeds = params["seeds"]
        assert seen, f"{model} {params}: no progress reported"
        assert seen[-1][:2] == (seeds, seeds), f"{model} {params}: {seen}"
        assert "ensemble" in seen[-1][2]
