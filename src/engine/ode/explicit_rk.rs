//! Explicit Dormand-Prince steppers on slices, with preallocated stages and
//! the methods' own dense output (Hairer, Norsett & Wanner, *Solving ODEs I*,
//! 2nd ed., Sect. II.4-II.6; the DOPRI5 and DOP853 codes).
//!
//! One call of [`ExplicitStepper::attempt`] tries one step `t -> t + h` of
//!
//! ```text
//!     k_i = F(x + h sum_{j<i} a_ij k_j),   x_new = x + h sum_i b_i k_i,
//!     err = || h sum_i e_i k_i ||  in the norm  sqrt(mean_i (.../(atol + rtol max(|x_i|, |x_new_i|)))^2)
//! ```
//!
//! and accepts it when `err <= 1`; the next step size follows Hairer's
//! controller (`h_new = h / clamp(err^alpha / old^beta / 0.9)`, PI for DOPRI5,
//! I for DOP853). Both pairs are FSAL: the last stage of an accepted step is
//! the first of the next, so an accepted step costs 6 (DOPRI5) or 12 (DOP853)
//! evaluations of `F`.
//!
//! Dense output: DOPRI5's continuous extension of order 4 uses only the
//! stages of the step (free); DOP853's of order 7 needs three more stages,
//! computed lazily, only for a step that contains an output time
//! ([`ExplicitStepper::prepare_dense`]).
//!
//! Stiffness test (Hairer's): `h |lambda| ~ h ||k_s - k_{s'}|| / ||x_s - x_{s'}||`
//! for two stages at the same time; above the edge of the stability region
//! (3.25 for DOPRI5, 6.1 for DOP853) on 15 accepted steps without 6
//! consecutive negatives, the problem is declared stiff.
//!
//! Nothing here allocates after [`ExplicitStepper::new`].
#![allow(clippy::excessive_precision, clippy::unreadable_literal)]

use crate::engine::ode::stepper::{Attempt, StepFailure, StepStats, Stepper};
use crate::engine::VectorField;

/// Which explicit pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pair {
    /// Dormand-Prince 5(4), dense output of order 4.
    Dopri5,
    /// Dormand-Prince 8(5,3), dense output of order 7.
    Dop853,
}

/// State of an explicit Dormand-Prince integration.
pub struct ExplicitStepper {
    pub pair: Pair,
    n: usize,
    rtol: f64,
    atol: f64,
    h_max: f64,
    /// Current time and state (after the last accepted step).
    pub t: f64,
    pub y: Vec<f64>,
    /// Step size to try next.
    pub h: f64,
    /// Start and size of the last accepted step (for dense output).
    pub t_old: f64,
    pub h_old: f64,
    /// `k[s]` is stage `s`; `k[0]` = F(t, y) (FSAL).
    k: Vec<Vec<f64>>,
    y_new: Vec<f64>,
    y_stage: Vec<f64>,
    /// Input of the stage used by the stiffness test.
    y_stiff: Vec<f64>,
    /// Dense-output coefficients of the last accepted step.
    cont: Vec<Vec<f64>>,
    dense_ready: bool,
    fac_old: f64,
    reject: bool,
    /// Stiffness test counters (Hairer's `iasti`, `nonsti`).
    stiff_hits: u32,
    non_stiff: u32,
    /// Run the stiffness test on every accepted step (`auto`); otherwise, as
    /// in Hairer's codes, every 1000th step and then until it resets.
    pub test_stiffness_every_step: bool,
    pub stats: StepStats,
}

const SAFE: f64 = 0.9;
/// With automatic switching, a step counts as stability-limited from this
/// fraction of the stability boundary on: a step size controller held at
/// the boundary oscillates around it, so Hairer's exact threshold (made for
/// aborting, not switching) lets such phases run thousands of steps.
const AUTO_MARGIN: f64 = 0.5;

