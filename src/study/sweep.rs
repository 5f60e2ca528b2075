//! Sweeps split into cells, so one study can run as many independent pieces
//! (shards, SLURM array tasks), survive being killed, and be merged into
//! exactly the output of one unsharded run.
//!
//! A study kind that supports it provides a [`Sweep`]: `cells` expands the
//! study file into an ordered, deterministic list of cells (one parameter set
//! each), `run_cell` computes one cell from the cell alone, and `assemble`
//! turns the cells' results (in cell order) into figures, CSV and the report
//! section. A kind without a `Sweep` is one cell: the whole study.
//!
//! The unsharded run computes every cell in memory and assembles them.
//! `run --shard I/N` computes the cells with `index % N == I` and writes one
//! file per cell under `<out>/<study>/cells/`; `merge` reads them all and
//! assembles. Both paths feed `assemble` the same values, and cell results
//! survive the JSON round trip bit for bit (checked on every write), so the
//! merged output is byte-identical to the unsharded one.
use std::path::{Path, PathBuf};
use std::str::FromStr;

use rayon::prelude::*;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use crate::error::{Error, Result};
use crate::report::atomic::write_atomic;
use crate::study::runner::{StudyFile, StudyKind, StudyOutput};

/// The study-file key choosing how cell seeds are derived.
pub const SEED_KEY: &str = "cell_seeds";

/// What a study kind provides to be split into cells.
#[derive(Clone, Copy)]
pub struct Sweep {
    /// The cells of a study file, in order: `(label, spec)` per cell. The spec
    /// holds everything `run_cell` needs besides the study's `[params]`.
    pub cells: fn(&StudyFile) -> Result<Vec<CellSpec>>,
    /// One cell's result, from the cell alone (never from the shard).
    pub run_cell: fn(&Cell, bool) -> Result<Value>,
    /// Figures, CSV and report section from every cell's result, in cell order.
    pub assemble: fn(&StudyFile, &[Cell], &[Value], &Path, bool) -> Result<StudyOutput>,
}

/// A cell as a study kind describes it.
#[derive(Clone, Debug)]
pub struct CellSpec {
    /// Short human-readable description (`variant=symmetric lambda=0.08`).
    pub label: String,
    /// The cell's own parameters (serialisable; hashed with the `[params]`).
    pub spec: Value,
}

impl CellSpec {
    pub fn new(label: impl Into<String>, spec: impl serde::Serialize) -> Self {
        CellSpec { label: label.into(), spec: serde_json::to_value(spec).expect("cell specs serialise") }
    }
}

/// How a cell's seed follows from the study seed (`[params] seed`, default 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeedPolicy {
    /// Every cell uses the study seed: common random numbers, so differences
    /// between cells are not blurred by different noise (the default, and
    /// what the studies did before they were split).
    Common,
    /// Cell `i` uses [`cell_seed`]`(study seed, i)`: statistically
    /// independent cells.
    Independent,
}

impl SeedPolicy {
    fn of(study: &StudyFile) -> Result<Self> {
        match study.table.get(SEED_KEY) {
            None => Ok(SeedPolicy::Common),
            Some(toml::Value::String(s)) if s == "common" => Ok(SeedPolicy::Common),
            Some(toml::Value::String(s)) if s == "independent" => Ok(SeedPolicy::Independent),
            Some(v) => Err(Error::invalid(SEED_KEY, v, "\"common\" | \"independent\"")),
        }
    }
}

/// SplitMix64 finaliser (Steele, Lea, Flood 2014): a bijection on u64 whose
/// outputs for consecutive inputs are statistically independent.
fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Seed of cell `index` under [`SeedPolicy::Independent`]:
/// `s_i = splitmix64(splitmix64(s) + i) >> 2`. It depends on the study seed
/// and the cell index only, so it is the same for every shard count; the
/// shift keeps `s_i + seeds` far below `i64::MAX` (seeds are TOML integers).
pub fn cell_seed(study_seed: u64, index: usize) -> u64 {
    splitmix64(splitmix64(study_seed).wrapping_add(index as u64)) >> 2
}

/// One cell of a study: its place in the sweep, its parameters and its seed.
#[derive(Clone, Debug)]
pub struct Cell {
    pub index: usize,
    /// Number of cells in the study.
    pub count: usize,
    /// Study name (the file stem), for messages.
    pub study: String,
    pub kind: String,
    pub label: String,
    pub seed: u64,
    /// The study's `[params]`, with `seed` set to the cell seed under
    /// [`SeedPolicy::Independent`].
    pub params: toml::Table,
    pub spec: Value,
}

