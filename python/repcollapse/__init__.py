"""repcollapse: dynamics of representation collapse, from Python.

A thin layer over the Rust crate's native module ``repcollapse._native``:
every call goes through the library entry points that the ``repcollapse``
command line uses, so the numbers are the CLI's. Results come back as
dicts whose trajectories are numpy arrays.
"""
from ._native import Model, version

__version__ = version()

__all__ = ["Model", "version", "__version__"]
