//! Tests of the generic analysis core (integration, Newton, stability, fixed
//! points) on small native vector fields with closed-form answers.
use faer::MatMut;
use repcollapse::engine::grid_times;
use repcollapse::engine::right_kernel;
use repcollapse::engine::{
    classify, find_fixed_points, fixed_points_json, integrate, newton_polish, FixedPointOptions, Grid,
    IntegrateOptions, Invariant, InvariantKind, Method, NewtonOptions, Stability, StabilityOptions, VectorField,
};
use repcollapse::Error;

type Rhs = fn(&[f64], &[f64], &mut [f64]);
type Jac = fn(&[f64], &[f64], MatMut<'_, f64>);
type Inv = fn(&[f64]) -> Vec<Invariant>;

/// A vector field from plain functions.
struct Native {
    name: &'static str,
    states: &'static [&'static str],
    params: &'static [&'static str],
    p: &'static [f64],
    x0: &'static [f64],
    rhs: Rhs,
    jac: Jac,
    inv: Inv,
    observables: &'static [&'static str],
    obs: fn(&[f64], &mut [f64]),
}

fn no_invariants(_: &[f64]) -> Vec<Invariant> {
    Vec::new()
}
fn no_obs(_: &[f64], _: &mut [f64]) {}

impl Native {
    fn new(name: &'static str, states: &'static [&'static str], rhs: Rhs, jac: Jac) -> Self {
        Native {
            name,
            states,
            params: &[],
            p: &[],
            x0: &[],
            rhs,
            jac,
            inv: no_invariants,
            observables: &[],
            obs: no_obs,
        }
    }
}

impl VectorField for Native {
    fn name(&self) -> &str {
        self.name
    }
    fn dim(&self) -> usize {
        self.states.len()
    }
    fn state_names(&self) -> Vec<String> {
        self.states.iter().map(|s| s.to_string()).collect()
    }
    fn param_names(&self) -> Vec<String> {
        self.params.iter().map(|s| s.to_string()).collect()
    }
    fn default_params(&self) -> Vec<f64> {
        self.p.to_vec()
    }
    fn initial_state(&self) -> Vec<f64> {
        if self.x0.is_empty() { vec![0.5; self.dim()] } else { self.x0.to_vec() }
    }
    fn rhs(&self, x: &[f64], p: &[f64], out: &mut [f64]) {
        (self.rhs)(x, p, out)
    }
    fn jacobian(&self, x: &[f64], p: &[f64], jac: MatMut<'_, f64>) {
        (self.jac)(x, p, jac)
    }
    fn param_derivative(&self, _x: &[f64], _p: &[f64], _k: usize, out: &mut [f64]) {
        out.fill(0.0);
    }
    fn observable_names(&self) -> Vec<String> {
        self.observables.iter().map(|s| s.to_string()).collect()
    }
    fn observables(&self, x: &[f64], _p: &[f64], out: &mut [f64]) {
        (self.obs)(x, out)
    }
    fn invariants(&self, x: &[f64], _p: &[f64]) -> Vec<Invariant> {
        (self.inv)(x)
    }
}

// ---------------------------------------------------------------- fields

/// x' = A x with A = [[-0.3, 2], [-2, -0.3]]:
/// x(t) = e^{-0.3 t} R(t) x0, R(t) = [[cos 2t, sin 2t], [-sin 2t, cos 2t]].
fn spiral() -> Native {
    fn rhs(x: &[f64], _: &[f64], o: &mut [f64]) {
        o[0] = -0.3 * x[0] + 2.0 * x[1];
        o[1] = -2.0 * x[0] - 0.3 * x[1];
    }
    fn jac(_: &[f64], _: &[f64], mut j: MatMut<'_, f64>) {
        j[(0, 0)] = -0.3;
        j[(0, 1)] = 2.0;
        j[(1, 0)] = -2.0;
        j[(1, 1)] = -0.3;
    }
    Native::new("spiral", &["u", "v"], rhs, jac)
}

fn spiral_exact(t: f64, x0: [f64; 2]) -> [f64; 2] {
    let (s, c) = (2.0 * t).sin_cos();
    let e = (-0.3 * t).exp();
    [e * (c * x0[0] + s * x0[1]), e * (-s * x0[0] + c * x0[1])]
}

/// Non-normal x' = A x, A = [[-1, 1, 0], [0, -1, 0], [0, 0, 0.3]] (Jordan
/// block): x1 = e^{-t}(x1_0 + t x2_0), x2 = e^{-t} x2_0, x3 = e^{0.3 t} x3_0.
fn jordan() -> Native {
    fn rhs(x: &[f64], _: &[f64], o: &mut [f64]) {
        o[0] = -x[0] + x[1];
        o[1] = -x[1];
        o[2] = 0.3 * x[2];
    }
    fn jac(_: &[f64], _: &[f64], mut j: MatMut<'_, f64>) {
        j.fill(0.0);
        j[(0, 0)] = -1.0;
        j[(0, 1)] = 1.0;
        j[(1, 1)] = -1.0;
        j[(2, 2)] = 0.3;
    }
    Native::new("jordan", &["a", "b", "c"], rhs, jac)
}

/// Logistic x' = r x (1 - x / K), parameters (r, K).
fn logistic() -> Native {
    fn rhs(x: &[f64], p: &[f64], o: &mut [f64]) {
        o[0] = p[0] * x[0] * (1.0 - x[0] / p[1]);
    }
    fn jac(x: &[f64], p: &[f64], mut j: MatMut<'_, f64>) {
        j[(0, 0)] = p[0] * (1.0 - 2.0 * x[0] / p[1]);
    }
    let mut f = Native::new("logistic", &["n"], rhs, jac);
    f.params = &["r", "K"];
    f.p = &[1.3, 2.5];
    f
}

fn logistic_exact(t: f64, x0: f64, r: f64, k: f64) -> f64 {
    let e = (r * t).exp();
    k * x0 * e / (k + x0 * (e - 1.0))
}

/// x' = x^2: x(t) = x0 / (1 - x0 t), blows up at t = 1/x0.
fn blowup() -> Native {
    fn rhs(x: &[f64], _: &[f64], o: &mut [f64]) {
        o[0] = x[0] * x[0];
    }
    fn jac(x: &[f64], _: &[f64], mut j: MatMut<'_, f64>) {
        j[(0, 0)] = 2.0 * x[0];
    }
    Native::new("blowup", &["x"], rhs, jac)
}

/// Pitchfork x' = mu x - x^3 with observable x^2.
fn pitchfork() -> Native {
    fn rhs(x: &[f64], p: &[f64], o: &mut [f64]) {
        o[0] = p[0] * x[0] - x[0].powi(3);
    }
    fn jac(x: &[f64], p: &[f64], mut j: MatMut<'_, f64>) {
        j[(0, 0)] = p[0] - 3.0 * x[0] * x[0];
    }
    fn obs(x: &[f64], o: &mut [f64]) {
        o[0] = x[0] * x[0];
    }
    let mut f = Native::new("pitchfork", &["x"], rhs, jac);
    f.params = &["mu"];
    f.p = &[1.0];
    f.observables = &["x_squared"];
    f.obs = obs;
    f
}

/// F(x, y) = (1 - x^2 - y^2) (x, y): unstable origin and a circle of fixed
/// points r = 1 with transverse eigenvalue -2; no invariants declared.
fn circle() -> Native {
    fn rhs(x: &[f64], _: &[f64], o: &mut [f64]) {
        let g = 1.0 - x[0] * x[0] - x[1] * x[1];
        o[0] = g * x[0];
        o[1] = g * x[1];
    }
    fn jac(x: &[f64], _: &[f64], mut j: MatMut<'_, f64>) {
        let g = 1.0 - x[0] * x[0] - x[1] * x[1];
        j[(0, 0)] = g - 2.0 * x[0] * x[0];
        j[(0, 1)] = -2.0 * x[0] * x[1];
        j[(1, 0)] = -2.0 * x[0] * x[1];
        j[(1, 1)] = g - 2.0 * x[1] * x[1];
    }
    Native::new("circle", &["x", "y"], rhs, jac)
}

/// x' = y - x, y' = x - y: conserved x + y, line of fixed points x = y with
/// transverse eigenvalue -2.
fn exchange(inv: Inv) -> Native {
    fn rhs(x: &[f64], _: &[f64], o: &mut [f64]) {
        o[0] = x[1] - x[0];
        o[1] = x[0] - x[1];
    }
    fn jac(_: &[f64], _: &[f64], mut j: MatMut<'_, f64>) {
        j[(0, 0)] = -1.0;
        j[(0, 1)] = 1.0;
        j[(1, 0)] = 1.0;
        j[(1, 1)] = -1.0;
    }
    let mut f = Native::new("exchange", &["x", "y"], rhs, jac);
    f.x0 = &[0.2, 1.4];
    f.inv = inv;
    f
}

fn conserved_total(_: &[f64]) -> Vec<Invariant> {
    vec![Invariant { name: "total x + y".into(), kind: InvariantKind::Conservation, vector: vec![1.0, 1.0] }]
}

fn linear_system(a: [[f64; 2]; 2]) -> impl Fn(&[f64]) -> [f64; 2] {
    move |x| [a[0][0] * x[0] + a[0][1] * x[1], a[1][0] * x[0] + a[1][1] * x[1]]
}

fn opts(method: Method, rtol: f64, t_max: f64, grid: Grid) -> IntegrateOptions {
    IntegrateOptions { method, rtol, atol: rtol * 1e-2, t_max, grid, max_steps: 1_000_000, max_seconds: f64::INFINITY }
}

// ---------------------------------------------------------------- integration

#[test]
fn linear_spiral_matches_matrix_exponential() {
    let f = spiral();
    let x0 = [1.0, -0.5];
    for method in [Method::Dopri5, Method::Dop853] {
        let traj = integrate(&f, &x0, &[], &opts(method, 1e-10, 10.0, Grid::Linear { points: 41 })).unwrap();
        assert_eq!(traj.t.len(), 41);
        let err = traj
            .t
            .iter()
            .zip(&traj.states)
            .map(|(&t, x)| {
                let e = spiral_exact(t, x0);
                (x[0] - e[0]).abs().max((x[1] - e[1]).abs())
            })
            .fold(0.0, f64::max);
        assert!(err < 1e-8, "{method:?}: max error {err:e}");
    }
}

#[test]
fn jordan_block_matches_closed_form() {
    let f = jordan();
    let x0 = [0.3, -1.2, 0.7];
    let traj = integrate(&f, &x0, &[], &opts(Method::Dop853, 1e-10, 5.0, Grid::Linear { points: 11 })).unwrap();
    for (&t, x) in traj.t.iter().zip(&traj.states) {
        let e = (-t).exp();
        let exact = [e * (x0[0] + t * x0[1]), e * x0[1], (0.3 * t).exp() * x0[2]];
        for i in 0..3 {
            assert!((x[i] - exact[i]).abs() < 1e-8 * exact[i].abs().max(1.0), "t={t} i={i}: {} vs {}", x[i], exact[i]);
        }
    }
}

#[test]
fn logistic_matches_closed_form_on_log_grid() {
    let f = logistic();
    let (r, k) = (1.3, 2.5);
    let x0 = 0.01;
    let grid = Grid::Log { t_min: 1e-3, points: 30 };
    for method in [Method::Dopri5, Method::Dop853] {
        let traj = integrate(&f, &[x0], &[r, k], &opts(method, 1e-10, 20.0, grid.clone())).unwrap();
        assert_eq!(traj.t[0], 0.0);
        assert_eq!(traj.states[0], vec![x0]);
        for (&t, x) in traj.t.iter().zip(&traj.states) {
            let e = logistic_exact(t, x0, r, k);
            assert!((x[0] - e).abs() < 1e-8 * e.max(1e-2), "{method:?} t={t}: {} vs {e}", x[0]);
        }
        // Near saturation at t = 20.
        assert!((traj.last().unwrap()[0] - k).abs() < 1e-7);
    }
}

#[test]
fn dop853_and_dopri5_agree_and_converge_with_tolerance() {
    let f = spiral();
    let x0 = [0.4, 0.9];
    let grid = Grid::Times(vec![0.0, 0.5, 3.0, 7.25]);
    let hi = integrate(&f, &x0, &[], &opts(Method::Dop853, 1e-12, 7.25, grid.clone())).unwrap();
    let lo = integrate(&f, &x0, &[], &opts(Method::Dopri5, 1e-11, 7.25, grid.clone())).unwrap();
    let coarse = integrate(&f, &x0, &[], &opts(Method::Dopri5, 1e-4, 7.25, grid)).unwrap();
    let exact = spiral_exact(7.25, x0);
    let err = |x: &[f64]| (x[0] - exact[0]).abs().max((x[1] - exact[1]).abs());
    let (e_hi, e_lo, e_coarse) = (err(hi.last().unwrap()), err(lo.last().unwrap()), err(coarse.last().unwrap()));
    assert!(e_hi < 1e-10, "dop853 error {e_hi:e}");
    assert!(e_lo < 1e-9, "dopri5 error {e_lo:e}");
    // The loose run is measurably worse: tolerance is actually honoured.
    assert!(e_coarse > 10.0 * e_lo, "coarse {e_coarse:e} vs tight {e_lo:e}");
    for (a, b) in hi.states.iter().zip(&lo.states) {
        assert!((a[0] - b[0]).abs() < 1e-9 && (a[1] - b[1]).abs() < 1e-9);
    }
}

#[test]
fn output_is_exactly_on_the_requested_grid() {
    let f = spiral();
    let times = vec![0.0, 1e-6, 0.1, 0.1, 0.3333333333333333, 2.0, 2.0 + 0.5_f64.sqrt(), 4.0];
    let traj = integrate(&f, &[1.0, 0.0], &[], &opts(Method::Dopri5, 1e-10, 4.0, Grid::Times(times.clone()))).unwrap();
    assert_eq!(traj.t, times);
    for (&t, x) in traj.t.iter().zip(&traj.states) {
        let e = spiral_exact(t, [1.0, 0.0]);
        assert!((x[0] - e[0]).abs() < 1e-9 && (x[1] - e[1]).abs() < 1e-9, "t={t}");
    }
    // Repeated time gives the identical state.
    assert_eq!(traj.states[2], traj.states[3]);

    let lin = grid_times(&Grid::Linear { points: 7 }, 3.3).unwrap();
    assert_eq!(lin.len(), 7);
    assert_eq!(lin[0], 0.0);
    assert_eq!(lin[6], 3.3);
    for (k, t) in lin.iter().enumerate() {
        assert!((t - 3.3 * k as f64 / 6.0).abs() < 1e-15);
    }
    let log = grid_times(&Grid::Log { t_min: 0.01, points: 5 }, 100.0).unwrap();
    assert_eq!(log.len(), 6);
    assert_eq!((log[0], log[1], log[5]), (0.0, 0.01, 100.0));
    assert!((log[3] - 1.0).abs() < 1e-12);

    // CSV and component access.
    let traj = integrate(&f, &[1.0, 0.0], &[], &opts(Method::Dopri5, 1e-8, 1.0, Grid::Linear { points: 3 })).unwrap();
    let csv = traj.to_csv();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "t,u,v");
    assert_eq!(lines.len(), 4);
    let row: Vec<f64> = lines[2].split(',').map(|s| s.parse().unwrap()).collect();
    assert_eq!(row, vec![0.5, traj.states[1][0], traj.states[1][1]]);
    assert_eq!(traj.component("v").unwrap(), traj.states.iter().map(|x| x[1]).collect::<Vec<_>>());
    assert!(traj.component("w").is_none());
}