impl Cell {
    /// The kind's cell spec as its own type.
    pub fn spec<T: DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_value(self.spec.clone())
            .map_err(|e| Error::invalid(format!("cell {} of {}", self.index, self.study), &self.spec, format!("a {} cell ({e})", self.kind)))
    }

    /// Everything the cell's result depends on (besides the code), as JSON
    /// with sorted keys.
    pub fn config(&self) -> Value {
        json!({"kind": self.kind, "params": self.params, "cell": self.spec, "seed": self.seed})
    }

    /// FNV-1a (64 bit) of the canonical config JSON and the crate version:
    /// detects a changed study file or version, not tampering.
    pub fn hash(&self) -> String {
        config_hash(&self.config())
    }
}

fn config_hash(config: &Value) -> String {
    let text = format!("{}\n{}", serde_json::to_string(config).expect("JSON values serialise"), env!("CARGO_PKG_VERSION"));
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// The cells of `study`. Without a sweep the study is one cell (the whole
/// study), which accepts only the common seed policy.
pub fn plan(study: &StudyFile, sweep: Option<&Sweep>) -> Result<Vec<Cell>> {
    let policy = SeedPolicy::of(study)?;
    let params = study.params();
    let study_seed = match params.get("seed") {
        None => 0,
        Some(toml::Value::Integer(i)) if *i >= 0 => *i as u64,
        Some(v) => return Err(Error::invalid("seed", v, "integer >= 0")),
    };
    let specs = match sweep {
        Some(s) => (s.cells)(study)?,
        None if policy == SeedPolicy::Independent => {
            return Err(Error::invalid(
                SEED_KEY,
                "\"independent\"",
                format!("\"common\" (study kind `{}` is not split into cells)", study.kind),
            ))
        }
        None => vec![CellSpec::new("whole study", Value::Null)],
    };
    let count = specs.len();
    Ok(specs
        .into_iter()
        .enumerate()
        .map(|(index, s)| {
            let mut params = params.clone();
            let seed = match policy {
                SeedPolicy::Common => study_seed,
                SeedPolicy::Independent => {
                    let seed = cell_seed(study_seed, index);
                    params.insert("seed".into(), toml::Value::Integer(seed as i64));
                    seed
                }
            };
            Cell { index, count, study: study.name.clone(), kind: study.kind.clone(), label: s.label, seed, params, spec: s.spec }
        })
        .collect())
}

/// `I/N`: shard `I` of `N` (`0 <= I < N`) computes the cells `i % N == I`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl Shard {
    pub fn contains(&self, cell: usize) -> bool {
        cell % self.count == self.index
    }
}

impl FromStr for Shard {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let bad = || Error::invalid("--shard", s, "I/N with integers 0 <= I < N (e.g. 0/4; SLURM: $SLURM_ARRAY_TASK_ID/N)");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count): (usize, usize) = (i.trim().parse().map_err(|_| bad())?, n.trim().parse().map_err(|_| bad())?);
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

/// Where the cell files of a study live: `<study dir>/cells/`.
pub fn cells_dir(dir: &Path) -> PathBuf {
    dir.join("cells")
}

fn cell_path(dir: &Path, index: usize) -> PathBuf {
    cells_dir(dir).join(format!("{index:05}.json"))
}

fn marker_path(dir: &Path, index: usize) -> PathBuf {
    cells_dir(dir).join(format!("{index:05}.running"))
}

/// Result JSON as it is stored: floats printed shortest-round-trip and
/// parsed with `serde_json`'s `float_roundtrip`, so the bits come back.
fn encode(cell: &Cell, result: &Value) -> Result<String> {
    let file = json!({
        "study": cell.study, "index": cell.index, "count": cell.count, "label": cell.label,
        "config_hash": cell.hash(), "crate_version": env!("CARGO_PKG_VERSION"),
        "config": cell.config(), "result": result,
    });
    let mut text = serde_json::to_string_pretty(&file).expect("JSON values serialise");
    text.push('\n');
    // Belt and braces: the merge must see exactly the value the unsharded run sees.
    let back: Value = serde_json::from_str(&text).map_err(|e| Error::numerical("cell file encoding", e.to_string()))?;
    if back.get("result") != Some(result) {
        return Err(Error::numerical("cell file encoding", format!("cell {} of {}: the result does not survive a JSON round trip", cell.index, cell.study)));
    }
    Ok(text)
}

