//! Every repository path that the code and the docs cite must exist.
//!
//! Scans the `.rs` files under `src/`, `tests/`, `benches/`, `examples/` and `python/src/`
//! and the Markdown files (`README.md`, `docs/`, and any `README.md` or `.md` under `src/`
//! and `tests/`) for cited paths: tokens that start with a repository folder (`src/`,
//! `docs/`, `tests/`, `analysis/`, `scripts/`, `examples/`, ...), tokens with a `/` that
//! end in a source or document extension (`models/head/config.rs`, `theory/x.rs`), any
//! mention of `THEORY.md` (the first brief, which is not in the repository), and Markdown
//! links. A cite is resolved against the repository root, `src/`, `python/` and the citing
//! file's folder. A cite followed by a section (`docs/cli.md, "simulate: exit codes"` or
//! `docs/teacher.md section 5`) and a Markdown link with an `#anchor` must also name a
//! heading of that document. Placeholders (`analysis/e_*`, `out/<study>/`, `{dir}/x.rs`)
//! are not cites.
//!
//! The failure lists every broken cite as `file:line: cite (reason)`, so that all of them
//! can be fixed in one pass.
use std::fs;
use std::path::{Path, PathBuf};

/// Folders whose name starts a cited repository path.
const PREFIXES: [&str; 10] =
    ["src/", "docs/", "tests/", "benches/", "examples/", "analysis/", "scripts/", "data/", "assets/", ".ci/"];
/// Paths the tools create (run outputs, build products, fuzz findings, proptest seeds):
/// cited, but not in the repository.
const GENERATED: [&str; 4] = ["out/", "target/", "tests/regressions/found", ".proptest-regressions"];
/// Upper-case file names that are real files, not placeholders like `NAME.toml`.
const UPPER_FILES: [&str; 3] = ["README", "CHANGELOG", "LICENSE"];
/// Extensions that make a token with a `/` a cited file even without a known prefix.
const EXTENSIONS: [&str; 8] = [".rs", ".md", ".toml", ".py", ".sh", ".ipynb", ".csv", ".png"];
/// This file: its self-test text holds deliberate bad cites.
const SELF: &str = "tests/docs/main.rs";

/// One broken cite.
#[derive(Debug, PartialEq)]
struct Broken {
    file: String,
    line: usize,
    cite: String,
    reason: String,
}

impl std::fmt::Display for Broken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: `{}` ({})", self.file, self.line, self.cite, self.reason)
    }
}

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Files to scan, as paths relative to the repository root, sorted.
fn files_to_scan(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for dir in ["src", "tests", "benches", "examples", "python/src"] {
        walk(root, &root.join(dir), &mut |rel| {
            if rel.ends_with(".rs") && rel != SELF {
                out.push(rel.to_string());
            }
        });
    }
    for dir in ["docs", "src", "tests"] {
        walk(root, &root.join(dir), &mut |rel| {
            if rel.ends_with(".md") {
                out.push(rel.to_string());
            }
        });
    }
    out.push("README.md".into());
    out.sort();
    out.dedup();
    out
}

fn walk(root: &Path, dir: &Path, visit: &mut dyn FnMut(&str)) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with('.') || name == "target" {
            continue;
        }
        if path.is_dir() {
            walk(root, &path, visit);
        } else if let Ok(rel) = path.strip_prefix(root) {
            visit(&rel.to_string_lossy().replace('\\', "/"));
        }
    }
}

/// Characters of a path token.
fn path_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '/')
}

/// Characters next to a token that make it part of a placeholder or pattern.
fn placeholder_char(c: char) -> bool {
    matches!(c, '*' | '<' | '>' | '{' | '}' | '$' | '…' | '[' | '%')
}

/// Whether a token is a pattern rather than a path: a generated path, or a segment
/// written in capitals as a placeholder (`analysis/NAME.toml`, `MODEL.toml`).
fn is_placeholder(token: &str) -> bool {
    GENERATED.iter().any(|g| token.starts_with(g) || token.ends_with(g))
        || token.split('/').any(|seg| {
            let stem = seg.split('.').next().unwrap_or("");
            stem.len() >= 2
                && stem.chars().all(|c| c.is_ascii_uppercase() || c == '_')
                && !UPPER_FILES.contains(&stem)
        })
}

