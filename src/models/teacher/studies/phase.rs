//! Study (o): Model T with a projection head and weight decay, the phase
//! diagram in `(f, lambda)` (analogue of Model H's study (g)). Theory: the
//! saddle-node `f_c(lambda)` of the non-collapsed branch traced by the
//! engine's fold continuation of the exact channel field
//! ([`engine_boundary`]), and the end of the branch by fixed-point existence
//! ([`critical_frustration`]), which at small `lambda` is the noise runaway
//! (the scale diverges) instead of the fold. Markers: online SGD verdicts
//! at `t_max`. Second panel: the label distance of the `w+` fixed point
//! against `f` at one `lambda` with SGD ensembles (95% CI) at growing `D`.
//! Third panel: where the head ODE oscillates (issue 25): the symmetric
//! point's instability line `lambda_c(f)`, the Hopf curve of the drifting
//! state with its runoff line (`cycle_region`), the stable-cycle reach of
//! collocation branches (`full = true`) and the head ODE's motion markers.
use std::path::Path;

use rayon::prelude::*;
use serde_json::json;

use crate::config::Kind;
use crate::error::Result;
use crate::models::teacher::config::TeacherConfig;
use crate::models::teacher::head::oscillation::{classify_motion, symmetric_onset, Motion, MotionReport};
use crate::models::teacher::head::simulation::simulate_head;
use crate::report::atomic::write_csv;
use crate::report::plot::{Figure, Legend, Panel, Shape};
use crate::stats::{collapsed_below, estimate};
use crate::study::runner::{figure_md, StudyFile, StudyOutput};
use crate::models::teacher::head::reduced::cycle_region::{cycle_region, CycleEnd, CycleRegion, RegionOptions};
use crate::models::teacher::head::reduced::channel::{channel_fixed_points, critical_frustration, engine_boundary, Channel, HeadChannel, NoBranch, WEIGHT_DECAY};
use crate::models::teacher::metrics::TeacherScorer;
use crate::models::teacher::statistics::Teacher;

/// Collapse threshold (fraction of the run's peak min label distance): the
/// SGD noise floor of the label distance above `f_c` is `~0.005` at
/// `D = 100` (measured), 1-2% of the peak, while below `f_c` the fixed
/// point keeps `>= 8%` of it on this study's grid.
const COLLAPSE_FRACTION: f64 = 0.05;

/// Label noises of the symmetric point's instability line `lambda_c(f)`.
/// Contains every entry of `MOTION_NOISES`.
const ONSET_NOISES: [f64; 8] = [0.02, 0.05, 0.075, 0.1, 0.125, 0.15, 0.175, 0.2];
/// Label noises and weight decays (fractions of `lambda_c(f)`) at which the
/// head ODE's motion is classified: the stable cycle lives in a band of a
/// few percent of `lambda_c` below `0.8 lambda_c` (measured at f = 0.05,
/// 0.1, 0.15), between the settling drift above and the runaway below.
const MOTION_NOISES: [f64; 3] = [0.05, 0.1, 0.15];
const MOTION_FRACTIONS: [f64; 8] = [0.74, 0.75, 0.76, 0.77, 0.78, 0.79, 0.8, 0.82];
/// The default run's motion grid: f = 0.1 only, on the three fractions that
/// bracket the small cycle (settles / cycle / runaway side), because each
/// classification integrates 33 variables to t = 30000 and the 24-cell grid
/// takes minutes; `full = true` runs the whole grid for the paper figure.
const MOTION_NOISES_DEFAULT: [f64; 1] = [0.1];
const MOTION_FRACTIONS_DEFAULT: [f64; 3] = [0.76, 0.78, 0.8];
/// Where the Hopf curve is started: the drifting state at `f = 0.1`,
/// `lambda = 0.02` is stable and its branch meets the Hopf point at
/// `lambda_H = 0.0198` (`docs/teacher.md` 9.1).
const REGION_START: (f64, f64) = (0.1, 0.02);
/// Integration time of each classification (three thirds of 10^4: the
/// swing rates near the cycle's birth are ~1e-5 per unit time).
const MOTION_T_MAX: f64 = 30000.0;

