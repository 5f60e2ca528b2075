"""The call boundary: panics become RuntimeError, long calls release the GIL,
Ctrl-C interrupts them, and progress reaches Python."""
import _thread
import threading
import time

import pytest

import repcollapse as rc
from repcollapse import _native
from repcollapse._progress import Display


@pytest.mark.parametrize("worker", [False, True])
def test_panic_becomes_runtime_error(worker):
    with pytest.raises(RuntimeError, match="Rust panic.*deliberate panic"):
        _native._test_panic(worker)
    # The interpreter and the module still work afterwards.
    assert rc.version() == rc.__version__


def test_long_call_releases_the_gil():
    ticks = []
    stop = threading.Event()

    def count():
        while not stop.is_set():
            ticks.append(1)
            time.sleep(0.005)

    t = threading.Thread(target=count)
    t.start()
    _native._test_sleep(0.5, 5)
    stop.set()
    t.join()
    # With the GIL held for 0.5 s the counter could not run; released, it
    # ticks every 5 ms (at least 20 times even on a loaded machine).
    assert len(ticks) >= 20


def test_ctrl_c_interrupts_a_long_call():
    timer = threading.Timer(0.3, _thread.interrupt_main)
    t0 = time.monotonic()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        _native._test_sleep(20.0, 200)
    timer.join()
    # Raised within a few polls (50 ms each) of the signal, not after 20 s.
    assert time.monotonic() - t0 < 5.0


def test_progress_reaches_python():
    seen = []
    assert _native._test_sleep(0.4, 4, progress=lambda pos, n, msg: seen.append((pos, n))) == 4
    assert seen and seen[-1] == (4, 4)
    assert all(a[0] <= b[0] for a, b in zip(seen, seen[1:]))


def test_text_progress_without_tqdm(monkeypatch, capsys):
    import builtins

    real_import = builtins.__import__

    def no_tqdm(name, *args, **kwargs):
        if name.startswith("tqdm"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_tqdm)
    with Display(True) as d:
        _native._test_sleep(0.3, 3, progress=d.callback)
    assert "3/3" in capsys.readouterr().err
    assert Display(False).callback is None
