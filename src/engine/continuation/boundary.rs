//! Two-parameter boundaries: continuation of fold and Hopf points in a
//! parameter plane `(p1, p2)` (the brute-force grid that checks them is in
//! [`grid`](super::grid)).
//!
//! **Fold curves** continue the standard augmented system (Kuznetsov,
//! *Elements of Applied Bifurcation Theory*, sec. 10.2.2) in
//! `u = (x, v, p1, p2) in R^{2n+2}`:
//!
//! ```text
//!   F(x, p) = 0,    J(x, p) v = 0,    (<v, v> - 1) / 2 = 0.
//! ```
//!
//! **Hopf curves** continue, in `u = (x, v, w, omega, p1, p2) in R^{3n+3}`,
//! the real form of `J q = i omega q` with `q = v + i w`:
//!
//! ```text
//!   F = 0,   J v + omega w = 0,   J w - omega v = 0,
//!   (<v, v> + <w, w> - 1) / 2 = 0,   <v0, w> - <w0, v> = 0,
//! ```
//!
//! where the phase reference `(v0, w0)` is the eigenvector at the previous
//! accepted point (the previous point still satisfies the updated phase
//! condition, so the tangent stays consistent).
//!
//! `F`, `J` and `F_p` are exact. The Jacobians of these systems also need
//! second derivatives of `F`, which the [`VectorField`] trait does not
//! provide; they are taken by **central finite differences of the exact
//! Jacobian and parameter derivative** along the eigenvector only:
//! `d(J v)/dx = [J(x + h v) - J(x - h v)] / 2h` (valid because the Hessian
//! is symmetric) and `d(J v)/dp_k = [F_pk(x + h v) - F_pk(x - h v)] / 2h`,
//! with `h = 1e-5 (1 + |x|_inf)`. These enter only the Newton matrix, not
//! the residual, so they affect convergence speed but not the accuracy of
//! the computed curve.
//!
//! Codimension-two points are reported in [`BoundaryCurve::special_points`]:
//!
//! * a **Bautin** (generalised Hopf) point on a Hopf curve, where the first
//!   Lyapunov coefficient `l1` (computed at every point of the curve,
//!   [`first_lyapunov_coefficient`]) changes sign, is located on the arc by
//!   regula falsi; the Hopf curve goes on through it;
//! * a **cusp** on a fold curve, where the quadratic coefficient
//!   `<w, F_xx[v, v]>` changes sign (`w` the left null vector), is located on
//!   the arc by regula falsi and ends the curve;
//! * a **Bogdanov-Takens** point on a fold curve, where `<w, v>` changes
//!   sign, is located on the arc by regula falsi, then refined by Newton on
//!   the BT defining system
//!   ([`locate_bogdanov_takens`](crate::engine::continuation::bogdanov_takens)); the fold
//!   curve is regular there, so tracing **continues through it** (towards a
//!   cusp, for example);
//! * a Hopf curve ends at a **Bogdanov-Takens** point where `omega` reaches
//!   zero. The Hopf system becomes singular there (at `omega = 0` its
//!   solution set also contains the whole fold curve, with `v, w` in the
//!   kernel of `J`), so the end is not located on the Hopf curve: the BT
//!   defining system is solved from the last genuine Hopf point (`omega >
//!   0`), and the result is accepted only if it lies within two step lengths
//!   of it. The curve then ends with the located BT point (frequency 0).
//!   A step that lands on a point with `omega <= 0` is never kept, so a fold
//!   point reached through the `omega = 0` branch is not reported as the end.
//!
//! On fold curves the left null vector comes from an SVD of `J` at each
//! accepted point (the only per-step allocation besides the stored points).
use faer::{Mat, MatMut};
use serde::{Deserialize, Serialize};

use crate::engine::continuation::arclength::{arclength_step, ArclengthSolver, Bound, ImplicitCurve, StepControl};
use crate::engine::continuation::bogdanov_takens::{locate_bogdanov_takens, BtOptions};
use crate::engine::continuation::params::{default_true, ArclengthParams};
use crate::engine::continuation::test_functions::{locate_on_arc, Bifurcation, BifurcationKind};
use crate::engine::equilibria::lyapunov::{first_lyapunov_coefficient, Criticality, DEGENERATE_L1};
use crate::engine::VectorField;
use crate::error::{Error, Result};

fn neg_max() -> f64 {
    -f64::MAX
}
fn pos_max() -> f64 {
    f64::MAX
}

/// Settings of two-parameter continuation of a fold or Hopf point.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BoundaryParams {
    /// Index of the first parameter (the one the special point was found in).
    pub param: usize,
    /// Index of the second parameter.
    pub param2: usize,
    /// Bounds of the first parameter (default unbounded).
    #[serde(default = "neg_max")]
    pub p1_min: f64,
    #[serde(default = "pos_max")]
    pub p1_max: f64,
    /// Bounds of the second parameter.
    pub p2_min: f64,
    pub p2_max: f64,
    /// Step and Newton settings (`ds`, `ds_min`, `ds_max`, `max_steps` per
    /// direction, `newton_tol`, `newton_max_iter`; absolute steps).
    #[serde(flatten)]
    pub arclength: ArclengthParams,
    /// Trace both ways from the starting point (otherwise only towards
    /// increasing `p2`, or increasing `p1` if the curve starts vertical).
    #[serde(default = "default_true")]
    pub both_directions: bool,
}