/// The part of a Rust line that is a comment (doc or plain): paths in code are
/// run-time values, not cites.
fn comment_part(line: &str) -> Option<&str> {
    let mut from = 0;
    while let Some(pos) = line[from..].find("//") {
        let at = from + pos;
        if at == 0 || !line[..at].ends_with(':') {
            return Some(&line[at..]);
        }
        from = at + 2;
    }
    None
}

/// Where a cite can live: the root, `src/`, `tests/`, `python/`, or next to the citing file.
fn resolve(root: &Path, citing: &str, cite: &str) -> Option<PathBuf> {
    let here = Path::new(citing).parent().unwrap_or(Path::new(""));
    [root.to_path_buf(), root.join("src"), root.join("tests"), root.join("python"), root.join(here)]
        .into_iter()
        .map(|base| base.join(cite))
        .find(|p| p.exists())
}

/// Headings of a Markdown file: (text without the `#`s, GitHub anchor).
fn headings(path: &Path) -> Vec<(String, String)> {
    let Ok(text) = fs::read_to_string(path) else { return Vec::new() };
    let mut in_code = false;
    let mut out = Vec::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code || !line.starts_with('#') {
            continue;
        }
        let title = line.trim_start_matches('#').trim().to_string();
        out.push((title.clone(), anchor(&title)));
    }
    out
}

