//! Study (p2): Model H's weight-decay boundary `f_c(lambda)` under heavy-ball
//! momentum and AdamW. Heavy ball (and Nesterov) keep GD's fixed points and
//! the sign of each real Jacobian eigenvalue, so the saddle-node, and with
//! it `f_c`, does not move with `beta` (`docs/optimisers.md` section 4): the
//! theory line is `critical_frustration`, the same for every `beta`. AdamW
//! has other fixed points (no closure): its boundary is measured only.
use std::path::Path;

use rayon::prelude::*;
use serde_json::json;

use crate::config::Kind;
use crate::error::Result;
use crate::models::head::config::{HeadConfig, Variant};
use crate::models::head::simulation::simulate;
use crate::models::head::studies::phase::f_c_or_edge;
use crate::report::atomic::write_csv;
use crate::report::plot::{Figure, Legend, Panel, Shape};
use crate::study::runner::{figure_md, StudyFile, StudyOutput};

/// One optimiser setting: label, `--set` pairs, momentum (`None`: AdamW).
fn rules(betas: &[f64], adam: bool) -> Vec<(String, Vec<String>, Option<f64>)> {
    let mut v: Vec<(String, Vec<String>, Option<f64>)> =
        betas.iter().map(|&b| (format!("heavy ball beta = {b}"), vec!["optimizer=momentum".into(), format!("momentum={b}")], Some(b))).collect();
    if adam {
        v.push(("AdamW (empirical)".into(), vec!["optimizer=adam".into()], None));
    }
    v
}

/// The boundary seen by the simulations: the midpoint between the last `f`
/// where at least half the seeds survive and the first where fewer do, with
/// that bracket; `None` if the grid does not bracket it.
fn bracket(fs: &[f64], surviving: &[f64]) -> Option<(f64, f64, f64)> {
    let k = surviving.iter().position(|&s| s < 0.5)?;
    (k > 0).then(|| (0.5 * (fs[k - 1] + fs[k]), fs[k - 1], fs[k]))
}

