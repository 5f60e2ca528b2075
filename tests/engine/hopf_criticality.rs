//! First Lyapunov coefficient at Hopf points (`engine::cycles::lyapunov`)
//! against closed forms, with exact symbolic derivatives (model files) and
//! with the finite-difference defaults of `VectorField`.
use faer::MatMut;
use repcollapse::engine::{first_lyapunov_coefficient, Criticality};
use repcollapse::engine::VectorField;
use repcollapse::symbolic::SymbolicModel;

/// Delegates everything to the wrapped field except the higher
/// derivatives, so the finite-difference defaults of the trait are used.
struct DifferencesOnly<'a>(&'a dyn VectorField);

impl VectorField for DifferencesOnly<'_> {
    fn name(&self) -> &str {
        self.0.name()
    }
    fn dim(&self) -> usize {
        self.0.dim()
    }
    fn state_names(&self) -> Vec<String> {
        self.0.state_names()
    }
    fn param_names(&self) -> Vec<String> {
        self.0.param_names()
    }
    fn default_params(&self) -> Vec<f64> {
        self.0.default_params()
    }
    fn initial_state(&self) -> Vec<f64> {
        self.0.initial_state()
    }
    fn rhs(&self, x: &[f64], p: &[f64], out: &mut [f64]) {
        self.0.rhs(x, p, out)
    }
    fn jacobian(&self, x: &[f64], p: &[f64], jac: MatMut<'_, f64>) {
        self.0.jacobian(x, p, jac)
    }
    fn param_derivative(&self, x: &[f64], p: &[f64], k: usize, out: &mut [f64]) {
        self.0.param_derivative(x, p, k, out)
    }
}

fn model(text: &str) -> SymbolicModel {
    SymbolicModel::from_toml_str(text, "test").unwrap()
}

#[test]
fn bautin_normal_form_l1_is_twice_p2() {
    // In z = (x + i y)/sqrt(2)-coordinates scaled so that x = 2 Re(z q) with
    // q = (1, -i)/sqrt(2), |x|^2 = 2|z|^2 and the cubic term p2 x |x|^2 is
    // z' = ... + 2 p2 z|z|^2: c1 = 2 p2, omega = 1, so l1 = Re(c1)/omega = 2 p2.
    let m = crate::normal_forms::bautin(0.5);
    assert!(m.exact_higher_derivatives());
    for p2 in [-1.3, -0.2, 0.05, 0.7, 2.0] {
        let p = [0.0, p2];
        let nf = first_lyapunov_coefficient(&m, &[0.0, 0.0], &p, 1.0).unwrap();
        // Exact derivatives: only round-off in the SVDs and solves (1e-13 relative).
        assert!((nf.l1 - 2.0 * p2).abs() < 1e-12 * (1.0 + p2.abs()), "p2 = {p2}: l1 = {}", nf.l1);
        let expect = if p2 < 0.0 { Criticality::Supercritical } else { Criticality::Subcritical };
        assert_eq!(nf.criticality(), expect);
        // Finite differences of the exact Jacobian: C has relative error ~ eps^(1/2) at unit scale.
        let fd = first_lyapunov_coefficient(&DifferencesOnly(&m), &[0.0, 0.0], &p, 1.0).unwrap();
        assert!(!fd.exact);
        assert!((fd.l1 - 2.0 * p2).abs() < 1e-6 * (1.0 + p2.abs()), "p2 = {p2}: FD l1 = {}", fd.l1);
    }
    // The Bautin point itself: l1 = 0 at p2 = 0.
    let nf = first_lyapunov_coefficient(&m, &[0.0, 0.0], &[0.0, 0.0], 1.0).unwrap();
    assert!(nf.l1.abs() < 1e-14);
    assert_eq!(nf.criticality(), Criticality::Degenerate);
}

