//! Study (s3): the collapse map of the SSL learner over (augmentation
//! strength, weight decay), with Model H's predicted boundary drawn over the
//! measured cells (`docs/ssl.md`, "Collapse map").
//!
//! Prediction (no training run involved): the augmentation operator's
//! `phi_aug(strength)` ([`augmentation_operator`], from the augmented
//! training images alone) against Model H's saddle-node `phi_c(lambda)`
//! ([`critical_phi`], the head model's `critical_frustration`); the network
//! is predicted to collapse where `phi_aug >= phi_c`, so the predicted
//! boundary is the strength where the interpolated `phi_aug` curve reaches
//! `phi_c(lambda)`. Measurement: per cell, the final `output_std * sqrt(d)`
//! of every seed; a cell counts as collapsed when the seed mean is below
//! [`COLLAPSED_STD`]. The measured boundary at a weight decay is where the
//! mean (and, for its interval, the upper and lower 95% limits) first falls
//! below the threshold, linearly interpolated between strengths.
//!
//! Cells (sharded sweep, `study::sweep`): one per frustration strength and
//! one per (weight decay, strength) training ensemble, each computed from
//! the cell alone.
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::config::Kind;
use crate::error::{Error, Result};
use crate::models::ssl::config::SslConfig;
use crate::models::ssl::experiment::{Experiment, COLLAPSED_STD};
use crate::models::ssl::frustration::{augmentation_operator, critical_phi, crossing, model_h_variant, AugmentationOperator};
use crate::models::ssl::simulation::Prepared;
use crate::report::atomic::write_csv;
use crate::report::plot::{Figure, Legend, Panel, Shape};
use crate::stats::{estimate, Estimate};
use crate::study::runner::{figure_md, StudyFile, StudyOutput};
use crate::study::sweep::{self, Cell, CellSpec, Sweep};

pub const SWEEP: Sweep = Sweep { cells, run_cell, assemble };

pub fn run(study: &StudyFile, dir: &Path, progress: bool) -> Result<StudyOutput> {
    sweep::run_all(&SWEEP, study, dir, progress)
}

/// Augmentation keys a map can sweep (real-valued strengths).
const STRENGTH_KEYS: [&str; 3] = ["noise_std", "contrast", "mask_prob"];

/// The study-file keys, with their defaults (denser and larger with `full = true`).
struct Lists {
    key: String,
    strengths: Vec<f64>,
    frustration_strengths: Vec<f64>,
    weight_decays: Vec<f64>,
    views: usize,
    full: bool,
}

fn lists(study: &StudyFile) -> Result<Lists> {
    study.check_keys(&["full", "strength", "strengths", "frustration_strengths", "weight_decays", "frustration_views"])?;
    let full = study.bool("full", false)?;
    let key = study.string("strength", "noise_std")?;
    if !STRENGTH_KEYS.contains(&key.as_str()) {
        return Err(Error::invalid("strength", format!("\"{key}\""), STRENGTH_KEYS.join(" | ")));
    }
    let (s_default, w_default): (&[f64], &[f64]) =
        if full { (&[0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0], &[0.0005, 0.05, 0.1, 0.15, 0.2, 0.25]) } else { (&[0.0, 0.25, 0.5, 1.0], &[0.05, 0.1, 0.2]) };
    let strengths = sorted(study.reals_in("strengths", s_default, Kind::NON_NEGATIVE)?);
    let frustration_strengths = sorted(study.reals_in("frustration_strengths", &strengths, Kind::NON_NEGATIVE)?);
    Ok(Lists {
        key,
        strengths,
        frustration_strengths,
        weight_decays: sorted(study.reals_in("weight_decays", w_default, Kind::NON_NEGATIVE)?),
        views: study.int("frustration_views", if full { 4 } else { 2 }, 2, 64)? as usize,
        full,
    })
}

fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(f64::total_cmp);
    v.dedup();
    v
}

/// What a cell computes.
#[derive(Serialize, Deserialize)]
#[serde(tag = "part", rename_all = "snake_case")]
enum Spec {
    /// The augmentation operator at one strength.
    Frustration { key: String, strength: f64, views: usize, full: bool },
    /// The trained ensemble at one (weight decay, strength).
    Training { key: String, strength: f64, weight_decay: f64, full: bool },
}

/// A training cell's outcome: per seed, the final `output_std * sqrt(d)`
/// and effective rank.
#[derive(Serialize, Deserialize)]
struct Trained {
    scaled_std: Vec<f64>,
    effective_rank: Vec<f64>,
}