impl BoundaryParams {
    /// `param2` on `[p2_min, p2_max]`, everything else at its default.
    pub fn new(param: usize, param2: usize, p2_min: f64, p2_max: f64) -> Self {
        BoundaryParams {
            param,
            param2,
            p1_min: neg_max(),
            p1_max: pos_max(),
            p2_min,
            p2_max,
            arclength: ArclengthParams::default(),
            both_directions: true,
        }
    }

    /// Check every setting against its valid range.
    pub fn validate(&self, n_params: usize) -> Result<()> {
        let a = &self.arclength;
        for (name, v) in [("param", self.param), ("param2", self.param2)] {
            if v >= n_params {
                return Err(Error::invalid(name, v, format!("0..{n_params} (parameter index)")));
            }
        }
        if self.param == self.param2 {
            return Err(Error::invalid("param2", self.param2, format!("a parameter index other than param = {}", self.param)));
        }
        for (name, lo, hi) in [("p1_min/p1_max", self.p1_min, self.p1_max), ("p2_min/p2_max", self.p2_min, self.p2_max)] {
            if !(lo.is_finite() && hi.is_finite() && lo < hi) {
                return Err(Error::invalid(name, format!("[{lo}, {hi}]"), "finite with min < max"));
            }
        }
        if !(a.ds_min > 0.0 && a.ds_max >= a.ds_min && a.ds >= a.ds_min && a.ds <= a.ds_max) {
            return Err(Error::invalid(
                "ds/ds_min/ds_max",
                format!("{}/{}/{}", a.ds, a.ds_min, a.ds_max),
                "0 < ds_min <= ds <= ds_max",
            ));
        }
        if !(a.newton_tol > 0.0 && a.newton_tol < 1.0) {
            return Err(Error::invalid("newton_tol", a.newton_tol, "(0, 1)"));
        }
        if a.newton_max_iter == 0 {
            return Err(Error::invalid("newton_max_iter", 0, ">= 1"));
        }
        Ok(())
    }
}

/// Why one end of a boundary curve stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BoundaryStop {
    /// Reached a parameter bound (the end point lies on it).
    ParameterBound,
    MaxSteps,
    /// The corrector failed even with `ds = ds_min`.
    StepTooSmall,
    /// Fold curve: cusp point (the end point is the located cusp).
    Cusp,
    /// Hopf curve with `omega -> 0`: the end point is the Bogdanov-Takens
    /// point located with its defining system (fold curves pass through BT
    /// points and do not stop there).
    BogdanovTakens,
    /// The curve returned to its starting point.
    Closed,
    /// The process-wide wall-time budget (`--max-seconds`) ran out; the
    /// points traced so far are kept.
    Budget,
}

/// One point of a boundary curve.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BoundaryPoint {
    pub p1: f64,
    pub p2: f64,
    /// The critical equilibrium.
    pub state: Vec<f64>,
    /// Hopf curves: frequency `omega` of the critical pair.
    pub frequency: Option<f64>,
    /// Hopf curves: first Lyapunov coefficient `l1` (`None` where it could
    /// not be computed, and on fold curves).
    #[serde(default)]
    pub lyapunov: Option<f64>,
}

/// The kind of a codimension-two point on a boundary curve.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Codim2Kind {
    /// Double zero eigenvalue (Jordan block): `F = 0`, `det J = 0`, `tr J = 0`
    /// in the plane; the minimally augmented system otherwise.
    BogdanovTakens,
    /// Fold curve with vanishing quadratic coefficient `<w, F_xx[v, v]> = 0`.
    Cusp,
    /// Generalised Hopf point: a Hopf curve where the first Lyapunov
    /// coefficient changes sign (criticality flips; a fold curve of cycles
    /// starts here).
    Bautin,
}

impl Codim2Kind {
    /// Name used in JSON, CSV and text output.
    pub fn as_str(&self) -> &'static str {
        match self {
            Codim2Kind::BogdanovTakens => "bogdanov-takens",
            Codim2Kind::Cusp => "cusp",
            Codim2Kind::Bautin => "bautin",
        }
    }
}

/// A codimension-two point found while tracing a curve.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Codim2Point {
    pub kind: Codim2Kind,
    pub p1: f64,
    pub p2: f64,
    pub state: Vec<f64>,
    /// Bogdanov-Takens: max-norm residual of its defining system at the
    /// point; Bautin: `|l1|` at the located point.
    pub residual: Option<f64>,
    /// Bogdanov-Takens: Newton iterations on the defining system.
    pub iterations: Option<usize>,
}

/// A fold or Hopf curve in the `(p1, p2)` plane.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BoundaryCurve {
    pub kind: BifurcationKind,
    pub param: usize,
    pub param2: usize,
    /// Points ordered from the backward end, through the start, to the
    /// forward end.
    pub points: Vec<BoundaryPoint>,
    /// Why the forward end stopped.
    pub stop_forward: BoundaryStop,
    /// Why the backward end stopped (`None` if only one direction was traced).
    pub stop_backward: Option<BoundaryStop>,
    /// Codimension-two points on the curve, from the backward end to the
    /// forward end (Bogdanov-Takens points passed by fold curves, the BT end
    /// of a Hopf curve, cusps).
    #[serde(default)]
    pub special_points: Vec<Codim2Point>,
}