/// The oscillation layers (issue 25): `lambda_c(f)` below which the
/// symmetric non-collapsed point is unstable, and the head ODE's motion on
/// a grid below it.
fn oscillation_layers(base: &toml::Table, name: &str, full: bool) -> Result<(Vec<(f64, f64)>, Vec<MotionReport>)> {
    let (noises, fractions): (&[f64], &[f64]) =
        if full { (&MOTION_NOISES, &MOTION_FRACTIONS) } else { (&MOTION_NOISES_DEFAULT, &MOTION_FRACTIONS_DEFAULT) };
    let at = |f: f64, lam: Option<f64>| {
        let mut sets = vec![format!("label_noise={f}")];
        sets.extend(lam.map(|l| format!("weight_decay={l}")));
        TeacherConfig::from_table(base, &sets, name)
    };
    let onset: Vec<(f64, f64)> = ONSET_NOISES
        .par_iter()
        .map(|&f| Ok((f, symmetric_onset(&at(f, None)?, 0.005, 0.08, 1e-7)?.weight_decay)))
        .collect::<Result<_>>()?;
    let cells: Vec<(f64, f64)> = noises
        .iter()
        .flat_map(|&f| {
            let lc = onset.iter().find(|o| o.0 == f).expect("ONSET_NOISES contains MOTION_NOISES").1;
            fractions.iter().map(move |&q| (f, q * lc))
        })
        .collect();
    let motion = cells.par_iter().map(|&(f, lam)| classify_motion(&at(f, Some(lam))?, MOTION_T_MAX)).collect::<Result<Vec<_>>>()?;
    Ok((onset, motion))
}

/// The Hopf curve over `f_range`, the runoff line at five label noises
/// across it, and with `full` the stable cycle's reach at `cycle_fs`
/// (one collocation branch each, seconds per branch; the default run
/// leaves the lower edge of the stable-cycle region unclassified).
fn region(base: &toml::Table, name: &str, f_range: &[f64], cycle_fs: &[f64], full: bool) -> Result<CycleRegion> {
    let cfg = TeacherConfig::from_table(base, &[format!("label_noise={}", REGION_START.0), format!("weight_decay={}", REGION_START.1)], name)?;
    let (lo, hi) = (f_range[0], f_range[1]);
    let opts = RegionOptions {
        f_range: [lo, hi],
        runoff_fs: (0..5).map(|i| lo + (hi - lo) * i as f64 / 4.0).collect(),
        cycle_fs: if full { cycle_fs.to_vec() } else { Vec::new() },
        ..RegionOptions::default()
    };
    cycle_region(&cfg, &opts)
}

/// Linear interpolation of `line` (increasing x) at `x` (clamped at the ends).
fn interp(line: &[(f64, f64)], x: f64) -> f64 {
    match line.iter().position(|p| p.0 >= x) {
        Some(0) => line[0].1,
        Some(i) => line[i - 1].1 + (line[i].1 - line[i - 1].1) * (x - line[i - 1].0) / (line[i].0 - line[i - 1].0),
        None => line.last().map_or(f64::NAN, |p| p.1),
    }
}

