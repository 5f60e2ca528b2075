//! Illinois regula falsi on a bracket `[a, b]` with `f(a) f(b) < 0`: the
//! one root-bracketing rule behind every locator of a test function's zero
//! along an arc (`locate_on_arc` in `test_functions.rs` for equilibria,
//! `locate` in `src/engine/cycles/branch.rs` for cycles).
//!
//! Trial point: the secant root `s = (a f_b - b f_a) / (f_b - f_a)` when it
//! lies strictly inside the bracket, else the midpoint. After each trial the
//! bracket keeps the sign change; when the same end is kept twice running,
//! the other end's value is halved (Illinois), which turns the one-sided
//! convergence of plain regula falsi into superlinear convergence.
pub struct Illinois {
    a: f64,
    fa: f64,
    b: f64,
    fb: f64,
    /// Which end the last update moved: -1 (a), 1 (b), 0 (none yet).
    side: i8,
}

impl Illinois {
    /// The bracket `[a, b]` with `f(a) = fa`, `f(b) = fb` of opposite signs.
    pub fn new(a: f64, fa: f64, b: f64, fb: f64) -> Self {
        Illinois { a, fa, b, fb, side: 0 }
    }

    /// The next trial point, strictly inside the bracket.
    pub fn trial(&self) -> f64 {
        let (a, b, fa, fb) = (self.a, self.b, self.fa, self.fb);
        let secant = (a * fb - b * fa) / (fb - fa);
        let (lo, hi) = (a.min(b), a.max(b));
        if secant.is_finite() && secant > lo && secant < hi {
            secant
        } else {
            0.5 * (a + b)
        }
    }

    /// Records `f(s) = f` for the last trial `s`; true when the search is
    /// done (`f = 0` exactly, or the bracket is no wider than `xtol`).
    pub fn update(&mut self, s: f64, f: f64, xtol: f64) -> bool {
        if f == 0.0 {
            return true;
        }
        if (f > 0.0) == (self.fa > 0.0) {
            self.a = s;
            self.fa = f;
            if self.side == -1 {
                self.fb *= 0.5;
            }
            self.side = -1;
        } else {
            self.b = s;
            self.fb = f;
            if self.side == 1 {
                self.fa *= 0.5;
            }
            self.side = 1;
        }
        (self.b - self.a).abs() <= xtol
    }
}
