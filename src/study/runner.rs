//! Runs study files: `analysis/*.toml`, each naming a study kind and its
//! parameters. Every study writes figures (PNG, SVG), CSV data and a
//! `summary.json` under `<out>/<study>/`; the runner then writes
//! `<out>/report.md` linking them all. The runner knows no study by name:
//! the caller passes the kinds (the registry's table).
use std::path::{Path, PathBuf};

use crate::config::Kind;
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

/// Runs a study file into its output folder: `(study, dir, progress)`.
pub type RunFn = fn(&StudyFile, &Path, bool) -> Result<StudyOutput>;

/// A study kind: the `study = "<name>"` of a file in `analysis/`, the
/// function that runs such a file into its output folder, and, for a kind
/// split into cells, its [`Sweep`] (shards, resume, SLURM arrays: see
/// `study::sweep`). A kind without a sweep is one cell.
pub struct StudyKind {
    pub name: &'static str,
    pub run: RunFn,
    pub sweep: Option<Sweep>,
}

impl StudyKind {
    /// A kind that runs as one piece.
    pub const fn whole(name: &'static str, run: RunFn) -> Self {
        StudyKind { name, run, sweep: None }
    }
    /// A kind split into cells; `run` is its unsharded run (`sweep::run_all`).
    pub const fn split(name: &'static str, run: RunFn, sweep: Sweep) -> Self {
        StudyKind { name, run, sweep: Some(sweep) }
    }
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
    pub fn read(path: &Path, kinds: &[StudyKind]) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::Read { path: path.into(), reason: e.to_string() })?;
        let table: toml::Table = toml::from_str(&text).map_err(|e| Error::Read { path: path.into(), reason: e.to_string() })?;
        if let Some(v) = table.get("study").filter(|v| !v.is_str()) {
            return Err(Error::invalid("study", v, format!("a string naming the kind: {}", kinds.iter().map(|k| k.name).collect::<Vec<_>>().join(" | "))));
        }
        let kind = table
            .get("study")
            .and_then(|v| v.as_str())
            .ok_or_else(|| Error::Read { path: path.into(), reason: format!("missing `study = \"<kind>\"`; kinds: {}", kinds.iter().map(|k| k.name).collect::<Vec<_>>().join(", ")) })?
            .to_string();
        let name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| kind.clone());
        let title = match table.get("title") {
            None => kind.clone(),
            Some(toml::Value::String(t)) => t.clone(),
            Some(v) => return Err(Error::invalid("title", v, "a string")),
        };
        match table.get("params") {
            None | Some(toml::Value::Table(_)) => {}
            Some(v) => return Err(Error::invalid("params", v, "a table `[params]` of model parameters")),
        }
        Ok(StudyFile { path: path.into(), name, kind, title, table })
    }

    /// The `[params]` table (empty if absent; [`StudyFile::read`] rejects a
    /// `params` that is not a table).
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

    // Typed accessors for kind-specific keys. Every one rejects a value of
    // the wrong type, NaN and infinities, and an empty list, naming the key;
    // the `_in` variants also check a range (the same `config::Kind` the
    // model parameters use). Nothing is silently replaced: a key is either
    // absent (the default applies) or valid.

    /// A finite number under `key`, or `default` when absent.
    pub fn real(&self, key: &str, default: f64) -> Result<f64> {
        self.real_in(key, default, ANY_REAL)
    }

    /// A number under `key` in the range `kind`, or `default` when absent.
    pub fn real_in(&self, key: &str, default: f64, kind: Kind) -> Result<f64> {
        match self.table.get(key) {
            None => Ok(default),
            Some(v) => checked_real(key, v, kind),
        }
    }

    /// A non-empty list of finite numbers under `key`, or `default` when absent.
    pub fn reals(&self, key: &str, default: &[f64]) -> Result<Vec<f64>> {
        self.reals_in(key, default, ANY_REAL)
    }

    /// A non-empty list of numbers in the range `kind` under `key`, or
    /// `default` when absent.
    pub fn reals_in(&self, key: &str, default: &[f64], kind: Kind) -> Result<Vec<f64>> {
        match self.table.get(key) {
            None => Ok(default.to_vec()),
            Some(v) => list(key, v, |x| checked_real(key, x, kind)),
        }
    }

    /// An integer under `key` in `[min, max]`, or `default` when absent.
    pub fn int(&self, key: &str, default: i64, min: i64, max: i64) -> Result<i64> {
        match self.table.get(key) {
            None => Ok(default),
            Some(v) => checked_int(key, v, min, max),
        }
    }

    /// A non-empty list of integers in `[min, max]` under `key`, or `default` when absent.
    pub fn ints(&self, key: &str, default: &[i64], min: i64, max: i64) -> Result<Vec<i64>> {
        match self.table.get(key) {
            None => Ok(default.to_vec()),
            Some(v) => list(key, v, |x| checked_int(key, x, min, max)),
        }
    }

    /// A boolean under `key`, or `default` when absent.
    pub fn bool(&self, key: &str, default: bool) -> Result<bool> {
        match self.table.get(key) {
            None => Ok(default),
            Some(toml::Value::Boolean(b)) => Ok(*b),
            Some(v) => Err(Error::invalid(key, v, "true or false")),
        }
    }

    /// A string under `key`, or `default` when absent.
    pub fn string(&self, key: &str, default: &str) -> Result<String> {
        match self.table.get(key) {
            None => Ok(default.to_string()),
            Some(toml::Value::String(s)) => Ok(s.clone()),
            Some(v) => Err(Error::invalid(key, v, "a string")),
        }
    }

    /// A non-empty list of strings under `key`, or `default` when absent.
    pub fn strings(&self, key: &str, default: &[&str]) -> Result<Vec<String>> {
        match self.table.get(key) {
            None => Ok(default.iter().map(|s| s.to_string()).collect()),
            Some(v) => list(key, v, |x| x.as_str().map(str::to_string).ok_or_else(|| Error::invalid(key, x, "a list of strings"))),
        }
    }

    /// A list of names, each one of `names`, checked here so that the error
    /// names this study key (not the model key each entry is later passed
    /// to, and not after the first entries have already run).
    pub fn choices(&self, key: &str, default: &[&str], names: &[&str]) -> Result<Vec<String>> {
        let v = self.strings(key, default)?;
        if let Some(bad) = v.iter().find(|s| !names.contains(&s.as_str())) {
            let hint = crate::error::suggest(bad, names.iter().copied()).map(|h| format!(" (did you mean `{h}`?)")).unwrap_or_default();
            return Err(Error::invalid(key, format!("{bad:?}{hint}"), format!("a list of: {}", names.join(" | "))));
        }
        Ok(v)
    }
}