#[test]
fn invalid_options_are_rejected_with_field_names() {
    let f = spiral();
    let base = opts(Method::Dopri5, 1e-8, 1.0, Grid::Linear { points: 5 });
    let check = |o: IntegrateOptions, field: &str| match integrate(&f, &[1.0, 0.0], &[], &o) {
        Err(Error::InvalidParameter { field: got, .. }) => assert!(got.contains(field), "{got} vs {field}"),
        other => panic!("expected invalid `{field}`, got {other:?}"),
    };
    check(IntegrateOptions { rtol: 0.0, ..base.clone() }, "rtol");
    check(IntegrateOptions { atol: -1.0, ..base.clone() }, "atol");
    check(IntegrateOptions { t_max: 0.0, ..base.clone() }, "t_max");
    check(IntegrateOptions { grid: Grid::Times(vec![0.0, 1.5]), ..base.clone() }, "grid.times[1]");
    check(IntegrateOptions { grid: Grid::Times(vec![0.5, 0.2]), ..base.clone() }, "grid.times[1]");
    check(IntegrateOptions { grid: Grid::Log { t_min: 2.0, points: 4 }, ..base.clone() }, "grid.log.t_min");
    check(IntegrateOptions { grid: Grid::Linear { points: 1 }, ..base.clone() }, "grid.linear.points");
    assert!(matches!(integrate(&f, &[1.0], &[], &base), Err(Error::InvalidParameter { .. })));
}