/// Guckenheimer & Holmes, *Nonlinear Oscillations...* (1983), eq. (3.4.11):
/// for `x' = -w y + f(x, y)`, `y' = w x + g(x, y)` the cubic coefficient of
/// `r' = a r^3` is
/// `16 a = f_xxx + f_xyy + g_xxy + g_yyy + [f_xy (f_xx + f_yy) - g_xy (g_xx + g_yy) - f_xx g_xx + f_yy g_yy] / w`.
/// With `x = 2 Re(z q)`, `|x|^2 = 2 |z|^2`, so `Re c1 = 2 a` and `l1 = 2 a / w`.
#[test]
fn planar_quadratic_cubic_system_matches_guckenheimer_holmes() {
    let w = 1.7;
    let (a20, a11, a02, a30, a21, a12, a03) = (0.3, -0.8, 0.45, -0.25, 0.6, 0.15, -0.4);
    let (b20, b11, b02, b30, b21, b12, b03) = (-0.55, 0.35, 0.9, 0.2, -0.35, 0.7, 0.1);
    let text = format!(
        r#"
name = "planar"
[parameters]
w = {w}
[state]
x = 0.0
y = 0.0
[equations]
x = "-w*y + {a20}*x^2 + {a11}*x*y + {a02}*y^2 + {a30}*x^3 + {a21}*x^2*y + {a12}*x*y^2 + {a03}*y^3"
y = "w*x + {b20}*x^2 + {b11}*x*y + {b02}*y^2 + {b30}*x^3 + {b21}*x^2*y + {b12}*x*y^2 + {b03}*y^3"
"#
    );
    let m = model(&text);
    let (fxx, fxy, fyy, fxxx, fxyy) = (2.0 * a20, a11, 2.0 * a02, 6.0 * a30, 2.0 * a12);
    let (gxx, gxy, gyy, gxxy, gyyy) = (2.0 * b20, b11, 2.0 * b02, 2.0 * b21, 6.0 * b03);
    let a = (fxxx + fxyy + gxxy + gyyy + (fxy * (fxx + fyy) - gxy * (gxx + gyy) - fxx * gxx + fyy * gyy) / w) / 16.0;
    let expect = 2.0 * a / w;
    let nf = first_lyapunov_coefficient(&m, &[0.0, 0.0], &[w], w).unwrap();
    assert!((nf.l1 - expect).abs() < 1e-12, "l1 = {}, Guckenheimer-Holmes {expect}", nf.l1);
    let fd = first_lyapunov_coefficient(&DifferencesOnly(&m), &[0.0, 0.0], &[w], w).unwrap();
    assert!((fd.l1 - expect).abs() < 1e-6, "FD l1 = {}, expected {expect}", fd.l1);
}

/// `x' = -w y + a x z`, `y' = w x`, `z' = -lam z + b (x^2 + y^2)`: the centre
/// manifold is `z = (b/lam)(x^2 + y^2) + O(4)` (`x^2 + y^2` is invariant under
/// the linear rotation), so the reduced field is `x' = -w y + (a b/lam) x r^2`,
/// `a_GH = a b / (2 lam)` and `l1 = 2 a_GH / w = a b / (lam w)`. The whole
/// coefficient comes from the `B(q, A^{-1} B(q, conj q))` term of the formula.
#[test]
fn three_dimensional_centre_manifold_example() {
    let (w, a, b, lam) = (0.8, 1.5, -0.7, 2.5);
    let text = format!(
        r#"
name = "cm3"
[parameters]
w = {w}
[state]
x = 0.0
y = 0.0
z = 0.0
[equations]
x = "-w*y + {a}*x*z"
y = "w*x"
z = "-{lam}*z + {b}*(x^2 + y^2)"
"#
    );
    let m = model(&text);
    let expect = a * b / (lam * w);
    let nf = first_lyapunov_coefficient(&m, &[0.0; 3], &[w], w).unwrap();
    assert!((nf.l1 - expect).abs() < 1e-12, "l1 = {}, expected {expect}", nf.l1);
    assert_eq!(nf.criticality(), Criticality::Supercritical);
    let fd = first_lyapunov_coefficient(&DifferencesOnly(&m), &[0.0; 3], &[w], w).unwrap();
    assert!((fd.l1 - expect).abs() < 1e-6, "FD l1 = {}", fd.l1);
}

