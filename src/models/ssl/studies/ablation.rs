//! Study (s1): the SSL ablation. The collapse indicators against epoch for
//! all five variants (markers: ensemble means with 95% CIs over seeds;
//! dashed line: the healthy level of the normalised-output std), with
//! Model H's verdict for the mirrored variant next to the measured one.
use std::path::Path;

use serde_json::json;

use crate::error::Result;
use crate::models::ssl::config::{SslConfig, SslVariant};
use crate::models::ssl::experiment::{Experiment, COLLAPSED_STD};
use crate::models::ssl::simulation::Prepared;
use crate::models::ssl::theory::model_h_analogue;
use crate::report::atomic::write_csv;
use crate::report::plot::{Figure, Legend, Panel, Shape};
use crate::study::runner::{figure_md, StudyFile, StudyOutput};

const SHAPES: [Shape; 5] = [Shape::Circle, Shape::Square, Shape::Triangle, Shape::Cross, Shape::Circle];

/// The study's base configuration: `[params]`, with the paper size
/// (`full = true`: every training image, 8 seeds, 60 epochs) on top.
pub fn base_config(study: &StudyFile) -> Result<SslConfig> {
    let base = SslConfig::from_table(&study.params(), &study.name)?;
    if study.bool("full", false)? {
        base.with_sets(&["train_samples=0".into(), "seeds=8".into(), "epochs=60".into()])
    } else {
        Ok(base)
    }
}

pub fn run(study: &StudyFile, dir: &Path, _progress: bool) -> Result<StudyOutput> {
    study.check_keys(&["full", "variants"])?;
    let variants = study.choices("variants", &SslVariant::NAMES, &SslVariant::NAMES)?;
    let base = base_config(study)?;
    let prep = Prepared::new(&base)?;
    let x = "epoch (passes over the training images)";
    let mut panels = [
        Panel::new("Normalised-output std", x, "std of z/|z| per dim x sqrt(d) (1 = isotropic)").legend(Legend::LowerLeft),
        Panel::new("Effective rank of z", x, "exp entropy of singular values (dimensions)").legend(Legend::LowerLeft),
        Panel::new("kNN accuracy, held-out (encoder output)", x, "accuracy (fraction of held-out images)").y_range(0.0, 1.02).legend(Legend::LowerLeft),
        Panel::new("Linear-probe accuracy, held-out", x, "accuracy (fraction of held-out images)").y_range(0.0, 1.02).legend(Legend::LowerLeft),
    ];
    let mut rows = Vec::new();
    let mut runs = Vec::new();
    let mut table = String::from("| variant | final std x sqrt(d) (95% CI) | final effective rank | final kNN acc | final probe acc | measured | Model H analogue | Model H verdict |\n|---|---|---|---|---|---|---|---|\n");
    let sd = (base.dim as f64).sqrt();
    let epochs = base.epochs;
    for (vi, name) in variants.iter().enumerate() {
        let cfg = base.with_sets(&[format!("variant={name}")])?;
        let exp = Experiment::run_prepared(&cfg, &prep)?;
        let series = |f: &dyn Fn(&crate::models::ssl::simulation::Record) -> f64| -> Vec<(f64, f64, f64, f64)> {
            (0..=epochs).map(|e| {
                let est = exp.at(e, |r| Some(f(r)));
                (e as f64, est.mean, est.ci95[0], est.ci95[1])
            }).collect()
        };
        let ind = [series(&|r| r.output_std * sd), series(&|r| r.effective_rank), series(&|r| r.knn_accuracy), series(&|r| r.probe_accuracy)];
        for (p, pts) in panels.iter_mut().zip(&ind) {
            *p = std::mem::take(p).markers(name, pts.clone(), vi, SHAPES[vi % 5]);
        }
        for e in 0..=epochs {
            rows.push(vec![vi as f64, e as f64, ind[0][e].1, ind[0][e].2, ind[0][e].3, ind[1][e].1, ind[1][e].2, ind[1][e].3, ind[2][e].1, ind[2][e].2, ind[2][e].3, ind[3][e].1, ind[3][e].2, ind[3][e].3]);
        }
        let fs = exp.final_scaled_std();
        let (analogue, verdict) = model_h_analogue(cfg.variant);
        table += &format!(
            "| {name} | {:.3} [{:.3}, {:.3}] | {:.2} | {:.3} | {:.3} | {} | {analogue} | {verdict} |\n",
            fs.mean, fs.ci95[0], fs.ci95[1], ind[1][epochs].1, ind[2][epochs].1, ind[3][epochs].1,
            if exp.collapsed() { "collapsed" } else { "not collapsed" }
        );
        runs.push(json!({"variant": name, "summary": exp.summary_json()}));
    }
    panels[0] = std::mem::take(&mut panels[0]).dashed("isotropic outputs (1/sqrt(d))", vec![(0.0, 1.0), (epochs as f64, 1.0)], 7);
    panels[0] = std::mem::take(&mut panels[0]).dashed(&format!("collapse threshold ({COLLAPSED_STD})"), vec![(0.0, COLLAPSED_STD), (epochs as f64, COLLAPSED_STD)], 8);
    let mut fig = Figure::new(panels.to_vec());
    fig.columns = 2;
    fig.save(dir, "ssl_ablation")?;
    write_csv(
        &dir.join("ssl_ablation.csv"),
        &["variant_index", "epoch", "std_mean", "std_lo", "std_hi", "erank_mean", "erank_lo", "erank_hi", "knn_mean", "knn_lo", "knn_hi", "probe_mean", "probe_lo", "probe_hi"],
        &rows,
    )?;
    let markdown = format!(
        "{}\nVariants (index in the CSV): {}. Data: {} ({} training images{}, {} held out). Markers: ensemble means \
         with 95% CIs over {} seeds (each its own initialisation, augmentations and batch order). The std of the \
         l2-normalised representation z, times sqrt(d), is 1 for isotropic outputs and 0 for a collapsed one; a run \
         counts as collapsed below {COLLAPSED_STD}. kNN and probe accuracies are measured on the encoder output x \
         of the clean held-out images.\n\n{table}",
        figure_md(&study.name, "ssl_ablation", "SSL ablation: collapse indicators against epoch for the five variants"),
        variants.iter().enumerate().map(|(i, n)| format!("{i} = {n}")).collect::<Vec<_>>().join(", "),
        prep.source,
        prep.samples(),
        if base.train_samples > 0 { " (a fixed subsample)" } else { "" },
        prep.xi_test.nrows(),
        base.seeds,
    );
    Ok(StudyOutput { name: study.name.clone(), title: study.title.clone(), markdown, summary: json!({"runs": runs}) })
}
