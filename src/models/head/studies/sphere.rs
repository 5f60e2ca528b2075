//! Study (p3): the label geometry under normalised embeddings and the
//! cosine loss (`docs/embedding.md` section 8, `docs/head.md` "Normalised
//! embeddings and the cosine loss"). Left: `1 - mean inter-label cosine`
//! against time for Model E with the cosine loss and with the squared loss
//! (theory lines: the large-N, large-d simplex reductions with and without
//! the projection terms; markers: simulations from random starts, mean and
//! 95% interval over seeds). Right: Model H on the sphere from the
//! simplex-symmetric aligned start (lines: the 9-variable reduction;
//! markers: microscopic GD from that start plus a small random
//! perturbation, over seeds), with Model E (`sg-only`) for reference.
use std::path::Path;

use rayon::prelude::*;
use serde_json::json;

use crate::engine::{integrate, Grid, IntegrateOptions, Method, VectorField};
use crate::error::Result;
use crate::models::common::frustration::LabelWeights;
use crate::models::embedding::config::EmbeddingConfig;
use crate::models::embedding::reduced::simplex::{vertex, SimplexSystem};
use crate::models::embedding::reduced::sphere::SphereSimplex;
use crate::models::embedding::simulation::label_cosine_trajectory;
use crate::models::embedding::sphere::{mean_label_cosine, normalize_rows};
use crate::models::head::config::{HeadConfig, Variant};
use crate::models::head::reduced::sphere::HeadSphereSimplex;
use crate::models::head::simulation::{sphere_step, HeadState, SphereWorkspace};
use crate::report::atomic::write_csv;
use crate::report::plot::{Figure, Legend, Panel, Shape};
use crate::stats::{estimate, fit_decay_rate, Estimate};
use crate::study::runner::{figure_md, StudyFile, StudyOutput};

fn integrate_at(field: &dyn VectorField, z0: &[f64], times: &[f64]) -> Result<Vec<Vec<f64>>> {
    let opts = IntegrateOptions {
        method: Method::Dop853,
        rtol: 1e-10,
        atol: 1e-13,
        t_max: *times.last().expect("times"),
        grid: Grid::Times(times.to_vec()),
        max_steps: crate::limits::max_ode_steps(),
        max_seconds: crate::limits::remaining_seconds(),
    };
    Ok(integrate(field, z0, &field.default_params(), &opts)?.states)
}

/// A reduced Model H state as a microscopic state in `d >= K` dimensions
/// (`e_a`: simplex vertices in the first `K` coordinates, `u = 1/sqrt(K)`
/// there, `W = w_e P_e + w_u u u^T` plus the identity on the rest), with
/// every entry of `x`, `y` and `W` perturbed by `eps` times a standard
/// normal (stream of `seed`) and `x`, `y` put back on the sphere.
pub fn lift_perturbed(a: &LabelWeights, z: &[f64], d: usize, eps: f64, seed: u64) -> HeadState {
    use rand::SeedableRng;
    use rand_distr::{Distribution, StandardNormal};
    let k = a.classes();
    let u = 1.0 / (k as f64).sqrt();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut noise = |v: f64| v + eps * { let g: f64 = StandardNormal.sample(&mut rng); g };
    let mut x = vec![0.0; a.samples() * d];
    for i in 0..a.samples() {
        let c = a.primary(i);
        let partner = a.row(i).map(|(b, _)| b).find(|&b| b != c);
        for j in 0..d {
            let base = if j >= k {
                0.0
            } else {
                match partner {
                    None => z[0] * vertex(c, k, j) + z[1] * u,
                    Some(b) => z[2] * vertex(c, k, j) + z[3] * vertex(b, k, j) + z[4] * u,
                }
            };
            x[i * d + j] = noise(base);
        }
    }
    let mut y = vec![0.0; k * d];
    for c in 0..k {
        for j in 0..d {
            y[c * d + j] = noise(if j < k { z[5] * vertex(c, k, j) + z[6] * u } else { 0.0 });
        }
    }
    let mut w = vec![0.0; d * d];
    for r in 0..d {
        for j in 0..d {
            let id = f64::from(u8::from(r == j));
            let base = if r < k && j < k { z[7] * (id - u * u) + z[8] * u * u } else { id };
            w[r * d + j] = noise(base);
        }
    }
    normalize_rows(&mut x, d);
    normalize_rows(&mut y, d);
    HeadState { x, y, w, dim: d }
}