/// The exact higher derivatives agree with differences of the exact
/// Jacobian at a generic point of a transcendental model (exp, division).
#[test]
fn symbolic_b_and_c_agree_with_differences() {
    let m = SymbolicModel::from_path(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/models/ab.toml")).unwrap();
    let x = [0.3, 1.1];
    let p = m.default_params();
    let (u, v, w) = ([0.7, -0.4], [0.2, 0.9], [-0.5, 0.3]);
    let (mut e, mut d) = ([0.0; 2], [0.0; 2]);
    m.second_derivative(&x, &p, &u, &v, &mut e);
    DifferencesOnly(&m).second_derivative(&x, &p, &u, &v, &mut d);
    for i in 0..2 {
        // eps^(2/3) relative error of the central difference, times |B| ~ 10.
        assert!((e[i] - d[i]).abs() < 1e-8 * (1.0 + e[i].abs()), "B_{i}: {} vs {}", e[i], d[i]);
    }
    // Symmetry of B.
    let mut s = [0.0; 2];
    m.second_derivative(&x, &p, &v, &u, &mut s);
    assert!((s[0] - e[0]).abs() < 1e-12 * (1.0 + e[0].abs()) && (s[1] - e[1]).abs() < 1e-12 * (1.0 + e[1].abs()));
    m.third_derivative(&x, &p, &u, &v, &w, &mut e);
    DifferencesOnly(&m).third_derivative(&x, &p, &u, &v, &w, &mut d);
    for i in 0..2 {
        // eps^(1/2) relative error of the second difference.
        assert!((e[i] - d[i]).abs() < 1e-5 * (1.0 + e[i].abs()), "C_{i}: {} vs {}", e[i], d[i]);
    }
}

/// A real pair `mu + 1`, `mu - 1` sums to zero at `mu = 0` (a neutral
/// saddle: the Hopf test function vanishes but no cycle is born), and the
/// pair `mu - 1/2 +- i` crosses the imaginary axis at `mu = 1/2` (a Hopf
/// point with the cubic `-(x3, x4) r^2`, so l1 = -2, supercritical).
#[test]
fn neutral_saddle_is_reported_as_such_and_not_as_hopf() {
    use repcollapse::engine::{continue_equilibria, BifurcationKind, ContinuationParams};
    let m = model(
        r#"
name = "neutral-saddle"
[parameters]
mu = -0.8
[state]
x1 = 0.0
x2 = 0.0
x3 = 0.0
x4 = 0.0
[equations]
x1 = "(mu + 1)*x1"
x2 = "(mu - 1)*x2"
x3 = "(mu - 0.5)*x3 - x4 - x3*(x3^2 + x4^2)"
x4 = "x3 + (mu - 0.5)*x4 - x4*(x3^2 + x4^2)"
"#,
    );
    let cp = ContinuationParams::new(0, -0.8, 0.8);
    let r = continue_equilibria(&m, &[0.0; 4], &[-0.8], &cp).unwrap();
    let kinds: Vec<(BifurcationKind, f64)> = r.bifurcations.iter().map(|b| (b.kind, b.param)).collect();
    assert_eq!(kinds.len(), 2, "{kinds:?}");
    let ns = &r.bifurcations[0];
    assert_eq!(ns.kind, BifurcationKind::NeutralSaddle);
    assert!(ns.param.abs() < 1e-8 && ns.frequency.is_none() && ns.lyapunov.is_none());
    let h = &r.bifurcations[1];
    assert_eq!(h.kind, BifurcationKind::Hopf);
    assert!((h.param - 0.5).abs() < 1e-8 && (h.frequency.unwrap() - 1.0).abs() < 1e-8);
    assert!((h.lyapunov.unwrap() + 2.0).abs() < 1e-10, "l1 = {:?}", h.lyapunov);
    assert_eq!(h.criticality(), Some(Criticality::Supercritical));
    let json = r.to_json(&m.state_names(), "mu");
    assert_eq!(json["bifurcations"][0]["kind"], "neutral-saddle");
    assert_eq!(json["bifurcations"][1]["criticality"], "supercritical");
}

/// The Hopf curve of the Bautin normal form is `p1 = 0` with `l1 = 2 p2`:
/// tracing it in `(p1, p2)` passes a generalised Hopf (Bautin) point at the
/// origin, where the criticality flips.
#[test]
fn bautin_point_on_the_hopf_curve() {
    use repcollapse::engine::{continue_boundary, BoundaryParams, Codim2Kind};
    use repcollapse::engine::{continue_equilibria, BifurcationKind, ContinuationParams};
    let m = crate::normal_forms::bautin(0.5);
    let p = [-0.5, -1.0];
    let r = continue_equilibria(&m, &[0.0, 0.0], &p, &ContinuationParams::new(0, -0.5, 0.5)).unwrap();
    let h = r.bifurcations.iter().find(|b| b.kind == BifurcationKind::Hopf).unwrap();
    assert_eq!(h.criticality(), Some(Criticality::Supercritical));
    let mut bp = BoundaryParams::new(0, 1, -1.0, 1.0);
    bp.arclength.ds_max = 0.05;
    let curve = continue_boundary(&m, h, &p, &bp).unwrap();
    let gh: Vec<_> = curve.special_points.iter().filter(|s| s.kind == Codim2Kind::Bautin).collect();
    assert_eq!(gh.len(), 1, "{:?}", curve.special_points);
    // Located by regula falsi on l1 = 2 p2 along the arc (tolerance 1e-10).
    assert!(gh[0].p1.abs() < 1e-9 && gh[0].p2.abs() < 1e-9, "Bautin at ({}, {})", gh[0].p1, gh[0].p2);
    for pt in &curve.points {
        assert!((pt.lyapunov.unwrap() - 2.0 * pt.p2).abs() < 1e-10, "p2 = {}: l1 = {:?}", pt.p2, pt.lyapunov);
    }
    let json = curve.to_json(&m.state_names(), "p1", "p2");
    let first = &json["points"][0];
    assert_eq!(first["criticality"], if curve.points[0].p2 < 0.0 { "supercritical" } else { "subcritical" });
    assert_eq!(json["special_points"][0]["kind"], "bautin");
}