/// A cell file's state relative to the current cell.
#[derive(Debug)]
pub enum Stored {
    /// Complete, for this config: the result.
    Done(Value),
    /// No file.
    Missing,
    /// A file for another config (study file or version changed), or one
    /// that does not parse; it is recomputed.
    Outdated(String),
}

/// Reads cell `cell`'s file and checks it against the cell's config hash.
pub fn read_cell(dir: &Path, cell: &Cell) -> Stored {
    let path = cell_path(dir, cell.index);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Stored::Missing,
        Err(e) => return Stored::Outdated(format!("unreadable: {e}")),
    };
    let mut v: Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) => return Stored::Outdated(format!("not valid JSON ({e})")),
    };
    let want = cell.hash();
    let stored_hash = v.get("config_hash").and_then(|h| h.as_str()).unwrap_or("");
    if stored_hash != want {
        return Stored::Outdated(format!("config hash {stored_hash} != {want} (study file or crate version changed)"));
    }
    if v.get("config").map(config_hash).as_deref() != Some(want.as_str()) {
        return Stored::Outdated("stored config does not match its hash".into());
    }
    match v.get_mut("result").map(Value::take) {
        Some(r) => Stored::Done(r),
        None => Stored::Outdated("no result".into()),
    }
}

/// This machine's host name (for in-flight markers).
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .or_else(|_| std::env::var("HOSTNAME"))
        .unwrap_or_else(|_| "unknown".into())
}

fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// One cell's result. The whole-study cell of a kind without a sweep runs
/// the study, which writes its figures and CSV itself, and keeps title,
/// markdown and summary.
fn run_cell(kind: &StudyKind, study: &StudyFile, dir: &Path, cell: &Cell, progress: bool) -> Result<Value> {
    match &kind.sweep {
        Some(s) => (s.run_cell)(cell, progress),
        None => {
            let o = (kind.run)(study, dir, progress)?;
            Ok(json!({"title": o.title, "markdown": o.markdown, "summary": o.summary}))
        }
    }
}

/// The study's output from its cells' results (in cell order).
fn assemble(kind: &StudyKind, study: &StudyFile, cells: &[Cell], results: &[Value], dir: &Path, progress: bool) -> Result<StudyOutput> {
    match &kind.sweep {
        Some(s) => (s.assemble)(study, cells, results, dir, progress),
        None => {
            let r = &results[0];
            let text = |k: &str| r.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
            Ok(StudyOutput { name: study.name.clone(), title: text("title"), markdown: text("markdown"), summary: r.get("summary").cloned().unwrap_or(Value::Null) })
        }
    }
}

/// The unsharded run of a split study: every cell in memory (in parallel;
/// each cell is deterministic, so the order of completion does not matter),
/// then `assemble`. Writes no cell files.
pub fn run_all(sweep: &Sweep, study: &StudyFile, dir: &Path, progress: bool) -> Result<StudyOutput> {
    let cells = plan(study, Some(sweep))?;
    let results = cells.par_iter().map(|c| (sweep.run_cell)(c, progress)).collect::<Result<Vec<_>>>()?;
    (sweep.assemble)(study, &cells, &results, dir, progress)
}

/// Computes one cell into its file; a marker file says "in flight" meanwhile.
fn compute_cell(kind: &StudyKind, study: &StudyFile, dir: &Path, cell: &Cell, progress: bool) -> Result<()> {
    let marker = marker_path(dir, cell.index);
    let slurm = match (std::env::var("SLURM_ARRAY_JOB_ID"), std::env::var("SLURM_ARRAY_TASK_ID"), std::env::var("SLURM_JOB_ID")) {
        (Ok(a), Ok(t), _) => Value::String(format!("{a}_{t}")),
        (_, _, Ok(j)) => Value::String(j),
        _ => Value::Null,
    };
    let info = json!({"pid": std::process::id(), "host": host_name(), "started": unix_now(), "slurm_job": slurm});
    write_atomic(&marker, format!("{info}\n").as_bytes())?;
    let started = std::time::Instant::now();
    let result = run_cell(kind, study, dir, cell, progress)
        .and_then(|r| encode(cell, &r))
        .and_then(|text| write_atomic(&cell_path(dir, cell.index), text.as_bytes()));
    let _ = std::fs::remove_file(&marker);
    if progress {
        match &result {
            Ok(()) => eprintln!("  cell {}/{} ({}) done in {:.1} s", cell.index, cell.count, cell.label, started.elapsed().as_secs_f64()),
            Err(e) => eprintln!("  cell {}/{} ({}) failed: {e}", cell.index, cell.count, cell.label),
        }
    }
    result
}

