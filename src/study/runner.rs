//! Runs study files: `analysis/*.toml`, each naming a study kind and its
//! parameters. Every study writes figures (PNG, SVG), CSV data and a
//! `summary.json` under `<out>/<study>/`; the runner then writes
//! `<out>/report.md` linking them all.
use std::path::{Path, PathBuf};

use crate::error::{suggest, Error, Result};
use crate::report::atomic::{write_atomic, write_json};
use crate::study::sweep::{self, Sweep};

/// What one study produced.
#[derive(Clone, Debug)]
pub struct StudyOutput {
    /// Directory name under the output folder (the study file's stem).
    pub name: String,
    pub title: String,
    /// Markdown section for the report (figures linked relative to `out/`).
    pub markdown: String,
    /// Machine-readable summary, written as `summary.json`.
    pub summary: serde_json::Value,
}

/// A parsed study file.
#[derive(Clone, Debug)]
pub struct StudyFile {
    pub path: PathBuf,
    pub name: String,
    pub kind: String,
    pub title: String,
    /// The whole file, for kind-specific keys.
    pub table: toml::Table,
}

impl StudyFile {
    /// Reads a study file; `study` (the kind) is required.
    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::Read { path: path.into(), reason: e.to_string() })?;
        let table: toml::Table = toml::from_str(&text).map_err(|e| Error::Read { path: path.into(), reason: e.to_string() })?;
        let kind = table
            .get("study")
            .and_then(|v| v.as_str())
            .ok_or_else(|| Error::Read {
                path: path.into(),
                reason: format!("missing `study = \"<kind>\"`; kinds: {}", study_kinds().iter().map(|k| k.name).collect::<Vec<_>>().join(", ")),
            })?
            .to_string();
        let name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| kind.clone());
        let title = table.get("title").and_then(|v| v.as_str()).unwrap_or(&kind).to_string();
        Ok(StudyFile { path: path.into(), name, kind, title, table })
    }

    /// The `[params]` table (empty if absent).
    pub fn params(&self) -> toml::Table {
        self.table.get("params").and_then(|v| v.as_table()).cloned().unwrap_or_default()
    }

    /// Rejects top-level keys outside `allowed` (plus `study`, `title`,
    /// `params` and the generic `cell_seeds`).
    pub fn check_keys(&self, allowed: &[&str]) -> Result<()> {
        let mut valid = vec!["study", "title", "params", sweep::SEED_KEY];
        valid.extend_from_slice(allowed);
        for k in self.table.keys() {
            if !valid.contains(&k.as_str()) {
                let hint = suggest(k, valid.iter().copied()).map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default();
                return Err(Error::UnknownKey {
                    key: k.clone(),
                    context: format!("study file {}", self.path.display()),
                    hint,
                    valid: valid.join(", "),
                });
            }
        }
        Ok(())
    }

    /// A number under `key`, or `default` when absent.
    pub fn real(&self, key: &str, default: f64) -> Result<f64> {
        match self.table.get(key) {
            None => Ok(default),
            Some(v) => v.as_float().or_else(|| v.as_integer().map(|i| i as f64)).ok_or_else(|| Error::invalid(key, v, "a number")),
        }
    }

    /// A list of reals under `key`, or `default` when absent.
    pub fn reals(&self, key: &str, default: &[f64]) -> Result<Vec<f64>> {
        match self.table.get(key) {
            None => Ok(default.to_vec()),
            Some(toml::Value::Array(a)) => a
                .iter()
                .map(|v| v.as_float().or_else(|| v.as_integer().map(|i| i as f64)))
                .collect::<Option<Vec<f64>>>()
                .ok_or_else(|| Error::invalid(key, toml::Value::Array(a.clone()), "array of numbers")),
            Some(v) => Err(Error::invalid(key, v, "array of numbers")),
        }
    }
}

/// Runs a study into its folder: `(study, dir, progress)`.
pub type RunFn = fn(&StudyFile, &Path, bool) -> Result<StudyOutput>;

/// A study kind: how to run it whole, and, if it is split into cells, its
/// [`Sweep`] (shards, resume, SLURM arrays; see `study::sweep`).
#[derive(Clone, Copy)]
pub struct StudyKind {
    pub name: &'static str,
    pub run: RunFn,
    pub sweep: Option<Sweep>,
}

/// Known study kinds.
pub fn study_kinds() -> &'static [StudyKind] {
    const fn whole(name: &'static str, run: RunFn) -> StudyKind {
        StudyKind { name, run, sweep: None }
    }
    static KINDS: &[StudyKind] = &[
        whole("two-timescales", super::two_timescales::run),
        StudyKind { name: "slow-rate", run: super::slow_rate::run, sweep: Some(super::slow_rate::SWEEP) },
        whole("spectrum", super::spectrum::run),
        whole("convergence", super::convergence::run),
        whole("head-ablation", super::head_ablation::run),
        whole("head-spectrum", super::head_spectrum::run),
        StudyKind { name: "head-phase", run: super::head_phase::run, sweep: Some(super::head_phase::SWEEP) },
        whole("head-meanfield", super::head_meanfield::run),
        whole("model-analysis", super::model_analysis::run),
        StudyKind { name: "teacher-convergence", run: super::teacher_convergence::run, sweep: Some(super::teacher_convergence::SWEEP) },
        whole("teacher-collapse", super::teacher_collapse::run),
        StudyKind { name: "teacher-finite-data", run: super::teacher_finite_map::run, sweep: Some(super::teacher_finite_map::SWEEP) },
        whole("teacher-head", super::teacher_head::run),
    ];
    KINDS
}