fn cells(study: &StudyFile) -> Result<Vec<CellSpec>> {
    let l = lists(study)?;
    let mut out = Vec::new();
    for &s in &l.frustration_strengths {
        out.push(CellSpec::new(format!("frustration {} = {s}", l.key), Spec::Frustration { key: l.key.clone(), strength: s, views: l.views, full: l.full }));
    }
    for &lam in &l.weight_decays {
        for &s in &l.strengths {
            out.push(CellSpec::new(format!("weight_decay = {lam} {} = {s}", l.key), Spec::Training { key: l.key.clone(), strength: s, weight_decay: lam, full: l.full }));
        }
    }
    Ok(out)
}

/// The configuration of a cell: the study's `[params]`, the paper size
/// (`full`: every training image, 8 seeds, 60 epochs), then `sets`.
fn config(params: &toml::Table, name: &str, full: bool, sets: &[String]) -> Result<SslConfig> {
    let mut all: Vec<String> = if full { vec!["train_samples=0".into(), "seeds=8".into(), "epochs=60".into()] } else { Vec::new() };
    all.extend_from_slice(sets);
    SslConfig::from_table(params, name)?.with_sets(&all)
}

fn run_cell(cell: &Cell, _progress: bool) -> Result<serde_json::Value> {
    let value = match cell.spec()? {
        Spec::Frustration { key, strength, views, full } => {
            let cfg = config(&cell.params, &cell.study, full, &[format!("{key}={strength}")])?;
            serde_json::to_value(augmentation_operator(&cfg, &Prepared::new(&cfg)?, views)?)
        }
        Spec::Training { key, strength, weight_decay, full } => {
            let cfg = config(&cell.params, &cell.study, full, &[format!("{key}={strength}"), format!("weight_decay={weight_decay}")])?;
            let exp = Experiment::run(&cfg)?;
            let (last, sd) = (cfg.epochs, (cfg.dim as f64).sqrt());
            serde_json::to_value(Trained {
                scaled_std: exp.runs.iter().map(|r| r.records[last].output_std * sd).collect(),
                effective_rank: exp.runs.iter().map(|r| r.records[last].effective_rank).collect(),
            })
        }
    };
    Ok(value.expect("cell results serialise"))
}

/// Where a measured curve `(strength, indicator)` first falls below the
/// threshold (the [`crossing`] of its negation).
fn measured_crossing(curve: &[(f64, f64)]) -> Option<f64> {
    crossing(&curve.iter().map(|(s, v)| (*s, -v)).collect::<Vec<_>>(), -COLLAPSED_STD)
}

fn show(x: Option<f64>, beyond: f64) -> String {
    x.map_or(format!("> {beyond}"), |v| format!("{v:.3}"))
}

