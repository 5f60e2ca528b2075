//! The project's rule for `null` in any JSON the tool writes: every null is
//! explained next to it, by a sibling `*_note` or `reason` field of the
//! object that holds it (for a null inside an array, of the object that
//! holds the array), or, for the theory fields of `simulate`, by an
//! unavailable `theory_comparison` with its reason.
use serde_json::Value;

/// The paths of the unexplained nulls of `v` (`comparison_off`: the result's
/// `theory_comparison` is unavailable, which explains its theory nulls).
pub fn unexplained_nulls(v: &Value, comparison_off: bool) -> Vec<String> {
    let mut out = Vec::new();
    if !comparison_off {
        walk(v, "", false, &mut out);
    }
    out
}

fn walk(v: &Value, path: &str, explained_by_owner: bool, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            let explained = m.keys().any(|k| k.ends_with("_note") || k == "reason");
            for (k, x) in m {
                let p = format!("{path}.{k}");
                if x.is_null() && !explained {
                    out.push(p.clone());
                }
                walk(x, &p, explained, out);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                let p = format!("{path}[{i}]");
                if x.is_null() && !explained_by_owner {
                    out.push(p.clone());
                }
                walk(x, &p, explained_by_owner, out);
            }
        }
        _ => {}
    }
}

/// The unexplained nulls of every `*.json` file under `dir` (recursively),
/// each prefixed with its file; `files` counts the files read.
pub fn unexplained_nulls_in_dir(dir: &std::path::Path, files: &mut usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())).flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            out.extend(unexplained_nulls_in_dir(&p, files));
        } else if p.extension().is_some_and(|x| x == "json") {
            let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            *files += 1;
            let off = v["theory_comparison"]["available"] == false;
            out.extend(unexplained_nulls(&v, off).into_iter().map(|n| format!("{}: {n}", p.display())));
        }
    }
    out
}
