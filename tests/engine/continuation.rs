//! Continuation, bifurcation location and two-parameter boundaries against
//! closed forms of the reference fields in `engine::examples`.
use repcollapse::engine::{continue_equilibria, BifurcationKind, ContinuationParams, StopReason};
use repcollapse::engine::test_models::{Brusselator, HopfNormalForm, Lorenz, Pitchfork, SaddleNode};

fn kinds(r: &repcollapse::engine::ContinuationResult, k: BifurcationKind) -> Vec<f64> {
    r.bifurcations.iter().filter(|b| b.kind == k).map(|b| b.param).collect()
}

#[test]
fn saddle_node_fold_at_zero_and_stability_flips() {
    // x' = mu - x^2: equilibria x = +-sqrt(mu), fold at mu = 0; the upper
    // branch (x > 0, eigenvalue -2x) is stable, the lower one unstable.
    let mut cp = ContinuationParams::new(0, -1.0, 1.0);
    cp.direction = -1.0;
    let r = continue_equilibria(&SaddleNode, &[1.0], &[1.0], &cp).unwrap();
    let folds = kinds(&r, BifurcationKind::Fold);
    assert_eq!(folds.len(), 1, "{:?}", r.bifurcations);
    assert!(folds[0].abs() < 1e-6, "fold at {}", folds[0]);
    assert!(r.bifurcations.iter().all(|b| b.kind == BifurcationKind::Fold));
    let b = &r.branches[0];
    assert_eq!(b.stop, StopReason::ParameterBound);
    // Ends back at mu = 1 on the lower branch x = -1.
    let last = b.points.last().unwrap();
    assert!((last.param - 1.0).abs() < 1e-12 && (last.state[0] + 1.0).abs() < 1e-8);
    for p in &b.points {
        assert!((p.param - p.state[0] * p.state[0]).abs() < 1e-9);
        if p.state[0] > 1e-6 {
            assert!(p.stable && p.n_unstable == 0);
        } else if p.state[0] < -1e-6 {
            assert!(!p.stable && p.n_unstable == 1);
        }
    }
}

#[test]
fn pitchfork_branch_point_on_trivial_branch() {
    let cp = ContinuationParams::new(0, -1.0, 1.0);
    let r = continue_equilibria(&Pitchfork, &[0.0], &[-1.0], &cp).unwrap();
    let bps = kinds(&r, BifurcationKind::Branch);
    assert_eq!(bps.len(), 1, "{:?}", r.bifurcations);
    assert!(bps[0].abs() < 1e-8, "branch point at {}", bps[0]);
    assert!(kinds(&r, BifurcationKind::Fold).is_empty());
    for p in &r.branches[0].points {
        assert!(p.state[0].abs() < 1e-12);
        assert_eq!(p.n_unstable, usize::from(p.param > 1e-9));
    }
}

#[test]
fn hopf_normal_form_hopf_at_zero_with_unit_frequency() {
    let cp = ContinuationParams::new(0, -1.0, 1.0);
    let r = continue_equilibria(&HopfNormalForm, &[0.01, -0.02], &[-1.0], &cp).unwrap();
    assert_eq!(r.bifurcations.len(), 1, "{:?}", r.bifurcations);
    let h = &r.bifurcations[0];
    assert_eq!(h.kind, BifurcationKind::Hopf);
    assert!(h.param.abs() < 1e-8, "Hopf at {}", h.param);
    assert!((h.frequency.unwrap() - 1.0).abs() < 1e-8);
    let pts = &r.branches[0].points;
    assert!(pts.first().unwrap().stable && pts.last().unwrap().n_unstable == 2);
}