/// The kind named `name`, or an error listing the kinds.
pub fn study_kind(name: &str) -> Result<&'static StudyKind> {
    study_kinds().iter().find(|k| k.name == name).ok_or_else(|| {
        let names: Vec<&str> = study_kinds().iter().map(|k| k.name).collect();
        let hint = suggest(name, names.iter().copied()).map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default();
        Error::invalid("study", format!("\"{name}\"{hint}"), format!("one of {}", names.join(" | ")))
    })
}

/// Reads a study file and creates its output folder `out/<name>/`.
pub fn open(path: &Path, out: &Path) -> Result<(StudyFile, &'static StudyKind, PathBuf)> {
    let study = StudyFile::read(path)?;
    let kind = study_kind(&study.kind)?;
    let dir = out.join(&study.name);
    std::fs::create_dir_all(&dir).map_err(|e| Error::Write { path: dir.clone(), reason: e.to_string() })?;
    Ok((study, kind, dir))
}

/// Runs one study file into `out/<name>/`.
pub fn run_file(path: &Path, out: &Path, progress: bool) -> Result<StudyOutput> {
    let (study, kind, dir) = open(path, out)?;
    let output = (kind.run)(&study, &dir, progress)?;
    finish(&study, &dir, output)
}

/// Merges a study's cell files (see `study::sweep::merge`) into what
/// [`run_file`] writes.
pub fn merge_file(path: &Path, out: &Path, progress: bool) -> Result<StudyOutput> {
    let (study, kind, dir) = open(path, out)?;
    let output = sweep::merge(kind, &study, &dir, progress)?;
    finish(&study, &dir, output)
}

/// Writes `summary.json` (the study's summary plus crate version and the
/// study file).
fn finish(study: &StudyFile, dir: &Path, output: StudyOutput) -> Result<StudyOutput> {
    let mut summary = output.summary.clone();
    if let Some(obj) = summary.as_object_mut() {
        obj.insert("crate_version".into(), env!("CARGO_PKG_VERSION").into());
        obj.insert("study_file".into(), serde_json::to_value(&study.table).unwrap_or_default());
    }
    write_json(&dir.join("summary.json"), &summary)?;
    Ok(output)
}

/// The study files at `path`: the file itself, or every `*.toml` in a
/// folder (sorted by name). A bare study name `NAME` stands for
/// `analysis/NAME.toml` when no such path exists.
pub fn study_files(path: &Path) -> Result<Vec<PathBuf>> {
    if !path.exists() {
        let guess = Path::new("analysis").join(path).with_extension("toml");
        if path.components().count() == 1 && guess.is_file() {
            return Ok(vec![guess]);
        }
    }
    let files: Vec<PathBuf> = if path.is_dir() {
        let mut v: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|e| Error::Read { path: path.into(), reason: e.to_string() })?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        v.sort();
        v
    } else {
        vec![path.to_path_buf()]
    };
    if files.is_empty() {
        return Err(Error::Read { path: path.into(), reason: "no study files (*.toml) found".into() });
    }
    Ok(files)
}

/// Runs a study file or every `*.toml` in a folder (sorted by name), then
/// writes `out/report.md`.
pub fn run_path(path: &Path, out: &Path, progress: bool) -> Result<Vec<StudyOutput>> {
    let files = study_files(path)?;
    let mut outputs = Vec::new();
    for f in &files {
        let started = std::time::Instant::now();
        if progress {
            eprintln!("study {} ...", f.display());
        }
        let o = run_file(f, out, progress)?;
        if progress {
            eprintln!("study {} done in {:.1} s", o.name, started.elapsed().as_secs_f64());
        }
        outputs.push(o);
    }
    write_report(out, &outputs)?;
    Ok(outputs)
}

pub fn write_report(out: &Path, outputs: &[StudyOutput]) -> Result<()> {
    let mut md = format!(
        "# repcollapse report\n\nGenerated by repcollapse {} from {} study file(s). Each study folder holds its \
         figures (PNG and SVG), the data behind them (CSV) and a `summary.json` that records the full config.\n\n",
        env!("CARGO_PKG_VERSION"),
        outputs.len()
    );
    for o in outputs {
        md += &format!("## {}\n\n{}\n\n", o.title, o.markdown.trim());
    }
    write_atomic(&out.join("report.md"), md.as_bytes())
}

/// Markdown image link for `<name>/<stem>.png` with a link to the SVG.
pub fn figure_md(name: &str, stem: &str, caption: &str) -> String {
    format!("![{caption}]({name}/{stem}.png)\n\n*{caption}* ([SVG]({name}/{stem}.svg), [data]({name}/{stem}.csv))\n")
}