/// The oscillation-region panel (zoomed on the Hopf curve's `f` range) and
/// its table.
fn region_panel(reg: &CycleRegion, onset: &[(f64, f64)], motion: &[MotionReport]) -> (Panel, String) {
    let hopf: Vec<(f64, f64)> = reg.hopf_curve.iter().map(|h| (h.f, h.weight_decay)).collect();
    let (f_lo, f_hi) = (hopf.first().map_or(0.0, |h| h.0), hopf.last().map_or(1.0, |h| h.0));
    let l1s: Vec<f64> = reg.hopf_curve.iter().filter_map(|h| h.l1).collect();
    let (l1_lo, l1_hi) = (l1s.iter().cloned().fold(f64::INFINITY, f64::min), l1s.iter().cloned().fold(f64::NEG_INFINITY, f64::max));
    let near = |f: f64| f >= f_lo - 1e-9 && f <= f_hi + 1e-9;
    let mut panel = Panel::new("Head ODE (D -> infinity): where it oscillates", "label noise f (fraction of labels)", "weight decay lambda (dimensionless)").legend(Legend::LowerRight);
    panel = panel.dashed("lambda_c(f): symmetric point unstable below", onset.iter().filter(|o| near(o.0)).cloned().collect(), 3);
    panel = panel.line(&format!("Hopf curve of the drifting state (engine; l1 in [{l1_lo:.2e}, {l1_hi:.2e}])"), hopf.clone(), 0);
    panel = panel.dashed("drifting state runs off to infinity below", reg.runoff_line(), 6);
    let classified: Vec<(f64, f64, f64, f64)> = reg.cycles.iter().map(|c| (c.f, c.lambda_h, c.lowest_stable, c.lambda_h)).collect();
    let unclassified: Vec<(f64, f64, f64, f64)> = reg
        .runoff
        .iter()
        .filter(|r| r.runs_off && !reg.cycles.iter().any(|c| (c.f - r.f).abs() < 1e-9 && matches!(c.end, CycleEnd::LosesStability)))
        .map(|r| {
            let top = reg.cycles.iter().find(|c| (c.f - r.f).abs() < 1e-9).map_or(r.lambda_h, |c| c.lowest_stable);
            (r.f, r.weight_decay, r.weight_decay, top)
        })
        .collect();
    if !classified.is_empty() {
        panel = panel.markers("stable cycle (collocation from the Hopf point)", classified, 0, Shape::Square);
    }
    if !unclassified.is_empty() {
        panel = panel.markers("not classified (the cycle's end not located)", unclassified, 7, Shape::Triangle);
    }
    for (kind, label, color, shape) in [
        (Motion::Cycle, "head ODE motion: stable cycle", 2, Shape::Square),
        (Motion::Settles, "head ODE motion: settles", 7, Shape::Circle),
        (Motion::Runaway, "head ODE motion: runaway or growing", 6, Shape::Cross),
    ] {
        let pts: Vec<(f64, f64, f64, f64)> =
            motion.iter().filter(|m| m.motion == kind && near(m.label_noise)).map(|m| (m.label_noise, m.weight_decay, m.weight_decay, m.weight_decay)).collect();
        if !pts.is_empty() {
            panel = panel.markers(label, pts, color, shape);
        }
    }
    let mut table = String::from(
        "| f | lambda_H | lambda_H / lambda_c | period at birth | l1 | runoff lambda | lowest stable resolved cycle (period) | below it |\n|---|---|---|---|---|---|---|---|\n",
    );
    for r in &reg.runoff {
        let h = reg.hopf_curve.iter().find(|h| (h.f - r.f).abs() < 1e-12);
        let cyc = reg.cycles.iter().find(|c| (c.f - r.f).abs() < 1e-9);
        table += &format!(
            "| {:.4} | {:.6} | {:.3} | {} | {} | {} | {} | {} |\n",
            r.f,
            r.lambda_h,
            r.lambda_h / interp(onset, r.f),
            h.map_or("-".into(), |h| format!("{:.1}", 2.0 * std::f64::consts::PI / h.omega)),
            h.and_then(|h| h.l1).map_or("-".into(), |v| format!("{v:.3e}")),
            if r.runs_off { format!("{:.6}", r.weight_decay) } else { format!("not reached ({}, {:.6})", r.stop, r.weight_decay) },
            cyc.map_or("not computed (full = true)".into(), |c| format!("{:.6} ({:.1})", c.lowest_stable, c.period_range[1])),
            cyc.map_or("-".into(), |c| match &c.end {
                CycleEnd::LosesStability => format!("{:.6}", c.first_unstable.unwrap_or(f64::NAN)),
                CycleEnd::MeshUnresolved { weight_decay, trivial_error } => {
                    format!("not classified: mesh unresolved at {weight_decay:.6} (trivial multiplier off by {trivial_error:.1e})")
                }
                CycleEnd::BranchStopped { stop } => format!("not classified: branch stopped ({stop})"),
            }),
        );
    }
    (panel, table)
}