impl BoundaryCurve {
    /// JSON `{"kind", "param", "param2", "stop_forward", "stop_backward",
    /// "special_points": [{"kind", "<param name>", "<param2 name>", "state",
    /// "residual"?, "iterations"?}],
    /// "points": [{"<param name>", "<param2 name>", "state": {name: value},
    /// "frequency"?}]}`.
    pub fn to_json(&self, state_names: &[String], param_name: &str, param2_name: &str) -> serde_json::Value {
        use serde_json::{json, Map, Value};
        let points: Vec<Value> = self
            .points
            .iter()
            .map(|pt| {
                let mut state = Map::new();
                for (i, v) in pt.state.iter().enumerate() {
                    state.insert(state_names.get(i).cloned().unwrap_or_else(|| format!("x{i}")), json!(v));
                }
                let mut o = Map::new();
                o.insert(param_name.to_string(), json!(pt.p1));
                o.insert(param2_name.to_string(), json!(pt.p2));
                o.insert("state".into(), Value::Object(state));
                if let Some(w) = pt.frequency {
                    o.insert("frequency".into(), json!(w));
                }
                if let Some(l1) = pt.lyapunov {
                    o.insert("lyapunov".into(), json!(l1));
                    o.insert("criticality".into(), json!(Criticality::from_l1(l1, DEGENERATE_L1).as_str()));
                }
                Value::Object(o)
            })
            .collect();
        let special: Vec<Value> = self
            .special_points
            .iter()
            .map(|sp| {
                let mut o = Map::new();
                o.insert("kind".into(), json!(sp.kind.as_str()));
                o.insert(param_name.to_string(), json!(sp.p1));
                o.insert(param2_name.to_string(), json!(sp.p2));
                o.insert("state".into(), Value::Object(state_names.iter().cloned().zip(sp.state.iter().map(|v| json!(v))).collect()));
                if let Some(r) = sp.residual {
                    o.insert("residual".into(), json!(r));
                }
                if let Some(i) = sp.iterations {
                    o.insert("iterations".into(), json!(i));
                }
                Value::Object(o)
            })
            .collect();
        json!({
            "kind": self.kind.as_str(),
            "param": param_name,
            "param2": param2_name,
            "stop_forward": self.stop_forward,
            "stop_backward": self.stop_backward,
            "special_points": special,
            "points": points,
        })
    }