fn head_cosines(c: &HeadConfig, a: &LabelWeights, z0: &[f64], eps: f64, seed: u64, times: &[f64]) -> Vec<f64> {
    let b = &c.base;
    let d = b.dim;
    let mut st = lift_perturbed(a, z0, d, eps, seed);
    let mut ws = SphereWorkspace::new(a, d);
    let (cx, cy, cw) = (b.dt * b.eta_x, b.dt * b.eta_y / a.per_class(), b.dt * c.eta_w / a.samples() as f64);
    let mut done = 0u64;
    times
        .iter()
        .map(|&t| {
            let target = (t / b.dt).round() as u64;
            while done < target {
                sphere_step(a, &mut st, c.variant == Variant::Symmetric, c.variant.trains_head(), cx, cy, cw, &mut ws);
                done += 1;
            }
            mean_label_cosine(&st.y, a.classes(), d)
        })
        .collect()
}

fn band(per_seed: &[Vec<f64>], k: usize) -> Estimate {
    estimate(&per_seed.iter().map(|v| 1.0 - v[k]).collect::<Vec<_>>())
}

pub fn run(study: &StudyFile, dir: &Path, _progress: bool) -> Result<StudyOutput> {
    study.check_keys(&["full", "head_t_max", "head_perturbation"])?;
    let full = study.bool("full", false)?;
    let head_t_max = study.real_in("head_t_max", 200.0, crate::config::Kind::POSITIVE)?;
    let eps = study.real_in("head_perturbation", 0.01, crate::config::Kind::NON_NEGATIVE)?;
    let base = study.params();
    let size_sets: Vec<String> = if full { vec!["per_class=255".into(), "dim=256".into(), "seeds=8".into()] } else { Vec::new() };
    let probe = EmbeddingConfig::from_table(&base, &size_sets, &study.name)?;
    let (f, rho, k) = (probe.design.frustrated, probe.design.rho, probe.design.classes);
    let (ex, ey) = (probe.eta_x, probe.eta_y);
    let t_max = probe.t_max;
    let marks: Vec<f64> = (0..=16).map(|i| t_max * i as f64 / 16.0).collect();
    let dense: Vec<f64> = (0..=200).map(|i| t_max * i as f64 / 200.0).collect();
    let lambda = {
        let s = SimplexSystem::new(f, rho, k, ex, ey);
        crate::engine::jacobian_eigenvalues(&s, &[0.0; 4], &s.default_params())?.iter().map(|l| -l.re).fold(f64::INFINITY, f64::min)
    };
    let mut left = Panel::new(&format!("Model E: label contraction (K = {k}, f = {f}, d = {}, n = {})", probe.dim, probe.design.per_class), "time t", "1 - mean inter-label cosine").log_y().legend(Legend::LowerLeft);
    let mut rows = Vec::new();
    let mut table = String::from("| model | loss | late rate of 1 - cos: theory fit | simulation fit (95% CI, seeds) | 2 x slow rate of Model E |\n|---|---|---|---|---|\n");
    let mut res = Vec::new();
    let (fit_from, fit_to) = (0.5 * t_max, t_max);
    for (ci, loss) in ["cosine", "squared"].into_iter().enumerate() {
        let mut sets = size_sets.clone();
        sets.push(format!("loss={loss}"));
        let c = EmbeddingConfig::from_table(&base, &sets, &study.name)?;
        let a = c.label_weights()?;
        let sys = SphereSimplex::new(f, rho, k, ex, ey, loss == "cosine");
        let th: Vec<f64> = integrate_at(&sys, &SphereSimplex::random_start(k), &dense)?.iter().map(|z| 1.0 - SphereSimplex::label_cosine(z, k as f64)).collect();
        let per_seed: Vec<Vec<f64>> = (0..c.seeds as u64).into_par_iter().map(|s| label_cosine_trajectory(&c, &a, c.design.seed + s, &marks)).collect();
        let pts: Vec<(f64, f64, f64, f64)> = (0..marks.len()).map(|i| { let e = band(&per_seed, i); (marks[i], e.mean, e.ci95[0].max(1e-12), e.ci95[1]) }).collect();
        let th_fit = fit_decay_rate(&dense, &th, fit_from, fit_to).unwrap_or(f64::NAN);
        let sim_fit = estimate(&per_seed.iter().map(|v| fit_decay_rate(&marks, &v.iter().map(|c| 1.0 - c).collect::<Vec<_>>(), fit_from, fit_to).unwrap_or(f64::NAN)).collect::<Vec<_>>());
        let label = if loss == "cosine" { "cosine loss on the sphere" } else { "squared loss, free embeddings" };
        left = left.line(&format!("{label}: reduced flow"), dense.iter().cloned().zip(th.iter().cloned()).collect(), ci).markers(&format!("{label}: simulation (95% CI)"), pts.clone(), ci, if ci == 0 { Shape::Circle } else { Shape::Triangle });
        table += &format!("| E | {loss} | {th_fit:.5} | {:.5} [{:.5}, {:.5}] ({}) | {:.5} |\n", sim_fit.mean, sim_fit.ci95[0], sim_fit.ci95[1], sim_fit.n, 2.0 * lambda);
        for (i, p) in pts.iter().enumerate() {
            let thv = th[(i * 200) / 16];
            rows.push(vec![0.0, ci as f64, p.0, thv, p.1, p.2, p.3]);
        }
        res.push(json!({"model": "embedding", "loss": loss, "theory_late_rate": th_fit, "simulated_late_rate": sim_fit, "twice_slow_rate": 2.0 * lambda, "fit_window": [fit_from, fit_to]}));
    }
    // Model H on the sphere, from the aligned simplex-symmetric start.
    let hmarks: Vec<f64> = (0..=16).map(|i| head_t_max * i as f64 / 16.0).collect();
    let hdense: Vec<f64> = (0..=200).map(|i| head_t_max * i as f64 / 200.0).collect();
    let mut right = Panel::new(&format!("Model H on the sphere (aligned start, perturbation {eps})"), "time t", "1 - mean inter-label cosine").log_y().legend(Legend::LowerLeft);
    let z0 = HeadSphereSimplex::aligned_start(rho, k);
    for (ci, variant) in [Variant::Symmetric, Variant::Asymmetric, Variant::SgOnly].into_iter().enumerate() {
        // A small microscopic model (the step costs N d^2): f n = 3 frustrated samples per class, balanced for K = 4.
        let mut sets = vec!["loss=cosine".to_string(), format!("variant={}", variant.name()), format!("t_max={head_t_max}"), "per_class=15".into(), "dim=6".into()];
        if !full {
            sets.push("seeds=4".into());
        }
        let hc = HeadConfig::from_table(&base, &sets, &study.name)?;
        let a = hc.base.label_weights()?;
        let sys = HeadSphereSimplex::new(variant, [f, rho, k as f64, ex, ey, hc.eta_w]);
        let states = integrate_at(&sys, &z0, &hdense)?;
        let th: Vec<f64> = states.iter().map(|z| 1.0 - HeadSphereSimplex::label_cosine(z, k as f64)).collect();
        let per_seed: Vec<Vec<f64>> = (0..hc.base.seeds as u64).into_par_iter().map(|s| head_cosines(&hc, &a, &z0, eps, hc.base.design.seed + s, &hmarks)).collect();
        let pts: Vec<(f64, f64, f64, f64)> = (0..hmarks.len()).map(|i| { let e = band(&per_seed, i); (hmarks[i], e.mean, e.ci95[0].max(1e-12), e.ci95[1]) }).collect();
        right = right.line(&format!("{}: reduced flow", variant.name()), hdense.iter().cloned().zip(th.iter().cloned()).collect(), ci + 2).markers(&format!("{}: simulation (95% CI)", variant.name()), pts.clone(), ci + 2, Shape::Square);
        let end = states.last().expect("states");
        let sim_end = band(&per_seed, hmarks.len() - 1);
        table += &format!("| H {} | cosine | end: 1 - cos = {:.3e} (w_e = {:.4}, w_u = {:.4}) | end: {:.3e} [{:.3e}, {:.3e}] | |\n", variant.name(), th[th.len() - 1], end[7], end[8], sim_end.mean, sim_end.ci95[0], sim_end.ci95[1]);
        for (i, p) in pts.iter().enumerate() {
            rows.push(vec![1.0, ci as f64, p.0, th[(i * 200) / 16], p.1, p.2, p.3]);
        }
        res.push(json!({"model": "head", "variant": variant.name(), "theory_end_state": end, "theory_end_gap": th[th.len() - 1], "simulated_end_gap": sim_end}));
    }
    Figure::new(vec![left, right]).save(dir, "sphere")?;
    write_csv(&dir.join("sphere.csv"), &["head", "case", "t", "theory_gap", "sim_mean", "sim_lo", "sim_hi"], &rows)?;
    let markdown = format!(
        "{}\nThe label-geometry contraction `1 - mean inter-label cosine`. Left, Model E from random starts: the cosine loss \
         on the sphere (circles) and the squared loss on free embeddings (triangles); lines are the large-N, large-d \
         simplex reductions with and without the projection terms (docs/embedding.md section 8), started from orthonormal \
         labels. Both contract, and both end at twice Model E's slow rate (1 - cos ~ s^2). Right, Model H on the sphere \
         (case 0 symmetric, 1 asymmetric, 2 sg-only = Model E) from the aligned simplex-symmetric start with a perturbation \
         of every entry (docs/head.md). Rates: least-squares slope of ln(1 - cos) over [{fit_from}, {fit_to}].\n\n{table}",
        figure_md(&study.name, "sphere", "Label contraction on the sphere")
    );
    Ok(StudyOutput { name: study.name.clone(), title: study.title.clone(), markdown, summary: json!({"cases": res}) })
}
