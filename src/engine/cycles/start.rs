//! Periodic orbits at fixed parameters: the Newton solve with mesh
//! adaptation, and the two ways to get a first guess: from a Hopf point
//! (its critical eigenvector and the normal-form amplitude) or from a
//! trajectory (one period cut from an integration by a Poincaré section).
use faer::{c64, Mat};
use serde::{Deserialize, Serialize};

use super::collocation::{CollocationSystem, NewtonSettings};
use super::floquet::Multipliers;
use super::mesh::adapted_mesh;
use super::orbit::{uniform_mesh, PeriodicOrbit};
use crate::engine::equilibria::lyapunov::first_lyapunov_coefficient;
use crate::engine::{integrate, Attempt, ExplicitStepper, Grid, IntegrateOptions, Method, Pair, VectorField};
use crate::error::{Error, Result};

fn default_ntst() -> usize {
    40
}
fn default_ncol() -> usize {
    4
}
fn default_adapt() -> usize {
    2
}

/// Discretisation of a periodic orbit.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OrbitOptions {
    /// Mesh intervals `N` (AUTO's NTST).
    #[serde(default = "default_ntst")]
    pub ntst: usize,
    /// Gauss collocation points per interval `m` (AUTO's NCOL), `1..=7`.
    #[serde(default = "default_ncol")]
    pub ncol: usize,
    /// Mesh adaptations after the first convergence (each followed by Newton).
    #[serde(default = "default_adapt")]
    pub adapt: usize,
    /// Newton tolerance (max-norm of the residual).
    #[serde(default = "super::branch::default_newton_tol")]
    pub newton_tol: f64,
    /// Newton iterations per solve.
    #[serde(default = "super::branch::default_newton_max_iter")]
    pub newton_max_iter: usize,
}

impl Default for OrbitOptions {
    fn default() -> Self {
        OrbitOptions {
            ntst: default_ntst(),
            ncol: default_ncol(),
            adapt: default_adapt(),
            newton_tol: super::branch::default_newton_tol(),
            newton_max_iter: super::branch::default_newton_max_iter(),
        }
    }
}

impl OrbitOptions {
    pub fn validate(&self) -> Result<()> {
        if self.ntst < 2 {
            return Err(Error::invalid("ntst", self.ntst, ">= 2"));
        }
        if !(1..=super::gauss::MAX_NCOL).contains(&self.ncol) {
            return Err(Error::invalid("ncol", self.ncol, format!("1..={}", super::gauss::MAX_NCOL)));
        }
        if !(self.newton_tol > 0.0 && self.newton_tol < 1.0) {
            return Err(Error::invalid("newton_tol", self.newton_tol, "(0, 1)"));
        }
        if self.newton_max_iter == 0 {
            return Err(Error::invalid("newton_max_iter", 0, ">= 1"));
        }
        Ok(())
    }
    pub fn newton(&self) -> NewtonSettings {
        NewtonSettings { tol: self.newton_tol, max_iter: self.newton_max_iter }
    }
}

/// A converged periodic orbit with its Floquet multipliers.
#[derive(Clone, Debug)]
pub struct Cycle {
    pub orbit: PeriodicOrbit,
    pub multipliers: Multipliers,
}

/// Newton on the collocation system at the fixed parameters of `guess`,
/// then `opts.adapt` rounds of mesh adaptation (new mesh with `opts.ntst`
/// intervals, interpolation, Newton); the multipliers of the final orbit.
pub fn solve_orbit(field: &dyn VectorField, guess: &PeriodicOrbit, opts: &OrbitOptions) -> Result<Cycle> {
    opts.validate()?;
    let fail = |what: &str| Error::numerical("periodic orbit", format!("Newton on the collocation system did not converge ({what})"));
    let mut orbit = guess.remeshed(guess.mesh.clone(), guess.ncol);
    if orbit.ncol != opts.ncol || orbit.ntst() != opts.ntst {
        orbit = orbit.remeshed(uniform_mesh(opts.ntst), opts.ncol);
    }
    let mut sys = CollocationSystem::new(field, &orbit, None);
    let mut z = sys.pack(&orbit);
    sys.newton(&mut z, None, opts.newton()).ok_or_else(|| fail("first solve"))?;
    for _ in 0..opts.adapt {
        let current = sys.unpack(&z);
        let moved = current.remeshed(adapted_mesh(&current, opts.ntst), opts.ncol);
        let mut sys2 = CollocationSystem::new(field, &moved, None);
        let mut z2 = sys2.pack(&moved);
        if sys2.newton(&mut z2, None, opts.newton()).is_none() {
            break; // keep the solution on the previous mesh
        }
        sys = sys2;
        z = z2;
    }
    let multipliers = Multipliers::from_transitions(&sys.transitions(&z))?;
    Ok(Cycle { orbit: sys.unpack(&z), multipliers })
}