impl ExplicitStepper {
    /// Prepares an integration from `(t0, y0)`; `h0 = 0` lets the stepper
    /// choose the first step (Hairer's `hinit`). Evaluates `F(t0, y0)`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        pair: Pair,
        field: &dyn VectorField,
        p: &[f64],
        t0: f64,
        y0: &[f64],
        rtol: f64,
        atol: f64,
        h_max: f64,
        h0: f64,
    ) -> Self {
        let n = y0.len();
        let stages = match pair {
            Pair::Dopri5 => 7,
            Pair::Dop853 => 16,
        };
        let n_cont = match pair {
            Pair::Dopri5 => 5,
            Pair::Dop853 => 8,
        };
        let mut s = ExplicitStepper {
            pair,
            n,
            rtol,
            atol,
            h_max,
            t: t0,
            y: y0.to_vec(),
            h: 0.0,
            t_old: t0,
            h_old: 0.0,
            k: vec![vec![0.0; n]; stages],
            y_new: vec![0.0; n],
            y_stage: vec![0.0; n],
            y_stiff: vec![0.0; n],
            cont: vec![vec![0.0; n]; n_cont],
            dense_ready: false,
            fac_old: 1e-4,
            reject: false,
            stiff_hits: 0,
            non_stiff: 0,
            test_stiffness_every_step: false,
            stats: StepStats::default(),
        };
        field.rhs(&s.y, p, &mut s.k[0]);
        s.stats.rhs += 1;
        s.h = if h0 > 0.0 { h0.min(h_max) } else { s.initial_step(field, p) };
        s
    }

    /// Hairer's starting step: `h0 = 0.01 ||y|| / ||f||`, then
    /// `h1 = (0.01 / max(||f||, ||f'||))^(1/order)`, `h = min(100 h0, h1, h_max)`.
    fn initial_step(&mut self, field: &dyn VectorField, p: &[f64]) -> f64 {
        let order = match self.pair {
            Pair::Dopri5 => 5.0,
            Pair::Dop853 => 8.0,
        };
        let (mut dnf, mut dny) = (0.0, 0.0);
        for i in 0..self.n {
            let sk = self.atol + self.rtol * self.y[i].abs();
            dnf += (self.k[0][i] / sk).powi(2);
            dny += (self.y[i] / sk).powi(2);
        }
        let mut h = if dnf <= 1e-10 || dny <= 1e-10 || !dnf.is_finite() { 1e-6 } else { (dny / dnf).sqrt() * 0.01 };
        h = h.min(self.h_max);
        for i in 0..self.n {
            self.y_stage[i] = self.y[i] + h * self.k[0][i];
        }
        field.rhs(&self.y_stage, p, &mut self.k[1]);
        self.stats.rhs += 1;
        let mut der2 = 0.0;
        for i in 0..self.n {
            let sk = self.atol + self.rtol * self.y[i].abs();
            der2 += ((self.k[1][i] - self.k[0][i]) / sk).powi(2);
        }
        let der12 = (der2.sqrt() / h).max(dnf.sqrt());
        let h1 = if !(der12 > 1e-15) || !der12.is_finite() {
            (h * 1e-3).max(1e-6)
        } else {
            (0.01 / der12).powf(1.0 / order)
        };
        (100.0 * h).min(h1).min(self.h_max)
    }

    /// Tries one step of size `min(h, t_end - t)` (landing exactly on
    /// `t_end` when within 1% of it). On acceptance `t`, `y`, `k[0]` move to
    /// the new point and `stiff` reports the stiffness verdict.
    pub fn attempt(&mut self, field: &dyn VectorField, p: &[f64], t_end: f64) -> (Attempt, bool) {
        let mut last = false;
        let mut h = self.h;
        if self.t + 1.01 * h >= t_end {
            h = t_end - self.t;
            last = true;
        }
        let (err, h_lamb) = match self.pair {
            Pair::Dopri5 => self.stages_dopri5(field, p, h),
            Pair::Dop853 => self.stages_dop853(field, p, h),
        };
        if !err.is_finite() {
            self.h = 0.1 * h;
            self.reject = true;
            self.stats.rejected += 1;
            return (Attempt::NonFinite, false);
        }
        let (alpha, beta, fac_min_inv, fac_max_inv) = match self.pair {
            Pair::Dopri5 => (0.2 - 0.04 * 0.75, 0.04, 1.0 / 0.2, 1.0 / 10.0),
            Pair::Dop853 => (1.0 / 8.0, 0.0, 1.0 / 0.333, 1.0 / 6.0),
        };
        let fac11 = err.powf(alpha);
        if err <= 1.0 {
            let fac = (fac11 / self.fac_old.powf(beta) / SAFE).clamp(fac_max_inv, fac_min_inv);
            let mut h_new = h / fac;
            self.fac_old = err.max(1e-4);
            self.stats.accepted += 1;
            // FSAL stage at the new point.
            let stiff = self.finish_accepted(field, p, h, h_lamb);
            h_new = h_new.min(self.h_max);
            if self.reject {
                h_new = h_new.min(h);
            }
            self.reject = false;
            self.t_old = self.t;
            self.h_old = h;
            self.t = if last { t_end } else { self.t + h };
            std::mem::swap(&mut self.y, &mut self.y_new);
            self.h = h_new;
            (Attempt::Accepted, stiff)
        } else {
            self.h = h / (fac11 / SAFE).min(fac_min_inv);
            self.reject = true;
            self.stats.rejected += 1;
            (Attempt::Rejected, false)
        }
    }

    /// DOPRI5 stages; returns the scaled error and the stiffness quotient's
    /// `h |lambda|` (computed later from stored vectors).
    fn stages_dopri5(&mut self, field: &dyn VectorField, p: &[f64], h: f64) -> (f64, f64) {
        use dopri5::*;
        let n = self.n;
        let t = self.t;
        let _ = t; // autonomous fields: the stage times are not needed
        let y = &self.y;
        let (k1, rest) = self.k.split_at_mut(1);
        let k1 = &k1[0];
        let [k2, k3, k4, k5, k6, k7] = &mut rest[..6] else { unreachable!() };
        let ys = &mut self.y_stage;
        for i in 0..n {
            ys[i] = y[i] + h * A21 * k1[i];
        }
        field.rhs(ys, p, k2);
        for i in 0..n {
            ys[i] = y[i] + h * (A31 * k1[i] + A32 * k2[i]);
        }
        field.rhs(ys, p, k3);
        for i in 0..n {
            ys[i] = y[i] + h * (A41 * k1[i] + A42 * k2[i] + A43 * k3[i]);
        }
        field.rhs(ys, p, k4);
        for i in 0..n {
            ys[i] = y[i] + h * (A51 * k1[i] + A52 * k2[i] + A53 * k3[i] + A54 * k4[i]);
        }
        field.rhs(ys, p, k5);
        let yst = &mut self.y_stiff;
        for i in 0..n {
            yst[i] = y[i] + h * (A61 * k1[i] + A62 * k2[i] + A63 * k3[i] + A64 * k4[i] + A65 * k5[i]);
        }
        field.rhs(yst, p, k6);
        let yn = &mut self.y_new;
        for i in 0..n {
            yn[i] = y[i] + h * (A71 * k1[i] + A73 * k3[i] + A74 * k4[i] + A75 * k5[i] + A76 * k6[i]);
        }
        field.rhs(yn, p, k7);
        self.stats.rhs += 6;
        let mut err = 0.0;
        for i in 0..n {
            let e = h * (E1 * k1[i] + E3 * k3[i] + E4 * k4[i] + E5 * k5[i] + E6 * k6[i] + E7 * k7[i]);
            let sk = self.atol + self.rtol * y[i].abs().max(yn[i].abs());
            err += (e / sk) * (e / sk);
        }
        let err = (err / n.max(1) as f64).sqrt();
        // Stiffness quotient from stages 6 and 7 (both at t + h).
        let (mut num, mut den) = (0.0, 0.0);
        for i in 0..n {
            num += (k7[i] - k6[i]).powi(2);
            den += (yn[i] - yst[i]).powi(2);
        }
        let h_lamb = if den > 0.0 { h * (num / den).sqrt() } else { 0.0 };
        self.dense_ready = false;
        (err, h_lamb)
    }

    fn stages_dop853(&mut self, field: &dyn VectorField, p: &[f64], h: f64) -> (f64, f64) {
        use dop853::*;
        let n = self.n;
        // Stages 2..=12 (k[1]..k[11]).
        for s in 1..12 {
            let row = &A[s];
            {
                let (done, _) = self.k.split_at(s);
                let ys = if s == 11 { &mut self.y_stiff } else { &mut self.y_stage };
                for i in 0..n {
                    let mut acc = 0.0;
                    for (j, kj) in done.iter().enumerate() {
                        let a = row[j];
                        if a != 0.0 {
                            acc += a * kj[i];
                        }
                    }
                    ys[i] = self.y[i] + h * acc;
                }
            }
            let (head, tail) = self.k.split_at_mut(s);
            let _ = head;
            let ys = if s == 11 { &self.y_stiff } else { &self.y_stage };
            field.rhs(ys, p, &mut tail[0]);
        }
        self.stats.rhs += 11;
        let k = &self.k;
        let mut err = 0.0;
        let mut err2 = 0.0;
        for i in 0..n {
            let mut sum = 0.0;
            let mut e = 0.0;
            for s in 0..12 {
                sum += B[s] * k[s][i];
                e += E[s] * k[s][i];
            }
            let yn = self.y[i] + h * sum;
            self.y_new[i] = yn;
            let sk = self.atol + self.rtol * self.y[i].abs().max(yn.abs());
            let bhh = sum - BHH1 * k[0][i] - BHH2 * k[8][i] - BHH3 * k[11][i];
            err += (e / sk).powi(2);
            err2 += (bhh / sk).powi(2);
        }
        let mut deno = err + 0.01 * err2;
        if deno <= 0.0 {
            deno = 1.0;
        }
        let err = h.abs() * err * (1.0 / (deno * n.max(1) as f64)).sqrt();
        self.dense_ready = false;
        // The stiffness quotient needs F(x_new), computed on acceptance.
        (err, f64::NAN)
    }

    /// After acceptance: evaluate the FSAL stage `F(t + h, y_new)` into the
    /// stage that becomes `k[0]`, update the stiffness test, and return
    /// whether the problem is now declared stiff.
    fn finish_accepted(&mut self, field: &dyn VectorField, p: &[f64], h: f64, h_lamb: f64) -> bool {
        let (h_lamb, threshold) = match self.pair {
            Pair::Dopri5 => {
                // k[6] = F(t + h, y_new) already: rotate it to k[0] after
                // dense output is prepared (prepare_dense reads k[0..7]).
                (h_lamb, 3.25)
            }
            Pair::Dop853 => {
                // k[12] = F(t + h, y_new): the FSAL stage (stage 13 of the
                // dense output).
                let (_, tail) = self.k.split_at_mut(12);
                field.rhs(&self.y_new, p, &mut tail[0]);
                self.stats.rhs += 1;
                let (mut num, mut den) = (0.0, 0.0);
                for i in 0..self.n {
                    num += (self.k[12][i] - self.k[11][i]).powi(2);
                    den += (self.y_new[i] - self.y_stiff[i]).powi(2);
                }
                (if den > 0.0 { h * (num / den).sqrt() } else { 0.0 }, 6.1)
            }
        };
        let mut stiff = false;
        let test = self.test_stiffness_every_step || self.stats.accepted % 1000 == 0 || self.stiff_hits > 0;
        if !test {
        } else if h_lamb > threshold * if self.test_stiffness_every_step { AUTO_MARGIN } else { 1.0 } {
            self.non_stiff = 0;
            self.stiff_hits += 1;
            if self.stiff_hits >= 15 {
                stiff = true;
            }
        } else {
            self.non_stiff += 1;
            if self.non_stiff == 6 {
                self.stiff_hits = 0;
            }
        }
        // Save what dense output needs before the FSAL rotation: for both
        // pairs the coefficients are computed now from the stages (DOPRI5:
        // free; DOP853: the part without the three extra stages), the extra
        // DOP853 stages only when asked for.
        self.save_dense_base(h);
        // FSAL rotation: the last stage becomes k[0].
        let last = match self.pair {
            Pair::Dopri5 => 6,
            Pair::Dop853 => 12,
        };
        if matches!(self.pair, Pair::Dop853) {
            // keep the step's k[0] for the lazy DOP853 stages: store it in cont[0]'s
            // companion slot k[15] (free: stage 16 is recomputed lazily).
            let (a, b) = self.k.split_at_mut(13);
            b[2].copy_from_slice(&a[0]);
        }
        self.k.swap(0, last);
        stiff
    }

    /// Dense-output coefficients that need no extra evaluation.
    fn save_dense_base(&mut self, h: f64) {
        let n = self.n;
        match self.pair {
            Pair::Dopri5 => {
                use dopri5::*;
                let k = &self.k;
                for i in 0..n {
                    let ydiff = self.y_new[i] - self.y[i];
                    let bspl = h * k[0][i] - ydiff;
                    self.cont[0][i] = self.y[i];
                    self.cont[1][i] = ydiff;
                    self.cont[2][i] = bspl;
                    self.cont[3][i] = ydiff - h * k[6][i] - bspl;
                    self.cont[4][i] =
                        h * (D1 * k[0][i] + D3 * k[2][i] + D4 * k[3][i] + D5 * k[4][i] + D6 * k[5][i] + D7 * k[6][i]);
                }
                self.dense_ready = true;
            }
            Pair::Dop853 => {
                use dop853::*;
                let k = &self.k;
                for i in 0..n {
                    let ydiff = self.y_new[i] - self.y[i];
                    let bspl = h * k[0][i] - ydiff;
                    self.cont[0][i] = self.y[i];
                    self.cont[1][i] = ydiff;
                    self.cont[2][i] = bspl;
                    self.cont[3][i] = ydiff - h * k[12][i] - bspl;
                    for r in 0..4 {
                        let d = &D[r];
                        let mut acc = d[0] * k[0][i];
                        for s in 5..13 {
                            acc += d[s] * k[s][i];
                        }
                        self.cont[4 + r][i] = acc;
                    }
                }
                // cont[4..8] hold stages 1 and 6..13; the three extra stages
                // and the factor h are added by prepare_dense.
                self.dense_ready = false;
            }
        }
    }

    /// Completes the dense output of the last accepted step (DOP853: three
    /// more evaluations of `F`, once per step; DOPRI5: nothing to do).
    pub fn prepare_dense(&mut self, field: &dyn VectorField, p: &[f64]) {
        if self.dense_ready {
            return;
        }
        use dop853::*;
        let n = self.n;
        let h = self.h_old;
        // After the FSAL swap: the step's first stage is in k[15] (saved),
        // the FSAL stage F(t_new) in k[0], stages 2..12 in k[1..12].
        // Extra stages 14, 15, 16 go to k[12], k[13], k[14].
        let y0 = &self.cont[0];
        let extra = [(13usize, 12usize), (14, 13), (15, 14)];
        for &(row, dst) in &extra {
            let a = &A[row];
            for i in 0..n {
                let mut acc = a[0] * self.k[15][i];
                for s in 1..row {
                    let coef = a[s];
                    if coef != 0.0 {
                        let ks = match s {
                            12 => self.k[0][i], // stage 13 = F(t_new, y_new)
                            13 => self.k[12][i],
                            14 => self.k[13][i],
                            _ => self.k[s][i],
                        };
                        acc += coef * ks;
                    }
                }
                self.y_stage[i] = y0[i] + h * acc;
            }
            let (_, tail) = self.k.split_at_mut(dst);
            field.rhs(&self.y_stage, p, &mut tail[0]);
        }
        self.stats.rhs += 3;
        for r in 0..4 {
            let d = &D[r];
            for i in 0..n {
                let acc = self.cont[4 + r][i]
                    + d[13] * self.k[12][i]
                    + d[14] * self.k[13][i]
                    + d[15] * self.k[14][i];
                self.cont[4 + r][i] = h * acc;
            }
        }
        self.dense_ready = true;
    }

    /// `out = x(t)` for `t` in the last accepted step `[t_old, t]` (call
    /// [`prepare_dense`](Self::prepare_dense) first).
    pub fn dense(&self, t: f64, out: &mut [f64]) {
        debug_assert!(self.dense_ready);
        let s = if self.h_old > 0.0 { (t - self.t_old) / self.h_old } else { 1.0 };
        let s1 = 1.0 - s;
        let c = &self.cont;
        match self.pair {
            Pair::Dopri5 => {
                for i in 0..self.n {
                    out[i] = c[0][i] + s * (c[1][i] + s1 * (c[2][i] + s * (c[3][i] + s1 * c[4][i])));
                }
            }
            Pair::Dop853 => {
                for i in 0..self.n {
                    out[i] = c[0][i]
                        + s * (c[1][i]
                            + s1 * (c[2][i]
                                + s * (c[3][i] + s1 * (c[4][i] + s * (c[5][i] + s1 * (c[6][i] + s * c[7][i]))))));
                }
            }
        }
    }
}

