//! Process-wide resource limits, set once from the command line (or the
//! Python bindings) and read by the code that allocates or runs long:
//!
//! - memory: a configuration whose estimated working set exceeds
//!   [`max_memory`] is rejected *before* anything is allocated, with the
//!   estimate and the limit in the message (`--max-memory`, default 3/4 of
//!   the physical memory, or 8 GiB where that is unknown);
//! - wall time: [`max_seconds`] (`--max-seconds`, default none) is one
//!   budget for the whole process, counted from the moment it is set. Every
//!   engine call (fixed-point search, continuation, boundary tracing,
//!   integration) receives what is left of it, [`remaining_seconds`], and
//!   the simulations poll [`check_deadline`]; a run that exhausts it says
//!   where and keeps what it found (`"stopped": "budget"`).
//!
//! - cancellation: [`cancel`] (the Python bindings, on Ctrl-C) makes every
//!   running engine loop and simulation stop at its next check, as if the
//!   budget were spent; [`clear_cancel`] ends it.
//!
//! - determinism: [`deterministic_linear_algebra`] makes faer's kernels
//!   sequential, so results do not depend on the number of rayon threads.
//!
//! This module names no model; each model's config estimates its own bytes
//! and calls [`check_memory`].
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Instant;

use crate::error::{Error, Result};

/// 0 = not set (use the default).
static MAX_MEMORY: AtomicU64 = AtomicU64::new(0);
/// `f64` bits; 0 = not set (no limit).
static MAX_SECONDS: AtomicU64 = AtomicU64::new(0);
/// Reference instant of [`BUDGET_START_NS`].
static EPOCH: OnceLock<Instant> = OnceLock::new();
/// When the wall-time budget started: nanoseconds after [`EPOCH`] at the
/// last [`set_max_seconds`].
static BUDGET_START_NS: AtomicU64 = AtomicU64::new(0);