/// `d lambda / d p_k` of the critical eigenvalue along the branch of
/// equilibria: `<p, (dA/dp) q>` with `dA/dp = d/dp J(x(p), p)`,
/// `x_p = -A^{-1} F_p`, by a central difference of the exact Jacobian
/// (step `eps^(1/3) (1 + |p_k|)`; only the predictor of the first cycle uses it).
fn eigenvalue_derivative(field: &dyn VectorField, x: &[f64], p: &[f64], k: usize, q: &[c64], padj: &[c64]) -> Option<c64> {
    use faer::linalg::solvers::Solve;
    let n = x.len();
    let mut a = Mat::<f64>::zeros(n, n);
    field.jacobian(x, p, a.as_mut());
    let mut fp = vec![0.0; n];
    field.param_derivative(x, p, k, &mut fp);
    let mut xp = Mat::<f64>::from_fn(n, 1, |i, _| -fp[i]);
    a.partial_piv_lu().solve_in_place(xp.as_mut());
    let h = f64::EPSILON.cbrt() * (1.0 + p[k].abs());
    let mut jd = Mat::<f64>::zeros(n, n);
    for (sign, c) in [(1.0, 0.5 / h), (-1.0, -0.5 / h)] {
        let xs: Vec<f64> = (0..n).map(|i| x[i] + sign * h * xp[(i, 0)]).collect();
        let mut ps = p.to_vec();
        ps[k] += sign * h;
        let mut j = Mat::<f64>::zeros(n, n);
        field.jacobian(&xs, &ps, j.as_mut());
        jd += c * &j;
    }
    let aq: Vec<c64> = (0..n).map(|i| (0..n).map(|j| q[j] * jd[(i, j)]).sum()).collect();
    let d: c64 = padj.iter().zip(&aq).map(|(p, v)| p.conj() * v).sum();
    (d.re.is_finite() && d.im.is_finite()).then_some(d)
}

/// A first orbit near the Hopf point `(x0, p)` (frequency `omega`) for
/// continuation in parameter `k`: the stationary orbit `U = x0`,
/// `T = 2 pi / omega`, the unit direction (in the node-weighted norm) of the
/// emerging cycle `sqrt(2) Re(q e^{2 pi i tau})`, and the parameter shift
/// per unit arclength squared predicted by the normal form,
/// `p - p0 = -l1 omega eps^2 / Re(lambda')` for the amplitude `eps` of
/// `x = x0 + 2 Re(eps q e^{i omega t})` (zero if `l1` or `lambda'` is not available).
pub struct HopfStart {
    pub stationary: PeriodicOrbit,
    /// Node values of the direction (same mesh).
    pub direction: Vec<f64>,
    /// `dp / ds^2` of the predictor (`ds` the arclength in the node-weighted norm).
    pub param_curvature: f64,
    /// First Lyapunov coefficient, if computed.
    pub l1: Option<f64>,
}

pub fn hopf_start(field: &dyn VectorField, x0: &[f64], p: &[f64], k: usize, omega: f64, opts: &OrbitOptions) -> Result<HopfStart> {
    opts.validate()?;
    let n = field.dim();
    if x0.len() != n {
        return Err(Error::invalid("x0", format!("{x0:?}"), format!("{n} values")));
    }
    if !(omega > 0.0 && omega.is_finite()) {
        return Err(Error::invalid("omega", omega, "> 0 (the Hopf frequency)"));
    }
    let nf = first_lyapunov_coefficient(field, x0, p, omega)?;
    let mesh = uniform_mesh(opts.ntst);
    let n_nodes = opts.ntst * opts.ncol + 1;
    let stationary = PeriodicOrbit {
        dim: n,
        ncol: opts.ncol,
        mesh,
        nodes: (0..n_nodes).flat_map(|_| x0.iter().copied()).collect(),
        period: 2.0 * std::f64::consts::PI / omega,
        params: p.to_vec(),
    };
    let mut direction = vec![0.0; n_nodes * n];
    for g in 0..n_nodes {
        let tau = stationary.node_time(g);
        let e = c64::new((2.0 * std::f64::consts::PI * tau).cos(), (2.0 * std::f64::consts::PI * tau).sin());
        for i in 0..n {
            direction[g * n + i] = std::f64::consts::SQRT_2 * (nf.q[i] * e).re;
        }
    }
    // ds d = 2 eps Re(q e^{...}) with d = sqrt(2) Re(...): eps = ds / sqrt(2).
    let dl = eigenvalue_derivative(field, x0, p, k, &nf.q, &nf.p);
    let param_curvature = match dl {
        Some(d) if d.re.abs() > 1e-12 => -nf.l1 * omega * 0.5 / d.re,
        _ => 0.0,
    };
    Ok(HopfStart { stationary, direction, param_curvature, l1: Some(nf.l1) })
}

