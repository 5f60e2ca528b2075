//! Implicit Radau IIA integrator of order 5 for stiff systems (Hairer &
//! Wanner, *Solving ODEs II*, 2nd ed., Sect. IV.8, and their RADAU5 code),
//! using the exact Jacobian `J = dF/dx` that every [`VectorField`] provides.
//!
//! One step solves the collocation system for `Z = (z_1, z_2, z_3)`,
//! `z_i ~ x(t + c_i h) - x(t)` with `c = ((4 - sqrt 6)/10, (4 + sqrt 6)/10, 1)`,
//!
//! ```text
//!     Z = h (A (x) I) F(x + Z),     x_new = x + z_3,
//! ```
//!
//! by simplified Newton iterations with the Jacobian frozen at the step's
//! start. `A^-1 = T Lambda T^-1` with one real eigenvalue `gamma` and a
//! complex pair `alpha +- i beta`, so each iteration needs one real `n x n`
//! solve with `(gamma/h) I - J` and one complex one with
//! `((alpha + i beta)/h) I - J`; both are factored once per step size and
//! reused while the Newton contraction `theta` stays small. The local error
//! is estimated with the embedded formula of order 3 filtered through
//! `((gamma/h) I - J)^-1` (`err = || E1^-1 (F(x) + (d_1 z_1 + d_2 z_2 + d_3 z_3)/h) ||`);
//! step sizes follow Gustafsson's predictive controller. Tolerances are
//! mapped as in RADAU5 (`rtol' = 0.1 rtol^(2/3)`, `atol' = rtol' atol/rtol`)
//! so that they mean roughly what they mean for the explicit pairs.
//!
//! Dense output is the collocation polynomial (order 3 in the step, exact at
//! the step's end), free of extra evaluations. Nothing here allocates after
//! [`RadauStepper::new`].
#![allow(clippy::excessive_precision)]

use faer::Mat;

use crate::engine::linalg::lu::{ComplexLu, RealLu};
use crate::engine::ode::stepper::{Attempt, StepFailure, StepStats, Stepper};
use crate::engine::VectorField;

const NIT: u32 = 7;
const SAFE: f64 = 0.9;
/// Jacobian reuse threshold on the Newton contraction (RADAU5's `THET`).
const THET: f64 = 0.001;
const FACL: f64 = 5.0;
const FACR: f64 = 1.0 / 8.0;

struct Coef {
    c1: f64,
    c2: f64,
    c1m1: f64,
    c2m1: f64,
    c1mc2: f64,
    dd1: f64,
    dd2: f64,
    dd3: f64,
    u1: f64,
    alph: f64,
    beta: f64,
}

fn coef() -> Coef {
    let sq6 = 6.0_f64.sqrt();
    let c1 = (4.0 - sq6) / 10.0;
    let c2 = (4.0 + sq6) / 10.0;
    let cbrt81 = 81.0_f64.cbrt();
    let cbrt9 = 9.0_f64.cbrt();
    let u1 = (6.0 + cbrt81 - cbrt9) / 30.0;
    let alph = (12.0 - cbrt81 + cbrt9) / 60.0;
    let beta = (cbrt81 + cbrt9) * 3.0_f64.sqrt() / 60.0;
    let cno = alph * alph + beta * beta;
    Coef {
        c1,
        c2,
        c1m1: c1 - 1.0,
        c2m1: c2 - 1.0,
        c1mc2: c1 - c2,
        dd1: -(13.0 + 7.0 * sq6) / 3.0,
        dd2: (-13.0 + 7.0 * sq6) / 3.0,
        dd3: -1.0 / 3.0,
        u1: 1.0 / u1,
        alph: alph / cno,
        beta: beta / cno,
    }
}

