//! Analysis-engine benchmarks: the cost of the symbolic (tape-evaluated)
//! model against hand-written Rust for the same field, and whole
//! continuation and boundary-tracing runs as `repcollapse analyze` does them.
use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion};
use faer::Mat;
use repcollapse::engine::{Bifurcation, BifurcationKind};
use repcollapse::engine::{continue_boundary, BoundaryParams};
use repcollapse::engine::{continue_equilibria, ContinuationParams};
use repcollapse::engine::test_models::{Lorenz, Lorenz96};
use repcollapse::engine::VectorField;
use repcollapse::symbolic::SymbolicModel;

fn model(name: &str) -> SymbolicModel {
    SymbolicModel::from_path(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/models").join(name)).expect("example model parses")
}

/// One right-hand side and one Jacobian at the classical chaotic parameters,
/// native struct vs the model file `examples/models/lorenz.toml`.
fn lorenz_evaluation(c: &mut Criterion) {
    let symbolic = model("lorenz.toml");
    let native = Lorenz;
    let p = native.default_params();
    let x = [1.3, -0.7, 24.1];
    let mut out = [0.0; 3];
    let mut jac = Mat::<f64>::zeros(3, 3);
    let mut g = c.benchmark_group("lorenz");
    g.bench_function("rhs native", |b| b.iter(|| native.rhs(black_box(&x), black_box(&p), &mut out)));
    g.bench_function("rhs symbolic", |b| b.iter(|| symbolic.rhs(black_box(&x), black_box(&p), &mut out)));
    // Through `&dyn VectorField`, as the integrators and the continuation
    // call it: one virtual call for both, then the kernel for the model file.
    let (native_dyn, symbolic_dyn): (&dyn VectorField, &dyn VectorField) = (&native, &symbolic);
    g.bench_function("rhs native dyn", |b| b.iter(|| black_box(native_dyn).rhs(black_box(&x), black_box(&p), &mut out)));
    g.bench_function("rhs symbolic dyn", |b| b.iter(|| black_box(symbolic_dyn).rhs(black_box(&x), black_box(&p), &mut out)));
    // The floor of any kernel called through a pointer: the hand-written
    // field as an `extern "C"` function behind a pointer (what the model file
    // compiles to, without its length checks), and an empty one (the call
    // alone).
    let hand: VectorKernel = black_box(lorenz_kernel);
    let empty: VectorKernel = black_box(empty_kernel);
    g.bench_function("rhs native fn pointer", |b| {
        b.iter(|| unsafe { hand(black_box(&x).as_ptr(), black_box(&p).as_ptr(), out.as_mut_ptr()) })
    });
    g.bench_function("empty fn pointer", |b| b.iter(|| unsafe { empty(black_box(&x).as_ptr(), black_box(&p).as_ptr(), out.as_mut_ptr()) }));
    g.bench_function("jacobian native", |b| b.iter(|| native.jacobian(black_box(&x), black_box(&p), jac.as_mut())));
    g.bench_function("jacobian symbolic", |b| b.iter(|| symbolic.jacobian(black_box(&x), black_box(&p), jac.as_mut())));
    // The tape interpreter (the fallback when no native code is available).
    let interp = symbolic.interpreted();
    g.bench_function("rhs interpreter", |b| b.iter(|| interp.rhs(black_box(&x), black_box(&p), &mut out)));
    g.bench_function("jacobian interpreter", |b| b.iter(|| interp.jacobian(black_box(&x), black_box(&p), jac.as_mut())));
    g.finish();
}

type VectorKernel = unsafe extern "C" fn(*const f64, *const f64, *mut f64);

/// `Lorenz::rhs` with the kernel's signature (same operations, same order).
unsafe extern "C" fn lorenz_kernel(s: *const f64, p: *const f64, out: *mut f64) {
    unsafe {
        let (x, y, z) = (*s, *s.add(1), *s.add(2));
        let (sigma, r, b) = (*p, *p.add(1), *p.add(2));
        *out = sigma * (y - x);
        *out.add(1) = x * (r - z) - y;
        *out.add(2) = x * y - b * z;
    }
}

unsafe extern "C" fn empty_kernel(_: *const f64, _: *const f64, _: *mut f64) {}

/// 50 state variables: native loop vs the model file (machine code and
/// interpreter).
fn lorenz96_evaluation(c: &mut Criterion) {
    let symbolic = model("lorenz96.toml");
    let native = Lorenz96 { n: symbolic.dim() };
    let n = native.n;
    let p = symbolic.default_params();
    let x: Vec<f64> = (0..n).map(|i| 8.0 + (i as f64 * 0.37).sin()).collect();
    let mut out = vec![0.0; n];
    let mut jac = Mat::<f64>::zeros(n, n);
    // The two implementations agree (setup, not timed).
    let mut want = vec![0.0; n];
    native.rhs(&x, &p, &mut want);
    symbolic.rhs(&x, &p, &mut out);
    assert_eq!(out, want, "lorenz96 model file disagrees with the hand-written field");
    let interp = symbolic.interpreted();
    let mut g = c.benchmark_group("lorenz96-50");
    g.bench_function("rhs native", |b| b.iter(|| native.rhs(black_box(&x), black_box(&p), &mut out)));
    g.bench_function("rhs symbolic", |b| b.iter(|| symbolic.rhs(black_box(&x), black_box(&p), &mut out)));
    g.bench_function("rhs interpreter", |b| b.iter(|| interp.rhs(black_box(&x), black_box(&p), &mut out)));
    g.bench_function("jacobian native", |b| b.iter(|| native.jacobian(black_box(&x), black_box(&p), jac.as_mut())));
    g.bench_function("jacobian symbolic", |b| b.iter(|| symbolic.jacobian(black_box(&x), black_box(&p), jac.as_mut())));
    g.bench_function("jacobian interpreter", |b| b.iter(|| interp.jacobian(black_box(&x), black_box(&p), jac.as_mut())));
    g.finish();
}

/// The CLI's continuation settings (`ds = 0.01`, `ds_max = 0.1`).
fn cp(param: usize, lo: f64, hi: f64, direction: f64) -> ContinuationParams {
    let mut cp = ContinuationParams::new(param, lo, hi);
    cp.direction = direction;
    cp
}

/// Lorenz C+ at rho = 30 continued down through the pitchfork at rho = 1 and
/// back up C- (two Hopf points, one branch point: ~880 steps); Brusselator
/// fixed point over b in [0.5, 4] (one Hopf point).
fn continuation(c: &mut Criterion) {
    let mut g = c.benchmark_group("continuation");
    g.sample_size(20);
    let (sigma, rho, beta): (f64, f64, f64) = (10.0, 30.0, 8.0 / 3.0);
    let cplus = [(beta * (rho - 1.0)).sqrt(), (beta * (rho - 1.0)).sqrt(), rho - 1.0];
    let p = [sigma, rho, beta];
    let lorenz_cp = cp(1, 0.5, 30.0, -1.0);
    let symbolic = model("lorenz.toml");
    g.bench_function("lorenz rho in [0.5, 30] native", |b| b.iter(|| continue_equilibria(&Lorenz, &cplus, &p, &lorenz_cp).unwrap()));
    g.bench_function("lorenz rho in [0.5, 30] symbolic", |b| b.iter(|| continue_equilibria(&symbolic, &cplus, &p, &lorenz_cp).unwrap()));
    let bruss = model("brusselator.toml");
    let (a, b0) = (1.0, 0.5);
    let pb = [a, b0];
    let bruss_cp = cp(1, 0.5, 4.0, 1.0);
    g.bench_function("brusselator b in [0.5, 4] symbolic", |b| b.iter(|| continue_equilibria(&bruss, &[a, b0 / a], &pb, &bruss_cp).unwrap()));
    g.finish();
}

/// First special point of `kind` on a one-parameter branch (setup, not timed).
fn first_point(field: &dyn VectorField, x0: &[f64], p: &[f64], cp: &ContinuationParams, kind: BifurcationKind) -> Bifurcation {
    let r = continue_equilibria(field, x0, p, cp).unwrap();
    r.bifurcations.into_iter().find(|b| b.kind == kind).expect("special point on the branch")
}

/// Two-parameter continuation: one fold line of the cusp over r in
/// [0.05, 2] (h in [-1, 1]) and the Brusselator Hopf curve over a in [0.3, 1.5].
fn boundary(c: &mut Criterion) {
    let mut g = c.benchmark_group("boundary");
    g.sample_size(20);
    let cusp = model("cusp.toml");
    // h = -1, r = 1: single equilibrium x = -1.3247 (real root of x^3 - x + 1).
    let p = [-1.0, 1.0];
    let fold = first_point(&cusp, &[-1.324_717_957_244_746], &p, &cp(0, -1.0, 1.0, 1.0), BifurcationKind::Fold);
    let mut p_fold = p;
    p_fold[0] = fold.param;
    let bp = BoundaryParams { p1_min: -1.0, p1_max: 1.0, ..BoundaryParams::new(0, 1, 0.05, 2.0) };
    g.bench_function("cusp fold curve", |b| b.iter(|| continue_boundary(&cusp, &fold, &p_fold, &bp).unwrap()));

    let bruss = model("brusselator.toml");
    let pb = [1.0, 0.5];
    let hopf = first_point(&bruss, &[1.0, 0.5], &pb, &cp(1, 0.5, 4.0, 1.0), BifurcationKind::Hopf);
    let mut p_hopf = pb;
    p_hopf[1] = hopf.param;
    let bp = BoundaryParams { p1_min: 0.5, p1_max: 4.0, ..BoundaryParams::new(1, 0, 0.3, 1.5) };
    g.bench_function("brusselator hopf curve", |b| b.iter(|| continue_boundary(&bruss, &hopf, &p_hopf, &bp).unwrap()));
    g.finish();
}

criterion_group!(benches, lorenz_evaluation, lorenz96_evaluation, continuation, boundary);
criterion_main!(benches);
