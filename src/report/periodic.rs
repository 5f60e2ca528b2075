//! Files and figure of a branch of limit cycles ([`crate::request::PeriodicRun`]),
//! written the same way by `repcollapse analyze MODEL periodic` and the
//! `model-analysis` study.
use std::io::Write;
use std::path::Path;

use crate::engine::{CycleBifurcationKind, CycleBranch, CyclePoint};
use crate::error::{Error, Result};
use crate::report::analysis::bifurcation_figure;
use crate::report::atomic::write_atomic;
use crate::report::plot::{Figure, Panel, Series, Shape};
use crate::request::PeriodicRun;

/// Writes `periodic.csv` (one row per cycle and per special point: period,
/// min/max of each variable, stability), `periodic_multipliers.csv` (every
/// Floquet multiplier of every row: real and imaginary part, modulus,
/// whether it is the trivial one) and the diagram `periodic.{png,svg}`
/// (state variable `v` on the vertical axis) into `dir`.
pub fn save_periodic(dir: &Path, run: &PeriodicRun, names: &[String], v: usize, title: &str) -> Result<()> {
    let err = |file: &'static str| move |e: std::io::Error| Error::Write { path: dir.join(file), reason: e.to_string() };
    let mut csv = Vec::new();
    run.branch.write_csv(&mut csv, names).map_err(err("periodic.csv"))?;
    write_atomic(&dir.join("periodic.csv"), &csv)?;
    let mut m = Vec::new();
    write_multipliers_csv(&mut m, &run.branch).map_err(err("periodic_multipliers.csv"))?;
    write_atomic(&dir.join("periodic_multipliers.csv"), &m)?;
    periodic_figure(run, &names[v], v, title).save(dir, "periodic")?;
    Ok(())
}

/// CSV with header `kind,index,<param>,multiplier,re,im,modulus,trivial`:
/// the rows of `periodic.csv` (same `kind` and `index`), one line per
/// multiplier, by decreasing modulus.
pub fn write_multipliers_csv(w: &mut dyn Write, branch: &CycleBranch) -> std::io::Result<()> {
    writeln!(w, "kind,index,{},multiplier,re,im,modulus,trivial", branch.param_name)?;
    let rows = |w: &mut dyn Write, kind: &str, i: usize, p: &CyclePoint| -> std::io::Result<()> {
        for (j, z) in p.multipliers.all.iter().enumerate() {
            writeln!(w, "{kind},{i},{},{j},{},{},{},{}", p.param, z.re, z.im, z.norm(), j == p.multipliers.trivial)?;
        }
        Ok(())
    };
    for (i, p) in branch.points.iter().enumerate() {
        rows(w, "point", i, p)?;
        for b in branch.bifurcations.iter().filter(|b| b.index == i) {
            rows(w, b.kind.as_str(), i, &b.point)?;
        }
    }
    Ok(())
}

/// Bifurcation diagram: the equilibria (stable solid, unstable dashed, with
/// their fold, Hopf and branch points) and the cycles as the band between
/// the minimum and maximum of variable `v` over each orbit (stable solid,
/// unstable dashed), with LPC (triangle), PD (cross) and NS (circle) points
/// drawn as a bar from the cycle's minimum to its maximum.
pub fn periodic_figure(run: &PeriodicRun, var: &str, v: usize, title: &str) -> Figure {
    let param = &run.branch.param_name;
    let mut panel = match &run.equilibria {
        Ok(d) => {
            let mut p = bifurcation_figure(d, param, var, v, title).panels.remove(0);
            for s in &mut p.series {
                if let Series::Line { label, .. } = s {
                    if !label.is_empty() {
                        *label = format!("{label} equilibria");
                    }
                }
            }
            p
        }
        Err(_) => Panel::new(title, param, var),
    };
    let (mut stable_label, mut unstable_label) = (true, true);
    let pts = &run.branch.points;
    let mut start = 0;
    while start + 1 < pts.len() {
        let stable = pts[start].stable;
        let mut end = start + 1;
        while end + 1 < pts.len() && pts[end].stable == stable {
            end += 1;
        }
        // The run shares its last point with the next run, so the band is unbroken.
        let run_pts = &pts[start..=end];
        let max: Vec<(f64, f64)> = run_pts.iter().map(|q| (q.param, q.max[v])).collect();
        let min: Vec<(f64, f64)> = run_pts.iter().map(|q| (q.param, q.min[v])).collect();
        let label = |first: &mut bool, what: &str| if std::mem::take(first) { format!("{what} cycles (max/min)") } else { String::new() };
        panel = if stable {
            let l = label(&mut stable_label, "stable");
            panel.line(&l, max, 3).line("", min, 3)
        } else {
            let l = label(&mut unstable_label, "unstable");
            panel.dashed(&l, max, 5).dashed("", min, 5)
        };
        start = end;
    }
    for (kind, shape, color, label) in [
        (CycleBifurcationKind::Lpc, Shape::Triangle, 4, "fold of cycles (LPC)"),
        (CycleBifurcationKind::Pd, Shape::Cross, 1, "period doubling (PD)"),
        (CycleBifurcationKind::Ns, Shape::Circle, 0, "Neimark-Sacker (NS)"),
    ] {
        let marks: Vec<(f64, f64, f64, f64)> =
            run.branch.bifurcations.iter().filter(|b| b.kind == kind).map(|b| (b.point.param, b.point.max[v], b.point.min[v], b.point.max[v])).collect();
        if !marks.is_empty() {
            panel = panel.markers(label, marks, color, shape);
        }
    }
    Figure::new(vec![panel])
}