/// Any finite real (the range of [`StudyFile::real`]).
const ANY_REAL: Kind = Kind::Real { min: f64::NEG_INFINITY, max: f64::INFINITY, open_min: true, open_max: true };

fn checked_real(key: &str, v: &toml::Value, kind: Kind) -> Result<f64> {
    match v {
        toml::Value::Float(_) | toml::Value::Integer(_) if kind.accepts(v) => Ok(v.as_float().unwrap_or_else(|| v.as_integer().unwrap_or(0) as f64)),
        _ => Err(Error::invalid(key, v, kind.range_text())),
    }
}

fn checked_int(key: &str, v: &toml::Value, min: i64, max: i64) -> Result<i64> {
    let kind = Kind::Int { min, max };
    match v {
        toml::Value::Integer(i) if kind.accepts(v) => Ok(*i),
        _ => Err(Error::invalid(key, v, kind.range_text())),
    }
}

/// A non-empty TOML array whose entries `item` accepts.
fn list<T>(key: &str, v: &toml::Value, item: impl Fn(&toml::Value) -> Result<T>) -> Result<Vec<T>> {
    match v {
        toml::Value::Array(a) if a.is_empty() => Err(Error::invalid(key, "[] (empty list)", "a non-empty list")),
        toml::Value::Array(a) => a.iter().map(item).collect(),
        other => Err(Error::invalid(key, other, "a non-empty list")),
    }
}

/// The kind named `name` among `kinds`, or an error listing them.
pub fn find_kind<'a>(kinds: &'a [StudyKind], name: &str) -> Result<&'a StudyKind> {
    kinds.iter().find(|k| k.name == name).ok_or_else(|| {
        let names: Vec<&str> = kinds.iter().map(|k| k.name).collect();
        let hint = suggest(name, names.iter().copied()).map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default();
        Error::invalid("study", format!("\"{name}\"{hint}"), format!("one of {}", names.join(" | ")))
    })
}

/// Reads a study file, finds its kind and creates its folder `out/<name>/`.
pub fn open<'a>(path: &Path, out: &Path, kinds: &'a [StudyKind]) -> Result<(StudyFile, &'a StudyKind, PathBuf)> {
    let study = StudyFile::read(path, kinds)?;
    let kind = find_kind(kinds, &study.kind)?;
    let dir = out.join(&study.name);
    std::fs::create_dir_all(&dir).map_err(|e| Error::Write { path: dir.clone(), reason: e.to_string() })?;
    Ok((study, kind, dir))
}

/// Runs one study file into `out/<name>/`.
pub fn run_file(path: &Path, out: &Path, progress: bool, kinds: &[StudyKind]) -> Result<StudyOutput> {
    let (study, kind, dir) = open(path, out, kinds)?;
    let output = (kind.run)(&study, &dir, progress)?;
    finish(&study, &dir, output)
}

/// Assembles a study from its cell files (see `study::sweep::merge`) into
/// exactly what [`run_file`] writes.
pub fn merge_file(path: &Path, out: &Path, progress: bool, kinds: &[StudyKind]) -> Result<StudyOutput> {
    let (study, kind, dir) = open(path, out, kinds)?;
    let output = sweep::merge(kind, &study, &dir, progress)?;
    finish(&study, &dir, output)
}

/// Writes `summary.json`: the study's summary plus crate version and the
/// study file.
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
/// folder (sorted by name, hidden files skipped). A bare study name `NAME` stands for
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
            // Hidden files (editor backups, the fuzz harness's scratch studies) are not studies.
            .filter(|p| !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')))
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
///
/// The studies run concurrently (rayon): each writes only its own folder and
/// its numbers do not depend on the number of threads, so one study's
/// serial stretches overlap another's parallel sweep without changing any
/// output. The report lists them in file order; on failure the first failing
/// study in file order is reported.
pub fn run_path(path: &Path, out: &Path, progress: bool, kinds: &[StudyKind]) -> Result<Vec<StudyOutput>> {
    use rayon::prelude::*;
    let files = study_files(path)?;
    let results: Vec<Result<StudyOutput>> = files
        .par_iter()
        .map(|f| {
            let started = std::time::Instant::now();
            if progress {
                eprintln!("study {} ...", f.display());
            }
            let o = run_file(f, out, progress, kinds)?;
            if progress {
                eprintln!("study {} done in {:.1} s", o.name, started.elapsed().as_secs_f64());
            }
            Ok(o)
        })
        .collect();
    let outputs = results.into_iter().collect::<Result<Vec<_>>>()?;
    write_report(out, &outputs)?;
    Ok(outputs)
}

/// Writes `out/report.md` with one section per study.
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