fn assemble(study: &StudyFile, cells: &[Cell], results: &[serde_json::Value], dir: &Path, _progress: bool) -> Result<StudyOutput> {
    let l = lists(study)?;
    let base = config(&study.params(), &study.name, l.full, &[])?;
    let variant = model_h_variant(base.variant).ok_or_else(|| {
        Error::invalid("variant", base.variant.name(), "simsiam | byol (the variants with a Model H boundary; the others collapse at every frustration)")
    })?;
    let mut next = cells.iter().zip(results);
    let mut take = || next.next().ok_or_else(|| Error::numerical("ssl-collapse-map merge", "fewer cell results than cells"));
    let mut operators: Vec<AugmentationOperator> = Vec::new();
    for _ in &l.frustration_strengths {
        let (c, r) = take()?;
        operators.push(sweep::result(c, r)?);
    }
    let curve: Vec<(f64, f64)> = l.frustration_strengths.iter().zip(&operators).map(|(s, o)| (*s, o.phi)).collect();
    let phi_at = |s: f64| -> f64 {
        // Linear interpolation of phi_aug (constant beyond the ends).
        match curve.iter().position(|p| p.0 >= s) {
            Some(0) => curve[0].1,
            Some(j) => curve[j - 1].1 + (curve[j].1 - curve[j - 1].1) * (s - curve[j - 1].0) / (curve[j].0 - curve[j - 1].0),
            None => curve[curve.len() - 1].1,
        }
    };
    let s_max = l.strengths.iter().chain(&l.frustration_strengths).cloned().fold(0.0, f64::max);
    let s_min = l.strengths.iter().chain(&l.frustration_strengths).cloned().fold(f64::INFINITY, f64::min);

    // Predicted boundary on a fine weight-decay grid.
    let lam_hi = 1.15 * l.weight_decays.iter().cloned().fold(0.0, f64::max);
    let predicted_line: Vec<(f64, f64)> = (0..=80)
        .map(|j| lam_hi * j as f64 / 80.0)
        .filter_map(|lam| crossing(&curve, critical_phi(variant, lam)).map(|s| (s, lam)))
        .collect();

    let mut rows = Vec::new();
    let (mut healthy, mut weak, mut collapsed) = (Vec::new(), Vec::new(), Vec::new());
    let mut measured_line = Vec::new();
    let mut points = Vec::new();
    let mut table = format!(
        "| weight decay | phi_c (Model H) | predicted boundary ({k}) | measured boundary: seed mean | interval: lower / upper 95% limit below {COLLAPSED_STD} | cells: {k}: std x sqrt(d) (95% CI) (seeds below {COLLAPSED_STD}) |\n|---|---|---|---|---|---|\n",
        k = l.key
    );
    let (mut agree, mut compared) = (0usize, 0usize);
    for &lam in &l.weight_decays {
        let phi_c = critical_phi(variant, lam);
        let predicted = crossing(&curve, phi_c);
        // Per strength: the seed estimates and the seeds below the threshold.
        let mut ests: Vec<(f64, Estimate, Estimate, usize)> = Vec::new();
        for &s in &l.strengths {
            let (c, r) = take()?;
            let t: Trained = sweep::result(c, r)?;
            ests.push((s, estimate(&t.scaled_std), estimate(&t.effective_rank), t.scaled_std.iter().filter(|v| **v < COLLAPSED_STD).count()));
        }
        let at = |f: fn(&Estimate) -> f64| measured_crossing(&ests.iter().map(|(s, e, _, _)| (*s, f(e))).collect::<Vec<_>>());
        let (mean_b, hi_b, lo_b) = (at(|e| e.mean), at(|e| e.ci95[1]), at(|e| e.ci95[0]));
        if let Some(b) = mean_b {
            measured_line.push((b, lam));
        }
        let mut cell_text = Vec::new();
        for (s, e, r, low) in &ests {
            let is_collapsed = e.mean < COLLAPSED_STD;
            let predicted_collapse = phi_at(*s) >= phi_c;
            compared += 1;
            agree += usize::from(is_collapsed == predicted_collapse);
            let pt = (*s, lam, lam, lam);
            match e.mean {
                m if m < COLLAPSED_STD => collapsed.push(pt),
                m if m < 2.0 * COLLAPSED_STD => weak.push(pt),
                _ => healthy.push(pt),
            }
            cell_text.push(format!("{s}: {:.3} [{:.3}, {:.3}] ({low}/{})", e.mean, e.ci95[0], e.ci95[1], e.n));
            rows.push(vec![lam, *s, e.mean, e.ci95[0], e.ci95[1], r.mean, f64::from(u8::from(is_collapsed)), *low as f64 / e.n as f64, phi_at(*s), phi_c, f64::from(u8::from(predicted_collapse))]);
            points.push(json!({"weight_decay": lam, "strength": s, "scaled_std": e, "effective_rank": r, "collapsed": is_collapsed, "seeds_below_threshold": low,
                "phi_aug": phi_at(*s), "predicted_collapse": predicted_collapse}));
        }
        table += &format!(
            "| {lam} | {phi_c:.4} | {} | {} | [{}, {}] | {} |\n",
            show(predicted, s_max),
            show(mean_b, s_max),
            show(lo_b, s_max),
            show(hi_b, s_max),
            cell_text.join("; ")
        );
        let mut b = json!({"weight_decay": lam, "critical_phi": phi_c, "predicted_strength": predicted, "measured_strength": mean_b,
            "measured_strength_upper_limit_below": hi_b, "measured_strength_lower_limit_below": lo_b});
        if [predicted, mean_b, hi_b, lo_b].iter().any(Option::is_none) {
            b["null_note"] = json!(format!("null: the curve does not cross the level up to the largest strength {s_max}"));
        }
        points.push(json!({"boundary": b}));
    }

    let xlab = format!("augmentation strength ({})", l.key);
    let mut map = Panel::new(&format!("Collapse map ({}, Model H {} head)", base.variant.name(), variant.name()), &xlab, "weight decay lambda")
        .legend(Legend::UpperRight)
        .y_range(0.0, 1.45 * lam_hi);
    map = map
        .line("predicted boundary: phi_aug(strength) = phi_c(lambda)", predicted_line.clone(), 6)
        .dashed("measured boundary (seed mean crosses the threshold)", measured_line.clone(), 5)
        .markers(&format!("not collapsed, std x sqrt(d) >= {}", 2.0 * COLLAPSED_STD), healthy, 2, Shape::Circle)
        .markers(&format!("not collapsed, {COLLAPSED_STD} <= std x sqrt(d) < {}", 2.0 * COLLAPSED_STD), weak, 4, Shape::Triangle)
        .markers(&format!("collapsed, std x sqrt(d) < {COLLAPSED_STD}"), collapsed, 1, Shape::Cross);
    let mut op = Panel::new("Augmentation frustration against Model H's critical phi", &xlab, "frustration index phi (1 - mu_2)").y_range(0.0, 1.15).legend(Legend::LowerRight);
    op = op
        .markers("phi_aug = 1 - mu_2(M_aug)", curve.iter().map(|(s, p)| (*s, *p, *p, *p)).collect(), 0, Shape::Circle)
        .line("phi_aug, interpolated", curve.clone(), 0)
        .markers("P(view nearer another class)", l.frustration_strengths.iter().zip(&operators).map(|(s, o)| (*s, o.wrong_neighbour, o.wrong_neighbour, o.wrong_neighbour)).collect(), 3, Shape::Square);
    for (j, &lam) in l.weight_decays.iter().enumerate() {
        let pc = critical_phi(variant, lam);
        op = op.dashed(&format!("phi_c at lambda = {lam}"), vec![(s_min, pc), (s_max, pc)], 5 + j % 3);
    }
    Figure::new(vec![map, op]).save(dir, "ssl_collapse_map")?;
    write_csv(
        &dir.join("ssl_collapse_map.csv"),
        &["weight_decay", "strength", "std_mean", "std_lo", "std_hi", "erank_mean", "collapsed", "seeds_below_threshold_fraction", "phi_aug", "phi_c", "predicted_collapse"],
        &rows,
    )?;
    let frustration_rows: Vec<Vec<f64>> = l.frustration_strengths.iter().zip(&operators).map(|(s, o)| vec![*s, o.phi, o.wrong_neighbour]).collect();
    write_csv(&dir.join("ssl_frustration.csv"), &["strength", "phi_aug", "p_view_nearer_other_class"], &frustration_rows)?;
    let prep_note = format!(
        "{} training images{}, {} seeds, {} epochs, lr {}, momentum {}, variant {}, loss {}",
        if base.train_samples > 0 { base.train_samples.to_string() } else { "all".into() },
        if base.train_samples > 0 { " (a fixed subsample)" } else { "" },
        base.seeds,
        base.epochs,
        base.lr,
        base.momentum,
        base.variant.name(),
        base.params.text("loss")
    );
    let markdown = format!(
        "{}\nAugmentation strength: `{key}` (the other augmentation keys as in `[params]`). Prediction, made before and \
         without any training run: the augmentation operator M_aug = diag(m)^-1 A^T A of the soft labels A_ic = probability \
         that a view of image i is nearest to a view of class c (nearest view of another image, {views} views per \
         image), phi_aug = 1 - mu_2(M_aug); Model H's critical phi_c(lambda) of the {hv} head from \
         `critical_frustration` (K = 2, rho = 1/2, where f = phi); collapse predicted where phi_aug >= phi_c. Measured: \
         {prep_note}; a cell is collapsed when the seed mean of the final std of z/|z| times sqrt(d) is below \
         {COLLAPSED_STD} (isotropic outputs give 1; the collapsed ablation variants of s1 end near 0.05). Verdicts \
         agree with the prediction in {agree} of {compared} cells.\n\n{table}",
        figure_md(&study.name, "ssl_collapse_map", "Collapse map over (augmentation strength, weight decay): measured cells and Model H's predicted boundary"),
        key = l.key,
        views = l.views,
        hv = variant.name(),
    );
    let summary = json!({
        "strength_key": l.key, "variant": base.variant.name(), "model_h_variant": variant.name(), "threshold": COLLAPSED_STD,
        "frustration": l.frustration_strengths.iter().zip(&operators).map(|(s, o)| json!({"strength": s, "operator": o})).collect::<Vec<_>>(),
        "predicted_boundary": predicted_line, "measured_boundary": measured_line,
        "cells_agreeing": agree, "cells": compared, "points": points,
    });
    Ok(StudyOutput { name: study.name.clone(), title: study.title.clone(), markdown, summary })
}