#[test]
fn finite_time_blowup_is_a_divergence_with_advice() {
    let f = blowup();
    let err = integrate(&f, &[1.0], &[], &opts(Method::Dopri5, 1e-8, 2.0, Grid::Linear { points: 21 })).unwrap_err();
    let Error::Divergence { detail, advice, .. } = &err else { panic!("expected divergence, got {err:?}") };
    assert!(advice.contains("t_max"), "advice: {advice}");
    assert!(advice.contains("blow"), "advice: {advice}");
    // The reported time is the blow-up time t = 1.
    let t: f64 = detail.split("t = ").nth(1).unwrap().split(' ').next().unwrap().parse().unwrap();
    assert!((t - 1.0).abs() < 1e-3, "stopped at t = {t}: {detail}");
    // Before the blow-up the same integration is fine and exact.
    let ok = integrate(&f, &[1.0], &[], &opts(Method::Dopri5, 1e-10, 0.9, Grid::Linear { points: 10 })).unwrap();
    assert!((ok.last().unwrap()[0] - 10.0).abs() < 1e-7);
    // x' = ln x from x = 0.5 reaches x = 0 in finite time, after which F is
    // NaN: the error says the field itself went non-finite.
    fn rhs(x: &[f64], _: &[f64], o: &mut [f64]) {
        o[0] = x[0].ln();
    }
    fn jac(x: &[f64], _: &[f64], mut j: MatMut<'_, f64>) {
        j[(0, 0)] = 1.0 / x[0];
    }
    let g = Native::new("log", &["x"], rhs, jac);
    match integrate(&g, &[0.5], &[], &opts(Method::Dopri5, 1e-8, 5.0, Grid::Linear { points: 6 })) {
        Err(Error::Divergence { detail, advice, .. }) => {
            assert!(detail.contains("non-finite"), "{detail}");
            assert!(advice.contains("domain"), "{advice}");
        }
        other => panic!("expected divergence, got {other:?}"),
    }
    // A tiny step budget is also a divergence, naming max_steps.
    let tight = IntegrateOptions { max_steps: 3, ..opts(Method::Dop853, 1e-10, 0.9, Grid::Linear { points: 2 }) };
    match integrate(&f, &[1.0], &[], &tight) {
        Err(Error::Divergence { advice, .. }) => assert!(advice.contains("max_steps")),
        other => panic!("expected divergence, got {other:?}"),
    }
}

