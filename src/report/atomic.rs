//! Atomic result files: write to a temporary sibling, flush to disk, then
//! rename over the target, so a crash never leaves a half-written file that
//! looks complete.
use std::io::Write;
use std::path::Path;

use crate::error::{Error, Result};

/// Writes `bytes` to `path` atomically (same-directory temp file + rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let err = |e: std::io::Error| Error::Write { path: path.into(), reason: e.to_string() };
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(err)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(err)?;
    tmp.write_all(bytes).map_err(err)?;
    tmp.as_file().sync_all().map_err(err)?;
    tmp.persist(path).map_err(|e| err(e.error))?;
    Ok(())
}

/// Pretty JSON, atomically.
pub fn write_json(path: &Path, value: &serde_json::Value) -> Result<()> {
    let mut text = serde_json::to_string_pretty(value).expect("JSON values serialise");
    text.push('\n');
    write_atomic(path, text.as_bytes())
}

/// A CSV table with a header, atomically (via the `csv` crate).
pub fn write_csv(path: &Path, header: &[&str], rows: &[Vec<f64>]) -> Result<()> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let err = |e: csv::Error| Error::Write { path: path.into(), reason: e.to_string() };
    w.write_record(header).map_err(err)?;
    for r in rows {
        w.write_record(r.iter().map(|v| format!("{v}"))).map_err(err)?;
    }
    let bytes = w.into_inner().map_err(|e| Error::Write { path: path.into(), reason: e.to_string() })?;
    write_atomic(path, &bytes)
}