/// GitHub's anchor for a heading: lower case, punctuation dropped, spaces to `-`.
fn anchor(title: &str) -> String {
    title
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// Checks a section named after a cite of a Markdown file: `, "Title"` or ` section N`.
fn check_section(target: &Path, rest: &str) -> Option<String> {
    let rest = rest.trim_start_matches(|c: char| matches!(c, '`' | ')' | '*' | ',' | ' '));
    let heads = headings(target);
    if let Some(quoted) = rest.strip_prefix('"') {
        let title = quoted.split('"').next().unwrap_or("");
        let found = heads.iter().any(|(h, _)| h == title || h.starts_with(&format!("{title} ")));
        return (!found).then(|| format!("no heading \"{title}\" in it"));
    }
    let number = rest.strip_prefix("section ").or_else(|| rest.strip_prefix("sections "))?;
    let n: String = number.chars().take_while(|c| c.is_ascii_digit()).collect();
    if n.is_empty() {
        return None;
    }
    let found = heads.iter().any(|(h, _)| h.starts_with(&format!("{n}. ")));
    (!found).then(|| format!("no section numbered {n} in it"))
}

/// All broken cites in `text`, the contents of the file `citing`.
fn scan(root: &Path, citing: &str, text: &str) -> Vec<Broken> {
    let markdown = citing.ends_with(".md");
    let mut out = Vec::new();
    let mut in_code = false;
    for (idx, line) in text.lines().enumerate() {
        let lineno = idx + 1;
        let mut report = |cite: &str, reason: String| {
            out.push(Broken { file: citing.into(), line: lineno, cite: cite.into(), reason });
        };
        if markdown && line.trim_start().starts_with("```") {
            in_code = !in_code;
        }
        // Markdown links, resolved relative to the document (outside code blocks).
        if markdown && !in_code {
            let mut rest = line;
            while let Some(pos) = rest.find("](") {
                let after = &rest[pos + 2..];
                let Some(end) = after.find(')') else { break };
                let target = &after[..end];
                rest = &after[end..];
                if target.contains("://") || target.starts_with("mailto:") || target.contains(' ') {
                    continue;
                }
                let (file, frag) = target.split_once('#').unwrap_or((target, ""));
                let doc = if file.is_empty() {
                    Some(root.join(citing))
                } else {
                    let here = Path::new(citing).parent().unwrap_or(Path::new(""));
                    let p = root.join(here).join(file);
                    p.exists().then_some(p)
                };
                match doc {
                    None => report(target, "link target does not exist".into()),
                    Some(p) if !frag.is_empty() && p.extension().is_some_and(|e| e == "md") => {
                        if !headings(&p).iter().any(|(_, a)| a == frag) {
                            report(target, format!("no heading with anchor #{frag}"));
                        }
                    }
                    Some(_) => {}
                }
            }
        }
        // `THEORY.md` anywhere; other path tokens in Markdown anywhere, in Rust in comments.
        if line.contains("THEORY.md") && resolve(root, citing, "THEORY.md").is_none() {
            report("THEORY.md", "the first theory brief is not in the repository; cite docs/".into());
        }
        let line = if markdown { line } else {
            match comment_part(line) {
                Some(c) => c,
                None => continue,
            }
        };
        let chars: Vec<(usize, char)> = line.char_indices().collect();
        let mut i = 0;
        while i < chars.len() {
            if !path_char(chars[i].1) {
                i += 1;
                continue;
            }
            let start = i;
            while i < chars.len() && path_char(chars[i].1) {
                i += 1;
            }
            let (b0, b1) = (chars[start].0, chars.get(i).map_or(line.len(), |c| c.0));
            let before = start.checked_sub(1).map(|k| chars[k].1);
            let after = chars.get(i).map(|c| c.1);
            let raw = &line[b0..b1];
            let token = raw.trim_end_matches(['.', '-']);
            let token = token.strip_prefix("./").unwrap_or(token);
            if token.ends_with("THEORY.md") {
                continue;
            }
            let prefixed = PREFIXES.iter().any(|p| token.starts_with(p) && token.len() > p.len());
            let file_like = token.contains('/') && EXTENSIONS.iter().any(|e| token.ends_with(e));
            if !(prefixed || file_like)
                || token.starts_with('/')
                || token.contains("..")
                || is_placeholder(token)
                || before.is_some_and(|c| placeholder_char(c) || c == '/' || c == '.' || c == ':')
                || after.is_some_and(placeholder_char)
            {
                continue;
            }
            match resolve(root, citing, token) {
                None => report(token, "no such file or folder".into()),
                Some(p) if token.ends_with(".md") => {
                    if let Some(reason) = check_section(&p, &line[b1..]) {
                        report(token, reason);
                    }
                }
                Some(_) => {}
            }
        }
    }
    out
}

#[test]
fn cited_paths_exist() {
    let root = repo_root();
    let files = files_to_scan(&root);
    assert!(files.len() > 50, "expected the whole tree, found {} files", files.len());
    let mut broken = Vec::new();
    for f in &files {
        let text = fs::read_to_string(root.join(f)).unwrap_or_default();
        broken.extend(scan(&root, f, &text));
    }
    let list: Vec<String> = broken.iter().map(|b| format!("  {b}")).collect();
    assert!(
        broken.is_empty(),
        "{} cited path(s) do not exist (scanned {} files):\n{}\n",
        broken.len(),
        files.len(),
        list.join("\n")
    );
}

/// The scanner reports what it should and nothing else.
#[test]
fn scanner_finds_planted_bad_cites() {
    let root = repo_root();
    let text = [
        "//! See `src/models/no_such_module.rs` and docs/embedding.md section 5.",
        "//! From THEORY.md section 2; docs/nope.md; analysis/e_* and out/<study>/x.toml are patterns.",
        "//! docs/embedding.md section 99 and docs/cli.md, \"simulate: exit codes\" and \"x\".",
        "//! docs/cli.md, \"no such heading\"; README.md; `models/common/frustration.rs`.",
    ]
    .join("\n");
    let got: Vec<String> = scan(&root, "src/lib.rs", &text).iter().map(|b| format!("{}:{}", b.line, b.cite)).collect();
    assert_eq!(
        got,
        ["1:src/models/no_such_module.rs", "2:THEORY.md", "2:docs/nope.md", "3:docs/embedding.md", "4:docs/cli.md"],
        "{got:?}"
    );
    let md = "See [the CLI](cli.md#python), [missing](nope.md), [bad anchor](embedding.md#no-such-section).\n```\n[in code](nope.md)\n```\n";
    let got: Vec<String> = scan(&root, "docs/x.md", md).iter().map(|b| b.cite.clone()).collect();
    assert_eq!(got, ["nope.md", "embedding.md#no-such-section"], "{got:?}");
}