// ---------------------------------------------------------------- Newton

#[test]
fn newton_converges_on_families_and_reports_failure_without_roots() {
    // On the circle family the minimum-norm step goes radially: the polished
    // point is the radial projection of the start.
    let f = circle();
    let out = newton_polish(&f, &[0.9, 0.9], &[], &NewtonOptions::default()).unwrap();
    assert!(out.converged && out.residual_norm <= 1e-11);
    let s = 1.0 / 2.0_f64.sqrt();
    assert!((out.x[0] - s).abs() < 1e-9 && (out.x[1] - s).abs() < 1e-9, "{:?}", out.x);
    // Exact line of fixed points: one step onto x = y, orthogonal projection.
    let g = exchange(no_invariants);
    let out = newton_polish(&g, &[0.2, 1.4], &[], &NewtonOptions::default()).unwrap();
    assert!(out.converged);
    assert!((out.x[0] - 0.8).abs() < 1e-12 && (out.x[1] - 0.8).abs() < 1e-12);
    assert_eq!(out.iterations, 1);
    // x' = x^2 + 1 has no real root: not converged, no panic, finite result.
    fn rhs(x: &[f64], _: &[f64], o: &mut [f64]) {
        o[0] = x[0] * x[0] + 1.0;
    }
    fn jac(x: &[f64], _: &[f64], mut j: MatMut<'_, f64>) {
        j[(0, 0)] = 2.0 * x[0];
    }
    let h = Native::new("noroot", &["x"], rhs, jac);
    let out = newton_polish(&h, &[0.7], &[], &NewtonOptions::default()).unwrap();
    assert!(!out.converged && out.residual_norm >= 1.0 - 1e-12);
}