    /// CSV with header `<param>,<param2>,<state names>,frequency`.
    pub fn write_csv(
        &self,
        w: &mut dyn std::io::Write,
        state_names: &[String],
        param_name: &str,
        param2_name: &str,
    ) -> std::io::Result<()> {
        write!(w, "{param_name},{param2_name}")?;
        for s in state_names {
            write!(w, ",{s}")?;
        }
        writeln!(w, ",frequency")?;
        for pt in &self.points {
            write!(w, "{},{}", pt.p1, pt.p2)?;
            for v in &pt.state {
                write!(w, ",{v}")?;
            }
            match pt.frequency {
                Some(f) => writeln!(w, ",{f}")?,
                None => writeln!(w, ",")?,
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Defining systems
// ---------------------------------------------------------------------------

/// Shared evaluation buffers: parameters, Jacobians at `x` and `x +- h v`,
/// parameter derivatives.
struct Evaluator<'a> {
    field: &'a dyn VectorField,
    n: usize,
    k1: usize,
    k2: usize,
    p: Vec<f64>,
    jac: Mat<f64>,
    jp: Mat<f64>,
    jm: Mat<f64>,
    xs: Vec<f64>,
    fa: Vec<f64>,
    fb: Vec<f64>,
}

impl<'a> Evaluator<'a> {
    fn new(field: &'a dyn VectorField, p: &[f64], k1: usize, k2: usize) -> Self {
        let n = field.dim();
        Evaluator {
            field,
            n,
            k1,
            k2,
            p: p.to_vec(),
            jac: Mat::zeros(n, n),
            jp: Mat::zeros(n, n),
            jm: Mat::zeros(n, n),
            xs: vec![0.0; n],
            fa: vec![0.0; n],
            fb: vec![0.0; n],
        }
    }
    fn set_params(&mut self, p1: f64, p2: f64) {
        self.p[self.k1] = p1;
        self.p[self.k2] = p2;
    }
    fn step(x: &[f64]) -> f64 {
        1e-5 * (1.0 + x.iter().fold(0.0_f64, |m, v| m.max(v.abs())))
    }
    /// `jac = J(x)`.
    fn jacobian(&mut self, x: &[f64]) {
        self.field.jacobian(x, &self.p, self.jac.as_mut());
    }
    /// `out[:, c0..c0+n] = d/dx (J v) = [J(x + h v) - J(x - h v)] / 2h`.
    fn second_x(&mut self, x: &[f64], v: &[f64], mut out: MatMut<'_, f64>, r0: usize, c0: usize) {
        let h = Self::step(x);
        for i in 0..self.n {
            self.xs[i] = x[i] + h * v[i];
        }
        self.field.jacobian(&self.xs, &self.p, self.jp.as_mut());
        for i in 0..self.n {
            self.xs[i] = x[i] - h * v[i];
        }
        self.field.jacobian(&self.xs, &self.p, self.jm.as_mut());
        for i in 0..self.n {
            for j in 0..self.n {
                out[(r0 + i, c0 + j)] = (self.jp[(i, j)] - self.jm[(i, j)]) / (2.0 * h);
            }
        }
    }
    /// `out[r0.., col] = d/dp_k (J v) = [F_pk(x + h v) - F_pk(x - h v)] / 2h`.
    fn second_p(&mut self, x: &[f64], v: &[f64], k: usize, mut out: MatMut<'_, f64>, r0: usize, col: usize) {
        let h = Self::step(x);
        for i in 0..self.n {
            self.xs[i] = x[i] + h * v[i];
        }
        self.field.param_derivative(&self.xs, &self.p, k, &mut self.fa);
        for i in 0..self.n {
            self.xs[i] = x[i] - h * v[i];
        }
        self.field.param_derivative(&self.xs, &self.p, k, &mut self.fb);
        for i in 0..self.n {
            out[(r0 + i, col)] = (self.fa[i] - self.fb[i]) / (2.0 * h);
        }
    }
    /// `out[r0.., col] = F_pk(x)`.
    fn param_column(&mut self, x: &[f64], k: usize, mut out: MatMut<'_, f64>, r0: usize, col: usize) {
        self.field.param_derivative(x, &self.p, k, &mut self.fa);
        for i in 0..self.n {
            out[(r0 + i, col)] = self.fa[i];
        }
    }
    /// `out = J v` using the Jacobian last stored by [`Self::jacobian`].
    fn jv(&self, v: &[f64], out: &mut [f64]) {
        for (i, o) in out.iter_mut().enumerate().take(self.n) {
            *o = (0..self.n).map(|j| self.jac[(i, j)] * v[j]).sum();
        }
    }
}

/// Fold system in `u = (x, v, p1, p2)`.
struct FoldCurve<'a> {
    ev: Evaluator<'a>,
}

impl ImplicitCurve for FoldCurve<'_> {
    fn n_unknowns(&self) -> usize {
        2 * self.ev.n + 2
    }
    fn residual(&mut self, u: &[f64], out: &mut [f64]) {
        let n = self.ev.n;
        let (x, v) = (&u[..n], &u[n..2 * n]);
        self.ev.set_params(u[2 * n], u[2 * n + 1]);
        self.ev.field.rhs(x, &self.ev.p, &mut out[..n]);
        self.ev.jacobian(x);
        self.ev.jv(v, &mut out[n..2 * n]);
        out[2 * n] = 0.5 * (v.iter().map(|a| a * a).sum::<f64>() - 1.0);
    }
    fn jacobian(&mut self, u: &[f64], mut jac: MatMut<'_, f64>) {
        let n = self.ev.n;
        let (x, v) = (&u[..n], &u[n..2 * n]);
        self.ev.set_params(u[2 * n], u[2 * n + 1]);
        jac.fill(0.0);
        self.ev.jacobian(x);
        for i in 0..n {
            for j in 0..n {
                jac[(i, j)] = self.ev.jac[(i, j)];
                jac[(n + i, n + j)] = self.ev.jac[(i, j)];
            }
        }
        let (k1, k2) = (self.ev.k1, self.ev.k2);
        self.ev.param_column(x, k1, jac.as_mut(), 0, 2 * n);
        self.ev.param_column(x, k2, jac.as_mut(), 0, 2 * n + 1);
        self.ev.second_x(x, v, jac.as_mut(), n, 0);
        self.ev.second_p(x, v, k1, jac.as_mut(), n, 2 * n);
        self.ev.second_p(x, v, k2, jac.as_mut(), n, 2 * n + 1);
        for j in 0..n {
            jac[(2 * n, n + j)] = v[j];
        }
    }
}

/// Hopf system in `u = (x, v, w, omega, p1, p2)`.
struct HopfCurve<'a> {
    ev: Evaluator<'a>,
    v0: Vec<f64>,
    w0: Vec<f64>,
    tmp: Vec<f64>,
}

