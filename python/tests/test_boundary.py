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


def _busy_threads():
    """Threads of this process that are running (state R) and are not the
    calling thread: the library's worker and rayon threads at work."""
    import os

    me = threading.get_native_id()
    busy = []
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if int(tid) != me and state == "R":
            busy.append(tid)
    return busy


def _cpu_seconds():
    import resource

    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime


def _interrupt_and_measure(call, after=1.0):
    """Runs `call` and sends Ctrl-C (KeyboardInterrupt) after `after`
    seconds: returns the seconds from the signal to the exception, and the
    CPU seconds the process used in the 0.5 s after it returned."""
    sent = []

    def fire():
        sent.append(time.monotonic())
        _thread.interrupt_main()

    timer = threading.Timer(after, fire)
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        call()
    latency = time.monotonic() - sent[0]
    timer.join()
    cpu0 = _cpu_seconds()
    time.sleep(0.5)
    return latency, _cpu_seconds() - cpu0


@pytest.mark.skipif(not __import__("os").path.exists("/proc/self/task"), reason="needs /proc")
def test_ctrl_c_stops_a_long_simulation_and_frees_its_threads():
    # Thousands of seeds of Model E: minutes of work on every core.
    latency, cpu_after = _interrupt_and_measure(lambda: rc.simulate("embedding", seeds=4000, t_max=400, progress=False))
    print(f"simulation: KeyboardInterrupt {latency:.3f} s after Ctrl-C; {cpu_after:.3f} CPU s in the next 0.5 s")
    assert latency < 1.0, f"the call returned {latency:.2f} s after Ctrl-C"
    # The Rust work stopped: no thread computes on (a busy worker or rayon
    # thread would use ~0.5 CPU s each in the 0.5 s measured).
    assert cpu_after < 0.2, f"{cpu_after:.2f} CPU s used after the interrupt: the work goes on"
    assert not _busy_threads()
    # The library works normally afterwards (the cancellation was lifted).
    assert rc.simulate("embedding", seeds=1, t_max=20, progress=False)["model"] == "embedding"


@pytest.mark.skipif(not __import__("os").path.exists("/proc/self/task"), reason="needs /proc")
def test_ctrl_c_stops_a_long_continuation_and_frees_its_threads():
    import pathlib

    m = rc.Model.from_file(pathlib.Path(__file__).resolve().parents[2] / "examples" / "models" / "brusselator.toml")
    # Tiny fixed steps: millions of continuation steps, far more than 1 s.
    latency, cpu_after = _interrupt_and_measure(lambda: m.continue_("b", 1, 3, ds=1e-7, ds_max=1e-7, max_steps=10_000_000))
    print(f"continuation: KeyboardInterrupt {latency:.3f} s after Ctrl-C; {cpu_after:.3f} CPU s in the next 0.5 s")
    assert latency < 1.0, f"the call returned {latency:.2f} s after Ctrl-C"
    assert cpu_after < 0.2, f"{cpu_after:.2f} CPU s used after the interrupt: the work goes on"
    assert not _busy_threads()
    assert len(m.continue_("b", 1, 3)["branches"]) >= 1