#[test]
fn lorenz_hopf_on_nontrivial_branch() {
    let (sigma, b) = (10.0, 8.0 / 3.0);
    let r_h = sigma * (sigma + b + 3.0) / (sigma - b - 1.0);
    let r0: f64 = 10.0;
    let c = (b * (r0 - 1.0)).sqrt();
    let mut cp = ContinuationParams::new(1, 2.0, 30.0);
    cp.arclength.ds_max = 0.5;
    let r = continue_equilibria(&Lorenz, &[c * 1.01, c * 0.99, r0 - 1.0 + 0.1], &[sigma, r0, b], &cp).unwrap();
    let hopf: Vec<_> = r.bifurcations.iter().filter(|x| x.kind == BifurcationKind::Hopf).collect();
    assert_eq!(hopf.len(), 1, "{:?}", r.bifurcations);
    assert!(((hopf[0].param - r_h) / r_h).abs() < 1e-6, "Hopf at {} vs {}", hopf[0].param, r_h);
    // At the Hopf point the eigenvalues are -(sigma + b + 1) and +-i omega
    // with omega^2 = b (r_H + sigma) (characteristic polynomial of C+-).
    let omega = (b * (r_h + sigma)).sqrt();
    assert!((hopf[0].frequency.unwrap() - omega).abs() < 1e-6 * omega);
    assert!(r.bifurcations.iter().all(|x| x.kind == BifurcationKind::Hopf));
    for p in &r.branches[0].points {
        // Exactly on C+: x = y = sqrt(b (r - 1)), z = r - 1.
        let x = (b * (p.param - 1.0)).sqrt();
        assert!((p.state[0] - x).abs() < 1e-8 && (p.state[2] - (p.param - 1.0)).abs() < 1e-8);
        assert_eq!(p.stable, p.param < r_h - 1e-6);
    }
}

#[test]
fn lorenz_pitchfork_at_r_one_on_trivial_branch() {
    let mut cp = ContinuationParams::new(1, 0.0, 2.0);
    cp.arclength.ds_max = 0.2;
    let r = continue_equilibria(&Lorenz, &[0.0, 0.0, 0.0], &[10.0, 0.3, 8.0 / 3.0], &cp).unwrap();
    let bps = kinds(&r, BifurcationKind::Branch);
    assert_eq!(bps.len(), 1, "{:?}", r.bifurcations);
    assert!((bps[0] - 1.0).abs() < 1e-8, "branch point at {}", bps[0]);
    assert!(kinds(&r, BifurcationKind::Hopf).is_empty());
}

#[test]
fn brusselator_hopf_at_one_plus_a_squared() {
    for a in [1.0, 1.5] {
        let cp = ContinuationParams::new(1, 0.5, 4.0);
        let b0 = 1.0;
        let r = continue_equilibria(&Brusselator, &[a + 0.1, b0 / a - 0.1], &[a, b0], &cp).unwrap();
        assert_eq!(r.bifurcations.len(), 1, "{:?}", r.bifurcations);
        let h = &r.bifurcations[0];
        assert_eq!(h.kind, BifurcationKind::Hopf);
        assert!((h.param - (1.0 + a * a)).abs() < 1e-8, "Hopf at b = {}", h.param);
        assert!((h.frequency.unwrap() - a).abs() < 1e-8);
        assert!((h.state[0] - a).abs() < 1e-9 && (h.state[1] - h.param / a).abs() < 1e-9);
    }
}

use repcollapse::engine::{brute_force_grid, continue_boundary, BoundaryParams, BoundaryStop, GridParams};
use repcollapse::engine::test_models::Cusp;

#[test]
fn brusselator_hopf_curve_is_b_equals_one_plus_a_squared() {
    // Locate the Hopf point at a = 1 in b, then continue it in (b, a).
    let a0 = 1.0;
    let cp = ContinuationParams::new(1, 0.5, 4.0);
    let r = continue_equilibria(&Brusselator, &[a0, 1.0], &[a0, 1.0], &cp).unwrap();
    let hopf = r.bifurcations.iter().find(|b| b.kind == BifurcationKind::Hopf).unwrap();
    let mut bp = BoundaryParams::new(1, 0, 0.4, 2.5);
    bp.arclength.ds_max = 0.2;
    let curve = continue_boundary(&Brusselator, hopf, &[a0, 1.0], &bp).unwrap();
    assert_eq!(curve.kind, BifurcationKind::Hopf);
    assert_eq!(curve.stop_forward, BoundaryStop::ParameterBound);
    assert_eq!(curve.stop_backward, Some(BoundaryStop::ParameterBound));
    let (first, last) = (curve.points.first().unwrap(), curve.points.last().unwrap());
    assert!((first.p2 - 0.4).abs() < 1e-12 && (last.p2 - 2.5).abs() < 1e-12, "{} {}", first.p2, last.p2);
    assert!(curve.points.len() >= 10);
    for pt in &curve.points {
        let (b, a) = (pt.p1, pt.p2);
        assert!((b - (1.0 + a * a)).abs() < 1e-8 * b, "b = {b} at a = {a}");
        assert!((pt.frequency.unwrap() - a).abs() < 1e-8, "omega = {:?} at a = {a}", pt.frequency);
        assert!((pt.state[0] - a).abs() < 1e-8 && (pt.state[1] - b / a).abs() < 1e-8);
    }
}