// Eigenvector transformation T and its inverse (RADAU5).
const T11: f64 = 9.1232394870892942792e-02;
const T12: f64 = -0.14125529502095420843;
const T13: f64 = -3.0029194105147424492e-02;
const T21: f64 = 0.24171793270710701896;
const T22: f64 = 0.20412935229379993199;
const T23: f64 = 0.38294211275726193779;
const T31: f64 = 0.96604818261509293619;
const TI11: f64 = 4.3255798900631553510;
const TI12: f64 = 0.33919925181580986954;
const TI13: f64 = 0.54177053993587487119;
const TI21: f64 = -4.1787185915519047273;
const TI22: f64 = -0.32768282076106238708;
const TI23: f64 = 0.47662355450055045196;
const TI31: f64 = -0.50287263494578687595;
const TI32: f64 = 2.5719269498556054292;
const TI33: f64 = -0.59603920482822492497;

/// State of a Radau IIA integration.
pub struct RadauStepper {
    n: usize,
    k: Coef,
    rtol: f64,
    atol: f64,
    fnewt: f64,
    h_max: f64,
    pub t: f64,
    pub y: Vec<f64>,
    pub h: f64,
    pub t_old: f64,
    pub h_old: f64,
    f0: Vec<f64>,
    z: [Vec<f64>; 3],
    w: [Vec<f64>; 3],
    /// Collocation polynomial of the last accepted step: `cont[0]` = x_new.
    cont: [Vec<f64>; 4],
    scal: Vec<f64>,
    tmp: Vec<f64>,
    tmp2: Vec<f64>,
    jac: Mat<f64>,
    e1: RealLu,
    e2: ComplexLu,
    need_jac: bool,
    need_lu: bool,
    /// The Jacobian is evaluated at the current step's start (RADAU5's CALJAC).
    jac_current: bool,
    h_factored: f64,
    first: bool,
    reject: bool,
    theta: f64,
    faccon: f64,
    h_acc: f64,
    err_acc: f64,
    n_singular: u32,
    /// `||J||_inf` at the last Jacobian evaluation: an upper bound of the
    /// spectral radius, used to decide when the problem is no longer stiff.
    pub jac_norm: f64,
    pub stats: StepStats,
}

