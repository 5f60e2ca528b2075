//! Study (p5): which square root of `M` the `symmetric` Model H reaches
//! (`docs/head.md`, "Which square root the head reaches";
//! theory in [`crate::models::head::theory::roots`]).
//!
//! Every run starts on the per-mode set (labels `s_k u_k` with the
//! amplitudes of the study, samples at `alpha` times their targets, a
//! small perturbation of every entry) and is classified at `t_max` by the
//! signs of the eigenvalues of `W` compressed to the centred label span.
//! Left: the initial head `W0 = w0 I` against `eta_w/eta_x`, each cell
//! marked with the member most of its seeds reach; lines are the boundaries
//! of the per-mode flow (solid) and of its linearisation at the dead head
//! (dashed), one per mode. Middle: `W0 = +-1` with `m` negative modes: the
//! number of negative roots reached (markers: mean and range over seeds;
//! dashed: the linearised prediction). Right: a random orthogonal `W0`
//! (no per-mode prediction: empirical fractions of runs per member).
use std::path::Path;

use rayon::prelude::*;
use serde_json::json;

use crate::config::Kind;
use crate::error::{Error, Result};
use crate::models::common::frustration::LabelWeights;
use crate::models::head::config::{HeadConfig, Variant};
use crate::models::head::simulation::{simulate_from, HeadState};
use crate::models::head::theory::roots::{classify_root, mode_basis, mode_boundary, mode_outcome, mode_start, selection_gain, ModeBasis, RootClass, RootStatus};
use crate::report::atomic::write_csv;
use crate::report::plot::{Figure, Legend, Panel, Shape};
use crate::study::runner::{figure_md, StudyFile, StudyOutput};

/// The per-mode start's parameters shared by every run of the study.
struct Setup<'a> {
    a: &'a LabelWeights,
    basis: &'a ModeBasis,
    amplitudes: &'a [f64],
    alpha: f64,
    tol: f64,
}

fn log_spaced(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    (0..n).map(|i| lo * (hi / lo).powf(i as f64 / (n - 1).max(1) as f64)).collect()
}

/// A Haar-random orthogonal `d x d` matrix (Gram-Schmidt of a Gaussian
/// matrix, stream 5 of `seed`), row-major.
fn random_orthogonal(d: usize, seed: u64) -> Vec<f64> {
    use rand::SeedableRng;
    use rand_distr::{Distribution, StandardNormal};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(5);
    let mut rows: Vec<Vec<f64>> = Vec::with_capacity(d);
    while rows.len() < d {
        let mut v: Vec<f64> = (0..d).map(|_| StandardNormal.sample(&mut rng)).collect();
        for _ in 0..2 {
            for b in &rows {
                let p: f64 = v.iter().zip(b).map(|(x, y)| x * y).sum();
                v.iter_mut().zip(b).for_each(|(x, y)| *x -= p * y);
            }
        }
        let n = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        if n > 1e-8 {
            rows.push(v.iter().map(|x| x / n).collect());
        }
    }
    rows.concat()
}

/// One run from `start` with head rate `eta_w`, classified at the end.
fn run_one(cfg: &HeadConfig, s: &Setup, start: HeadState, seed: u64) -> Result<RootClass> {
    let r = simulate_from(cfg, s.a, start, seed, &cfg.base.time_grid())?;
    classify_root(s.a, &r.last, r.collapsed(), s.tol)
}

/// The class label of a run: the number of negative roots, or `K` for
/// unresolved and `K + 1` for collapsed.
fn label(c: &RootClass, k: usize) -> usize {
    match c.status {
        RootStatus::Root => c.negatives,
        RootStatus::Unresolved => k,
        RootStatus::Collapsed => k + 1,
    }
}

fn class_name(l: usize, k: usize) -> String {
    if l < k {
        format!("{l} negative root{}", if l == 1 { "" } else { "s" })
    } else if l == k {
        "unresolved".into()
    } else {
        "collapsed".into()
    }
}