impl Stepper for ExplicitStepper {
    fn t(&self) -> f64 {
        self.t
    }
    fn h(&self) -> f64 {
        self.h
    }
    fn y(&self) -> &[f64] {
        &self.y
    }
    fn stats(&self) -> StepStats {
        self.stats
    }
    /// Never fails: a non-finite error estimate is [`Attempt::NonFinite`].
    fn try_step(&mut self, field: &dyn VectorField, p: &[f64], t_end: f64) -> Result<(Attempt, bool), StepFailure> {
        Ok(self.attempt(field, p, t_end))
    }
    /// Computes DOP853's extra stages first if this step needs them.
    fn dense_output(&mut self, field: &dyn VectorField, p: &[f64], t: f64, out: &mut [f64]) {
        self.prepare_dense(field, p);
        self.dense(t, out);
    }
}

/// DOPRI5 coefficients (Dormand & Prince 1980; dense output of Shampine 1986
/// as in Hairer's DOPRI5).
mod dopri5 {
    pub const A21: f64 = 0.2;
    pub const A31: f64 = 3.0 / 40.0;
    pub const A32: f64 = 9.0 / 40.0;
    pub const A41: f64 = 44.0 / 45.0;
    pub const A42: f64 = -56.0 / 15.0;
    pub const A43: f64 = 32.0 / 9.0;
    pub const A51: f64 = 19372.0 / 6561.0;
    pub const A52: f64 = -25360.0 / 2187.0;
    pub const A53: f64 = 64448.0 / 6561.0;
    pub const A54: f64 = -212.0 / 729.0;
    pub const A61: f64 = 9017.0 / 3168.0;
    pub const A62: f64 = -355.0 / 33.0;
    pub const A63: f64 = 46732.0 / 5247.0;
    pub const A64: f64 = 49.0 / 176.0;
    pub const A65: f64 = -5103.0 / 18656.0;
    pub const A71: f64 = 35.0 / 384.0;
    pub const A73: f64 = 500.0 / 1113.0;
    pub const A74: f64 = 125.0 / 192.0;
    pub const A75: f64 = -2187.0 / 6784.0;
    pub const A76: f64 = 11.0 / 84.0;
    pub const E1: f64 = 71.0 / 57600.0;
    pub const E3: f64 = -71.0 / 16695.0;
    pub const E4: f64 = 71.0 / 1920.0;
    pub const E5: f64 = -17253.0 / 339200.0;
    pub const E6: f64 = 22.0 / 525.0;
    pub const E7: f64 = -1.0 / 40.0;
    pub const D1: f64 = -12715105075.0 / 11282082432.0;
    pub const D3: f64 = 87487479700.0 / 32700410799.0;
    pub const D4: f64 = -10690763975.0 / 1880347072.0;
    pub const D5: f64 = 701980252875.0 / 199316789632.0;
    pub const D6: f64 = -1453857185.0 / 822651844.0;
    pub const D7: f64 = 69997945.0 / 29380423.0;
}