/// Fold curves of the cusp started from both folds at b = 1 (a = -+2/(3 sqrt 3)).
fn cusp_fold_curves(b_max: f64) -> Vec<repcollapse::engine::BoundaryCurve> {
    let cp = ContinuationParams::new(0, -1.0, 1.0);
    let r = continue_equilibria(&Cusp, &[-1.2], &[-1.0, 1.0], &cp).unwrap();
    let folds: Vec<_> = r.bifurcations.iter().filter(|b| b.kind == BifurcationKind::Fold).collect();
    assert_eq!(folds.len(), 2, "{:?}", r.bifurcations);
    let a_f = 2.0 / (3.0 * 3f64.sqrt());
    folds
        .iter()
        .map(|f| {
            assert!((f.param.abs() - a_f).abs() < 1e-9, "fold at a = {}", f.param);
            let mut bp = BoundaryParams::new(0, 1, -1.0, b_max);
            bp.arclength.ds_max = 0.05;
            continue_boundary(&Cusp, f, &[-1.0, 1.0], &bp).unwrap()
        })
        .collect()
}

#[test]
fn cusp_fold_curve_satisfies_27a2_eq_4b3_and_ends_at_cusp() {
    for curve in cusp_fold_curves(2.0) {
        assert_eq!(curve.kind, BifurcationKind::Fold);
        let stops = [curve.stop_forward, curve.stop_backward.unwrap()];
        assert!(stops.contains(&BoundaryStop::Cusp) && stops.contains(&BoundaryStop::ParameterBound), "{stops:?}");
        // The cusp end is the located cusp point a = b = 0 (x = 0).
        let cusp_end = if curve.stop_forward == BoundaryStop::Cusp { curve.points.last() } else { curve.points.first() };
        let c = cusp_end.unwrap();
        assert!(c.p1.abs() < 1e-9 && c.p2.abs() < 1e-6 && c.state[0].abs() < 1e-3, "{c:?}");
        let mut checked = 0;
        for pt in &curve.points {
            let (a, b) = (pt.p1, pt.p2);
            // Closed form: the fold at state x has b = 3 x^2, a = -2 x^3.
            assert!((b - 3.0 * pt.state[0].powi(2)).abs() < 1e-9, "b = {b}, x = {}", pt.state[0]);
            if b > 1e-3 {
                let (l, r) = (27.0 * a * a, 4.0 * b * b * b);
                assert!(((l - r) / r).abs() < 1e-6, "27 a^2 = {l} vs 4 b^3 = {r} at a = {a}, b = {b}");
                checked += 1;
            }
        }
        assert!(checked >= 20, "only {checked} points checked");
    }
}

#[test]
fn cusp_grid_counts_agree_with_traced_fold_curve() {
    let curves = cusp_fold_curves(2.0);
    // |a_fold(b)| by linear interpolation of the traced curves (both
    // curves are traced to b = 2 and down to the cusp at b = 0).
    let mut pts: Vec<(f64, f64)> = curves.iter().flat_map(|c| c.points.iter().map(|p| (p.p2, p.p1.abs()))).collect();
    pts.sort_by(|x, y| x.0.total_cmp(&y.0));
    let a_fold = |b: f64| -> Option<f64> {
        if b <= 0.0 {
            return None; // no folds: one equilibrium for every a
        }
        let k = pts.partition_point(|p| p.0 < b);
        let (p, q) = (pts[k - 1], pts[k.min(pts.len() - 1)]);
        Some(if q.0 > p.0 { p.1 + (q.1 - p.1) * (b - p.0) / (q.0 - p.0) } else { p.1 })
    };
    let (n1, n2) = (24, 24);
    let ranges = [(-1.0, 1.0), (-1.0, 2.0)];
    let gp = GridParams::new(vec![(-2.5, 2.5)], 24);
    let cells = brute_force_grid(&Cusp, &[0.0, 0.0], 0, 1, ranges, n1, n2, &gp).unwrap();
    assert_eq!(cells.len(), n1 * n2);
    let (da, db) = (2.0 / n1 as f64, 3.0 / n2 as f64);
    let (mut compared, mut threes) = (0, 0);
    for c in &cells {
        // Adjacent to the curve: some corner of the 3x3 block of cells
        // around this one lies on the other side.
        let inside = |a: f64, b: f64| a_fold(b).is_some_and(|af| a.abs() < af);
        let here = inside(c.p1, c.p2);
        let mut adjacent = false;
        for sa in [-1.5, 1.5] {
            for sb in [-1.5, 1.5] {
                adjacent |= inside(c.p1 + sa * da, c.p2 + sb * db) != here;
            }
        }
        adjacent |= c.p2.abs() < 1.5 * db;
        if adjacent {
            continue;
        }
        compared += 1;
        let expect = if here { 3 } else { 1 };
        assert_eq!(c.n_equilibria, expect, "cell a = {}, b = {}: {}", c.p1, c.p2, c.label);
        assert_eq!(c.n_stable, if here { 2 } else { 1 });
        threes += usize::from(here);
    }
    assert!(compared > n1 * n2 / 2 && threes > 50, "compared {compared}, three-equilibrium cells {threes}");
}