impl ImplicitCurve for HopfCurve<'_> {
    fn n_unknowns(&self) -> usize {
        3 * self.ev.n + 3
    }
    fn residual(&mut self, u: &[f64], out: &mut [f64]) {
        let n = self.ev.n;
        let (x, v, w, omega) = (&u[..n], &u[n..2 * n], &u[2 * n..3 * n], u[3 * n]);
        self.ev.set_params(u[3 * n + 1], u[3 * n + 2]);
        self.ev.field.rhs(x, &self.ev.p, &mut out[..n]);
        self.ev.jacobian(x);
        self.ev.jv(v, &mut out[n..2 * n]);
        self.ev.jv(w, &mut self.tmp);
        for i in 0..n {
            out[n + i] += omega * w[i];
            out[2 * n + i] = self.tmp[i] - omega * v[i];
        }
        let vv: f64 = v.iter().chain(w).map(|a| a * a).sum();
        out[3 * n] = 0.5 * (vv - 1.0);
        out[3 * n + 1] = (0..n).map(|i| self.v0[i] * w[i] - self.w0[i] * v[i]).sum();
    }
    fn jacobian(&mut self, u: &[f64], mut jac: MatMut<'_, f64>) {
        let n = self.ev.n;
        let (x, v, w, omega) = (&u[..n], &u[n..2 * n], &u[2 * n..3 * n], u[3 * n]);
        self.ev.set_params(u[3 * n + 1], u[3 * n + 2]);
        let (k1, k2) = (self.ev.k1, self.ev.k2);
        let (c_om, c_p1, c_p2) = (3 * n, 3 * n + 1, 3 * n + 2);
        jac.fill(0.0);
        self.ev.jacobian(x);
        for i in 0..n {
            for j in 0..n {
                let a = self.ev.jac[(i, j)];
                jac[(i, j)] = a;
                jac[(n + i, n + j)] = a;
                jac[(2 * n + i, 2 * n + j)] = a;
            }
            jac[(n + i, 2 * n + i)] = omega;
            jac[(2 * n + i, n + i)] = -omega;
            jac[(n + i, c_om)] = w[i];
            jac[(2 * n + i, c_om)] = -v[i];
        }
        self.ev.param_column(x, k1, jac.as_mut(), 0, c_p1);
        self.ev.param_column(x, k2, jac.as_mut(), 0, c_p2);
        self.ev.second_x(x, v, jac.as_mut(), n, 0);
        self.ev.second_x(x, w, jac.as_mut(), 2 * n, 0);
        self.ev.second_p(x, v, k1, jac.as_mut(), n, c_p1);
        self.ev.second_p(x, v, k2, jac.as_mut(), n, c_p2);
        self.ev.second_p(x, w, k1, jac.as_mut(), 2 * n, c_p1);
        self.ev.second_p(x, w, k2, jac.as_mut(), 2 * n, c_p2);
        for j in 0..n {
            jac[(3 * n, n + j)] = v[j];
            jac[(3 * n, 2 * n + j)] = w[j];
            jac[(3 * n + 1, n + j)] = -self.w0[j];
            jac[(3 * n + 1, 2 * n + j)] = self.v0[j];
        }
    }
    fn accept(&mut self, u: &[f64]) {
        let n = self.ev.n;
        self.v0.copy_from_slice(&u[n..2 * n]);
        self.w0.copy_from_slice(&u[2 * n..3 * n]);
    }
}

/// Last right singular vector of a matrix (its numerical null vector).
fn smallest_right_singular(m: &Mat<f64>) -> Result<Vec<f64>> {
    let svd = m.svd().map_err(|e| Error::numerical("boundary start", format!("SVD failed: {e:?}")))?;
    let v = svd.V();
    let c = v.ncols() - 1;
    Ok((0..v.nrows()).map(|i| v[(i, c)]).collect())
}

/// Last left singular vector of a square matrix (its left null vector).
fn smallest_left_singular(m: &Mat<f64>) -> Option<Vec<f64>> {
    let svd = m.svd().ok()?;
    let u = svd.U();
    let c = u.ncols() - 1;
    Some((0..u.nrows()).map(|i| u[(i, c)]).collect())
}

/// Fold-curve codimension-two test functions at `u`: the cusp coefficient
/// `<w, F_xx[v, v]>` and the Bogdanov-Takens product `<w, v>`, with the
/// left null vector `w` sign-aligned to `w_ref` (updated in place).
fn fold_tests(curve: &mut FoldCurve<'_>, u: &[f64], w_ref: &mut Vec<f64>) -> Option<(f64, f64)> {
    let n = curve.ev.n;
    let (x, v) = (&u[..n], &u[n..2 * n]);
    curve.ev.set_params(u[2 * n], u[2 * n + 1]);
    curve.ev.jacobian(x);
    let mut w = smallest_left_singular(&curve.ev.jac)?;
    if !w_ref.is_empty() && w.iter().zip(w_ref.iter()).map(|(a, b)| a * b).sum::<f64>() < 0.0 {
        w.iter_mut().for_each(|a| *a = -*a);
    }
    let mut m = Mat::<f64>::zeros(n, n);
    curve.ev.second_x(x, v, m.as_mut(), 0, 0);
    let mut cusp = 0.0;
    for i in 0..n {
        for j in 0..n {
            cusp += w[i] * m[(i, j)] * v[j];
        }
    }
    let bt = w.iter().zip(v).map(|(a, b)| a * b).sum();
    *w_ref = w;
    Some((cusp, bt))
}