/// What one shard did.
#[derive(Clone, Debug, Default)]
pub struct ShardReport {
    /// Cells of this shard computed now.
    pub computed: Vec<usize>,
    /// Cells of this shard already complete (skipped).
    pub skipped: Vec<usize>,
    /// Cells whose file was outdated or unreadable, with the reason (recomputed).
    pub outdated: Vec<(usize, String)>,
}

/// Computes the cells of `shard` that are not complete (all of them with
/// `force`), in parallel, each into its own file as soon as it is done, so a
/// kill loses only the cells in flight. Every cell is attempted; the error
/// lists the cells that failed.
pub fn run_shard(kind: &StudyKind, study: &StudyFile, dir: &Path, shard: Shard, force: bool, progress: bool) -> Result<ShardReport> {
    let cells = plan(study, kind.sweep.as_ref())?;
    let mut report = ShardReport::default();
    let mut todo = Vec::new();
    for c in cells.iter().filter(|c| shard.contains(c.index)) {
        match if force { Stored::Missing } else { read_cell(dir, c) } {
            Stored::Done(_) => report.skipped.push(c.index),
            Stored::Missing => todo.push(c),
            Stored::Outdated(why) => {
                report.outdated.push((c.index, why));
                todo.push(c);
            }
        }
    }
    if progress {
        eprintln!("  {}: shard {}/{}: {} cells to compute, {} already complete", study.name, shard.index, shard.count, todo.len(), report.skipped.len());
    }
    let results: Vec<(usize, Result<()>)> = todo.par_iter().map(|c| (c.index, compute_cell(kind, study, dir, c, progress))).collect();
    let mut failed = Vec::new();
    for (i, r) in results {
        match r {
            Ok(()) => report.computed.push(i),
            Err(e) => failed.push(format!("cell {i} ({}): {e}", cells[i].label)),
        }
    }
    if !failed.is_empty() {
        return Err(Error::numerical(
            format!("{} shard {}/{}", study.name, shard.index, shard.count),
            format!("{} of {} cells failed: {}", failed.len(), todo.len(), failed.join("; ")),
        ));
    }
    Ok(report)
}

/// Assembles a study from its cell files: exactly what the unsharded run
/// writes. Fails, naming them, if any cell is missing or outdated.
pub fn merge(kind: &StudyKind, study: &StudyFile, dir: &Path, progress: bool) -> Result<StudyOutput> {
    let cells = plan(study, kind.sweep.as_ref())?;
    let mut results = Vec::with_capacity(cells.len());
    let (mut missing, mut outdated) = (Vec::new(), Vec::new());
    for c in &cells {
        match read_cell(dir, c) {
            Stored::Done(r) => results.push(r),
            Stored::Missing => missing.push(c.index),
            Stored::Outdated(why) => outdated.push(format!("{} ({why})", c.index)),
        }
    }
    if !missing.is_empty() || !outdated.is_empty() {
        return Err(Error::Read {
            path: cells_dir(dir),
            reason: format!(
                "{} of {} cells are not complete (missing: {}; outdated: {}). Compute them with `repcollapse run {} --out <OUT> --shard 0/1` \
                 (complete cells are skipped) or resubmit the SLURM array, then merge again",
                missing.len() + outdated.len(),
                cells.len(),
                if missing.is_empty() { "none".into() } else { ranges(&missing) },
                if outdated.is_empty() { "none".into() } else { outdated.join(", ") },
                study.path.display()
            ),
        });
    }
    assemble(kind, study, &cells, &results, dir, progress)
}

/// Cells done, in flight and missing, read from the cell files.
#[derive(Clone, Debug)]
pub struct Status {
    pub study: String,
    pub total: usize,
    pub done: Vec<usize>,
    /// Cells with a live in-flight marker: (index, marker contents).
    pub in_flight: Vec<(usize, Value)>,
    /// Markers left by a process that is gone (killed): these cells are missing.
    pub stale: Vec<(usize, Value)>,
    /// Not done and not in flight (includes the stale and outdated ones).
    pub missing: Vec<usize>,
    pub outdated: Vec<(usize, String)>,
}