// ---------------------------------------------------------------- stability

#[test]
fn pitchfork_has_three_fixed_points_with_correct_stability() {
    let f = pitchfork();
    let fps = find_fixed_points(&f, &[1.0], &FixedPointOptions::default()).unwrap();
    let xs: Vec<f64> = fps.iter().map(|p| p.state[0]).collect();
    assert_eq!(xs.len(), 3, "{xs:?}");
    for (x, e) in xs.iter().zip([-1.0, 0.0, 1.0]) {
        assert!((x - e).abs() < 1e-10, "{xs:?}");
    }
    let stab: Vec<Stability> = fps.iter().map(|p| p.report.stability).collect();
    assert_eq!(stab, vec![Stability::StableNode, Stability::UnstableNode, Stability::StableNode]);
    // f'(x) = mu - 3x^2: -2, 1, -2.
    for (p, e) in fps.iter().zip([-2.0, 1.0, -2.0]) {
        assert!((p.report.eigenvalues[0].re - e).abs() < 1e-9);
        assert_eq!(p.report.zero_modes, 0);
        assert_eq!(p.report.family_dimension, 0);
    }
    assert!((fps[0].observables[0] - 1.0).abs() < 1e-9 && fps[1].observables[0].abs() < 1e-12);

    let json = fixed_points_json(&f, &fps);
    let list = json["fixed_points"].as_array().unwrap();
    assert_eq!(list.len(), 3);
    assert_eq!(list[1]["stability"], "unstable-node");
    assert_eq!(list[2]["stability"], "stable-node");
    assert!((list[2]["state"]["x"].as_f64().unwrap() - 1.0).abs() < 1e-10);
    assert!((list[2]["observables"]["x_squared"].as_f64().unwrap() - 1.0).abs() < 1e-9);
    assert!((list[0]["eigenvalues"][0]["re"].as_f64().unwrap() + 2.0).abs() < 1e-9);
    assert_eq!(list[0]["zero_modes"], 0);
    assert_eq!(list[0]["family_dimension"], 0);

    // Deterministic given the seed.
    let again = find_fixed_points(&f, &[1.0], &FixedPointOptions::default()).unwrap();
    assert_eq!(again.iter().map(|p| p.state.clone()).collect::<Vec<_>>(), fps.iter().map(|p| p.state.clone()).collect::<Vec<_>>());

    // Below the bifurcation only the origin remains, stable.
    let fps = find_fixed_points(&f, &[-0.5], &FixedPointOptions::default()).unwrap();
    assert_eq!(fps.len(), 1);
    assert_eq!(fps[0].report.stability, Stability::StableNode);
}

