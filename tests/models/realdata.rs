//! Real-data model: theory against the trained linear encoder, collapse and
//! its prevention on the bundled digits, reproducibility, allocation-free
//! training steps.

use repcollapse::models::realdata::config::RealConfig;
use repcollapse::models::realdata::experiment::Experiment;
use repcollapse::models::realdata::simulation::{gd_step, sgd_step, Labels, Prepared, Rates, State, Workspace};

// Counts heap allocations per thread, to check that training steps allocate
// nothing (the steps run on the calling thread: faer with Par::Seq).
use crate::support::counting_alloc::allocations_in;

fn cfg(sets: &[&str]) -> RealConfig {
    // Whitened inputs: every encoder mode relaxes at eta_x N / D, so the
    // label dynamics are the slow part and dt = 0.5 is well inside the
    // stability limit (checked by the experiment).
    let mut v: Vec<String> = ["inputs=whitened", "eta_x=0.1", "eta_y=0.2", "dt=0.5", "t_min=0.5", "points=24"].iter().map(|s| s.to_string()).collect();
    v.extend(sets.iter().map(|s| s.to_string()));
    RealConfig::from_sets(&v).unwrap()
}

/// The trained linear encoder's slow rate against the exact finite-data
/// flow (Model T's, real design matrix) on a 300-sample subsample, at two
/// noise levels. Both rates are fitted to the minimum inter-label distance
/// over the same window [t/2, t]; the theory starts from each seed's own
/// initial state and noise draw. Tolerance: the 95% half-width of the
/// measured rates over seeds (noise draws and initialisations), i.e. the
/// spread of what is measured; the systematic gap is gradient descent's
/// discretisation, rate -ln(1 - dt l)/dt ~ l (1 + dt l / 2), about 2% here,
/// well inside it.
#[test]
fn linear_rate_matches_finite_data_theory() {
    for f in ["0.0", "0.3"] {
        let c = cfg(&["train_samples=300", "t_max=120", "seeds=6", &format!("noise_rate={f}")]);
        let e = Experiment::run(&c).unwrap();
        let (m, th, slow) = (e.fitted_rate(), e.theory_fitted_rate(), e.theory_slow_rate());
        let tol = m.half_width();
        assert!(m.n == 6 && th.n == 6 && tol > 0.0);
        assert!((m.mean - th.mean).abs() < tol, "f = {f}: measured {m:?} vs theory {th:?} (tolerance {tol})");
        // The gap is the discretisation: below 2 dt l / 2 relative (l < 0.2 here).
        assert!(((m.mean - th.mean) / th.mean).abs() < 0.05, "f = {f}: {} vs {}", m.mean, th.mean);
        // The fitted rate is set by the slow band of separating modes: at or
        // above the slowest one, below the adiabatic bound on the band's top.
        assert!(th.mean >= 0.99 * slow.mean, "f = {f}: fit {} below slowest rate {}", th.mean, slow.mean);
        assert!(m.mean > 0.01, "f = {f}: no contraction measured: {m:?}");
    }
}

/// Clean labels and enough capacity: a linear encoder with fewer samples
/// than input features fits every label (hat matrix = identity), so the
/// separation is conserved; an MLP wide enough to memorise keeps it too.
#[test]
fn no_collapse_with_clean_labels_at_sufficient_capacity() {
    let e = Experiment::run(&cfg(&["train_samples=40", "t_max=150", "seeds=4"])).unwrap();
    assert!(e.natural.fits && e.natural.frustration < 1e-9, "{:?}", e.natural);
    let r = e.separation_ratio();
    assert!(!e.collapsed() && r.mean > 0.9, "linear, N < D: {r:?}");
    let m = Experiment::run(&cfg(&["train_samples=100", "t_max=100", "seeds=3", "encoder=mlp", "width=200", "dt=0.2"])).unwrap();
    let last = m.times.len() - 1;
    assert!(!m.collapsed() && m.separation_ratio().mean > 0.5, "MLP: {:?}", m.separation_ratio());
    assert!(m.at(last, |r| r.train_accuracy).mean > 0.99);
    // Contrast: the full training split is naturally frustrated for the linear encoder.
    let full = Experiment::run(&cfg(&["train_samples=300", "t_max=20", "seeds=1"])).unwrap();
    assert!(!full.natural.fits && full.natural.frustration > 0.05, "{:?}", full.natural);
}

/// Label noise on more samples than inputs: the separation collapses at a
/// resolved positive rate while the accuracy first rises.
#[test]
fn collapse_with_noise() {
    let e = Experiment::run(&cfg(&["train_samples=300", "t_max=150", "seeds=4", "noise_rate=0.3"])).unwrap();
    assert!(e.collapsed(), "{:?}", e.separation_ratio());
    assert!(e.separation_ratio().mean < 1e-3);
    let fr = e.fitted_rate();
    assert!(fr.ci95[0] > 0.0, "{fr:?}");
    let peak = (0..e.times.len()).map(|k| e.at(k, |r| r.train_accuracy).mean).fold(0.0, f64::max);
    assert!(peak > 0.6 && e.at(e.times.len() - 1, |r| r.train_accuracy).mean < peak - 0.1, "accuracy rises, then falls with the geometry");
}