/// Reads the state of every cell of `study` under `dir`.
pub fn status(kind: &StudyKind, study: &StudyFile, dir: &Path) -> Result<Status> {
    let cells = plan(study, kind.sweep.as_ref())?;
    let host = host_name();
    let mut s = Status { study: study.name.clone(), total: cells.len(), done: vec![], in_flight: vec![], stale: vec![], missing: vec![], outdated: vec![] };
    for c in &cells {
        let stored = read_cell(dir, c);
        if let Stored::Done(_) = stored {
            s.done.push(c.index);
            continue;
        }
        if let Stored::Outdated(why) = stored {
            s.outdated.push((c.index, why));
        }
        let marker: Option<Value> = std::fs::read_to_string(marker_path(dir, c.index)).ok().and_then(|t| serde_json::from_str(&t).ok());
        match marker {
            Some(m) => {
                // A marker from this host whose process is gone was left by a kill.
                let gone = m.get("host").and_then(Value::as_str) == Some(host.as_str())
                    && m.get("pid").and_then(Value::as_u64).is_some_and(|pid| !Path::new(&format!("/proc/{pid}")).exists());
                if gone {
                    s.stale.push((c.index, m));
                    s.missing.push(c.index);
                } else {
                    s.in_flight.push((c.index, m));
                }
            }
            None => s.missing.push(c.index),
        }
    }
    Ok(s)
}

impl Status {
    /// Human-readable summary.
    pub fn text(&self) -> String {
        let mut t = format!(
            "{}: {} cells: {} done, {} in flight, {} missing",
            self.study,
            self.total,
            self.done.len(),
            self.in_flight.len(),
            self.missing.len()
        );
        let now = unix_now();
        for (i, m) in &self.in_flight {
            let age = m.get("started").and_then(Value::as_u64).map_or("?".into(), |s| format!("{}", now.saturating_sub(s)));
            t += &format!(
                "\n  in flight: cell {i} (pid {} on {}, slurm job {}, running {age} s)",
                m.get("pid").map_or("?".into(), |v| v.to_string()),
                m.get("host").and_then(Value::as_str).unwrap_or("?"),
                m.get("slurm_job").and_then(Value::as_str).unwrap_or("-")
            );
        }
        if !self.missing.is_empty() {
            t += &format!("\n  missing: {}", ranges(&self.missing));
        }
        for (i, m) in &self.stale {
            t += &format!("\n  cell {i}: started by pid {} which is gone (killed?); it will be recomputed", m.get("pid").map_or("?".into(), |v| v.to_string()));
        }
        for (i, why) in &self.outdated {
            t += &format!("\n  cell {i}: outdated file, will be recomputed: {why}");
        }
        t
    }

    pub fn json(&self) -> Value {
        json!({"study": self.study, "total": self.total, "done": self.done,
            "in_flight": self.in_flight.iter().map(|(i, m)| json!({"cell": i, "marker": m})).collect::<Vec<_>>(),
            "missing": self.missing,
            "stale": self.stale.iter().map(|(i, _)| i).collect::<Vec<_>>(),
            "outdated": self.outdated.iter().map(|(i, w)| json!({"cell": i, "reason": w})).collect::<Vec<_>>()})
    }
}

/// `0-3, 7, 9-10` for a sorted list of indices.
pub fn ranges(v: &[usize]) -> String {
    let mut parts = Vec::new();
    let mut i = 0;
    while i < v.len() {
        let mut j = i;
        while j + 1 < v.len() && v[j + 1] == v[j] + 1 {
            j += 1;
        }
        parts.push(if j == i { format!("{}", v[i]) } else { format!("{}-{}", v[i], v[j]) });
        i = j + 1;
    }
    parts.join(", ")
}

/// Reads a cell result into the kind's own type (the inverse of
/// `serde_json::to_value` in `run_cell`).
pub fn result<T: DeserializeOwned>(cell: &Cell, value: &Value) -> Result<T> {
    serde_json::from_value(value.clone()).map_err(|e| Error::Read {
        path: PathBuf::from(format!("{}/cells/{:05}.json", cell.study, cell.index)),
        reason: format!(
            "result of cell {} ({}) has the wrong shape: {e} (JSON has no NaN or infinity: serde writes a non-finite float as null, \
             so a cell result must keep such values as Option or text)",
            cell.index, cell.label
        ),
    })
}