pub fn run(study: &StudyFile, dir: &Path, _progress: bool) -> Result<StudyOutput> {
    study.check_keys(&["weight_decays", "frustrated", "betas", "adam"])?;
    let lams = study.reals_in("weight_decays", &[0.12, 0.16], Kind::POSITIVE)?;
    let mut fs = study.reals_in("frustrated", &[0.3, 0.4, 0.45, 0.5, 0.6, 0.65, 0.7, 0.8, 0.9, 1.0], Kind::Real { min: 0.0, max: 1.0, open_min: true, open_max: false })?;
    fs.sort_by(f64::total_cmp);
    let betas = study.reals_in("betas", &[0.0, 0.5, 0.9], Kind::Real { min: 0.0, max: 1.0, open_min: false, open_max: true })?;
    let adam = study.bool("adam", true)?;
    let base = study.params();
    let probe = HeadConfig::from_table(&base, &["variant=symmetric".into()], &study.name)?;
    let (k, rho) = (probe.base.design.classes as f64, probe.base.design.rho);
    let rules = rules(&betas, adam);
    let mut rows = Vec::new();
    let mut res = Vec::new();
    let mut table = String::from("| weight decay | rule | f_c theory (any beta) | surviving fraction per f | simulated boundary [bracket] |\n|---|---|---|---|---|\n");
    let mut left = Panel::new("Weight-decay boundary against the optimiser", "momentum beta (AdamW drawn at 1)", "critical frustration f_c").legend(Legend::LowerLeft);
    let mut right = Panel::new(&format!("Surviving fraction (weight decay {})", lams[0]), "frustrated fraction f", "fraction of seeds not collapsed").legend(Legend::LowerLeft);
    for (li, &lam) in lams.iter().enumerate() {
        let fc = f_c_or_edge(Variant::Symmetric, &[0.0, rho, k, probe.base.eta_x, probe.base.eta_y, probe.eta_w, lam]);
        left = left.dashed(&format!("theory, weight decay {lam}"), vec![(0.0, fc), (1.0, fc)], li);
        let (mut hb, mut aw) = (Vec::new(), Vec::new());
        for (ri, (label, sets, beta)) in rules.iter().enumerate() {
            let mut surviving = Vec::new();
            for &f in &fs {
                let mut s = sets.clone();
                s.extend(["variant=symmetric".to_string(), format!("weight_decay={lam}"), format!("frustrated={f}")]);
                let cfg = HeadConfig::from_table(&base, &s, &study.name)?;
                let a = cfg.base.label_weights()?;
                let first = cfg.base.design.seed;
                let alive: Vec<bool> = (0..cfg.base.seeds as u64).into_par_iter().map(|i| simulate(&cfg, &a, first + i).map(|r| !r.fully_collapsed())).collect::<Result<_>>()?;
                let frac = alive.iter().filter(|&&x| x).count() as f64 / alive.len() as f64;
                surviving.push(frac);
                rows.push(vec![lam, beta.unwrap_or(-1.0), f, frac, fc]);
            }
            let b = bracket(&fs, &surviving);
            if let Some((mid, lo, hi)) = b {
                match beta {
                    Some(bv) => hb.push((*bv, mid, lo, hi)),
                    None => aw.push((1.0, mid, lo, hi)),
                }
            }
            if li == 0 {
                right = right.markers(label, fs.iter().zip(&surviving).map(|(&f, &s)| (f, s, s, s)).collect(), ri, if beta.is_some() { Shape::Circle } else { Shape::Square }).line("", fs.iter().cloned().zip(surviving.iter().cloned()).collect(), ri);
            }
            table += &format!(
                "| {lam} | {label} | {fc:.4} | {} | {} |\n",
                surviving.iter().map(|s| format!("{s:.2}")).collect::<Vec<_>>().join(" "),
                b.map(|(m, lo, hi)| format!("{m:.3} [{lo}, {hi}]")).unwrap_or("not bracketed".into())
            );
            let mut point = json!({"weight_decay": lam, "rule": label, "momentum": beta, "f_c_theory": fc, "frustrated": fs, "surviving_fraction": surviving,
                "simulated_boundary": b.map(|(m, lo, hi)| json!({"mid": m, "bracket": [lo, hi]}))});
            // Every null says why (the project's rule, tests/support/nulls.rs).
            if beta.is_none() {
                point["momentum_note"] = json!("AdamW has no heavy-ball momentum (its beta1/beta2 are in the config)");
            }
            if b.is_none() {
                point["simulated_boundary_note"] = json!("not bracketed: the surviving fraction does not cross 1/2 on the f grid");
            }
            res.push(point);
        }
        left = left.markers(&format!("heavy ball, weight decay {lam} (bracket)"), hb, li, Shape::Circle).markers(&format!("AdamW, weight decay {lam} (empirical)"), aw, li, Shape::Square);
        if li == 0 {
            right = right.dashed(&format!("theory f_c = {fc:.3}"), vec![(fc, 0.0), (fc, 1.0)], 6);
        }
    }
    Figure::new(vec![left, right]).save(dir, "optim_head")?;
    write_csv(&dir.join("optim_head.csv"), &["weight_decay", "momentum_or_minus1_for_adamw", "f", "surviving_fraction", "f_c_theory"], &rows)?;
    let markdown = format!(
        "{}\nModel H (`symmetric`), full-batch runs from the random start. Theory: the saddle-node `f_c(lambda)` of the \
         reduced system (`critical_frustration`); heavy ball and Nesterov have the same fixed points as gradient descent and \
         a real eigenvalue changes sign at the same parameters, so the line is the same for every beta. Markers: the \
         frustration at which fewer than half of the seeds keep their classes apart, with the bracket of the f grid \
         (a resolution, not a statistical interval). With weight decay the collapsed state is an attractor too, so a run \
         can collapse below `f_c` if its start lies in that basin, and momentum changes the basins, not the boundary. \
         AdamW has other fixed points (its update is `sign`-like, not the gradient): its boundary is empirical.\n\n{table}",
        figure_md(&study.name, "optim_head", "Weight-decay boundary against the optimiser")
    );
    Ok(StudyOutput { name: study.name.clone(), title: study.title.clone(), markdown, summary: json!({"points": res}) })
}