/// The class the per-mode flow predicts from `W0 = diag(w0s)` on the
/// centred modes (to `t_end`): collapsed when any mode collapses, else the
/// number of negative roots.
fn predicted_flow(w0s: &[f64], s: &Setup, ratio: f64, eta_x: f64, eta_y: f64, t_end: f64) -> usize {
    let k = s.a.classes();
    let out: Vec<Option<bool>> = w0s.iter().zip(s.amplitudes).enumerate().map(|(m, (w0, amp))| mode_outcome(s.alpha, *amp, *w0, eta_x, eta_y, ratio * eta_x, s.basis.mu[m + 1], k, t_end)).collect();
    if out.iter().any(Option::is_none) { k + 1 } else { out.iter().filter(|o| **o == Some(true)).count() }
}

/// Predicted number of negative roots from `W0 = diag(w0s)` on the
/// centred modes (linearised selection of the theory module).
fn predicted(w0s: &[f64], s: &Setup, ratio: f64) -> usize {
    let k = s.a.classes();
    w0s.iter().zip(s.amplitudes).enumerate().filter(|(m, (w0, amp))| **w0 + selection_gain(ratio, **amp, s.basis.mu[m + 1], k) * s.alpha < 0.0).count()
}

/// The head `K x K` in mode axes with `w0s[m]` on centred mode `m + 1`
/// and `centroid` on the centroid axis.
fn diag_head(k: usize, centroid: f64, w0s: &[f64]) -> Vec<f64> {
    let mut h = vec![0.0; k * k];
    h[0] = centroid;
    for (m, w) in w0s.iter().enumerate() {
        h[(m + 1) * k + m + 1] = *w;
    }
    h
}

