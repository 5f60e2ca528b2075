"""``to_frame``: a result as a pandas DataFrame (pandas is optional)."""
import numpy as np


def _columns(value, prefix, out):
    """Flattens nested dicts of arrays into dotted column names; a 2-D
    array of width w becomes w columns ``name[0] ... name[w-1]``."""
    if isinstance(value, dict):
        for k, v in value.items():
            _columns(v, f"{prefix}.{k}" if prefix else k, out)
    elif isinstance(value, np.ndarray) and value.ndim == 1:
        out[prefix] = value
    elif isinstance(value, np.ndarray) and value.ndim == 2:
        for j in range(value.shape[1]):
            out[f"{prefix}[{j}]"] = value[:, j]


def to_frame(result, key=None):
    """A pandas DataFrame of the longest table in ``result``.

    A result's trajectories are dicts of numpy columns; this picks the
    columns of the greatest common length (for ``simulate`` the trajectory,
    for ``Model.integrate`` the time and states, for a continuation branch
    its points) and names them by their path below the part they share
    (``min_label_distance.mean``).
    ``key`` selects a part first: a key of ``result`` or a dotted path, e.g.
    ``to_frame(r, "separation_trajectory")``; a list of tables (the
    branches of a continuation) is stacked with a column ``part``.
    """
    try:
        import pandas as pd
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("repcollapse.to_frame needs pandas: pip install pandas") from e
    if key is not None:
        for part in key.split("."):
            result = result[int(part)] if isinstance(result, list) else result[part]
    if isinstance(result, list):
        frames = [to_frame(r).assign(part=i) for i, r in enumerate(result)]
        return pd.concat(frames, ignore_index=True)
    cols = {}
    _columns(result, "", cols)
    if not cols:
        raise ValueError("no array columns in this result; pass key= to select a table")
    lengths = {}
    for name, c in cols.items():
        lengths.setdefault(len(c), []).append(name)
    names = lengths[max(lengths)]
    # Drop the path the chosen columns share ("separation_trajectory.").
    parts = [n.split(".") for n in names]
    common = 0
    while len(names) > 1 and all(len(p) > common + 1 and p[common] == parts[0][common] for p in parts):
        common += 1
    return pd.DataFrame({".".join(p[common:]): cols[n] for n, p in zip(names, parts)})
