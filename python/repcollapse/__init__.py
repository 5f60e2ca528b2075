"""repcollapse: dynamics of representation collapse, from Python.

A thin layer over the Rust crate's native module ``repcollapse._native``.
Every call goes through the library entry points that the ``repcollapse``
command line uses (its model registry, its study runner, its analysis
engine), so the numbers are the CLI's, bit for bit. Results are the CLI's
JSON as dicts, with every list of numbers a numpy array and every
trajectory (a list of records of numbers) a dict of array columns.

    >>> import repcollapse as rc
    >>> rc.theory("embedding", frustrated=0.2)["slow_rate"]
    >>> sim = rc.simulate("embedding", seeds=4, frustrated=0.2)
    >>> rc.to_frame(sim)                        # pandas, if installed
    >>> m = rc.Model.from_file("examples/models/cusp.toml")
    >>> m.boundary("h", -1, 1, "r", 0.05, 2)

Invalid parameters raise ``ValueError`` with the CLI's message; a failed run
(divergence, numerical failure) raises ``RuntimeError``. Long calls release
the GIL, stop on Ctrl-C and show progress (tqdm if installed).
"""
from . import _native
from ._frame import to_frame
from ._native import Model, version
from ._progress import Display as _Display

__version__ = version()

__all__ = ["theory", "simulate", "export", "run_study", "to_frame", "models", "study_kinds", "Model", "version", "__version__"]


def models():
    """The built-in models: ``[{name, about, schema_markdown, params}]``,
    where ``params`` lists each parameter's ``name``, ``type``, ``range``,
    ``default``, ``choices`` and ``doc``."""
    return _native.models()


def study_kinds():
    """The study kinds a study file may name (``study = "<kind>"``)."""
    return _native.study_kinds()


def theory(model, **params):
    """The reduced theory of one configuration of a built-in model: the JSON
    of ``repcollapse theory MODEL --set key=value ... --json``, as a dict.

    ``params`` are the model's parameters (tables below); anything not given
    keeps its default."""
    return _native.theory(model, params)


def simulate(model, seeds=None, *, progress=True, **params):
    """A microscopic simulation ensemble of a built-in model compared with its
    theory: the JSON of ``repcollapse simulate MODEL ... --json``, as a dict
    whose trajectories are numpy columns.

    ``seeds`` is the ensemble size (the ``seeds`` parameter). ``progress``:
    ``True`` shows a progress bar (tqdm if installed, else a text line),
    ``False`` nothing, or a callable ``f(position, length, message)``.
    The call releases the GIL and stops on Ctrl-C."""
    if seeds is not None:
        params["seeds"] = seeds
    with _Display(progress) as d:
        return _native.simulate(model, params, d.callback)


def export(model, **params):
    """The reduced ODE of a built-in model as model-file text (what
    ``repcollapse export MODEL`` writes); ``Model.from_string`` reads it."""
    return _native.export(model, params)


def run_study(path, out="out", *, progress=True):
    """Runs a study file (``analysis/*.toml``), or every study file in a
    folder, into ``out`` (figures, CSV, ``summary.json`` per study and
    ``report.md``), as ``repcollapse run PATH --out OUT``. Returns one dict
    per study: ``name``, ``title``, ``dir``, ``summary`` (arrays as in
    :func:`simulate`) and ``markdown``; a single dict for a single file."""
    import os

    with _Display(progress) as d:
        outputs = _native.run_study(os.fspath(path), os.fspath(out), d.callback)
    return outputs[0] if os.path.isfile(path) else outputs


def _parameter_tables():
    lines = ["", "Parameters by model", "-------------------", ""]
    for m in _native.models():
        lines += [f"``{m['name']}``: {m['about']}", "", m["schema_markdown"]]
    return "\n".join(lines)


# The docstrings carry every model's parameter table, generated from the
# registry's schemas (the same tables as docs/cli.md and `--help`).
_tables = _parameter_tables()
theory.__doc__ += _tables
simulate.__doc__ += _tables
export.__doc__ += _tables
del _tables