/// DOP853 coefficients (Dormand & Prince; Hairer's DOP853 code). `A[s]` is
/// the row of stage `s + 1` (stages 1..=16, 13 being `F(t + h, x_new)` and
/// 14..16 the dense-output stages), zero-padded to 16 entries.
mod dop853 {
    const fn row<const M: usize>(r: [f64; M]) -> [f64; 16] {
        let mut out = [0.0; 16];
        let mut i = 0;
        while i < M {
            out[i] = r[i];
            i += 1;
        }
        out
    }
    pub const A: [[f64; 16]; 16] = [
        [0.0; 16],
        row([5.26001519587677318785587544488E-2]),
        row([1.97250569845378994544595329183E-2, 5.91751709536136983633785987549E-2]),
        row([2.95875854768068491816892993775E-2, 0.0, 8.87627564304205475450678981324E-2]),
        row([2.41365134159266685502369798665E-1, 0.0, -8.84549479328286085344864962717E-1, 9.24834003261792003115737966543E-1]),
        row([3.7037037037037037037037037037E-2, 0.0, 0.0, 1.70828608729473871279604482173E-1, 1.25467687566822425016691814123E-1]),
        row([3.7109375E-2, 0.0, 0.0, 1.70252211019544039314978060272E-1, 6.02165389804559606850219397283E-2, -1.7578125E-2]),
        row([
            3.70920001185047927108779319836E-2, 0.0, 0.0, 1.70383925712239993810214054705E-1,
            1.07262030446373284651809199168E-1, -1.53194377486244017527936158236E-2, 8.27378916381402288758473766002E-3,
        ]),
        row([
            6.24110958716075717114429577812E-1, 0.0, 0.0, -3.36089262944694129406857109825E0,
            -8.68219346841726006818189891453E-1, 2.75920996994467083049415600797E1, 2.01540675504778934086186788979E1,
            -4.34898841810699588477366255144E1,
        ]),
        row([
            4.77662536438264365890433908527E-1, 0.0, 0.0, -2.48811461997166764192642586468E0,
            -5.90290826836842996371446475743E-1, 2.12300514481811942347288949897E1, 1.52792336328824235832596922938E1,
            -3.32882109689848629194453265587E1, -2.03312017085086261358222928593E-2,
        ]),
        row([
            -9.3714243008598732571704021658E-1, 0.0, 0.0, 5.18637242884406370830023853209E0,
            1.09143734899672957818500254654E0, -8.14978701074692612513997267357E0, -1.85200656599969598641566180701E1,
            2.27394870993505042818970056734E1, 2.49360555267965238987089396762E0, -3.0467644718982195003823669022E0,
        ]),
        row([
            2.27331014751653820792359768449E0, 0.0, 0.0, -1.05344954667372501984066689879E1,
            -2.00087205822486249909675718444E0, -1.79589318631187989172765950534E1, 2.79488845294199600508499808837E1,
            -2.85899827713502369474065508674E0, -8.87285693353062954433549289258E0, 1.23605671757943030647266201528E1,
            6.43392746015763530355970484046E-1,
        ]),
        [0.0; 16],
        row([
            5.61675022830479523392909219681E-2, 0.0, 0.0, 0.0, 0.0, 0.0, 2.53500210216624811088794765333E-1,
            -2.46239037470802489917441475441E-1, -1.24191423263816360469010140626E-1, 1.5329179827876569731206322685E-1,
            8.20105229563468988491666602057E-3, 7.56789766054569976138603589584E-3, -8.298E-3,
        ]),
        row([
            3.18346481635021405060768473261E-2, 0.0, 0.0, 0.0, 0.0, 2.83009096723667755288322961402E-2,
            5.35419883074385676223797384372E-2, -5.49237485713909884646569340306E-2, 0.0, 0.0,
            -1.08347328697249322858509316994E-4, 3.82571090835658412954920192323E-4, -3.40465008687404560802977114492E-4,
            1.41312443674632500278074618366E-1,
        ]),
        row([
            -4.28896301583791923408573538692E-1, 0.0, 0.0, 0.0, 0.0, -4.69762141536116384314449447206E0,
            7.68342119606259904184240953878E0, 4.06898981839711007970213554331E0, 3.56727187455281109270669543021E-1,
            0.0, 0.0, 0.0, -1.39902416515901462129418009734E-3, 2.9475147891527723389556272149E0,
            -9.15095847217987001081870187138E0,
        ]),
    ];
    pub const B: [f64; 12] = [
        5.42937341165687622380535766363E-2, 0.0, 0.0, 0.0, 0.0, 4.45031289275240888144113950566E0,
        1.89151789931450038304281599044E0, -5.8012039600105847814672114227E0, 3.1116436695781989440891606237E-1,
        -1.52160949662516078556178806805E-1, 2.01365400804030348374776537501E-1, 4.47106157277725905176885569043E-2,
    ];
    pub const BHH1: f64 = 0.244094488188976377952755905512E+00;
    pub const BHH2: f64 = 0.733846688281611857341361741547E+00;
    pub const BHH3: f64 = 0.220588235294117647058823529412E-01;
    pub const E: [f64; 12] = [
        0.1312004499419488073250102996E-01, 0.0, 0.0, 0.0, 0.0, -0.1225156446376204440720569753E+01,
        -0.4957589496572501915214079952E+00, 0.1664377182454986536961530415E+01, -0.3503288487499736816886487290E+00,
        0.3341791187130174790297318841E+00, 0.8192320648511571246570742613E-01, -0.2235530786388629525884427845E-01,
    ];
    /// Rows 4..=7 of Hairer's dense-output matrix `d(i, j)`, j = 1..=16.
    pub const D: [[f64; 16]; 4] = [
        [
            -0.84289382761090128651353491142E+01, 0.0, 0.0, 0.0, 0.0, 0.56671495351937776962531783590E+00,
            -0.30689499459498916912797304727E+01, 0.23846676565120698287728149680E+01, 0.21170345824450282767155149946E+01,
            -0.87139158377797299206789907490E+00, 0.22404374302607882758541771650E+01, 0.63157877876946881815570249290E+00,
            -0.88990336451333310820698117400E-01, 0.18148505520854727256656404962E+02, -0.91946323924783554000451984436E+01,
            -0.44360363875948939664310572000E+01,
        ],
        [
            0.10427508642579134603413151009E+02, 0.0, 0.0, 0.0, 0.0, 0.24228349177525818288430175319E+03,
            0.16520045171727028198505394887E+03, -0.37454675472269020279518312152E+03, -0.22113666853125306036270938578E+02,
            0.77334326684722638389603898808E+01, -0.30674084731089398182061213626E+02, -0.93321305264302278729567221706E+01,
            0.15697238121770843886131091075E+02, -0.31139403219565177677282850411E+02, -0.93529243588444783865713862664E+01,
            0.35816841486394083752465898540E+02,
        ],
        [
            0.19985053242002433820987653617E+02, 0.0, 0.0, 0.0, 0.0, -0.38703730874935176555105901742E+03,
            -0.18917813819516756882830838328E+03, 0.52780815920542364900561016686E+03, -0.11573902539959630126141871134E+02,
            0.68812326946963000169666922661E+01, -0.10006050966910838403183860980E+01, 0.77771377980534432092869265740E+00,
            -0.27782057523535084065932004339E+01, -0.60196695231264120758267380846E+02, 0.84320405506677161018159903784E+02,
            0.11992291136182789328035130030E+02,
        ],
        [
            -0.25693933462703749003312586129E+02, 0.0, 0.0, 0.0, 0.0, -0.15418974869023643374053993627E+03,
            -0.23152937917604549567536039109E+03, 0.35763911791061412378285349910E+03, 0.93405324183624310003907691704E+02,
            -0.37458323136451633156875139351E+02, 0.10409964950896230045147246184E+03, 0.29840293426660503123344363579E+02,
            -0.43533456590011143754432175058E+02, 0.96324553959188282948394950600E+02, -0.39177261675615439165231486172E+02,
            -0.14972683625798562581422125276E+03,
        ],
    ];
}
