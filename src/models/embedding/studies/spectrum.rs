//! Study (c): the spectrum of the class-level operator against f. The slow
//! (separating) rate detaches from the fast alignment rates as frustration
//! grows from zero.
use std::path::Path;

use serde_json::json;

use crate::config::Kind;
use crate::engine::jacobian_eigenvalues;
use crate::engine::VectorField;
use crate::error::Result;
use crate::models::embedding::config::EmbeddingConfig;
use crate::report::atomic::write_csv;
use crate::report::plot::{Figure, Legend, Panel, Shape};
use crate::models::embedding::experiment::EmbeddingExperiment;
use crate::study::runner::{figure_md, StudyFile, StudyOutput};
use crate::models::embedding::studies::slow_rate::with_horizon;
use crate::models::embedding::reduced::class_level::ClassLevelSystem;
use crate::models::embedding::reduced::simplex::SimplexSystem;

pub fn run(study: &StudyFile, dir: &Path, progress: bool) -> Result<StudyOutput> {
    study.check_keys(&["f_max", "points", "simulate"])?;
    let f_max = study.real_in("f_max", 0.6, Kind::Real { min: 0.0, max: 1.0, open_min: true, open_max: false })?;
    let n = study.int("points", 13, 2, 10_000)? as usize;
    let sim_fs = study.reals_in("simulate", &[0.1, 0.3, 0.5], Kind::Real { min: 0.0, max: 1.0, open_min: false, open_max: false })?;
    let base = study.params();
    let mut per_index: Vec<Vec<(f64, f64)>> = Vec::new();
    let (mut slow, mut first, mut simplex_pts) = (Vec::new(), Vec::new(), Vec::new());
    let mut rows = Vec::new();
    for j in 0..n {
        let f = f_max * j as f64 / (n - 1) as f64;
        let cfg = EmbeddingConfig::from_table(&base, &[format!("frustrated={f}")], &study.name)?;
        let a = cfg.label_weights()?;
        let sys = ClassLevelSystem::new(&a, cfg.eta_x, cfg.eta_y, 1)?;
        let spec = sys.spectrum()?;
        let rates: Vec<f64> = spec.modes.iter().map(|m| m.rate).filter(|&r| r > 0.0).collect();
        // At f = 0 the frustrated groups do not exist, so the spectrum has a
        // different size; start the lines at the first f > 0.
        for (i, r) in rates.iter().enumerate().filter(|_| f > 0.0) {
            if per_index.len() <= i {
                per_index.push(Vec::new());
            }
            per_index[i].push((f, *r));
        }
        if spec.slow_rate > 0.0 {
            slow.push((f, spec.slow_rate));
            let phi = crate::models::common::frustration::FrustrationOperator::new(&a)?.frustration_index;
            first.push((f, phi * cfg.eta_x * cfg.eta_y / (cfg.eta_x + cfg.eta_y)));
        }
        let simplex = SimplexSystem::new(f, cfg.design.rho, cfg.design.classes, cfg.eta_x, cfg.eta_y);
        let ev = jacobian_eigenvalues(&simplex, &simplex.initial_state(), &simplex.default_params())?;
        for e in ev.iter().filter(|e| -e.re > 1e-12) {
            simplex_pts.push((f, -e.re, -e.re, -e.re));
        }
        let mut row = vec![f, spec.slow_rate, spec.slowest_fast_rate()];
        row.extend(ev.iter().map(|e| -e.re));
        rows.push(row);
    }
    let mut panel = Panel::new("Spectrum of the class-level operator", "frustrated fraction f", "decay rate (units of eta_x)").log_y().legend(Legend::LowerRight);
    for (i, line) in per_index.into_iter().enumerate() {
        let label = if i == 0 { "all rates of L (exact)" } else { "" };
        panel = panel.line(label, line, 5);
    }
    panel = panel
        .line("slow (separating) rate", slow, 1)
        .dashed("first order phi eta_x eta_y/(eta_x+eta_y)", first, 6)
        .markers("4-variable simplex system", simplex_pts.into_iter().step_by(2).collect(), 2, Shape::Cross);
    let mut sim_pts = Vec::new();
    let mut sims = Vec::new();
    for &f in &sim_fs {
        let cfg = with_horizon(&base, &[format!("frustrated={f}")], &study.name, 3000.0)?;
        let exp = EmbeddingExperiment::run(&cfg, progress)?;
        if let Some(e) = exp.fitted_rate() {
            sim_pts.push((f, e.mean, e.ci95[0], e.ci95[1]));
            sims.push(json!({"frustrated": f, "fitted_slow_rate": e, "exact_slow_rate": exp.spectrum.slow_rate}));
        }
    }
    panel = panel.markers("fitted slow rate (simulation, 95% CI)", sim_pts, 0, Shape::Circle);
    Figure::new(vec![panel]).save(dir, "spectrum")?;
    let width = rows.iter().map(|r| r.len()).max().unwrap_or(3);
    let mut header = vec!["f".to_string(), "slow_rate".into(), "slowest_fast_rate".into()];
    header.extend((3..width).map(|i| format!("simplex_rate_{}", i - 3)));
    let rows: Vec<Vec<f64>> = rows.into_iter().map(|mut r| { r.resize(width, f64::NAN); r }).collect();
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    write_csv(&dir.join("spectrum.csv"), &header, &rows)?;
    let markdown = format!(
        "{}\nLines: every non-zero decay rate of the exact class-level operator `L` (grey), the slow separating rate \
         (orange) and its first-order form (dashed). Crosses: the eigenvalues of the independent 4-variable simplex \
         system, which must lie on the lines of `L`. Circles: slow rates fitted to simulations. At f = 0 the \
         spectrum is {{0, eta_x + eta_y}}, each K-fold (one conserved centre of mass per class): no slow mode.\n",
        figure_md(&study.name, "spectrum", "Fast and slow rates against f")
    );
    Ok(StudyOutput { name: study.name.clone(), title: study.title.clone(), markdown, summary: json!({"simulations": sims}) })
}