use faer::MatMut;
use repcollapse::engine::VectorField;

/// `x' = mu x + y, y' = x`: trace `mu`, determinant -1, so the eigenvalue
/// sum crosses zero at `mu = 0` while both stay real (a neutral saddle).
struct NeutralSaddle;
impl VectorField for NeutralSaddle {
    fn name(&self) -> &str {
        "neutral-saddle"
    }
    fn dim(&self) -> usize {
        2
    }
    fn state_names(&self) -> Vec<String> {
        vec!["x".into(), "y".into()]
    }
    fn param_names(&self) -> Vec<String> {
        vec!["mu".into()]
    }
    fn default_params(&self) -> Vec<f64> {
        vec![-1.0]
    }
    fn initial_state(&self) -> Vec<f64> {
        vec![0.0, 0.0]
    }
    fn rhs(&self, s: &[f64], p: &[f64], out: &mut [f64]) {
        out[0] = p[0] * s[0] + s[1];
        out[1] = s[0];
    }
    fn jacobian(&self, _s: &[f64], p: &[f64], mut jac: MatMut<'_, f64>) {
        jac[(0, 0)] = p[0];
        jac[(0, 1)] = 1.0;
        jac[(1, 0)] = 1.0;
        jac[(1, 1)] = 0.0;
    }
    fn param_derivative(&self, s: &[f64], _p: &[f64], _k: usize, out: &mut [f64]) {
        out[0] = s[0];
        out[1] = 0.0;
    }
}

#[test]
fn neutral_saddle_is_not_reported_as_hopf() {
    let cp = ContinuationParams::new(0, -1.0, 1.0);
    let r = continue_equilibria(&NeutralSaddle, &[0.0, 0.0], &[-1.0], &cp).unwrap();
    // No bifurcation: the only special point is the neutral saddle itself
    // (eigenvalues +-1 at p = 0), reported with its own kind (issue 25).
    assert_eq!(r.bifurcations.len(), 1, "{:?}", r.bifurcations);
    assert_eq!(r.bifurcations[0].kind, BifurcationKind::NeutralSaddle);
    assert!(r.bifurcations[0].param.abs() < 1e-8 && r.bifurcations[0].frequency.is_none());
    // Every point is a saddle with exactly one unstable direction.
    assert!(r.branches[0].points.iter().all(|p| p.n_unstable == 1 && !p.stable));
    assert_eq!(r.branches[0].stop, StopReason::ParameterBound);
}

/// Bogdanov-Takens normal form `x' = y, y' = b1 + b2 x + x^2 - x y`.
/// Folds on `b1 = b2^2 / 4`; Hopf on `b1 = 0, b2 < 0` with `omega^2 = -b2`;
/// both meet at the Bogdanov-Takens point `b1 = b2 = 0`.
struct BogdanovTakens;
impl VectorField for BogdanovTakens {
    fn name(&self) -> &str {
        "bogdanov-takens"
    }
    fn dim(&self) -> usize {
        2
    }
    fn state_names(&self) -> Vec<String> {
        vec!["x".into(), "y".into()]
    }
    fn param_names(&self) -> Vec<String> {
        vec!["b1".into(), "b2".into()]
    }
    fn default_params(&self) -> Vec<f64> {
        vec![0.0, -1.0]
    }
    fn initial_state(&self) -> Vec<f64> {
        vec![0.0, 0.0]
    }
    fn rhs(&self, s: &[f64], p: &[f64], out: &mut [f64]) {
        let (x, y) = (s[0], s[1]);
        out[0] = y;
        out[1] = p[0] + p[1] * x + x * x - x * y;
    }
    fn jacobian(&self, s: &[f64], p: &[f64], mut jac: MatMut<'_, f64>) {
        let (x, y) = (s[0], s[1]);
        jac[(0, 0)] = 0.0;
        jac[(0, 1)] = 1.0;
        jac[(1, 0)] = p[1] + 2.0 * x - y;
        jac[(1, 1)] = -x;
    }
    fn param_derivative(&self, s: &[f64], _p: &[f64], k: usize, out: &mut [f64]) {
        out[0] = 0.0;
        out[1] = if k == 0 { 1.0 } else { s[0] };
    }
}