pub fn run(study: &StudyFile, dir: &Path, _progress: bool) -> Result<StudyOutput> {
    study.check_keys(&["full", "ratios", "heads", "alpha", "amplitudes", "perturbation", "prescribed_head", "orthogonal", "root_tolerance"])?;
    let full = study.bool("full", false)?;
    let ratio_kind = Kind::Real { min: 1e-3, max: 1e3, open_min: false, open_max: false };
    let head_kind = Kind::Real { min: -3.0, max: 3.0, open_min: false, open_max: false };
    let ratios = if full { log_spaced(0.1, 10.0, 13) } else { study.reals_in("ratios", &[0.1, 0.316, 1.0, 3.16, 10.0], ratio_kind)? };
    let heads = if full { (0..=16).map(|i| -1.0 + 0.125 * i as f64).collect() } else { study.reals_in("heads", &[-1.0, -0.75, -0.5, -0.25, 0.0, 0.25, 0.5, 0.75, 1.0], head_kind)? };
    if full {
        // The paper-size lists replace these keys; still range-check them.
        study.reals_in("ratios", &[1.0], ratio_kind)?;
        study.reals_in("heads", &[0.0], head_kind)?;
    }
    let alpha = study.real_in("alpha", 0.5, Kind::Real { min: 0.0, max: 10.0, open_min: false, open_max: false })?;
    let noise = study.real_in("perturbation", 0.01, Kind::Real { min: 0.0, max: 1.0, open_min: false, open_max: false })?;
    let prescribed = study.real_in("prescribed_head", 1.0, Kind::Real { min: 0.0, max: 3.0, open_min: true, open_max: false })?;
    let orthogonal = study.bool("orthogonal", true)?;
    let tol = study.real_in("root_tolerance", 0.05, Kind::Real { min: 0.0, max: 1.0, open_min: true, open_max: false })?;
    let base = study.params();
    let size_sets: Vec<String> = if full { vec!["seeds=8".into()] } else { Vec::new() };
    let probe = HeadConfig::from_table(&base, &size_sets, &study.name)?;
    if probe.variant != Variant::Symmetric || probe.weight_decay != 0.0 || probe.base.loss != crate::models::embedding::sphere::Loss::Squared || probe.base.batch.is_some() || !probe.base.optimizer.is_plain_gd() {
        return Err(Error::invalid("params", format!("variant = {}, weight_decay = {}", probe.variant.name(), probe.weight_decay), "variant = \"symmetric\", weight_decay = 0, squared loss, full-batch plain GD (the theory of this study)"));
    }
    let a = probe.base.label_weights()?;
    let basis = mode_basis(&a)?;
    let k = a.classes();
    let amplitudes = study.reals_in("amplitudes", &[0.7, 1.0, 1.4], Kind::Real { min: 0.0, max: 10.0, open_min: true, open_max: false })?;
    if amplitudes.len() + 1 != k {
        return Err(Error::invalid("amplitudes", format!("{} values", amplitudes.len()), format!("K - 1 = {} label amplitudes, one per centred mode", k - 1)));
    }
    let d = probe.base.dim;
    if d < k {
        return Err(Error::invalid("dim", d, format!(">= classes = {k} (the modes need K axes)")));
    }
    let (ex, ey, seeds, seed0, t_max) = (probe.base.eta_x, probe.base.eta_y, probe.base.seeds as u64, probe.base.design.seed, probe.base.t_max);
    let setup = Setup { a: &a, basis: &basis, amplitudes: &amplitudes, alpha, tol };
    let cfgs: Vec<HeadConfig> = ratios
        .iter()
        .map(|r| {
            let mut sets = size_sets.clone();
            sets.push(format!("eta_w={}", r * ex));
            HeadConfig::from_table(&base, &sets, &study.name)
        })
        .collect::<Result<_>>()?;

    // (1) W0 = w0 I against eta_w/eta_x.
    let jobs: Vec<(usize, usize, u64)> = (0..ratios.len()).flat_map(|ri| (0..heads.len()).flat_map(move |hi| (0..seeds).map(move |s| (ri, hi, s)))).collect();
    let scalar: Vec<RootClass> = jobs
        .par_iter()
        .map(|&(ri, hi, s)| {
            let w0 = heads[hi];
            let start = mode_start(&a, &basis, d, &amplitudes, alpha, &diag_head(k, w0, &vec![w0; k - 1]), noise, seed0 + s)?;
            run_one(&cfgs[ri], &setup, start, seed0 + s)
        })
        .collect::<Result<_>>()?;
    let mut rows = Vec::new();
    let mut agree = (0usize, 0usize);
    let mut agree_flow = 0usize;
    let mut map = Panel::new(&format!("W0 = w0 I: member reached (K = {k}, alpha = {alpha}, s = {amplitudes:?})"), "eta_w / eta_x", "initial head w0").log_x().legend(Legend::LowerLeft);
    let mut marks: Vec<Vec<(f64, f64, f64, f64)>> = vec![Vec::new(); k + 2];
    for ri in 0..ratios.len() {
        for (hi, &w0) in heads.iter().enumerate() {
            let cell: Vec<&RootClass> = (0..seeds as usize).map(|s| &scalar[(ri * heads.len() + hi) * seeds as usize + s]).collect();
            let mut counts = vec![0usize; k + 2];
            cell.iter().for_each(|c| counts[label(c, k)] += 1);
            let modal = (0..k + 2).max_by_key(|&l| (counts[l], std::cmp::Reverse(l))).unwrap_or(0);
            let pred = predicted(&vec![w0; k - 1], &setup, ratios[ri]);
            let flow = predicted_flow(&vec![w0; k - 1], &setup, ratios[ri], ex, ey, t_max);
            agree.0 += counts[pred];
            agree.1 += cell.len();
            agree_flow += counts[flow];
            marks[modal].push((ratios[ri], w0, w0, w0));
            let mut row = vec![0.0, ratios[ri], w0, pred as f64, flow as f64];
            row.extend(counts.iter().map(|&c| c as f64 / cell.len() as f64));
            rows.push(row);
        }
    }
    for (l, pts) in marks.into_iter().enumerate() {
        if !pts.is_empty() {
            let shape = [Shape::Circle, Shape::Square, Shape::Triangle, Shape::Cross][l.min(3)];
            map = map.markers(&format!("simulation: {} (most seeds)", class_name(l, k)), pts, l, shape);
        }
    }
    let dense = log_spaced(ratios.iter().cloned().fold(f64::INFINITY, f64::min), ratios.iter().cloned().fold(0.0, f64::max), 40);
    let (wlo, whi) = (heads.iter().cloned().fold(f64::INFINITY, f64::min), heads.iter().cloned().fold(f64::NEG_INFINITY, f64::max));
    let mut boundaries = Vec::new();
    for (m, &amp) in amplitudes.iter().enumerate() {
        let mu = basis.mu[m + 1];
        let lin: Vec<(f64, f64)> = dense.iter().map(|&r| (r, -selection_gain(r, amp, mu, k) * alpha)).filter(|p| p.1 >= wlo).collect();
        let flow: Vec<(f64, f64)> = dense.iter().filter_map(|&r| mode_boundary(alpha, amp, ex, ey, r * ex, mu, k, 3.0, t_max).map(|w| (r, w))).filter(|p| p.1 >= wlo).collect();
        boundaries.push(json!({"amplitude": amp, "mu": mu, "ratios": dense, "linearised": dense.iter().map(|&r| -selection_gain(r, amp, mu, k) * alpha).collect::<Vec<_>>(),
            "flow": dense.iter().map(|&r| mode_boundary(alpha, amp, ex, ey, r * ex, mu, k, 3.0, t_max)).collect::<Vec<_>>()}));
        map = map.line(&format!("mode s = {amp}: per-mode flow boundary"), flow, m + 4).dashed(&format!("mode s = {amp}: linearised"), lin, m + 4);
    }
    let map = map.y_range(wlo - 0.05, whi + 0.05);

    // (2) W0 = +-prescribed with the first m centred modes negative.
    let jobs2: Vec<(usize, usize, u64)> = (0..ratios.len()).flat_map(|ri| (0..k).flat_map(move |m| (0..seeds).map(move |s| (ri, m, s)))).collect();
    let presc: Vec<RootClass> = jobs2
        .par_iter()
        .map(|&(ri, m, s)| {
            let w0s: Vec<f64> = (0..k - 1).map(|j| if j < m { -prescribed } else { prescribed }).collect();
            let start = mode_start(&a, &basis, d, &amplitudes, alpha, &diag_head(k, prescribed, &w0s), noise, seed0 + s)?;
            run_one(&cfgs[ri], &setup, start, seed0 + s)
        })
        .collect::<Result<_>>()?;
    let mut mid = Panel::new(&format!("W0 = +-{prescribed}, m modes negative"), "eta_w / eta_x", "negative roots reached").log_x().legend(Legend::UpperRight);
    let mut presc_json = Vec::new();
    for m in 0..k {
        let mut pts = Vec::new();
        for (ri, &r) in ratios.iter().enumerate() {
            let cell: Vec<&RootClass> = (0..seeds as usize).map(|s| &presc[(ri * k + m) * seeds as usize + s]).collect();
            let neg: Vec<f64> = cell.iter().filter(|c| c.status == RootStatus::Root).map(|c| c.negatives as f64).collect();
            let w0s: Vec<f64> = (0..k - 1).map(|j| if j < m { -prescribed } else { prescribed }).collect();
            let pred = predicted(&w0s, &setup, r);
            let flow = predicted_flow(&w0s, &setup, r, ex, ey, t_max);
            let mut counts = vec![0usize; k + 2];
            cell.iter().for_each(|c| counts[label(c, k)] += 1);
            agree.0 += counts[pred];
            agree.1 += cell.len();
            agree_flow += counts[flow];
            if !neg.is_empty() {
                let mean = neg.iter().sum::<f64>() / neg.len() as f64;
                pts.push((r, mean, neg.iter().cloned().fold(f64::INFINITY, f64::min), neg.iter().cloned().fold(f64::NEG_INFINITY, f64::max)));
            }
            let mut row = vec![1.0, r, m as f64, pred as f64, flow as f64];
            row.extend(counts.iter().map(|&c| c as f64 / cell.len() as f64));
            rows.push(row);
            presc_json.push(json!({"ratio": r, "negative_at_start": m, "predicted_linearised": pred, "predicted_flow": flow, "counts": counts}));
        }
        let pred_line: Vec<(f64, f64)> = dense.iter().map(|&r| (r, predicted(&(0..k - 1).map(|j| if j < m { -prescribed } else { prescribed }).collect::<Vec<_>>(), &setup, r) as f64)).collect();
        mid = mid.markers(&format!("m = {m}: simulation (mean, range)"), pts, m, Shape::Circle).dashed(&format!("m = {m}: linearised prediction"), pred_line, m);
    }

    // (3) A random orthogonal W0 (empirical).
    let mut panels = vec![map, mid];
    let mut ortho_json = Vec::new();
    if orthogonal {
        let jobs3: Vec<(usize, u64)> = (0..ratios.len()).flat_map(|ri| (0..2 * seeds).map(move |s| (ri, s))).collect();
        let orth: Vec<RootClass> = jobs3
            .par_iter()
            .map(|&(ri, s)| {
                let mut start = mode_start(&a, &basis, d, &amplitudes, alpha, &diag_head(k, 1.0, &vec![1.0; k - 1]), noise, seed0 + s)?;
                start.w = random_orthogonal(d, seed0 + s);
                run_one(&cfgs[ri], &setup, start, seed0 + s)
            })
            .collect::<Result<_>>()?;
        let mut right = Panel::new("Random orthogonal W0 (empirical)", "eta_w / eta_x", "fraction of runs").log_x().legend(Legend::UpperRight).y_range(-0.05, 1.05);
        let mut frac: Vec<Vec<(f64, f64, f64, f64)>> = vec![Vec::new(); k + 2];
        for (ri, &r) in ratios.iter().enumerate() {
            let cell = &orth[ri * 2 * seeds as usize..(ri + 1) * 2 * seeds as usize];
            let mut counts = vec![0usize; k + 2];
            cell.iter().for_each(|c| counts[label(c, k)] += 1);
            for (l, &c) in counts.iter().enumerate() {
                let f = c as f64 / cell.len() as f64;
                frac[l].push((r, f, f, f));
            }
            let mut row = vec![2.0, r, f64::NAN, f64::NAN, f64::NAN];
            row.extend(counts.iter().map(|&c| c as f64 / cell.len() as f64));
            rows.push(row);
            ortho_json.push(json!({"ratio": r, "counts": counts}));
        }
        for (l, pts) in frac.into_iter().enumerate() {
            if pts.iter().any(|p| p.1 > 0.0) {
                right = right.markers(&class_name(l, k), pts, l, [Shape::Circle, Shape::Square, Shape::Triangle, Shape::Cross][l.min(3)]);
            }
        }
        panels.push(right);
    }
    Figure::new(panels).save(dir, "head_roots")?;
    let mut header: Vec<String> = ["family", "ratio", "w0_or_m", "predicted_linearised", "predicted_flow"].iter().map(|s| s.to_string()).collect();
    header.extend((0..k + 2).map(|l| format!("frac_{}", class_name(l, k).replace(' ', "_"))));
    let header_refs: Vec<&str> = header.iter().map(String::as_str).collect();
    write_csv(&dir.join("head_roots.csv"), &header_refs, &rows)?;
    let agreement = agree.0 as f64 / agree.1.max(1) as f64;
    let markdown = format!(
        "{}\nWhich square root of M the symmetric head reaches (docs/head.md, \"Which square root the head reaches\"). \
         Runs start on the per-mode set: centred labels with amplitudes {amplitudes:?} on M's eigenvectors, samples at \
         alpha = {alpha} times their targets, every entry perturbed by {noise}; classified at t = {t_max} by the signs of \
         W compressed to the centred label span (a root when its squares match M's eigenvalues within {tol}). \
         Family (0): W0 = w0 I; lines are the per-mode boundaries w0 = -Lambda alpha (dashed: linearised at the dead \
         head; solid: the per-mode flow). Family (1): W0 = +-{prescribed} with m negative modes. Family (2): a random \
         orthogonal W0 (empirical). Runs in the predicted class (families 0 and 1): linearised {:.1}%, per-mode flow \
         {:.1}% of {} (predicted class: collapsed when the per-mode flow collapses a mode; the linearisation never predicts collapse).\n",
        figure_md(&study.name, "head_roots", "Which square root the head reaches"),
        100.0 * agreement,
        100.0 * agree_flow as f64 / agree.1.max(1) as f64,
        agree.1
    );
    Ok(StudyOutput {
        name: study.name.clone(),
        title: study.title.clone(),
        markdown,
        summary: json!({"agreement_with_linearised_prediction": agreement, "agreement_with_per_mode_flow": agree_flow as f64 / agree.1.max(1) as f64, "runs_compared": agree.1, "mu": basis.mu, "boundaries": boundaries, "prescribed": presc_json, "orthogonal": ortho_json}),
    })
}