/// Final min label distances of `cfg.seeds` SGD runs and whether each collapsed.
fn sgd_outcomes(cfg: &TeacherConfig) -> Result<Vec<(f64, bool)>> {
    let scorer = TeacherScorer::new(Teacher::new(cfg.teacher, cfg.classes), cfg.label_noise, cfg.sigma, cfg.a);
    (0..cfg.seeds as u64)
        .into_par_iter()
        .map(|s| {
            let run = simulate_head(cfg, &scorer, cfg.seed + s)?;
            let seps: Vec<f64> = run.metrics.iter().map(|m| m.base.min_label_distance).collect();
            Ok((*seps.last().expect("non-empty grid"), collapsed_below(&seps, COLLAPSE_FRACTION)))
        })
        .collect()
}

pub fn run(study: &StudyFile, dir: &Path, progress: bool) -> Result<StudyOutput> {
    study.check_keys(&["weight_decays", "frustrated", "lambda_range", "ci_weight_decay", "ci_frustrated", "ci_dims", "ci_t_max", "hopf_frustrated", "cycle_frustrated", "full"])?;
    let full = study.bool("full", false)?;
    let lams = study.reals_in("weight_decays", &[0.04, 0.08, 0.12], Kind::NON_NEGATIVE)?;
    let fs = study.reals_in("frustrated", &[0.05, 0.15, 0.3, 0.45, 0.6], Kind::Real { min: 0.0, max: 1.0, open_min: false, open_max: false })?;
    let range = study.reals_in("lambda_range", &[0.01, 0.2], Kind::NON_NEGATIVE)?;
    if range.len() != 2 || range[0] >= range[1] {
        return Err(crate::error::Error::invalid("lambda_range", format!("{range:?}"), "two weight decays [lo, hi] with 0 <= lo < hi"));
    }
    let ci_lam = study.real_in("ci_weight_decay", 0.05, Kind::NON_NEGATIVE)?;
    let ci_fs = study.reals_in("ci_frustrated", &[0.05, 0.15, 0.25], Kind::Real { min: 0.0, max: 1.0, open_min: false, open_max: false })?;
    let ci_dims = study.ints("ci_dims", &[100, 200, 400], 2, i64::MAX)?.into_iter().map(|n| n as f64).collect::<Vec<f64>>();
    let ci_t = study.real_in("ci_t_max", 600.0, Kind::POSITIVE)?;
    let unit = Kind::Real { min: 0.0, max: 1.0, open_min: true, open_max: true };
    let hopf_fs = study.reals_in("hopf_frustrated", &[0.05, 0.15], unit)?;
    if hopf_fs.len() != 2 || !(hopf_fs[0] < REGION_START.0 && REGION_START.0 < hopf_fs[1]) {
        return Err(crate::error::Error::invalid("hopf_frustrated", format!("{hopf_fs:?}"), format!("two label noises [lo, hi] with lo < {} < hi", REGION_START.0)));
    }
    // Used with `full = true` only, validated always.
    let cycle_fs = study.reals_in("cycle_frustrated", &[0.05, 0.1, 0.15], unit)?;
    if let Some(f) = cycle_fs.iter().find(|f| **f < hopf_fs[0] || **f > hopf_fs[1]) {
        return Err(crate::error::Error::invalid("cycle_frustrated", f, format!("label noises inside hopf_frustrated = {hopf_fs:?}")));
    }
    let base = study.params();
    let probe = TeacherConfig::from_table(&base, &[format!("weight_decay={ci_lam}")], &study.name)?;
    let (lam_lo, lam_hi) = (range[0], range[range.len() - 1]);
    // Theory: fold curve (engine) and existence boundary (bisection).
    let sys = HeadChannel::new(&probe, Channel::Separating, [0.0; 4])?;
    let mut p = sys.params.clone();
    let curve = engine_boundary(&sys, &p, lam_lo, lam_hi, 0.01)?;
    let fold_line: Vec<(f64, f64)> = curve.points.iter().map(|pt| (pt.p1, pt.p2)).collect();
    let lam_grid: Vec<f64> = (0..=40).map(|j| lam_lo + (lam_hi - lam_lo) * j as f64 / 40.0).collect();
    let mut existence = Vec::new();
    let mut runaway = Vec::new();
    for &lam in &lam_grid {
        p[WEIGHT_DECAY] = lam;
        if let Ok(Some((f, why))) = critical_frustration(&sys, &p) {
            existence.push((f, lam, why));
            if why == NoBranch::Runaway {
                runaway.push((f, lam));
            }
        }
    }
    // Route agreement at every point of the engine's fold curve where the
    // branch ends by the fold (existence bisection at the curve's own lambda).
    let fold_dev = fold_line
        .par_iter()
        .filter_map(|&(f, lam)| {
            let mut q = p.clone();
            q[WEIGHT_DECAY] = lam;
            match critical_frustration(&sys, &q) {
                Ok(Some((fe, NoBranch::Fold))) => Some((f - fe).abs()),
                _ => None,
            }
        })
        .reduce(|| 0.0, f64::max);
    // SGD verdicts on the (f, lambda) grid.
    let started = std::time::Instant::now();
    let mut kept = Vec::new();
    let mut lost = Vec::new();
    let mut mixed = Vec::new();
    let mut rows = Vec::new();
    let mut verdicts = Vec::new();
    for &lam in &lams {
        p[WEIGHT_DECAY] = lam;
        let fc = critical_frustration(&sys, &p)?.map(|e| e.0);
        for &f in &fs {
            let cfg = TeacherConfig::from_table(&base, &[format!("weight_decay={lam}"), format!("label_noise={f}")], &study.name)?;
            let out = sgd_outcomes(&cfg)?;
            let n_kept = out.iter().filter(|o| !o.1).count();
            let pt = (f, lam, lam, lam);
            match n_kept {
                0 => lost.push(pt),
                n if n == out.len() => kept.push(pt),
                _ => mixed.push(pt),
            }
            rows.push(vec![lam, f, n_kept as f64 / out.len() as f64, fc.unwrap_or(f64::NAN)]);
            verdicts.push(json!({"weight_decay": lam, "f": f, "f_c": fc, "kept_fraction": n_kept as f64 / out.len() as f64, "final_min_label_distance": out.iter().map(|o| o.0).collect::<Vec<_>>()}));
        }
    }
    if progress {
        eprintln!("  phase grid: {:.1} s", started.elapsed().as_secs_f64());
    }
    let mut phase = Panel::new(&format!("Model T, {} head: phase diagram (SGD at D = {}, t = {})", probe.head.name(), probe.input_dim, probe.t_max), "label noise f", "weight decay lambda")
        .legend(Legend::UpperRight)
        .y_range(0.0, 1.5 * lam_hi);
    phase = phase.line("saddle-node f_c: fold continuation (engine)", fold_line.clone(), 6);
    if !runaway.is_empty() {
        phase = phase.dashed("no fixed point for larger f: noise runaway (D -> inf)", runaway.clone(), 5);
    }
    phase = phase
        .markers("SGD: all seeds keep separation", kept, 2, Shape::Circle)
        .markers("SGD: some seeds collapse", mixed, 4, Shape::Triangle)
        .markers("SGD: all seeds collapse", lost, 1, Shape::Cross);
    // Label distance at the fixed point against f, SGD at growing D.
    p[WEIGHT_DECAY] = ci_lam;
    let fc_ci = critical_frustration(&sys, &p)?.map(|e| e.0).unwrap_or(1.0);
    let theory: Vec<(f64, f64)> = (0..=60)
        .map(|j| fc_ci * j as f64 / 60.0)
        .filter_map(|f| {
            let mut q = p.clone();
            q[2] = f;
            channel_fixed_points(&sys, &q).ok().map(|pts| (f, std::f64::consts::SQRT_2 * pts[0].state[1]))
        })
        .collect();
    let mut dist = Panel::new(&format!("Label distance at the fixed point, lambda = {ci_lam} (t = {ci_t})"), "label noise f", "min inter-label distance").legend(Legend::LowerLeft);
    dist = dist.line("theory: w+ fixed point (channel reduction)", theory.clone(), 6);
    let mut ci_table = String::from("| D | f | SGD min label distance (95% CI) | theory |\n|---|---|---|---|\n");
    let mut ci_json = Vec::new();
    for (di, &dd) in ci_dims.iter().enumerate() {
        let mut pts = Vec::new();
        for &f in &ci_fs {
            let cfg = TeacherConfig::from_table(&base, &[format!("weight_decay={ci_lam}"), format!("label_noise={f}"), format!("input_dim={}", dd as usize), format!("t_max={ci_t}")], &study.name)?;
            let out = sgd_outcomes(&cfg)?;
            let e = estimate(&out.iter().map(|o| o.0).collect::<Vec<_>>());
            let mut q = p.clone();
            q[2] = f;
            let th = channel_fixed_points(&sys, &q).ok().map(|pts| std::f64::consts::SQRT_2 * pts[0].state[1]);
            ci_table += &format!("| {dd} | {f} | {:.4} [{:.4}, {:.4}] | {} |\n", e.mean, e.ci95[0], e.ci95[1], th.map_or("-".into(), |v| format!("{v:.4}")));
            ci_json.push(json!({"D": dd, "f": f, "sgd": e, "theory": th}));
            pts.push((f, e.mean, e.ci95[0], e.ci95[1]));
        }
        dist = dist.markers(&format!("SGD, D = {dd}"), pts, di, [Shape::Circle, Shape::Square, Shape::Triangle][di % 3]);
    }
    let (onset, motion) = oscillation_layers(&base, &study.name, full)?;
    phase = phase.dashed("symmetric point unstable below (real double eigenvalue; head ODE)", onset.clone(), 3);
    for (kind, label, color, shape) in [
        (Motion::Cycle, "head ODE: stable cycle of the invariants", 0, Shape::Square),
        (Motion::Settles, "head ODE: settles (drifting state)", 7, Shape::Circle),
        (Motion::Irregular, "head ODE: large irregular swing", 3, Shape::Triangle),
        (Motion::Runaway, "head ODE: runaway or swing still growing", 6, Shape::Cross),
    ] {
        let pts: Vec<(f64, f64, f64, f64)> = motion.iter().filter(|m| m.motion == kind).map(|m| (m.label_noise, m.weight_decay, m.weight_decay, m.weight_decay)).collect();
        if !pts.is_empty() {
            phase = phase.markers(label, pts, color, shape);
        }
    }
    // Third panel: the oscillation region (D -> infinity).
    let reg = region(&base, &study.name, &hopf_fs, &cycle_fs, full)?;
    let (zoom, region_table) = region_panel(&reg, &onset, &motion);
    let mut osc_table = String::from("| f | weight decay | lambda / lambda_c | head ODE motion | swing rate | period | spread range | class separation range |\n|---|---|---|---|---|---|---|---|\n");
    for m in &motion {
        let lc = onset.iter().find(|o| o.0 == m.label_noise).map_or(f64::NAN, |o| o.1);
        let range = |o: &Option<crate::models::teacher::head::oscillation::Oscillation>| o.as_ref().map_or("-".to_string(), |o| format!("[{:.4}, {:.4}]", o.min, o.max));
        osc_table += &format!(
            "| {} | {:.5} | {:.2} | {:?} | {:.2e} | {} | {} | {} |\n",
            m.label_noise,
            m.weight_decay,
            m.weight_decay / lc,
            m.motion,
            m.swing_rate,
            m.spread.as_ref().map_or("-".to_string(), |o| format!("{:.1}", o.period)),
            range(&m.spread),
            range(&m.separation)
        );
    }
    if progress {
        eprintln!("  phase study total: {:.1} s", started.elapsed().as_secs_f64());
    }
    Figure::new(vec![phase, dist, zoom]).save(dir, "teacher_phase")?;
    write_csv(&dir.join("teacher_phase.csv"), &["weight_decay", "f", "kept_fraction", "f_c_theory"], &rows)?;
    let markdown = format!(
        "{}\nTheory (D -> infinity, `theory::teacher_head_channel`): the non-collapsed fixed point `w+` of the exact \
         channel reduction exists below the solid line, the saddle-node `f_c(lambda)` traced by the engine (fold \
         continuation of the channel field in f, then of the fold in (f, lambda)); fixed-point existence \
         (bisection) agrees with it to {fold_dev:.1e} wherever the branch ends by the fold. Dashed: at small lambda \
         the branch ends earlier because its scale diverges (the SGD-noise runaway of the un-regularised head \
         survives weak decay); there the D -> infinity ODE has no non-collapsed fixed point and SGD is held by the \
         finite-D plateau instead. Markers: online SGD, a seed collapses when its final min label distance is \
         below 5% of its peak (the finite-D SGD floor is 1-2% of the peak at D = 100). Middle: the fixed point's label distance against SGD ensembles at growing D \
         (95% CI over seeds).\n\n{ci_table}\n\
         Oscillation (issue 25, `docs/teacher.md` section 9): below the dashed line lambda_c(f) the symmetric \
         non-collapsed point of the head ODE is unstable through a real, doubly degenerate eigenvalue (no Hopf \
         point there). Squares: from the config's initial state the head ODE's invariants (spread, rotation-invariant \
         class separation) oscillate with a constant swing (stable cycle, t = {MOTION_T_MAX}); circles: the swing \
         decays onto a state that drifts along the rotation of the centred class plane; triangles: a large swing \
         (bigger than the spread's minimum) that neither repeats nor dies out; crosses: runaway, or a swing still growing by t_max.\n\n{osc_table}\n\
         Right panel, where the head ODE oscillates (`docs/teacher.md` 9.2; `head::reduced::cycle_region`): on the \
         slice-reduced head ODE (the continuous symmetry divided out, 29 variables) the drifting state loses \
         stability at a Hopf point; the engine traces that Hopf curve in (f, lambda) (solid) and gives its first \
         Lyapunov coefficient l1 (negative: supercritical, a stable cycle is born below the curve). Below the dashed \
         runoff line the drifting state's branch has run off to infinity. Bars: the stable-cycle region at single f; \
         a bar is *classified* where the cycle was continued by collocation (10 mesh intervals of 4 Gauss points, \
         from the Hopf point down to its lowest stable cycle whose trivial Floquet multiplier is within 1e-3 of 1, \
         i.e. resolved by the mesh; `full = true`), and *not classified* below that down to the runoff line (the \
         cycle's end was not located there: it may lose stability or grow without bound in between; the head ODE's \
         motion markers at f = {f0} bracket it from below).\n\n{region_table}",
        figure_md(&study.name, "teacher_phase", "Model T with head and weight decay: phase diagram, fixed-point label distance and oscillation region"),
        f0 = REGION_START.0
    );
    Ok(StudyOutput {
        name: study.name.clone(),
        title: study.title.clone(),
        markdown,
        summary: json!({"fold_curve": fold_line, "existence_boundary": existence.iter().map(|e| json!({"f": e.0, "weight_decay": e.1, "ends_by": format!("{:?}", e.2).to_lowercase()})).collect::<Vec<_>>(),
                        "max_route_deviation": fold_dev, "sgd_verdicts": verdicts, "label_distance_vs_D": ci_json,
                        "oscillation": {"symmetric_onset": onset, "motion": motion, "cycle_region": reg}}),
    })
}