#[test]
fn hopf_curve_ends_and_fold_curve_passes_at_bogdanov_takens_point() {
    // At b2 = -1, equilibria x^2 - x + b1 = 0: a Hopf point at x = 0 (b1 = 0)
    // and a fold at x = 1/2 (b1 = 1/4).
    let mut cp = ContinuationParams::new(0, -1.0, 1.0);
    cp.direction = 1.0;
    let r = continue_equilibria(&BogdanovTakens, &[-0.6, 0.0], &[-0.9, -1.0], &cp).unwrap();
    let hopf = r.bifurcations.iter().find(|b| b.kind == BifurcationKind::Hopf).expect("Hopf point");
    let fold = r.bifurcations.iter().find(|b| b.kind == BifurcationKind::Fold).expect("fold point");
    assert!(hopf.param.abs() < 1e-9 && (hopf.frequency.unwrap() - 1.0).abs() < 1e-8, "{hopf:?}");
    assert!((fold.param - 0.25).abs() < 1e-9, "{fold:?}");

    let mut bp = BoundaryParams::new(0, 1, -2.0, 1.0);
    bp.both_directions = false; // towards increasing b2, i.e. towards the BT point
    let h = continue_boundary(&BogdanovTakens, hopf, &[0.0, -1.0], &bp).unwrap();
    assert_eq!(h.stop_forward, BoundaryStop::BogdanovTakens, "{:?}", h.points.last());
    for pt in &h.points {
        let w = pt.frequency.unwrap();
        assert!(pt.p1.abs() < 1e-9 && (w * w + pt.p2).abs() < 1e-7, "{pt:?}");
    }
    let end = h.points.last().unwrap();
    assert!(end.p2.abs() < 1e-6 && end.frequency.unwrap().abs() < 1e-3, "Hopf curve ends at {end:?}");

    // The Hopf curve's end is the BT point of the defining system
    // (x = y = 0, b1 = b2 = 0), to the Newton tolerance.
    assert_eq!(h.special_points.len(), 1);
    let bt = &h.special_points[0];
    assert!(bt.p1.abs() < 1e-10 && bt.p2.abs() < 1e-10 && bt.state.iter().all(|v| v.abs() < 1e-10), "{bt:?}");
    assert!(bt.residual.unwrap() < 1e-9);

    // The fold curve is regular at the BT point: it passes it, reports it,
    // and goes on to the parameter bound b2 = 1.
    let f = continue_boundary(&BogdanovTakens, fold, &[0.0, -1.0], &bp).unwrap();
    assert_eq!(f.stop_forward, BoundaryStop::ParameterBound);
    for pt in &f.points {
        assert!((pt.p1 - pt.p2 * pt.p2 / 4.0).abs() < 1e-9, "{pt:?}");
    }
    let end = f.points.last().unwrap();
    assert!((end.p2 - 1.0).abs() < 1e-12 && (end.p1 - 0.25).abs() < 1e-9, "fold curve ends at {end:?}");
    assert_eq!(f.special_points.len(), 1, "{:?}", f.special_points);
    let bt = &f.special_points[0];
    assert_eq!(bt.kind, repcollapse::engine::Codim2Kind::BogdanovTakens);
    assert!(bt.p1.abs() < 1e-10 && bt.p2.abs() < 1e-10 && bt.residual.unwrap() < 1e-9, "{bt:?}");
}