impl RadauStepper {
    /// Prepares an integration from `(t0, y0)` with first step `h0` (`0`:
    /// a conservative `1e-6 * max(1, |t0|)`, the implicit method grows it
    /// quickly). Evaluates `F(t0, y0)`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
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
        let quot = atol / rtol;
        let rtol_t = 0.1 * rtol.powf(2.0 / 3.0);
        let atol_t = rtol_t * quot;
        let fnewt = (10.0 * f64::EPSILON / rtol_t).max(0.03_f64.min(rtol_t.sqrt()));
        let mut s = RadauStepper {
            n,
            k: coef(),
            rtol: rtol_t,
            atol: atol_t,
            fnewt,
            h_max,
            t: t0,
            y: y0.to_vec(),
            h: if h0 > 0.0 { h0.min(h_max) } else { (1e-6 * t0.abs().max(1.0)).min(h_max) },
            t_old: t0,
            h_old: 0.0,
            f0: vec![0.0; n],
            z: [vec![0.0; n], vec![0.0; n], vec![0.0; n]],
            w: [vec![0.0; n], vec![0.0; n], vec![0.0; n]],
            cont: [y0.to_vec(), vec![0.0; n], vec![0.0; n], vec![0.0; n]],
            scal: vec![0.0; n],
            tmp: vec![0.0; n],
            tmp2: vec![0.0; n],
            jac: Mat::zeros(n, n),
            e1: RealLu::new(n),
            e2: ComplexLu::new(n),
            need_jac: true,
            need_lu: true,
            jac_current: false,
            h_factored: f64::NAN,
            first: true,
            reject: false,
            theta: THET,
            faccon: 1.0,
            h_acc: 0.0,
            err_acc: 0.0,
            n_singular: 0,
            jac_norm: 0.0,
            stats: StepStats::default(),
        };
        field.rhs(&s.y, p, &mut s.f0);
        s.stats.rhs += 1;
        s.update_scal();
        s
    }

    fn update_scal(&mut self) {
        for i in 0..self.n {
            self.scal[i] = self.atol + self.rtol * self.y[i].abs();
        }
    }

    fn evaluate_jacobian(&mut self, field: &dyn VectorField, p: &[f64]) {
        field.jacobian(&self.y, p, self.jac.as_mut());
        self.stats.jacobians += 1;
        let mut norm = 0.0_f64;
        for r in 0..self.n {
            let mut row = 0.0;
            for c in 0..self.n {
                row += self.jac[(r, c)].abs();
            }
            norm = norm.max(row);
        }
        self.jac_norm = norm;
        self.jac_current = true;
        self.need_jac = false;
        self.need_lu = true;
    }

    /// Factors `E1 = (gamma/h) I - J` and `E2 = ((alpha + i beta)/h) I - J`.
    fn factor(&mut self, h: f64) -> bool {
        let n = self.n;
        let fac1 = self.k.u1 / h;
        let alphn = self.k.alph / h;
        let betan = self.k.beta / h;
        {
            let a = self.e1.matrix_mut();
            for r in 0..n {
                for c in 0..n {
                    a[r * n + c] = -self.jac[(r, c)];
                }
                a[r * n + r] += fac1;
            }
        }
        {
            let (re, im) = self.e2.matrix_mut();
            for r in 0..n {
                for c in 0..n {
                    re[r * n + c] = -self.jac[(r, c)];
                    im[r * n + c] = 0.0;
                }
                re[r * n + r] += alphn;
                im[r * n + r] = betan;
            }
        }
        self.stats.factorizations += 1;
        self.h_factored = h;
        self.e1.factor() && self.e2.factor()
    }

    /// A step that failed for reasons other than the error test (Newton
    /// divergence, singular matrix, non-finite values): halve `h` and retry,
    /// with a fresh Jacobian unless the current one is already fresh.
    fn unexpected_rejection(&mut self, factor: f64) {
        self.h *= factor;
        self.reject = true;
        self.need_lu = true;
        if !self.jac_current {
            self.need_jac = true;
        }
        self.stats.rejected += 1;
    }

    /// Tries one step towards `t_end` (never past it).
    pub fn attempt(&mut self, field: &dyn VectorField, p: &[f64], t_end: f64) -> Result<Attempt, StepFailure> {
        let n = self.n;
        let mut last = false;
        if self.t + self.h >= t_end {
            self.h = t_end - self.t;
            last = true;
        }
        let h = self.h;
        if self.need_jac {
            self.evaluate_jacobian(field, p);
        }
        if self.need_lu || h != self.h_factored {
            if !self.factor(h) {
                self.n_singular += 1;
                if self.n_singular >= 5 {
                    return Err(StepFailure::Singular);
                }
                self.unexpected_rejection(0.5);
                return Ok(Attempt::Rejected);
            }
            self.need_lu = false;
        }
        let kc = &self.k;
        let (c1, c2) = (kc.c1, kc.c2);
        // Starting values: zero, or the previous collocation polynomial extrapolated.
        if self.first || self.reject {
            for j in 0..3 {
                self.z[j].fill(0.0);
                self.w[j].fill(0.0);
            }
        } else {
            let c3q = h / self.h_old;
            let c1q = c1 * c3q;
            let c2q = c2 * c3q;
            for i in 0..n {
                let (ak1, ak2, ak3) = (self.cont[1][i], self.cont[2][i], self.cont[3][i]);
                let z1 = c1q * (ak1 + (c1q - kc.c2m1) * (ak2 + (c1q - kc.c1m1) * ak3));
                let z2 = c2q * (ak1 + (c2q - kc.c2m1) * (ak2 + (c2q - kc.c1m1) * ak3));
                let z3 = c3q * (ak1 + (c3q - kc.c2m1) * (ak2 + (c3q - kc.c1m1) * ak3));
                self.z[0][i] = z1;
                self.z[1][i] = z2;
                self.z[2][i] = z3;
                self.w[0][i] = TI11 * z1 + TI12 * z2 + TI13 * z3;
                self.w[1][i] = TI21 * z1 + TI22 * z2 + TI23 * z3;
                self.w[2][i] = TI31 * z1 + TI32 * z2 + TI33 * z3;
            }
        }
        // Simplified Newton iteration.
        let fac1 = kc.u1 / h;
        let alphn = kc.alph / h;
        let betan = kc.beta / h;
        let mut newt = 0;
        self.faccon = self.faccon.max(f64::EPSILON).powf(0.8);
        self.theta = THET;
        let mut dyn_old = 0.0;
        let mut thq_old = 0.0;
        loop {
            if newt >= NIT {
                self.unexpected_rejection(0.5);
                return Ok(Attempt::Rejected);
            }
            for j in 0..3 {
                for i in 0..n {
                    self.tmp[i] = self.y[i] + self.z[j][i];
                }
                field.rhs(&self.tmp, p, &mut self.z[j]);
            }
            self.stats.rhs += 3;
            let [z1, z2, z3] = &mut self.z;
            let [w1, w2, w3] = &self.w;
            for i in 0..n {
                let (a1, a2, a3) = (z1[i], z2[i], z3[i]);
                let s2 = -w2[i];
                let s3 = -w3[i];
                z1[i] = TI11 * a1 + TI12 * a2 + TI13 * a3 - w1[i] * fac1;
                z2[i] = TI21 * a1 + TI22 * a2 + TI23 * a3 + s2 * alphn - s3 * betan;
                z3[i] = TI31 * a1 + TI32 * a2 + TI33 * a3 + s3 * alphn + s2 * betan;
            }
            self.e1.solve_in_place(z1);
            self.e2.solve_in_place(z2, z3);
            newt += 1;
            let mut dyno = 0.0;
            for i in 0..n {
                let d = self.scal[i];
                dyno += (z1[i] / d).powi(2) + (z2[i] / d).powi(2) + (z3[i] / d).powi(2);
            }
            let dyno = (dyno / (3 * n.max(1)) as f64).sqrt();
            if !dyno.is_finite() {
                self.unexpected_rejection(0.25);
                return Ok(Attempt::NonFinite);
            }
            if newt > 1 && newt < NIT {
                let thq = dyno / dyn_old;
                self.theta = if newt == 2 { thq } else { (thq * thq_old).sqrt() };
                thq_old = thq;
                if self.theta < 0.99 {
                    self.faccon = self.theta / (1.0 - self.theta);
                    let dyth = self.faccon * dyno * self.theta.powi((NIT - 1 - newt) as i32) / self.fnewt;
                    if dyth >= 1.0 {
                        let qnewt = dyth.clamp(1e-4, 20.0);
                        let hhfac = 0.8 * qnewt.powf(-1.0 / (4.0 + (NIT - 1 - newt) as f64));
                        self.unexpected_rejection(hhfac);
                        return Ok(Attempt::Rejected);
                    }
                } else {
                    self.unexpected_rejection(0.5);
                    return Ok(Attempt::Rejected);
                }
            }
            dyn_old = dyno.max(f64::EPSILON);
            let [w1, w2, w3] = &mut self.w;
            for i in 0..n {
                let f1 = w1[i] + z1[i];
                let f2 = w2[i] + z2[i];
                let f3 = w3[i] + z3[i];
                w1[i] = f1;
                w2[i] = f2;
                w3[i] = f3;
                z1[i] = T11 * f1 + T12 * f2 + T13 * f3;
                z2[i] = T21 * f1 + T22 * f2 + T23 * f3;
                z3[i] = T31 * f1 + f2;
            }
            if self.faccon * dyno <= self.fnewt {
                break;
            }
        }
        // Error estimate.
        let (hee1, hee2, hee3) = (kc.dd1 / h, kc.dd2 / h, kc.dd3 / h);
        for i in 0..n {
            let f2 = hee1 * self.z[0][i] + hee2 * self.z[1][i] + hee3 * self.z[2][i];
            self.tmp2[i] = f2;
            self.tmp[i] = f2 + self.f0[i];
        }
        self.e1.solve_in_place(&mut self.tmp);
        let mut err = self.scaled_norm_tmp();
        if err >= 1.0 && (self.first || self.reject) {
            for i in 0..n {
                self.tmp[i] += self.y[i];
            }
            // tmp = y + E1^-1(...); F there, plus the filtered term again.
            let mut f1 = std::mem::take(&mut self.cont[0]);
            field.rhs(&self.tmp, p, &mut f1);
            self.stats.rhs += 1;
            for i in 0..n {
                self.tmp[i] = f1[i] + self.tmp2[i];
            }
            self.cont[0] = f1;
            self.e1.solve_in_place(&mut self.tmp);
            err = self.scaled_norm_tmp();
        }
        if !err.is_finite() {
            self.unexpected_rejection(0.25);
            return Ok(Attempt::NonFinite);
        }
        let fac = SAFE.min(SAFE * (1 + 2 * NIT) as f64 / (newt + 2 * NIT) as f64);
        let mut quot = FACR.max(FACL.min(err.powf(0.25) / fac));
        let mut h_new = h / quot;
        if err < 1.0 {
            self.first = false;
            self.stats.accepted += 1;
            self.n_singular = 0;
            if self.stats.accepted > 1 {
                let facgus = (self.h_acc / h) * (err * err / self.err_acc).powf(0.25) / SAFE;
                quot = quot.max(facgus.clamp(FACR, FACL));
                h_new = h / quot;
            }
            self.h_acc = h;
            self.err_acc = err.max(1e-2);
            self.t_old = self.t;
            self.h_old = h;
            self.t = if last { t_end } else { self.t + h };
            let kc = &self.k;
            for i in 0..n {
                let (z1, z2, z3) = (self.z[0][i], self.z[1][i], self.z[2][i]);
                self.y[i] += z3;
                self.cont[1][i] = (z2 - z3) / kc.c2m1;
                let ak = (z1 - z2) / kc.c1mc2;
                let acont3 = (ak - z1 / kc.c1) / kc.c2;
                self.cont[2][i] = (ak - self.cont[1][i]) / kc.c1m1;
                self.cont[3][i] = self.cont[2][i] - acont3;
            }
            self.cont[0].copy_from_slice(&self.y);
            self.update_scal();
            self.jac_current = false;
            field.rhs(&self.y, p, &mut self.f0);
            self.stats.rhs += 1;
            h_new = h_new.min(self.h_max);
            if self.reject {
                h_new = h_new.min(h);
            }
            self.reject = false;
            let qt = h_new / h;
            if !(self.theta <= THET && (1.0..=1.2).contains(&qt)) {
                self.h = h_new;
            }
            if self.theta > THET {
                self.need_jac = true;
            }
            Ok(Attempt::Accepted)
        } else {
            self.reject = true;
            self.stats.rejected += 1;
            self.h = if self.first { 0.1 * h } else { h_new };
            self.need_lu = true;
            if !self.jac_current {
                self.need_jac = true;
            }
            Ok(Attempt::Rejected)
        }
    }

    fn scaled_norm_tmp(&self) -> f64 {
        let mut err = 0.0;
        for i in 0..self.n {
            err += (self.tmp[i] / self.scal[i]).powi(2);
        }
        (err / self.n.max(1) as f64).sqrt().max(1e-10)
    }

    /// `out = x(t)` for `t` in the last accepted step, from the collocation
    /// polynomial.
    pub fn dense(&self, t: f64, out: &mut [f64]) {
        let s = if self.h_old > 0.0 { (t - self.t) / self.h_old } else { 0.0 };
        let kc = &self.k;
        for i in 0..self.n {
            out[i] = self.cont[0][i]
                + s * (self.cont[1][i] + (s - kc.c2m1) * (self.cont[2][i] + (s - kc.c1m1) * self.cont[3][i]));
        }
    }
}

impl Stepper for RadauStepper {
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
    /// Never reports stiffness (this is the stiff method).
    fn try_step(&mut self, field: &dyn VectorField, p: &[f64], t_end: f64) -> Result<(Attempt, bool), StepFailure> {
        self.attempt(field, p, t_end).map(|a| (a, false))
    }
    /// The collocation polynomial; no evaluation of `F`.
    fn dense_output(&mut self, _field: &dyn VectorField, _p: &[f64], t: f64, out: &mut [f64]) {
        self.dense(t, out);
    }
}
