"""Progress display for long calls (simulate, run_study).

The native layer calls ``callback(position, length, message)`` from the
calling thread whenever the library's progress bar moves (it polls every
50 ms). Here that becomes a tqdm bar if tqdm is installed (a widget in
Jupyter when ipywidgets is there too, text otherwise), or else a single
text line on ``sys.stderr``, which a notebook shows under the cell.
"""
import sys
import warnings


class Display:
    """The display for one call; ``progress`` is the user's option:
    ``True`` (show), ``False`` (nothing) or a callable taking
    ``(position, length, message)``."""

    def __init__(self, progress):
        self.user = progress if callable(progress) else None
        self.enabled = bool(progress)
        self.bar = None
        self.text = False

    @property
    def callback(self):
        if self.user is not None:
            return self.user
        return self._show if self.enabled else None

    def _show(self, position, length, message):
        if self.bar is None and not self.text:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    from tqdm.auto import tqdm
                self.bar = tqdm(total=length, desc=message or "repcollapse", leave=False)
            except ImportError:
                self.text = True
        if self.bar is not None:
            self.bar.update(position - self.bar.n)
        else:
            sys.stderr.write(f"\r{message or 'repcollapse'}: {position}/{length}")
            sys.stderr.flush()

    def close(self):
        if self.bar is not None:
            self.bar.close()
        elif self.text:
            sys.stderr.write("\n")
            sys.stderr.flush()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