/// Continue a located fold or Hopf point `start` (from
/// [`continue_equilibria`](crate::engine::continuation::branches::continue_equilibria)
/// in parameter `bp.param`, with the other parameters at `p_base`) in the
/// plane `(p_{param}, p_{param2})`; see the module documentation for the
/// defining systems. A branch point cannot be continued (it is not
/// generic in two parameters) and is rejected.
pub fn continue_boundary(
    field: &dyn VectorField,
    start: &Bifurcation,
    p_base: &[f64],
    bp: &BoundaryParams,
) -> Result<BoundaryCurve> {
    let n = field.dim();
    let m = field.param_names().len().max(p_base.len());
    bp.validate(m)?;
    if p_base.len() < field.param_names().len() {
        return Err(Error::invalid("p_base", format!("{p_base:?}"), format!("{} values", field.param_names().len())));
    }
    if start.state.len() != n {
        return Err(Error::invalid("start.state", format!("{:?}", start.state), format!("{n} values")));
    }
    let mut p = p_base.to_vec();
    p[bp.param] = start.param;
    let p2 = p[bp.param2];
    if p2 < bp.p2_min || p2 > bp.p2_max {
        return Err(Error::invalid("p2 at start", p2, format!("[p2_min, p2_max] = [{}, {}]", bp.p2_min, bp.p2_max)));
    }
    let mut ev = Evaluator::new(field, &p, bp.param, bp.param2);
    ev.jacobian(&start.state);
    match start.kind {
        BifurcationKind::Fold => {
            let v = smallest_right_singular(&ev.jac)?;
            let u0: Vec<f64> = start.state.iter().chain(&v).copied().chain([start.param, p2]).collect();
            let mut curve = FoldCurve { ev };
            trace(&mut curve, u0, bp, BifurcationKind::Fold)
        }
        BifurcationKind::Hopf => {
            let omega = start.frequency.ok_or_else(|| Error::invalid("start.frequency", "None", "the Hopf frequency"))?;
            // Null vector of [[J, omega I], [-omega I, J]]: J v = -omega w, J w = omega v.
            let big = Mat::<f64>::from_fn(2 * n, 2 * n, |i, j| {
                let (bi, bj, ii, jj) = (i / n, j / n, i % n, j % n);
                match (bi, bj) {
                    (0, 0) | (1, 1) => ev.jac[(ii, jj)],
                    (0, 1) if ii == jj => omega,
                    (1, 0) if ii == jj => -omega,
                    _ => 0.0,
                }
            });
            let q = smallest_right_singular(&big)?;
            let u0: Vec<f64> = start.state.iter().chain(&q).copied().chain([omega, start.param, p2]).collect();
            let mut curve = HopfCurve { ev, v0: q[..n].to_vec(), w0: q[n..].to_vec(), tmp: vec![0.0; n] };
            trace(&mut curve, u0, bp, BifurcationKind::Hopf)
        }
        BifurcationKind::Branch | BifurcationKind::NeutralSaddle => Err(Error::invalid(
            "start.kind",
            start.kind.as_str(),
            "fold or hopf (branch points are not generic in two parameters; neutral saddles are no bifurcation)",
        )),
    }
}

/// Codimension-two monitoring shared by the two curve kinds.
trait Codim2: ImplicitCurve {
    /// Hopf curve (ends at BT points) or fold curve (passes them).
    const HOPF: bool;
    /// Test functions at `u`, updating any sign references: fold curves
    /// `[cusp coefficient, <w, v>]`, Hopf curves `[omega, 1]`.
    fn codim2_tests(&mut self, u: &[f64], refs: &mut Vec<f64>) -> Option<[f64; 2]>;
    fn point(&self, u: &[f64]) -> BoundaryPoint;
    fn evaluator(&self) -> &Evaluator<'_>;
}

impl Codim2 for FoldCurve<'_> {
    const HOPF: bool = false;
    fn codim2_tests(&mut self, u: &[f64], refs: &mut Vec<f64>) -> Option<[f64; 2]> {
        fold_tests(self, u, refs).map(|(c, b)| [c, b])
    }
    fn point(&self, u: &[f64]) -> BoundaryPoint {
        let n = self.ev.n;
        BoundaryPoint { p1: u[2 * n], p2: u[2 * n + 1], state: u[..n].to_vec(), frequency: None, lyapunov: None }
    }
    fn evaluator(&self) -> &Evaluator<'_> {
        &self.ev
    }
}

impl Codim2 for HopfCurve<'_> {
    const HOPF: bool = true;
    fn codim2_tests(&mut self, u: &[f64], _refs: &mut Vec<f64>) -> Option<[f64; 2]> {
        let omega = u[3 * self.ev.n];
        // NaN where l1 is undefined: no sign change is seen across it.
        Some([omega, hopf_l1(&self.ev, u).unwrap_or(f64::NAN)])
    }
    fn point(&self, u: &[f64]) -> BoundaryPoint {
        let n = self.ev.n;
        BoundaryPoint {
            p1: u[3 * n + 1],
            p2: u[3 * n + 2],
            state: u[..n].to_vec(),
            frequency: Some(u[3 * n]),
            lyapunov: hopf_l1(&self.ev, u),
        }
    }
    fn evaluator(&self) -> &Evaluator<'_> {
        &self.ev
    }
}

/// First Lyapunov coefficient at the Hopf-curve point `u = (x, v, w, omega, p1, p2)`.
fn hopf_l1(ev: &Evaluator<'_>, u: &[f64]) -> Option<f64> {
    let n = ev.n;
    let mut p = ev.p.clone();
    p[ev.k1] = u[3 * n + 1];
    p[ev.k2] = u[3 * n + 2];
    first_lyapunov_coefficient(ev.field, &u[..n], &p, u[3 * n]).ok().map(|nf| nf.l1)
}