#[test]
fn degenerate_isolated_points_are_marginal_not_families() {
    // At mu = 0 the origin of x' = -x^3 is an isolated point with a zero
    // eigenvalue: the numerical family test must not explain it.
    let f = pitchfork();
    let r = classify(&f, &[0.0], &[0.0], &StabilityOptions::default()).unwrap();
    assert_eq!((r.zero_modes, r.unexplained_zero_modes, r.family_dimension), (1, 1, 0));
    assert_eq!(r.stability, Stability::Marginal);
    // Saddle-node x' = x^2 likewise.
    let r = classify(&blowup(), &[0.0], &[], &StabilityOptions::default()).unwrap();
    assert_eq!((r.zero_modes, r.unexplained_zero_modes), (1, 1));
    assert_eq!(r.stability, Stability::Marginal);
}

#[test]
fn linear_saddle_and_damped_oscillator_focus() {
    // x' = 2x + y, y' = x - y: eigenvalues (1 +- sqrt(13)) / 2.
    fn rhs(x: &[f64], _: &[f64], o: &mut [f64]) {
        let a = linear_system([[2.0, 1.0], [1.0, -1.0]])(x);
        o.copy_from_slice(&a);
    }
    fn jac(_: &[f64], _: &[f64], mut j: MatMut<'_, f64>) {
        j[(0, 0)] = 2.0;
        j[(0, 1)] = 1.0;
        j[(1, 0)] = 1.0;
        j[(1, 1)] = -1.0;
    }
    let saddle = Native::new("saddle", &["x", "y"], rhs, jac);
    let r = classify(&saddle, &[0.0, 0.0], &[], &StabilityOptions::default()).unwrap();
    assert_eq!(r.stability, Stability::Saddle);
    let s13 = 13.0_f64.sqrt();
    assert!((r.eigenvalues[0].re - (1.0 + s13) / 2.0).abs() < 1e-12);
    assert!((r.eigenvalues[1].re - (1.0 - s13) / 2.0).abs() < 1e-12);
    let fps = find_fixed_points(&saddle, &[], &FixedPointOptions::default()).unwrap();
    assert_eq!(fps.len(), 1);
    assert!(fps[0].state.iter().all(|v| v.abs() < 1e-12));

    // x' = v, v' = -x - 0.4 v: eigenvalues -0.2 +- i sqrt(0.96).
    fn rhs2(x: &[f64], _: &[f64], o: &mut [f64]) {
        o[0] = x[1];
        o[1] = -x[0] - 0.4 * x[1];
    }
    fn jac2(_: &[f64], _: &[f64], mut j: MatMut<'_, f64>) {
        j[(0, 0)] = 0.0;
        j[(0, 1)] = 1.0;
        j[(1, 0)] = -1.0;
        j[(1, 1)] = -0.4;
    }
    let osc = Native::new("oscillator", &["x", "v"], rhs2, jac2);
    let r = classify(&osc, &[0.0, 0.0], &[], &StabilityOptions::default()).unwrap();
    assert_eq!(r.stability, Stability::StableFocus);
    assert!((r.eigenvalues[0].re + 0.2).abs() < 1e-12);
    assert!((r.eigenvalues[0].im.abs() - 0.96_f64.sqrt()).abs() < 1e-12);
    // The same oscillator anti-damped is an unstable focus; undamped, a centre
    // (purely imaginary pair) is marginal.
    let spiral_out = spiral(); // eigenvalues -0.3 +- 2i, stable focus
    let r = classify(&spiral_out, &[0.0, 0.0], &[], &StabilityOptions::default()).unwrap();
    assert_eq!(r.stability, Stability::StableFocus);
    fn rhs3(x: &[f64], _: &[f64], o: &mut [f64]) {
        o[0] = x[1];
        o[1] = -x[0];
    }
    fn jac3(_: &[f64], _: &[f64], mut j: MatMut<'_, f64>) {
        j[(0, 0)] = 0.0;
        j[(0, 1)] = 1.0;
        j[(1, 0)] = -1.0;
        j[(1, 1)] = 0.0;
    }
    let centre = Native::new("centre", &["x", "v"], rhs3, jac3);
    let r = classify(&centre, &[0.0, 0.0], &[], &StabilityOptions::default()).unwrap();
    assert_eq!((r.stability, r.zero_modes), (Stability::Marginal, 0));
    fn rhs4(x: &[f64], _: &[f64], o: &mut [f64]) {
        o[0] = x[1];
        o[1] = -x[0] + 0.4 * x[1];
    }
    fn jac4(_: &[f64], _: &[f64], mut j: MatMut<'_, f64>) {
        j[(0, 0)] = 0.0;
        j[(0, 1)] = 1.0;
        j[(1, 0)] = -1.0;
        j[(1, 1)] = 0.4;
    }
    let anti = Native::new("antidamped", &["x", "v"], rhs4, jac4);
    let r = classify(&anti, &[0.0, 0.0], &[], &StabilityOptions::default()).unwrap();
    assert_eq!(r.stability, Stability::UnstableFocus);
}

