//! Cancellation (issue 24, Python Ctrl-C): `limits::cancel` stops a long
//! simulation ensemble and a long continuation within a second, and the
//! library works normally after `limits::clear_cancel`. Its own test binary:
//! the cancellation is process-wide and would stop tests running beside it.
//! (python/tests/test_boundary.py checks the same through KeyboardInterrupt.)
use std::time::{Duration, Instant};

use repcollapse::config::Overrides;
use repcollapse::model_api::RunOptions;
use repcollapse::request::{ContinueRequest, Syntax};
use repcollapse::symbolic::SymbolicModel;
use repcollapse::engine::VectorField;

/// Runs `work` on a thread, cancels after `after`, and returns the seconds
/// from the cancellation to the end of the work, and whether it failed.
fn cancel_after<T: Send + 'static>(after: Duration, work: impl FnOnce() -> repcollapse::Result<T> + Send + 'static) -> (f64, bool) {
    let (tx, rx) = std::sync::mpsc::channel();
    let h = std::thread::spawn(move || {
        let r = work();
        let _ = tx.send(Instant::now());
        r.is_err()
    });
    std::thread::sleep(after);
    assert!(rx.try_recv().is_err(), "the work ended before it was cancelled: make it longer");
    let t0 = Instant::now();
    repcollapse::limits::cancel();
    let ended = rx.recv_timeout(Duration::from_secs(30)).expect("the work did not stop within 30 s of the cancellation");
    let failed = h.join().unwrap();
    repcollapse::limits::clear_cancel();
    (ended.duration_since(t0).as_secs_f64(), failed)
}

#[test]
fn cancel_stops_work_within_a_second() {
    // A long ensemble: thousands of Model E seeds, minutes of work.
    let sets: Vec<String> = ["seeds=4000", "t_max=400"].iter().map(|s| s.to_string()).collect();
    let (latency, failed) = cancel_after(Duration::from_millis(1500), move || {
        let entry = repcollapse::registry::model("embedding")?;
        (entry.simulate)(&Overrides::from_sets(&sets)?, &RunOptions { progress: false })
    });
    eprintln!("simulation stopped {latency:.3} s after cancel");
    assert!(latency < 1.0, "simulation: {latency:.3} s");
    // (What it returns does not matter: the bindings drop it and raise
    // KeyboardInterrupt; seeds that finished before the cancellation may
    // make it a partial result.)
    let _ = failed;

    // A long continuation: tiny fixed steps of the Brusselator, millions of them.
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/models/brusselator.toml");
    let model = SymbolicModel::from_toml_str(&std::fs::read_to_string(path).unwrap(), "brusselator.toml").unwrap();
    let m = model.clone();
    let (latency, _) = cancel_after(Duration::from_millis(1500), move || {
        let req = ContinueRequest { ds: 1e-7, ds_max: 1e-7, max_steps: 10_000_000, ..ContinueRequest::new("b", 1.0, 3.0) };
        req.run(&m, &m.default_params(), Syntax::Python)
    });
    eprintln!("continuation stopped {latency:.3} s after cancel");
    assert!(latency < 1.0, "continuation: {latency:.3} s");

    // Lifted: the same calls run to the end again.
    let r = ContinueRequest::new("b", 1.0, 3.0).run(&model, &model.default_params(), Syntax::Python).unwrap();
    assert!(!r.to_json(&model.state_names(), "b")["branches"].as_array().unwrap().is_empty());
    let entry = repcollapse::registry::model("embedding").unwrap();
    let sets: Vec<String> = ["seeds=1", "t_max=20"].iter().map(|s| s.to_string()).collect();
    assert!((entry.simulate)(&Overrides::from_sets(&sets).unwrap(), &RunOptions { progress: false }).is_ok());
}