/// Euclidean distance between two curve points in `(x, p1, p2)` only.
fn xp_distance(a: &BoundaryPoint, b: &BoundaryPoint) -> f64 {
    let d: f64 = a.state.iter().zip(&b.state).map(|(x, y)| (x - y).powi(2)).sum();
    (d + (a.p1 - b.p1).powi(2) + (a.p2 - b.p2).powi(2)).sqrt()
}

/// Solve the Bogdanov-Takens defining system from the curve point `near`;
/// accept the solution only if it lies within `radius` of it in `(x, p1, p2)`
/// (otherwise Newton found a BT point that this stretch of curve does not reach).
fn confirm_bt(ev: &Evaluator<'_>, near: &BoundaryPoint, radius: f64) -> Option<Codim2Point> {
    let bt = locate_bogdanov_takens(ev.field, &ev.p, ev.k1, ev.k2, &near.state, near.p1, near.p2, &BtOptions::default()).ok()?;
    let pt = BoundaryPoint { p1: bt.p1, p2: bt.p2, state: bt.state.clone(), frequency: None, lyapunov: None };
    (xp_distance(&pt, near) <= radius).then_some(Codim2Point {
        kind: Codim2Kind::BogdanovTakens,
        p1: bt.p1,
        p2: bt.p2,
        state: bt.state,
        residual: Some(bt.residual),
        iterations: Some(bt.iterations),
    })
}

/// The curve point for a located BT end of a Hopf curve (frequency 0).
fn bt_end_point(sp: &Codim2Point) -> BoundaryPoint {
    BoundaryPoint { p1: sp.p1, p2: sp.p2, state: sp.state.clone(), frequency: Some(0.0), lyapunov: None }
}

/// Correct the starting point at fixed `p2`, then trace one or both ways.
fn trace<C: Codim2>(curve: &mut C, mut u0: Vec<f64>, bp: &BoundaryParams, kind: BifurcationKind) -> Result<BoundaryCurve> {
    let nu = curve.n_unknowns();
    let (i1, i2) = (nu - 2, nu - 1);
    let mut solver = ArclengthSolver::new(nu, bp.arclength.newton_tol, bp.arclength.newton_max_iter);
    let p2 = u0[i2];
    solver.correct_fixed(curve, &mut u0, i2, p2).ok_or_else(|| {
        Error::numerical(
            "boundary start",
            format!("Newton on the {} system did not converge at p2 = {p2}", kind.as_str()),
        )
    })?;
    curve.accept(&u0);
    let t0 = solver
        .null_vector(curve, &u0)
        .ok_or_else(|| Error::numerical("boundary start", "SVD of the defining system failed"))?;
    // Orient towards increasing p2 (or p1 if the curve starts vertical in p2).
    let lead = if t0[i2].abs() > 1e-8 { t0[i2] } else { t0[i1] };
    let sign = if lead < 0.0 { -1.0 } else { 1.0 };
    let t_fwd: Vec<f64> = t0.iter().map(|v| v * sign).collect();
    let bounds = [Bound { index: i1, lo: bp.p1_min, hi: bp.p1_max }, Bound { index: i2, lo: bp.p2_min, hi: bp.p2_max }];
    let fwd = trace_one(curve, &mut solver, &u0, &t_fwd, bp, &bounds)?;
    let mut points: Vec<BoundaryPoint> = Vec::new();
    let mut special_points = Vec::new();
    let mut stop_backward = None;
    if bp.both_directions && fwd.stop != BoundaryStop::Closed {
        let t_bwd: Vec<f64> = t_fwd.iter().map(|v| -v).collect();
        curve.accept(&u0);
        let bwd = trace_one(curve, &mut solver, &u0, &t_bwd, bp, &bounds)?;
        points.extend(bwd.points.into_iter().skip(1).rev());
        special_points.extend(bwd.special.into_iter().rev());
        stop_backward = Some(bwd.stop);
    }
    points.extend(fwd.points);
    special_points.extend(fwd.special);
    Ok(BoundaryCurve { kind, param: bp.param, param2: bp.param2, points, stop_forward: fwd.stop, stop_backward, special_points })
}

/// One traced direction: its points (the first is the start), the
/// codimension-two points met in order, and why it stopped.
struct Traced {
    points: Vec<BoundaryPoint>,
    special: Vec<Codim2Point>,
    stop: BoundaryStop,
}