#[test]
fn circle_of_fixed_points_is_a_stable_family_by_numerical_test() {
    let f = circle();
    let (c, s) = (0.6, 0.8);
    let r = classify(&f, &[c, s], &[], &StabilityOptions::default()).unwrap();
    assert_eq!(r.zero_modes, 1);
    assert_eq!(r.family_dimension, 1);
    assert_eq!(r.unexplained_zero_modes, 0);
    assert_eq!(r.attributed.len(), 1);
    assert_eq!(r.attributed[0].kind, InvariantKind::Symmetry);
    assert_eq!(r.stability, Stability::StableNode);
    assert!((r.eigenvalues[1].re + 2.0).abs() < 1e-12, "{:?}", r.eigenvalues);
    // The kernel is the tangent (-s, c).
    let k = right_kernel(&f, &[c, s], &[], 1e-7).unwrap();
    assert_eq!(k.len(), 1);
    assert!((k[0][0] * c + k[0][1] * s).abs() < 1e-12);

    let fps = find_fixed_points(&f, &[], &FixedPointOptions::default()).unwrap();
    assert_eq!(fps.len(), 2, "{:?}", fps.iter().map(|p| &p.state).collect::<Vec<_>>());
    let origin = fps.iter().find(|p| p.state.iter().all(|v| v.abs() < 1e-12)).expect("origin");
    assert_eq!(origin.report.stability, Stability::UnstableNode);
    let ring = fps.iter().find(|p| p.report.family_dimension == 1).expect("circle representative");
    assert!((ring.state[0].hypot(ring.state[1]) - 1.0).abs() < 1e-10);
    assert_eq!(ring.report.stability, Stability::StableNode);
}