/// A first orbit from a trajectory: integrate from `x0` for `transient`
/// time units, then follow the solution from that point `x_a` until it
/// crosses the hyperplane through `x_a` normal to `F(x_a)` again in the
/// same direction (DOP853 with dense output, the crossing located by
/// bisection to `1e-12` relative in time). That return time is the period
/// guess; the orbit is sampled at the nodes of a uniform mesh by a second
/// integration. Fails if no return is found within `max_time`.
pub fn orbit_from_trajectory(
    field: &dyn VectorField,
    x0: &[f64],
    p: &[f64],
    transient: f64,
    max_time: f64,
    opts: &OrbitOptions,
) -> Result<PeriodicOrbit> {
    opts.validate()?;
    let n = field.dim();
    if x0.len() != n || x0.iter().any(|v| !v.is_finite()) {
        return Err(Error::invalid("x0", format!("{x0:?}"), format!("{n} finite values")));
    }
    let io = |t_max: f64, grid: Grid| IntegrateOptions { method: Method::Auto, rtol: 1e-10, atol: 1e-12, t_max, grid, ..IntegrateOptions::default() };
    let xa = if transient > 0.0 {
        integrate(field, x0, p, &io(transient, Grid::Times(vec![transient])))?.states.pop().expect("one output")
    } else {
        x0.to_vec()
    };
    let mut fa = vec![0.0; n];
    field.rhs(&xa, p, &mut fa);
    if fa.iter().all(|v| *v == 0.0) {
        return Err(Error::numerical("orbit from trajectory", "the trajectory ended on an equilibrium"));
    }
    let g = |x: &[f64]| -> f64 { fa.iter().zip(x.iter().zip(&xa)).map(|(f, (a, b))| f * (a - b)).sum() };
    let mut st = ExplicitStepper::new(Pair::Dop853, field, p, 0.0, &xa, 1e-11, 1e-13, f64::INFINITY, 0.0);
    let mut was_negative = false;
    let mut g_old = 0.0;
    let mut period = None;
    let mut buf = vec![0.0; n];
    for _ in 0..2_000_000 {
        if st.t >= max_time {
            break;
        }
        let (att, _) = st.attempt(field, p, max_time);
        match att {
            Attempt::Accepted => {}
            Attempt::Rejected => continue,
            Attempt::NonFinite => return Err(Error::numerical("orbit from trajectory", "non-finite state")),
        }
        let g_new = g(&st.y);
        if was_negative && g_old < 0.0 && g_new >= 0.0 {
            st.prepare_dense(field, p);
            let (mut a, mut b) = (st.t_old, st.t);
            for _ in 0..200 {
                let mid = 0.5 * (a + b);
                st.dense(mid, &mut buf);
                if g(&buf) < 0.0 {
                    a = mid;
                } else {
                    b = mid;
                }
                if b - a <= 1e-12 * b {
                    break;
                }
            }
            period = Some(0.5 * (a + b));
            break;
        }
        if g_new < 0.0 {
            was_negative = true;
        }
        g_old = g_new;
    }
    let period = period.ok_or_else(|| {
        Error::numerical("orbit from trajectory", format!("no return to the Poincaré section within t = {max_time}"))
    })?;
    let mesh = uniform_mesh(opts.ntst);
    let n_nodes = opts.ntst * opts.ncol + 1;
    let mut orbit = PeriodicOrbit { dim: n, ncol: opts.ncol, mesh, nodes: Vec::new(), period, params: p.to_vec() };
    let times: Vec<f64> = (0..n_nodes).map(|g| orbit.node_time(g) * period).collect();
    let tr = integrate(field, &xa, p, &io(period, Grid::Times(times)))?;
    orbit.nodes = tr.states.into_iter().flatten().collect();
    Ok(orbit)
}