fn since_epoch_ns() -> u64 {
    EPOCH.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

/// Set by [`cancel`]: every budget check reports the budget spent.
static CANCELLED: AtomicBool = AtomicBool::new(false);

/// Asks all running work to stop at its next budget check (the engines'
/// step loops, the simulations' [`poll_deadline`], seeds not yet started).
/// Process-wide: the Python bindings call it on Ctrl-C and wait for their
/// worker to return, then call [`clear_cancel`].
pub fn cancel() {
    CANCELLED.store(true, Ordering::SeqCst);
}

/// Ends a [`cancel`]: later work runs normally.
pub fn clear_cancel() {
    CANCELLED.store(false, Ordering::SeqCst);
}

/// Whether [`cancel`] is in force.
pub fn cancelled() -> bool {
    CANCELLED.load(Ordering::Relaxed)
}

/// `Err(Budget)` once [`cancel`] is in force. A caller about to turn a large
/// result into JSON checks it first: after Ctrl-C the result is dropped, and
/// building it (seconds for a branch of 1e5 points) would only delay the
/// return of the worker that the Python call waits for.
pub fn stop_if_cancelled(what: &str) -> crate::error::Result<()> {
    if cancelled() {
        Err(crate::error::Error::Budget { what: what.into(), detail: "cancelled (Ctrl-C)".into() })
    } else {
        Ok(())
    }
}

/// The check of an engine loop that started at `started` with its own
/// budget `max_seconds` (infinite: none): true once that budget is spent,
/// or at once when the work was [`cancel`]led. Reads the clock only for a
/// finite budget.
pub fn out_of_time(started: Instant, max_seconds: f64) -> bool {
    cancelled() || max_seconds.is_finite() && started.elapsed().as_secs_f64() > max_seconds
}

/// Sets the memory limit in bytes (`--max-memory`).
pub fn set_max_memory(bytes: u64) {
    MAX_MEMORY.store(bytes.max(1), Ordering::Relaxed);
}

/// The memory limit in bytes: the value set by [`set_max_memory`], else 3/4
/// of `MemTotal` from `/proc/meminfo`, else 8 GiB.
pub fn max_memory() -> u64 {
    match MAX_MEMORY.load(Ordering::Relaxed) {
        0 => physical_memory().map_or(8 << 30, |m| m / 4 * 3),
        m => m,
    }
}

fn physical_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

/// Sets the wall-time budget in seconds (`--max-seconds`); must be `> 0`.
/// The clock (re)starts at each call: the CLI calls it once at startup; a
/// host running many cases in one process (the fuzz harness) calls it per
/// case.
pub fn set_max_seconds(seconds: f64) {
    BUDGET_START_NS.store(since_epoch_ns(), Ordering::Relaxed);
    MAX_SECONDS.store(seconds.to_bits(), Ordering::Relaxed);
}

/// What is left of the process-wide wall-time budget, in seconds:
/// `max_seconds - elapsed`, floored at a tiny positive value so that the
/// engines' `max_seconds > 0` validation still holds and they stop at their
/// next check; `f64::INFINITY` when no budget was set. This is the value
/// every engine call receives as its own `max_seconds`.
pub fn remaining_seconds() -> f64 {
    if cancelled() {
        return 1e-9;
    }
    let budget = max_seconds();
    if !budget.is_finite() {
        return f64::INFINITY;
    }
    let elapsed = since_epoch_ns().saturating_sub(BUDGET_START_NS.load(Ordering::Relaxed)) as f64 * 1e-9;
    (budget - elapsed).max(1e-9)
}

/// `true` once the process-wide wall-time budget is spent.
pub fn budget_exhausted() -> bool {
    remaining_seconds() <= 1e-9
}

/// For long loops without an engine budget of their own (the simulations):
/// an error naming `place` (e.g. `simulate embedding, seed 3`) and the
/// progress `at` (e.g. `step 12000 of 5e9, t = 0.12`) once the budget is
/// spent. Poll it every few thousand steps: it reads the clock.
pub fn check_deadline(place: &str, at: impl FnOnce() -> String) -> Result<()> {
    if budget_exhausted() {
        return Err(Error::Budget { what: place.to_string(), detail: format!("{} ({})", at(), why_stopped()) });
    }
    Ok(())
}

/// An ensemble cut short by the wall-time budget: which seeds finished and
/// were kept, and why the others are missing. Recorded in the result as
/// `"partial": true`, `"seeds_completed"`, `"seeds_requested"`,
/// `"seeds_kept"` and `"partial_reason"` (see [`PartialEnsemble::json_fields`]).
#[derive(Clone, Debug, PartialEq)]
pub struct PartialEnsemble {
    pub seeds_requested: usize,
    /// The seeds (their random-stream numbers) that finished, in order.
    pub seeds_kept: Vec<u64>,
    /// The budget error of the first seed that was stopped.
    pub reason: String,
}

impl PartialEnsemble {
    /// The fields added to a result's JSON object.
    pub fn json_fields(&self) -> serde_json::Map<String, serde_json::Value> {
        let v = serde_json::json!({
            "partial": true,
            "seeds_completed": self.seeds_kept.len(),
            "seeds_requested": self.seeds_requested,
            "seeds_kept": self.seeds_kept,
            "partial_reason": self.reason,
        });
        v.as_object().expect("object").clone()
    }
}

impl PartialEnsemble {
    /// Adds [`PartialEnsemble::json_fields`] to a result object when the
    /// ensemble is partial; a complete ensemble's JSON is left as it was.
    pub fn mark(partial: Option<&PartialEnsemble>, json: &mut serde_json::Value) {
        if let (Some(p), Some(obj)) = (partial, json.as_object_mut()) {
            obj.extend(p.json_fields());
        }
    }

    /// The text summary's line for a result marked partial by
    /// [`PartialEnsemble::mark`]; `None` for a complete ensemble.
    pub fn text_line_of(json: &serde_json::Value) -> Option<String> {
        (json["partial"] == true).then(|| {
            format!(
                "  PARTIAL: {} of {} seeds finished before the wall-time budget ran out; the numbers above are over those seeds",
                json["seeds_completed"], json["seeds_requested"]
            )
        })
    }
}

/// Runs seeds `first .. first + count` of an ensemble in parallel (rayon),
/// results in seed order, `one(seed)` per seed. With `keep_finished`
/// (`simulate`), a budget stop keeps the seeds that finished
/// ([`keep_finished_seeds`]); without it (the studies, which need every
/// seed) the first error fails the ensemble and stops the other seeds early.
pub fn run_seeds<T: Send>(count: u64, first: u64, keep_finished: bool, one: impl Fn(u64) -> Result<T> + Sync + Send) -> Result<(Vec<T>, Option<PartialEnsemble>)> {
    use rayon::prelude::*;
    if keep_finished {
        // A seed that starts after the budget ran out fails at once, before
        // its set-up (data, theory), which may be long and polls no clock.
        let all: Vec<Result<T>> = (0..count)
            .into_par_iter()
            .map(|s| {
                check_deadline("the ensemble", || format!("seed {} before it started", first + s))?;
                one(first + s)
            })
            .collect();
        keep_finished_seeds(all, first)
    } else {
        Ok(((0..count).into_par_iter().map(|s| one(first + s)).collect::<Result<Vec<T>>>()?, None))
    }
}

/// Per-seed results of an ensemble (in seed order, seed numbers from
/// `first_seed`) reduced to the seeds that finished. With no error it is
/// every seed and no [`PartialEnsemble`], so a run that the budget did not
/// stop is unchanged. An error other than the budget's is returned as
/// before (the first in seed order); so is the budget's when no seed
/// finished (there is nothing to keep). Otherwise the finished seeds are
/// kept, and the ensemble is marked partial.
pub fn keep_finished_seeds<T>(results: Vec<Result<T>>, first_seed: u64) -> Result<(Vec<T>, Option<PartialEnsemble>)> {
    let requested = results.len();
    let mut kept = Vec::with_capacity(requested);
    let mut seeds_kept = Vec::with_capacity(requested);
    let mut budget: Option<Error> = None;
    for (i, r) in results.into_iter().enumerate() {
        match r {
            Ok(v) => {
                kept.push(v);
                seeds_kept.push(first_seed + i as u64);
            }
            Err(e @ Error::Budget { .. }) => {
                budget.get_or_insert(e);
            }
            Err(e) => return Err(e),
        }
    }
    match budget {
        None => Ok((kept, None)),
        Some(e) if kept.is_empty() => Err(e),
        Some(e) => Ok((kept, Some(PartialEnsemble { seeds_requested: requested, seeds_kept, reason: e.to_string() }))),
    }
}

/// The budget as recorded in result files: the number given with
/// `--max-seconds`, or the string `"none"` (never a bare `null`).
pub fn max_seconds_json() -> serde_json::Value {
    let s = max_seconds();
    if s.is_finite() {
        serde_json::json!(s)
    } else {
        serde_json::json!("none")
    }
}

/// The wall-time budget in seconds (`f64::INFINITY` when none was set).
pub fn max_seconds() -> f64 {
    match MAX_SECONDS.load(Ordering::Relaxed) {
        0 => f64::INFINITY,
        bits => f64::from_bits(bits),
    }
}

/// Default of [`max_sim_steps`]: 1e8 update steps per seed. The largest
/// step count of the shipped studies is ~1e6; 1e8 steps of the smallest
/// configurations take minutes, and a configuration above the limit is
/// almost always a typo (`dt = 1e-9`).
pub const DEFAULT_MAX_SIM_STEPS: u64 = 100_000_000;
/// 0 = not set (use [`DEFAULT_MAX_SIM_STEPS`]).
static MAX_SIM_STEPS: AtomicU64 = AtomicU64::new(0);

/// Sets the per-seed step limit of the simulations (`--max-sim-steps`).
pub fn set_max_sim_steps(steps: u64) {
    MAX_SIM_STEPS.store(steps.max(1), Ordering::Relaxed);
}

/// The per-seed step limit of `simulate` and the studies' simulations.
pub fn max_sim_steps() -> u64 {
    match MAX_SIM_STEPS.load(Ordering::Relaxed) {
        0 => DEFAULT_MAX_SIM_STEPS,
        n => n,
    }
}

/// Rejects, before the first step, a simulation whose step count per seed
/// `t_max / step_time` exceeds [`max_sim_steps`]. `key = value` is the
/// setting that fixes the time per step (`dt`, or `input_dim` for the
/// online models, whose step is `1/D`); the message gives t_max, the step
/// count, the limit and how to raise it.
pub fn check_sim_steps(key: &str, value: impl ToString, t_max: f64, step_time: f64) -> Result<()> {
    check_sim_steps_against(max_sim_steps(), key, value, t_max, step_time)
}

fn check_sim_steps_against(limit: u64, key: &str, value: impl ToString, t_max: f64, step_time: f64) -> Result<()> {
    let steps = t_max / step_time;
    if steps.is_finite() && steps <= limit as f64 {
        return Ok(());
    }
    Err(Error::invalid(
        key,
        value,
        format!(
            "a value for which t_max = {t_max} takes at most {limit} steps per seed: the time per step is {step_time:e}, \
             so this run needs {steps:.3e} steps (raise the limit with --max-sim-steps N, or use a larger {key} or a smaller t_max)"
        ),
    ))
}

/// Default of [`max_ode_steps`]: the step budget of every companion
/// theory ODE that `simulate`, `theory` and the studies integrate.
pub const DEFAULT_MAX_ODE_STEPS: u32 = 10_000_000;
/// 0 = not set (use [`DEFAULT_MAX_ODE_STEPS`]).
static MAX_ODE_STEPS: AtomicU64 = AtomicU64::new(0);

/// Sets the step budget of the models' theory ODEs (`--max-ode-steps`).
pub fn set_max_ode_steps(steps: u32) {
    MAX_ODE_STEPS.store(u64::from(steps.max(1)), Ordering::Relaxed);
}

/// The step budget of the models' theory ODEs (attempted steps per
/// integration); an integration that exhausts it fails with the time it
/// reached, and `simulate` then keeps its simulation results and flags the
/// comparison as unavailable.
pub fn max_ode_steps() -> u32 {
    match MAX_ODE_STEPS.load(Ordering::Relaxed) {
        0 => DEFAULT_MAX_ODE_STEPS,
        n => n as u32,
    }
}

/// Why a budget check stopped the work: `--max-seconds S exhausted`, or
/// `cancelled` after [`cancel`].
fn why_stopped() -> String {
    if cancelled() {
        "cancelled".to_string()
    } else {
        format!("--max-seconds {} exhausted", max_seconds())
    }
}

/// Polls the wall-time budget inside a simulation loop: every 1024 steps
/// (`done` is the step counter) it reads the clock, and once the budget is
/// spent it fails with where the run stopped (`place()`, step, time).
/// `place` is only called on failure, so the loop allocates nothing.
#[inline]
pub fn poll_deadline(done: u64, step_time: f64, place: impl FnOnce() -> String) -> Result<()> {
    if done % 1024 != 0 || !budget_exhausted() {
        return Ok(());
    }
    Err(Error::Budget { what: place(), detail: format!("step {done} (t = {:.6e}; {})", done as f64 * step_time, why_stopped()) })
}

/// Parses `--max-sim-steps`: a number `>= 1` (`1e9` allowed).
pub fn parse_steps(s: &str) -> Result<u64> {
    match s.trim().parse::<f64>() {
        Ok(x) if x.is_finite() && x >= 1.0 && x < u64::MAX as f64 && x.fract() == 0.0 => Ok(x as u64),
        _ => Err(Error::invalid("--max-sim-steps", s, "a whole number of steps >= 1, such as 1e9")),
    }
}

/// Parses `--max-ode-steps`: a whole number in `[1, 4294967295]`.
pub fn parse_ode_steps(s: &str) -> Result<u32> {
    match s.trim().parse::<f64>() {
        Ok(x) if x.is_finite() && x >= 1.0 && x <= u32::MAX as f64 && x.fract() == 0.0 => Ok(x as u32),
        _ => Err(Error::invalid("--max-ode-steps", s, "a whole number of steps in [1, 4294967295], such as 1e7")),
    }
}

/// faer parallelises large products and factorisations over the global
/// rayon pool by default, and the split (hence the summation order, hence
/// the last bits) depends on the number of threads. Our parallelism is over
/// seeds and grid points, in a fixed order; linear algebra inside one task
/// runs sequentially, so `RAYON_NUM_THREADS=1` and `=2` give identical bits.
/// Called by every registry lookup and by the CLI; idempotent and cheap.
pub fn deterministic_linear_algebra() {
    faer::set_global_parallelism(faer::Par::Seq);
}

/// Parses a byte count: a number with an optional binary suffix `K`, `M`,
/// `G`, `T` (optionally followed by `B` or `iB`), e.g. `512M`, `8G`, `1e9`.
pub fn parse_bytes(s: &str) -> Result<u64> {
    let bad = || Error::invalid("--max-memory", s, "a positive size such as 512M, 8G or 1e9 (bytes)");
    let t = s.trim();
    let upper = t.to_ascii_uppercase();
    let body = upper.strip_suffix("IB").or_else(|| upper.strip_suffix('B')).unwrap_or(&upper);
    let (num, mult) = match body.chars().last() {
        Some('K') => (&body[..body.len() - 1], 1024f64),
        Some('M') => (&body[..body.len() - 1], 1024f64.powi(2)),
        Some('G') => (&body[..body.len() - 1], 1024f64.powi(3)),
        Some('T') => (&body[..body.len() - 1], 1024f64.powi(4)),
        _ => (body, 1.0),
    };
    let x: f64 = num.trim().parse().map_err(|_| bad())?;
    let bytes = x * mult;
    if !(bytes.is_finite() && bytes >= 1.0 && bytes < u64::MAX as f64) {
        return Err(bad());
    }
    Ok(bytes as u64)
}

/// Parses `--max-seconds`: a finite number `> 0`.
pub fn parse_seconds(s: &str) -> Result<f64> {
    match s.trim().parse::<f64>() {
        Ok(x) if x.is_finite() && x > 0.0 => Ok(x),
        _ => Err(Error::invalid("--max-seconds", s, "a finite number of seconds > 0")),
    }
}

/// Human-readable bytes (`12.8 GB`), decimal units as in the estimates.
pub fn format_bytes(bytes: f64) -> String {
    const UNITS: [&str; 6] = ["B", "kB", "MB", "GB", "TB", "PB"];
    let mut x = bytes;
    let mut u = 0;
    while x >= 1000.0 && u + 1 < UNITS.len() {
        x /= 1000.0;
        u += 1;
    }
    if u == 0 {
        format!("{x:.0} B")
    } else {
        format!("{x:.3} {}", UNITS[u])
    }
}

/// Rejects a configuration whose estimated memory `bytes` exceeds the limit.
/// `key`/`value` name the parameter that dominates the estimate and
/// `formula` says how the estimate is made, so the user knows what to change.
/// `bytes` is an `f64` so that products of large sizes cannot overflow.
pub fn check_memory(key: &str, value: impl ToString, bytes: f64, formula: &str) -> Result<()> {
    check_memory_against(max_memory(), key, value, bytes, formula)
}

fn check_memory_against(limit: u64, key: &str, value: impl ToString, bytes: f64, formula: &str) -> Result<()> {
    if bytes.is_finite() && bytes <= limit as f64 {
        return Ok(());
    }
    Err(Error::invalid(
        key,
        value,
        format!(
            "a size whose estimated memory fits the limit: this configuration needs about {} ({formula}), \
             above the limit of {} (raise it with --max-memory)",
            format_bytes(bytes),
            format_bytes(limit as f64)
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sizes_and_rejects_nonsense() {
        assert_eq!(parse_bytes("512M").unwrap(), 512 << 20);
        assert_eq!(parse_bytes("8G").unwrap(), 8 << 30);
        assert_eq!(parse_bytes("8GiB").unwrap(), 8 << 30);
        assert_eq!(parse_bytes("1e9").unwrap(), 1_000_000_000);
        for bad in ["", "-1G", "nan", "inf", "0", "G", "1e30G"] {
            assert!(parse_bytes(bad).is_err(), "{bad}");
        }
        assert!(parse_seconds("0").is_err() && parse_seconds("nan").is_err() && parse_seconds("inf").is_err());
        assert_eq!(parse_seconds("2.5").unwrap(), 2.5);
    }

    #[test]
    fn step_limit_names_dt_t_max_count_and_override() {
        let e = check_sim_steps_against(100_000_000, "dt", 1e-9, 5.0, 1e-9).unwrap_err().to_string();
        assert!(e.contains("`dt`") && e.contains("t_max = 5") && e.contains("5.000e9 steps") && e.contains("100000000") && e.contains("--max-sim-steps"), "{e}");
        assert!(check_sim_steps_against(100, "dt", 0.1, 10.0, 0.1).is_ok());
        assert!(check_sim_steps_against(100, "dt", 0.1, 10.01, 0.1).is_err());
        assert!(check_sim_steps_against(100, "dt", 0.0, 1.0, 0.0).is_err());
        assert_eq!(parse_steps("1e9").unwrap(), 1_000_000_000);
        assert!(parse_steps("0").is_err() && parse_steps("1.5").is_err() && parse_steps("nan").is_err());
    }

    #[test]
    fn message_gives_estimate_and_limit() {
        let e = check_memory_against(8 << 30, "per_class", 100000000, 1.28e10, "formula").unwrap_err().to_string();
        assert!(e.contains("`per_class`") && e.contains("12.800 GB") && e.contains("8.590 GB") && e.contains("--max-memory"), "{e}");
        assert!(check_memory_against(8 << 30, "x", 1, f64::NAN, "f").is_err());
        assert!(check_memory_against(8 << 30, "x", 1, 1e9, "f").is_ok());
    }
}