#[test]
fn declared_conservation_law_explains_the_zero_mode_and_merges_the_line() {
    let f = exchange(conserved_total);
    let r = classify(&f, &[0.3, 0.3], &[], &StabilityOptions::default()).unwrap();
    assert_eq!((r.zero_modes, r.unexplained_zero_modes, r.family_dimension), (1, 0, 1));
    assert_eq!(r.attributed.len(), 1);
    assert_eq!(r.attributed[0].name, "total x + y");
    assert_eq!(r.attributed[0].kind, InvariantKind::Conservation);
    assert_eq!(r.stability, Stability::StableNode);
    assert!((r.eigenvalues[1].re + 2.0).abs() < 1e-12);

    let fps = find_fixed_points(&f, &[], &FixedPointOptions::default()).unwrap();
    assert_eq!(fps.len(), 1, "{:?}", fps.iter().map(|p| &p.state).collect::<Vec<_>>());
    assert!((fps[0].state[0] - fps[0].state[1]).abs() < 1e-12);
    assert_eq!(fps[0].report.family_dimension, 1);

    // A wrongly declared law (x - y is not conserved) explains nothing.
    fn wrong(_: &[f64]) -> Vec<Invariant> {
        vec![Invariant { name: "x - y".into(), kind: InvariantKind::Conservation, vector: vec![1.0, -1.0] }]
    }
    let r = classify(&exchange(wrong), &[0.3, 0.3], &[], &StabilityOptions::default()).unwrap();
    assert_eq!((r.zero_modes, r.unexplained_zero_modes, r.family_dimension), (1, 1, 0));
    assert_eq!(r.stability, Stability::Marginal);
    assert!(r.attributed.is_empty());

    // Conservation of x + y and translation along (1, 1) explain the SAME
    // mode: it must not be counted twice.
    fn both(_: &[f64]) -> Vec<Invariant> {
        vec![
            Invariant { name: "translation".into(), kind: InvariantKind::Symmetry, vector: vec![1.0, 1.0] },
            Invariant { name: "total".into(), kind: InvariantKind::Conservation, vector: vec![2.0, 2.0] },
        ]
    }
    let r = classify(&exchange(both), &[0.3, 0.3], &[], &StabilityOptions::default()).unwrap();
    assert_eq!((r.zero_modes, r.unexplained_zero_modes, r.family_dimension), (1, 0, 1));
    assert_eq!(r.attributed.len(), 1);
    assert_eq!(r.attributed[0].name, "total");
}

#[test]
fn independent_conservation_and_symmetry_explain_two_modes() {
    // F = (0, (1 - y^2 - z^2) y, (1 - y^2 - z^2) z): x conserved, rotation in
    // (y, z); at (0.4, 1, 0) eigenvalues 0, 0, -2.
    fn rhs(x: &[f64], _: &[f64], o: &mut [f64]) {
        let g = 1.0 - x[1] * x[1] - x[2] * x[2];
        o[0] = 0.0;
        o[1] = g * x[1];
        o[2] = g * x[2];
    }
    fn jac(x: &[f64], _: &[f64], mut j: MatMut<'_, f64>) {
        let g = 1.0 - x[1] * x[1] - x[2] * x[2];
        j.fill(0.0);
        j[(1, 1)] = g - 2.0 * x[1] * x[1];
        j[(1, 2)] = -2.0 * x[1] * x[2];
        j[(2, 1)] = -2.0 * x[1] * x[2];
        j[(2, 2)] = g - 2.0 * x[2] * x[2];
    }
    fn inv(x: &[f64]) -> Vec<Invariant> {
        vec![
            Invariant { name: "x".into(), kind: InvariantKind::Conservation, vector: vec![1.0, 0.0, 0.0] },
            Invariant { name: "rotation".into(), kind: InvariantKind::Symmetry, vector: vec![0.0, -x[2], x[1]] },
        ]
    }
    let mut f = Native::new("cylinder", &["x", "y", "z"], rhs, jac);
    f.inv = inv;
    let r = classify(&f, &[0.4, 1.0, 0.0], &[], &StabilityOptions::default()).unwrap();
    assert_eq!((r.zero_modes, r.unexplained_zero_modes, r.family_dimension), (2, 0, 2));
    assert_eq!(r.stability, Stability::StableNode);
    // Declaring only the conservation law leaves the rotation mode unexplained.
    fn only_x(_: &[f64]) -> Vec<Invariant> {
        vec![Invariant { name: "x".into(), kind: InvariantKind::Conservation, vector: vec![1.0, 0.0, 0.0] }]
    }
    f.inv = only_x;
    let r = classify(&f, &[0.4, 1.0, 0.0], &[], &StabilityOptions::default()).unwrap();
    assert_eq!((r.zero_modes, r.unexplained_zero_modes, r.family_dimension), (2, 1, 1));
    assert_eq!(r.stability, Stability::Marginal);
}

#[test]
fn fixed_point_options_are_validated() {
    let f = pitchfork();
    let bad = |o: FixedPointOptions, field: &str| match find_fixed_points(&f, &[1.0], &o) {
        Err(Error::InvalidParameter { field: got, .. }) => assert!(got.contains(field), "{got}"),
        other => panic!("expected invalid {field}, got {:?}", other.map(|v| v.len())),
    };
    bad(FixedPointOptions { tol: 0.0, ..Default::default() }, "tol");
    bad(FixedPointOptions { bounds: vec![(1.0, -1.0)], ..Default::default() }, "bounds[0]");
    bad(FixedPointOptions { bounds: vec![(0.0, 1.0); 2], ..Default::default() }, "bounds");
    assert!(matches!(find_fixed_points(&f, &[], &FixedPointOptions::default()), Err(Error::InvalidParameter { .. })));
}
