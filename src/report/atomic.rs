//! Atomic result files: write to a temporary sibling, flush to disk, then
//! rename over the target, so a crash never leaves a half-written file that
//! looks complete.
//!
//! Temporary siblings are named `.<file name>.repcollapse.<pid>.<n>.tmp<ext>`
//! and created with `create_new` and the default mode, so the finished file
//! gets `0666 & !umask` like any file the user creates (the `tempfile`
//! crate's 0600 would leak into every result). A run that is killed between
//! creating and renaming leaves such a sibling; the first write of a later
//! run into the same folder removes every sibling whose process is gone
//! ([`sweep_stale`]).
use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use crate::error::{Error, Result};

/// Marker that makes our temporary names unmistakable.
const MARKER: &str = ".repcollapse.";

/// A fresh temporary sibling of `path` ending in `ext` (e.g. `".png"`, or
/// `""`); unique within the process and tagged with its id.
pub fn temp_sibling(path: &Path, ext: &str) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let name = path.file_name().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "out".into());
    let dir = parent_dir(path);
    sweep_stale(dir);
    dir.join(format!(".{name}{MARKER}{}.{n}.tmp{ext}", std::process::id()))
}

fn parent_dir(path: &Path) -> &Path {
    path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."))
}

/// Whether process `pid` still runs. Linux: `/proc/<pid>` exists. Elsewhere
/// we cannot tell cheaply and answer "yes", so only our own Linux runs clean up.
fn alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    if Path::new("/proc/self").exists() {
        Path::new(&format!("/proc/{pid}")).exists()
    } else {
        true
    }
}

/// The process id in a temporary name left by this crate: the current
/// scheme `.<name>.repcollapse.<pid>.<n>.tmp<ext>` and the scheme of earlier
/// versions for figures, `.<stem>.<pid>.tmp.png`.
fn temp_owner(file_name: &str) -> Option<u32> {
    if !file_name.starts_with('.') {
        return None;
    }
    if let Some(i) = file_name.rfind(MARKER) {
        let rest = &file_name[i + MARKER.len()..];
        let mut parts = rest.split('.');
        let pid = parts.next()?.parse().ok()?;
        let _n: u64 = parts.next()?.parse().ok()?;
        return (parts.next()? == "tmp").then_some(pid);
    }
    let stem = file_name.strip_suffix(".tmp.png")?;
    stem.rsplit('.').next()?.parse().ok()
}

/// Earlier versions wrote through `tempfile` (`.tmpXXXXXX`, six random
/// alphanumerics) without a process id. Such a file in a folder we write
/// results to is ours; it is removed once it is a minute old, which no live
/// write takes.
fn legacy_tempfile(file_name: &str, path: &Path) -> bool {
    let Some(rest) = file_name.strip_prefix(".tmp") else { return false };
    if rest.len() != 6 || !rest.chars().all(|c| c.is_ascii_alphanumeric()) {
        return false;
    }
    let age = std::fs::metadata(path).and_then(|m| m.modified()).ok().and_then(|t| t.elapsed().ok());
    age.is_some_and(|a| a.as_secs() >= 60)
}

/// Removes temporary files that killed runs left in `dir` (once per folder
/// and process). Failures are ignored: cleaning up is a courtesy, never a
/// reason to fail a run.
pub fn sweep_stale(dir: &Path) {
    static SWEPT: Mutex<Option<HashSet<PathBuf>>> = Mutex::new(None);
    let key = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    {
        let mut g = SWEPT.lock().unwrap_or_else(|p| p.into_inner());
        if !g.get_or_insert_with(HashSet::new).insert(key) {
            return;
        }
    }
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let path = e.path();
        let stale = match temp_owner(&name) {
            Some(pid) => !alive(pid),
            None => legacy_tempfile(&name, &path),
        };
        if stale && e.file_type().is_ok_and(|t| t.is_file()) {
            let _ = std::fs::remove_file(&path);
        }
    }
}

/// Writes `bytes` to `path` atomically (same-directory temp file, fsync, rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let err = |e: std::io::Error| Error::Write { path: path.into(), reason: e.to_string() };
    std::fs::create_dir_all(parent_dir(path)).map_err(err)?;
    let tmp = temp_sibling(path, "");
    let result = (|| {
        let mut f = std::fs::OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(err)
}

/// Pretty JSON, atomically.
pub fn write_json(path: &Path, value: &serde_json::Value) -> Result<()> {
    let mut text = serde_json::to_string_pretty(value).map_err(|e| Error::Write { path: path.into(), reason: e.to_string() })?;
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

#[cfg(test)]
mod tests {
    use super::temp_owner;

    #[test]
    fn recognises_our_temporary_names_only() {
        assert_eq!(temp_owner(".summary.json.repcollapse.4242.7.tmp"), Some(4242));
        assert_eq!(temp_owner(".fig.png.repcollapse.17.0.tmp.png"), Some(17));
        assert_eq!(temp_owner(".fig.4242.tmp.png"), Some(4242));
        assert_eq!(temp_owner("summary.json"), None);
        assert_eq!(temp_owner(".hidden"), None);
        assert_eq!(temp_owner(".x.repcollapse.abc.1.tmp"), None);
    }
}
