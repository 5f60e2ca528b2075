"""The SSL learner through Python: per-epoch collapse indicators as numpy
arrays, the same numbers as the CLI, and the CLI's messages for bad input."""
import numpy as np
import pytest

import repcollapse as rc
from conftest import cli_error, cli_json

SMALL = {"train_samples": 120, "batch": 32, "epochs": 3, "seeds": 2, "dim": 6, "width": 16}


def test_simulate_returns_per_epoch_indicator_arrays():
    r = rc.simulate("ssl", progress=False, variant="simsiam", **SMALL)
    epochs = r["epochs"]
    assert isinstance(epochs, np.ndarray) and list(epochs) == [0, 1, 2, 3]
    for name in ["output_std", "effective_rank", "knn_accuracy", "probe_accuracy", "alignment", "directpred_residual"]:
        series = r["indicators"][name]
        for part in ("mean", "lo", "hi"):
            assert isinstance(series[part], np.ndarray) and series[part].shape == (4,), name
        assert np.all(series["lo"] <= series["mean"]) and np.all(series["mean"] <= series["hi"]), name
    # No loss before the first epoch: NaN, then finite.
    loss = r["indicators"]["loss"]["mean"]
    assert np.isnan(loss[0]) and np.all(np.isfinite(loss[1:]))
    acc = r["indicators"]["knn_accuracy"]["mean"]
    assert np.all((0 <= acc) & (acc <= 1))


def test_simulate_matches_cli(cli):
    py = rc.simulate("ssl", progress=False, variant="byol", **SMALL)
    sets = []
    for k, v in dict(variant="byol", **SMALL).items():
        sets += ["--set", f"{k}={v}"]
    out = cli_json(cli, "simulate", "ssl", *sets, "--json")
    np.testing.assert_array_equal(py["indicators"]["output_std"]["mean"], np.array(out["indicators"]["output_std"]["mean"]))


@pytest.mark.parametrize("bad", [{"momentum": 1.0}, {"tau": 1.5}, {"noise_std": -0.5}, {"shift": 8}])
def test_bad_input_raises_value_error_with_cli_message(cli, bad):
    with pytest.raises(ValueError) as e:
        rc.simulate("ssl", progress=False, **bad)
    key = next(iter(bad))
    assert f"`{key}`" in str(e.value)
    code, message = cli_error(cli, "simulate", "ssl", "--set", f"{key}={bad[key]}")
    assert code == 2 and str(e.value) == message