/// Trace from `(u0, t0)` until a bound, a cusp or the BT end of a Hopf
/// curve, closure or `max_steps`.
fn trace_one<C: Codim2>(
    curve: &mut C,
    solver: &mut ArclengthSolver,
    u0: &[f64],
    t0: &[f64],
    bp: &BoundaryParams,
    bounds: &[Bound],
) -> Result<Traced> {
    let nu = u0.len();
    let ctl = StepControl { ds_min: bp.arclength.ds_min, ds_max: bp.arclength.ds_max };
    let (mut u, mut t) = (u0.to_vec(), t0.to_vec());
    let (mut u_new, mut t_new) = (vec![0.0; nu], vec![0.0; nu]);
    let mut refs = Vec::new();
    let mut tests = curve.codim2_tests(&u, &mut refs).unwrap_or([1.0, 1.0]);
    let mut out = Traced { points: vec![curve.point(&u)], special: Vec::new(), stop: BoundaryStop::MaxSteps };
    let mut ds = bp.arclength.ds;
    let mut arclength = 0.0;
    // Length in (x, p) of the last accepted step: the scale for accepting a
    // BT point found by Newton from the last Hopf point.
    let mut last_len = 0.0_f64;
    for _ in 0..bp.arclength.max_steps {
        if crate::limits::budget_exhausted() {
            out.stop = BoundaryStop::Budget;
            return Ok(out);
        }
        let Some(step) = arclength_step(solver, curve, &u, &t, &mut ds, ctl, bounds, &mut u_new, &mut t_new) else {
            // The Hopf system degenerates near a BT point before omega
            // reaches zero: try the BT system from the last Hopf point.
            let last = out.points.last().expect("start point").clone();
            if C::HOPF {
                if let Some(sp) = confirm_bt(curve.evaluator(), &last, 2.0 * last_len.max(ds)) {
                    out.points.push(bt_end_point(&sp));
                    out.special.push(sp);
                    out.stop = BoundaryStop::BogdanovTakens;
                    return Ok(out);
                }
            }
            out.stop = BoundaryStop::StepTooSmall;
            return Ok(out);
        };
        let mut refs_new = refs.clone();
        let tests_new = curve.codim2_tests(&u_new, &mut refs_new).unwrap_or(tests);
        let sigma1: f64 = t.iter().zip(u_new.iter().zip(&u)).map(|(a, (b, c))| a * (b - c)).sum();
        let new_point = curve.point(&u_new);
        let step_len = xp_distance(&new_point, out.points.last().expect("start point"));
        if C::HOPF {
            // omega crossed (or reached) zero: the curve has arrived at a BT
            // point between u and u_new. Keep only genuine Hopf points.
            let (w0, w1) = (tests[0], tests_new[0]);
            if tests[1] * tests_new[1] < 0.0 && w0 * w1 > 0.0 {
                // l1 changes sign: a Bautin point; the Hopf curve goes on.
                let r0 = refs.clone();
                let located = locate_on_arc(solver, curve, &u, &t, sigma1, tests[1], tests_new[1], 1e-10, |_, c, x| {
                    let mut r = r0.clone();
                    c.codim2_tests(x, &mut r).map(|v| v[1]).filter(|v| v.is_finite())
                });
                if let Some(x) = located {
                    let pt = curve.point(&x);
                    out.special.push(Codim2Point { kind: Codim2Kind::Bautin, p1: pt.p1, p2: pt.p2, state: pt.state, residual: pt.lyapunov.map(f64::abs), iterations: None });
                }
            }
            if w0 * w1 <= 0.0 || w1.abs() <= 1e-8 * w0.abs() {
                let last = out.points.last().expect("start point").clone();
                out.stop = match confirm_bt(curve.evaluator(), &last, 2.0 * step_len) {
                    Some(sp) => {
                        out.points.push(bt_end_point(&sp));
                        out.special.push(sp);
                        BoundaryStop::BogdanovTakens
                    }
                    None => BoundaryStop::StepTooSmall,
                };
                return Ok(out);
            }
        } else {
            let locate = |solver: &mut ArclengthSolver, curve: &mut C, j: usize| {
                let r0 = refs.clone();
                locate_on_arc(solver, curve, &u, &t, sigma1, tests[j], tests_new[j], 1e-10, |_, c, x| {
                    let mut r = r0.clone();
                    c.codim2_tests(x, &mut r).map(|v| v[j])
                })
            };
            if tests[0] * tests_new[0] < 0.0 {
                let located = locate(solver, curve, 0).unwrap_or_else(|| u_new.clone());
                let pt = curve.point(&located);
                out.special.push(Codim2Point { kind: Codim2Kind::Cusp, p1: pt.p1, p2: pt.p2, state: pt.state.clone(), residual: None, iterations: None });
                out.points.push(pt);
                out.stop = BoundaryStop::Cusp;
                return Ok(out);
            }
            if tests[1] * tests_new[1] < 0.0 {
                // The fold curve passes a BT point: refine it, record it, go on.
                if let Some(located) = locate(solver, curve, 1) {
                    let pt = curve.point(&located);
                    if let Some(sp) = confirm_bt(curve.evaluator(), &pt, 2.0 * step_len) {
                        out.special.push(sp);
                    }
                }
            }
        }
        arclength += sigma1.abs();
        last_len = step_len;
        curve.accept(&u_new);
        out.points.push(new_point);
        if step.hit_bound {
            out.stop = BoundaryStop::ParameterBound;
            return Ok(out);
        }
        // Closed curve: back near the start after having gone somewhere.
        let d0: f64 = u_new.iter().zip(u0).map(|(a, b)| (a - b).powi(2)).sum::<f64>().sqrt();
        if arclength > 4.0 * bp.arclength.ds_max && d0 < 0.5 * sigma1.abs().max(bp.arclength.ds) {
            out.stop = BoundaryStop::Closed;
            return Ok(out);
        }
        std::mem::swap(&mut u, &mut u_new);
        std::mem::swap(&mut t, &mut t_new);
        refs = refs_new;
        tests = tests_new;
    }
    Ok(out)
}