/// The shared head with stop-gradient (symmetric) keeps the noisy classes
/// apart where the head-free encoder collapses.
#[test]
fn head_with_stop_gradient_prevents_collapse() {
    let base = ["train_samples=300", "t_max=300", "seeds=4", "noise_rate=0.3", "eta_w=0.2"];
    let none = Experiment::run(&cfg(&base)).unwrap();
    let mut s = base.to_vec();
    s.push("variant=symmetric");
    let sym = Experiment::run(&cfg(&s)).unwrap();
    assert!(none.collapsed());
    let r = sym.separation_ratio();
    assert!(!sym.collapsed() && r.mean > 0.5, "{r:?}");
    // No resolved contraction over the second half of the run.
    let fr = sym.fitted_rate();
    assert!(fr.mean.abs() < 0.05 * none.fitted_rate().mean, "{fr:?} vs {:?}", none.fitted_rate());
}

/// Same seed and config: bit-identical records (ensembles run in parallel).
#[test]
fn runs_are_bit_reproducible() {
    let c = cfg(&["train_samples=120", "t_max=20", "seeds=3", "noise_rate=0.2", "encoder=mlp", "width=16", "batch=32", "dt=0.2"]);
    let a = Experiment::run(&c).unwrap();
    let b = Experiment::run(&c).unwrap();
    for (x, y) in a.seeds.iter().zip(&b.seeds) {
        assert_eq!(x.records, y.records);
    }
    assert_eq!(serde_json::to_string(&a.summary_json()).unwrap(), serde_json::to_string(&b.summary_json()).unwrap());
}

/// Training steps (GD and SGD, linear and MLP, with a head) allocate nothing.
#[test]
fn training_steps_allocate_nothing() {
    for sets in [vec!["encoder=linear"], vec!["encoder=mlp", "width=32", "variant=symmetric"]] {
        let mut s = vec!["train_samples=200", "noise_rate=0.2"];
        s.extend(sets);
        let c = cfg(&s);
        let prep = Prepared::new(&c).unwrap();
        let labels = Labels::draw(&c, &prep, 1).unwrap();
        let mut st = State::random(&c, &prep, 1);
        let r = Rates::from_config(&c);
        let mut ws = Workspace::new(&st, prep.samples(), prep.classes(), 32);
        let rows: Vec<usize> = (0..32).collect();
        // Warm-up (lazy statics in the matmul kernels).
        gd_step(&mut st, &prep, &labels, r, 0.1, &mut ws);
        sgd_step(&mut st, &prep, &labels, r, 0.1, &rows, &mut ws);
        let n = allocations_in(|| {
            for _ in 0..5 {
                gd_step(&mut st, &prep, &labels, r, 0.1, &mut ws);
                sgd_step(&mut st, &prep, &labels, r, 0.1, &rows, &mut ws);
            }
        });
        assert_eq!(n, 0, "{s:?}: {n} allocations in 10 steps");
    }
}

/// Bad input is rejected with the field, value and valid range.
#[test]
fn bad_input_names_field_and_range() {
    let e = RealConfig::from_sets(&["encoder=cnn".into()]).unwrap_err().to_string();
    assert!(e.contains("encoder") && e.contains("linear | mlp"), "{e}");
    let e = RealConfig::from_sets(&["noise_kind=file".into()]).unwrap_err().to_string();
    assert!(e.contains("noise_file"), "{e}");
    let e = Experiment::run(&RealConfig::from_sets(&["train_samples=5".into(), "seeds=1".into()]).unwrap()).unwrap_err().to_string();
    assert!(e.contains("train_samples") && e.contains("[10,"), "{e}");
    // Gradient descent above the stability limit of the linear flow is refused before running.
    let e = Experiment::run(&cfg(&["dt=5", "t_max=20", "seeds=1"])).unwrap_err().to_string();
    assert!(e.contains("`dt`") && e.contains("largest rate"), "{e}");
}

