//! Process-wide resource limits, set once from the command line (or the
//! Python bindings) and read by the code that allocates or runs long:
//!
//! - memory: a configuration whose estimated working set exceeds
//!   [`max_memory`] is rejected *before* anything is allocated, with the
//!   estimate and the limit in the message (`--max-memory`, default 3/4 of
//!   the physical memory, or 8 GiB where that is unknown);
//! - wall time: [`max_seconds`] (`--max-seconds`, default none) is the
//!   budget the engine's iterative solvers receive.
//!
//! - determinism: [`deterministic_linear_algebra`] makes faer's kernels
//!   sequential, so results do not depend on the number of rayon threads.
//!
//! This module names no model; each model's config estimates its own bytes
//! and calls [`check_memory`].
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, Result};

/// 0 = not set (use the default).
static MAX_MEMORY: AtomicU64 = AtomicU64::new(0);
/// `f64` bits; 0 = not set (no limit).
static MAX_SECONDS: AtomicU64 = AtomicU64::new(0);

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
pub fn set_max_seconds(seconds: f64) {
    MAX_SECONDS.store(seconds.to_bits(), Ordering::Relaxed);
}

/// The wall-time budget in seconds (`f64::INFINITY` when none was set).
pub fn max_seconds() -> f64 {
    match MAX_SECONDS.load(Ordering::Relaxed) {
        0 => f64::INFINITY,
        bits => f64::from_bits(bits),
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
    fn message_gives_estimate_and_limit() {
        let e = check_memory_against(8 << 30, "per_class", 100000000, 1.28e10, "formula").unwrap_err().to_string();
        assert!(e.contains("`per_class`") && e.contains("12.800 GB") && e.contains("8.590 GB") && e.contains("--max-memory"), "{e}");
        assert!(check_memory_against(8 << 30, "x", 1, f64::NAN, "f").is_err());
        assert!(check_memory_against(8 << 30, "x", 1, 1e9, "f").is_ok());
    }
}
