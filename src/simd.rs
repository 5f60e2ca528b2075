//! Runtime choice of the vector instruction set for the hot loops.
//!
//! The crate is built for portable x86-64 (SSE2), so a loop compiled
//! normally gets 2-wide `f64` vectors. The kernels that matter are compiled a
//! second and third time inside `#[target_feature]` functions (AVX2,
//! AVX-512F) and called when [`level`] reports that the CPU has them. Every
//! such kernel computes exactly the same IEEE operations in the same order on
//! every path (no FMA contraction: Rust never fuses `a * b + c`, and the
//! kernels use explicit fixed-width accumulators), so the choice changes
//! speed, never bits; each kernel's tests assert that for every level the
//! machine supports.
//!
//! `REPCOLLAPSE_SIMD=portable|avx2|avx512` caps the level (for benchmarks
//! and for checking a result on the portable path); a level the CPU lacks is
//! never chosen.
use std::sync::OnceLock;

/// Instruction-set level of the dispatched kernels, ordered by width.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// What the build targets (SSE2 on x86-64; any other architecture).
    Portable,
    /// AVX2 (256-bit vectors).
    Avx2,
    /// AVX-512F (512-bit vectors).
    Avx512,
}

impl Level {
    /// The name used by `REPCOLLAPSE_SIMD`.
    pub fn name(self) -> &'static str {
        match self {
            Level::Portable => "portable",
            Level::Avx2 => "avx2",
            Level::Avx512 => "avx512",
        }
    }
}

/// Every level this CPU can run, narrowest first (always starts with
/// [`Level::Portable`]); the tests run each kernel on each of them.
pub fn supported() -> Vec<Level> {
    let mut v = vec![Level::Portable];
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            v.push(Level::Avx2);
            if std::arch::is_x86_feature_detected!("avx512f") {
                v.push(Level::Avx512);
            }
        }
    }
    v
}

/// The level the kernels use: the widest supported one, capped by
/// `REPCOLLAPSE_SIMD` if set. Detected once per process.
pub fn level() -> Level {
    static LEVEL: OnceLock<Level> = OnceLock::new();
    *LEVEL.get_or_init(|| {
        let best = *supported().last().unwrap_or(&Level::Portable);
        let cap = match std::env::var("REPCOLLAPSE_SIMD").ok().as_deref() {
            Some("portable") => Level::Portable,
            Some("avx2") => Level::Avx2,
            None | Some("avx512") => Level::Avx512,
            // Detected lazily inside hot loops, so there is no caller to
            // return an error to: say so once and run uncapped.
            Some(other) => {
                eprintln!("warning: REPCOLLAPSE_SIMD = {other:?} is not one of portable | avx2 | avx512; ignored (using {})", best.name());
                Level::Avx512
            }
        };
        best.min(cap)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chosen_level_is_supported() {
        assert!(supported().contains(&level()), "{:?} not in {:?}", level(), supported());
        assert_eq!(supported()[0], Level::Portable);
    }
}