/// The registry entry points through the binary: theory and simulate on a
/// user CSV (named label column), export refused with its reason, bad files
/// named with a non-zero exit status.
#[test]
fn cli_theory_simulate_export() {
    use crate::support::bin::command;
    let dir = tempfile::tempdir().unwrap();
    // Two Gaussian blobs in 5 dimensions, label column "kind" first.
    let mut csv = String::from("kind,a,b,c,d,e\n");
    for i in 0..60 {
        let (lab, s) = if i % 2 == 0 { ("cat", 1.0) } else { ("dog", -1.0) };
        let v: Vec<String> = (0..5).map(|j| format!("{:.3}", s + ((i * 7 + j * 13) % 11) as f64 / 11.0 - 0.5)).collect();
        csv += &format!("{lab},{}\n", v.join(","));
    }
    let path = dir.path().join("blobs.csv");
    std::fs::write(&path, csv).unwrap();
    let data = format!("data_file={}", path.display());
    let out = command().args(["theory", "real-data", "--set", &data, "--set", "label_column=kind", "--set", "dim=2", "--json"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["data"]["classes"], 2);
    assert_eq!(v["data"]["input_dim"], 5);
    assert!(v["linear_flow"]["applies"].as_bool().unwrap());
    assert!(v["crate_version"].is_string() && v["config"]["label_column"] == "kind");
    let out = command()
        .args(["simulate", "real-data", "--set", &data, "--set", "label_column=kind", "--set", "dim=2", "--set", "seeds=2", "--set", "t_max=5", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["final_train_accuracy"]["mean"].as_f64().unwrap() > 0.9, "separable blobs: {}", v["final_train_accuracy"]);
    let out = command().args(["export", "real-data"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no closed low-dimensional"));
    std::fs::write(dir.path().join("bad.csv"), "1,2,a\n3,oops,b\n").unwrap();
    let bad = format!("data_file={}", dir.path().join("bad.csv").display());
    let out = command().args(["theory", "real-data", "--set", &bad]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(e.contains("bad.csv") && e.contains("line 2, column 2") && e.contains("oops"), "{e}");
}

/// Optimisers in the real-data learner (`docs/optimisers.md` section 1):
/// the keys are recorded only when set, the theory is refused (labelled
/// empirical), `beta = 0` is gradient descent, runs are bit-identical for 1
/// and 2 threads, and heavy ball speeds the full-batch linear collapse by
/// about the exact map's factor `rate(beta)/rate(0)` (section 2), while
/// AdamW (weight decay decoupled) also runs with a head (empirical).
#[test]
fn optimizers_wrap_the_step() {
    let plain = cfg(&[]);
    assert!(plain.to_json().get("optimizer").is_none());
    let e = RealConfig::from_sets(&["momentum=0.5".into()]).unwrap_err().to_string();
    assert!(e.contains("`momentum`") && e.contains("does not use"), "{e}");
    let base = ["train_samples=300", "t_max=60", "seeds=4", "noise_rate=0.3"];
    let with = |extra: &[&str]| {
        let mut s = base.to_vec();
        s.extend_from_slice(extra);
        cfg(&s)
    };
    let gd = Experiment::run(&with(&[])).unwrap();
    let zero = Experiment::run(&with(&["optimizer=nesterov"])).unwrap();
    assert!(zero.seeds.iter().all(|s| s.theory.is_none()), "the exact flow is for plain GD only");
    for (a, b) in gd.seeds.iter().zip(&zero.seeds) {
        for (ra, rb) in a.records.iter().zip(&b.records) {
            assert!((ra.min_label_distance - rb.min_label_distance).abs() < 1e-11 * ra.min_label_distance.abs().max(1.0), "beta = 0 differs from GD");
        }
    }
    let hb = with(&["optimizer=momentum", "momentum=0.5"]);
    assert_eq!(hb.to_json()["momentum"], 0.5);
    let bits = |c: &RealConfig, threads: usize| {
        let e = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap().install(|| Experiment::run(c).unwrap());
        e.seeds.iter().flat_map(|s| s.records.iter().map(|r| r.min_label_distance.to_bits()).collect::<Vec<_>>()).collect::<Vec<u64>>()
    };
    assert_eq!(bits(&hb, 1), bits(&hb, 2));
    let m = Experiment::run(&hb).unwrap();
    let ratio = m.fitted_rate().mean / gd.fitted_rate().mean;
    // The fitted GD rate l of the slow band: heavy ball's exact map gives
    // rate(0.5)/rate(0) = (l/(1-beta) + dt l^2 C)/(l + dt l^2/2) ~ 2 to 2.2 for dt l < 0.1.
    assert!(ratio > 1.8 && ratio < 2.4, "heavy ball 0.5 / GD = {ratio} ({:?} vs {:?})", m.fitted_rate(), gd.fitted_rate());
    eprintln!("real-data: GD {:?}, heavy ball 0.5 {:?}, ratio {ratio:.3}", gd.fitted_rate(), m.fitted_rate());
    for extra in [vec!["optimizer=adam", "beta2=0.99"], vec!["optimizer=adam", "beta2=0.99", "variant=symmetric", "weight_decay=0.01", "batch=64"]] {
        let a = Experiment::run(&with(&extra)).unwrap();
        assert!(a.seeds.iter().all(|s| s.theory.is_none() && s.records.iter().all(|r| r.min_label_distance.is_finite())));
        eprintln!("real-data {extra:?} (empirical): fitted rate {:?}, separation ratio {:?}", a.fitted_rate(), a.separation_ratio());
    }
}