#[test]
fn bad_settings_and_missing_equilibria_are_errors() {
    let cp = ContinuationParams::new(3, -1.0, 1.0);
    let e = continue_equilibria(&SaddleNode, &[1.0], &[1.0], &cp).unwrap_err().to_string();
    assert!(e.contains("param") && e.contains('3'), "{e}");
    let mut cp = ContinuationParams::new(0, -1.0, 1.0);
    cp.arclength.ds = 10.0;
    assert!(continue_equilibria(&SaddleNode, &[1.0], &[1.0], &cp).unwrap_err().to_string().contains("ds"));
    // x' = mu - x^2 has no equilibrium at mu = -0.5.
    let cp = ContinuationParams::new(0, -1.0, 1.0);
    assert!(continue_equilibria(&SaddleNode, &[1.0], &[-0.5], &cp).is_err());
}

#[test]
fn json_and_csv_have_the_documented_shape() {
    let mut cp = ContinuationParams::new(0, -1.0, 1.0);
    cp.direction = -1.0;
    let r = continue_equilibria(&SaddleNode, &[1.0], &[1.0], &cp).unwrap();
    let j = r.to_json(&["x".to_string()], "mu");
    let p0 = &j["branches"][0]["points"][0];
    assert_eq!(p0["param"].as_f64(), Some(1.0));
    assert!((p0["state"]["x"].as_f64().unwrap() - 1.0).abs() < 1e-12);
    assert_eq!(p0["stable"].as_bool(), Some(true));
    assert_eq!(p0["n_unstable"].as_u64(), Some(0));
    assert_eq!(j["bifurcations"][0]["kind"].as_str(), Some("fold"));
    assert!(j["bifurcations"][0]["param"].as_f64().unwrap().abs() < 1e-6);
    assert!(j["bifurcations"][0]["state"]["x"].is_number());
    let mut buf = Vec::new();
    r.write_csv(&mut buf, &["x".to_string()], "mu").unwrap();
    let text = String::from_utf8(buf).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("branch,kind,index,mu,x,stable,n_unstable,frequency"));
    assert_eq!(text.lines().filter(|l| l.contains(",fold,")).count(), 1);
    assert_eq!(text.lines().count(), 1 + r.branches[0].points.len() + 1);
}

#[test]
fn branch_switching_follows_the_pitchfork_parabola() {
    let mut cp = ContinuationParams::new(0, -1.0, 1.0);
    cp.branch_switching = true;
    let r = continue_equilibria(&Pitchfork, &[0.0], &[-1.0], &cp).unwrap();
    assert_eq!(r.branches.len(), 3, "trivial branch plus two half-branches");
    let mut signs = Vec::new();
    for b in &r.branches[1..] {
        assert_eq!(b.stop, StopReason::ParameterBound);
        for p in &b.points {
            // Nontrivial branch mu = x^2, stable (eigenvalue -2 mu).
            assert!((p.param - p.state[0] * p.state[0]).abs() < 1e-9, "{p:?}");
            assert!(p.stable);
        }
        signs.push(b.points.last().unwrap().state[0].signum());
        assert!((b.points.last().unwrap().param - 1.0).abs() < 1e-12);
    }
    assert_eq!(signs[0] * signs[1], -1.0, "one half-branch on each side");
}

#[test]
fn lorenz_branch_switching_reaches_both_hopf_points() {
    let (sigma, b) = (10.0, 8.0 / 3.0);
    let r_h = sigma * (sigma + b + 3.0) / (sigma - b - 1.0);
    let mut cp = ContinuationParams::new(1, 0.0, 30.0);
    cp.arclength.ds_max = 0.5;
    cp.branch_switching = true;
    let r = continue_equilibria(&Lorenz, &[0.0; 3], &[sigma, 0.5, b], &cp).unwrap();
    assert_eq!(r.branches.len(), 3);
    for (i, br) in r.branches.iter().enumerate().skip(1) {
        for p in &br.points {
            // C+- : x = y = +-sqrt(b (r - 1)), z = r - 1.
            assert!((p.state[0].abs() - (b * (p.param - 1.0)).sqrt()).abs() < 1e-7, "{p:?}");
            assert!((p.state[2] - (p.param - 1.0)).abs() < 1e-7);
        }
        let hopf: Vec<_> = r.bifurcations.iter().filter(|x| x.branch == i && x.kind == BifurcationKind::Hopf).collect();
        assert_eq!(hopf.len(), 1, "branch {i}: {:?}", r.bifurcations);
        assert!(((hopf[0].param - r_h) / r_h).abs() < 1e-6);
    }
}
