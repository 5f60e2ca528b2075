//! Reading and writing model files (TOML).
//!
//! ```toml
//! name = "saddle-node"          # optional; default: the file stem
//! description = "optional free text"
//! [parameters]     # name = value
//! mu = -1.0
//! [state]          # variable = initial value (order = state order)
//! x = 0.5
//! [equations]      # d(variable)/dt = expression
//! x = "mu - x^2"
//! [observables]    # optional named expressions
//! x_squared = "x^2"
//! ```
//!
//! The document is parsed with `toml::de::DeTable`, which keeps the byte
//! span of every key and value; expression offsets are mapped back through
//! the string literal's span, so every error points at a line and column of
//! the file, with a caret excerpt and, where a near name exists, a "did you
//! mean" suggestion. Entries keep their file order (sorted by span, since
//! the table itself is ordered by key).
use std::borrow::Cow;
use std::ops::Range;

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use super::expr::{Graph, Id};
use super::lexer::ExprError;
use super::parser::{is_reserved, parse_into};
use crate::error::{suggest, Error, Result};

/// Top-level keys a model file may contain.
pub const TOP_LEVEL_KEYS: [&str; 6] = ["name", "description", "parameters", "state", "equations", "observables"];

/// A model file after validation: names, values and parsed expressions.
/// Symbol `k` of every expression is `state[k]` for `k < n`, else
/// `parameters[k - n]`. All expressions are roots of one shared [`Graph`].
#[derive(Clone, Debug)]
pub struct ModelSpec {
    pub name: String,
    pub description: Option<String>,
    pub parameters: Vec<(String, f64)>,
    pub state: Vec<(String, f64)>,
    /// `(variable, source text)` in state order.
    pub equations: Vec<(String, String)>,
    pub observables: Vec<(String, String)>,
    /// The expressions of every equation and observable, hash-consed together.
    pub graph: Graph,
    /// Roots of the parsed right-hand sides, in state order.
    pub equation_exprs: Vec<Id>,
    pub observable_exprs: Vec<Id>,
}

/// Source text plus its display name, for positioned messages.
pub struct Source<'a> {
    pub name: &'a str,
    pub text: &'a str,
}

impl Source<'_> {
    /// 1-based line and column (in characters) of byte `offset`.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = &self.text[..floor_char_boundary(self.text, offset)];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        (line, before[line_start..].chars().count() + 1)
    }

    /// A fully formatted error: position, message, caret excerpt and help.
    pub fn error(&self, span: Range<usize>, message: &str, help: Option<&str>) -> Error {
        Error::Model(self.render(span, message, help))
    }

    fn render(&self, span: Range<usize>, message: &str, help: Option<&str>) -> String {
        let text = self.text;
        let start = floor_char_boundary(text, span.start.min(text.len()));
        let (line, col) = self.line_col(start);
        let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
        let line_text = text[line_start..line_end].trim_end_matches('\r');
        // Underline the span, clipped to the line, at least one caret.
        let end = floor_char_boundary(text, span.end.clamp(start, line_end));
        let width = text[start..end].chars().count().max(1);
        let gutter = line.to_string().len();
        let mut s = format!("error in {} at line {line}, column {col}: {message}\n", self.name);
        s += &format!("{:gutter$} |\n", "");
        s += &format!("{line} | {line_text}\n");
        s += &format!("{:gutter$} | {}{}", "", " ".repeat(col - 1), "^".repeat(width));
        if let Some(h) = help {
            s += &format!("\n{:gutter$} = help: {h}", "");
        }
        s
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// One `key = value` entry of a section, with spans.
struct Entry<'t, 'i> {
    key: &'t str,
    key_span: Range<usize>,
    value: &'t DeValue<'i>,
    value_span: Range<usize>,
}

/// Entries of a table in file order.
fn entries<'t, 'i>(table: &'t DeTable<'i>) -> Vec<Entry<'t, 'i>> {
    let mut v: Vec<Entry> = table
        .iter()
        .map(|(k, v)| Entry { key: k.get_ref().as_ref(), key_span: k.span(), value: v.get_ref(), value_span: v.span() })
        .collect();
    v.sort_by_key(|e| e.key_span.start);
    v
}

/// Read and validate a model file.
pub fn parse_model_file(text: &str, source_name: &str) -> Result<ModelSpec> {
    let src = Source { name: source_name, text };
    let doc: Spanned<DeTable> = DeTable::parse(text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        src.error(span, &format!("malformed TOML: {}", e.message().trim_end()), Some("see https://toml.io for the syntax"))
    })?;
    let doc = doc.get_ref();

    let mut name = None;
    let mut description = None;
    let mut sections: [Option<(&DeTable, Range<usize>)>; 4] = [None, None, None, None];
    for e in entries(doc) {
        match e.key {
            "name" | "description" => {
                let s = e.value.as_str().ok_or_else(|| {
                    src.error(
                        e.value_span.clone(),
                        &format!("`{}` must be a string, got a {}", e.key, e.value.type_str()),
                        Some(&format!("write {} = \"...\"", e.key)),
                    )
                })?;
                if e.key == "name" {
                    name = Some(s.to_string());
                } else {
                    description = Some(s.to_string());
                }
            }
            "parameters" | "state" | "equations" | "observables" => {
                let idx = ["parameters", "state", "equations", "observables"].iter().position(|k| *k == e.key).unwrap_or(0);
                let t = e.value.as_table().ok_or_else(|| {
                    src.error(
                        e.key_span.clone(),
                        &format!("`{}` must be a table, got a {}", e.key, e.value.type_str()),
                        Some(&format!("write a section header `[{}]` followed by `name = value` lines", e.key)),
                    )
                })?;
                sections[idx] = Some((t, e.key_span.clone()));
            }
            other => {
                let help = match suggest(other, TOP_LEVEL_KEYS) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!("valid top-level keys: {}", TOP_LEVEL_KEYS.join(", ")),
                };
                return Err(src.error(e.key_span.clone(), &format!("unknown top-level key or section `{other}`"), Some(&help)));
            }
        }
    }
    let [params_t, state_t, eq_t, obs_t] = sections;
    let name = name.unwrap_or_else(|| {
        std::path::Path::new(source_name).file_stem().map_or("model".into(), |s| s.to_string_lossy().into_owned())
    });

    // Parameters and state: names and numeric values.
    let mut declared: Vec<(String, Range<usize>, &str)> = Vec::new();
    let mut numeric_section = |table: Option<(&DeTable, Range<usize>)>, what: &'static str| -> Result<Vec<(String, f64)>> {
        let mut out = Vec::new();
        let Some((t, _)) = table else { return Ok(out) };
        for e in entries(t) {
            check_symbol_name(&src, e.key, &e.key_span, what)?;
            if let Some((_, first, first_kind)) = declared.iter().find(|(n, _, _)| n == e.key) {
                let (l, _) = src.line_col(first.start);
                return Err(src.error(
                    e.key_span.clone(),
                    &format!("`{}` is declared both as a {first_kind} (line {l}) and as a {what}", e.key),
                    Some("rename one of them; a name must be unique across [parameters] and [state]"),
                ));
            }
            let v = numeric_value(&src, &e, what)?;
            declared.push((e.key.to_string(), e.key_span.clone(), what));
            out.push((e.key.to_string(), v));
        }
        Ok(out)
    };
    let parameters = numeric_section(params_t.clone(), "parameter")?;
    let state = numeric_section(state_t.clone(), "state variable")?;

    let Some((eq_table, _)) = eq_t else {
        let span = state_t.as_ref().map_or(0..0, |(_, s)| s.clone());
        return Err(src.error(span, "missing [equations] section", Some("add `[equations]` with one `variable = \"expression\"` per state variable")));
    };
    if state.is_empty() {
        let span = state_t.as_ref().map_or(0..0, |(_, s)| s.clone());
        return Err(src.error(span, "no state variables", Some("add a `[state]` section with `variable = initial value` lines")));
    }

    let mut symbols: Vec<&str> = state.iter().map(|(n, _)| n.as_str()).collect();
    symbols.extend(parameters.iter().map(|(n, _)| n.as_str()));

    // Equations: one per state variable, keyed by the variable.
    let eq_entries = entries(eq_table);
    for e in &eq_entries {
        if !state.iter().any(|(n, _)| n == e.key) {
            let is_param = parameters.iter().any(|(n, _)| n == e.key);
            let msg = if is_param {
                format!("equation for `{}`, which is a parameter, not a state variable", e.key)
            } else {
                format!("equation for `{}`, which has no initial value in [state]", e.key)
            };
            let orphans: Vec<&str> = state
                .iter()
                .map(|(n, _)| n.as_str())
                .filter(|n| !eq_entries.iter().any(|q| q.key == *n))
                .collect();
            let help = match suggest(e.key, orphans.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None if is_param => "move it to [state] with an initial value".to_string(),
                None => format!("add `{} = <initial value>` to [state]", e.key),
            };
            return Err(src.error(e.key_span.clone(), &msg, Some(&help)));
        }
    }
    let state_spans: Vec<Range<usize>> = state_t.as_ref().map(|(t, _)| entries(t).into_iter().map(|e| e.key_span).collect()).unwrap_or_default();
    let mut graph = Graph::new();
    let mut equations = Vec::with_capacity(state.len());
    let mut equation_exprs = Vec::with_capacity(state.len());
    for ((var, _), var_span) in state.iter().zip(&state_spans) {
        let Some(e) = eq_entries.iter().find(|e| e.key == var) else {
            return Err(src.error(
                var_span.clone(),
                &format!("state variable `{var}` has no equation"),
                Some(&format!("add `{var} = \"<expression for d{var}/dt>\"` to [equations]")),
            ));
        };
        let (text, expr) = expression(&src, e, &symbols, &mut graph, &format!("the equation for `{var}`"))?;
        equations.push((var.clone(), text));
        equation_exprs.push(expr);
    }

    // Observables: free names (distinct from symbols), any expression.
    let mut observables = Vec::new();
    let mut observable_exprs = Vec::new();
    if let Some((t, _)) = obs_t {
        for e in entries(t) {
            check_symbol_name(&src, e.key, &e.key_span, "observable")?;
            if symbols.contains(&e.key) {
                return Err(src.error(
                    e.key_span.clone(),
                    &format!("observable `{}` has the name of a state variable or parameter", e.key),
                    Some("give the observable a distinct name"),
                ));
            }
            let (text, expr) = expression(&src, &e, &symbols, &mut graph, &format!("observable `{}`", e.key))?;
            observables.push((e.key.to_string(), text));
            observable_exprs.push(expr);
        }
    }

    Ok(ModelSpec { name, description, parameters, state, equations, observables, graph, equation_exprs, observable_exprs })
}

/// Names must be identifiers the expression language can refer to.
fn check_symbol_name(src: &Source, name: &str, span: &Range<usize>, what: &str) -> Result<()> {
    let mut chars = name.chars();
    let ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !ok {
        return Err(src.error(
            span.clone(),
            &format!("invalid {what} name `{name}`"),
            Some("names start with a letter or `_` and contain only letters, digits and `_`"),
        ));
    }
    if is_reserved(name) {
        return Err(src.error(
            span.clone(),
            &format!("{what} name `{name}` is reserved (a function or constant)"),
            Some(&format!("rename it, e.g. `{name}_`")),
        ));
    }
    Ok(())
}

/// A finite number from an integer or float TOML value.
fn numeric_value(src: &Source, e: &Entry, what: &str) -> Result<f64> {
    let v = match e.value {
        DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix()).ok().map(|v| v as f64),
        DeValue::Float(f) => f.as_str().replace('_', "").parse::<f64>().ok(),
        other => {
            let help = match other.as_str().map(|s| s.trim().parse::<f64>()) {
                Some(Ok(v)) => format!("remove the quotes: `{} = {v:?}`", e.key),
                _ => format!("write `{} = <number>`, e.g. `{} = 0.5`", e.key, e.key),
            };
            return Err(src.error(
                e.value_span.clone(),
                &format!("{what} `{}` must be a number, got a {}", e.key, other.type_str()),
                Some(&help),
            ));
        }
    };
    match v {
        Some(v) if v.is_finite() => Ok(v),
        _ => Err(src.error(
            e.value_span.clone(),
            &format!("{what} `{}` must be a finite number", e.key),
            Some("use a finite decimal value"),
        )),
    }
}

/// Parse an expression entry (a string, or a bare number as a constant),
/// mapping expression errors back to file positions.
fn expression(src: &Source, e: &Entry, symbols: &[&str], graph: &mut Graph, what: &str) -> Result<(String, Id)> {
    let text: Cow<str> = match e.value {
        DeValue::String(s) => Cow::Borrowed(s.as_ref()),
        DeValue::Integer(_) | DeValue::Float(_) => Cow::Owned(numeric_value(src, e, "equation")?.to_string()),
        other => {
            return Err(src.error(
                e.value_span.clone(),
                &format!("{what} must be a string expression, got a {}", other.type_str()),
                Some(&format!("write `{} = \"<expression>\"`", e.key)),
            ))
        }
    };
    match parse_into(graph, &text, symbols) {
        Ok(expr) => Ok((text.into_owned(), expr)),
        Err(err) => Err(expr_error(src, e, &text, err, what)),
    }
}

/// Position an expression error in the file. When the literal is stored
/// verbatim (no escapes), offsets map one-to-one; otherwise the error points
/// at the literal and quotes the expression with its own caret.
fn expr_error(src: &Source, e: &Entry, text: &str, err: ExprError, what: &str) -> Error {
    let message = format!("{} in {what}", err.message);
    if let Some(start) = literal_content_start(src.text, &e.value_span, text) {
        let span = start + err.span.start..start + err.span.end.max(err.span.start);
        return src.error(span, &message, err.help.as_deref());
    }
    let at = text[..err.span.start.min(text.len())].chars().count() + 1;
    let caret = match &err.help {
        Some(h) => format!("{h} (at character {at} of `{}`)", text.escape_debug()),
        None => format!("at character {at} of `{}`", text.escape_debug()),
    };
    src.error(e.value_span.clone(), &message, Some(&caret))
}

/// Byte offset in the file where the string value's content begins, if the
/// content appears there verbatim.
fn literal_content_start(file: &str, span: &Range<usize>, content: &str) -> Option<usize> {
    let raw = file.get(span.clone())?;
    let mut start = span.start;
    if raw.starts_with("\"\"\"") || raw.starts_with("'''") {
        start += 3;
        // TOML drops a newline directly after the opening delimiter.
        let rest = &file[start..];
        if rest.starts_with("\r\n") {
            start += 2;
        } else if rest.starts_with('\n') {
            start += 1;
        }
    } else if raw.starts_with('"') || raw.starts_with('\'') {
        start += 1;
    } else {
        return None;
    }
    (file.get(start..start + content.len()) == Some(content)).then_some(start)
}

/// Write a model file that [`parse_model_file`] reads back to the same
/// names, values and expressions (values are written with round-trip
/// precision; names that are not bare TOML keys are quoted).
pub fn to_toml_string(
    name: &str,
    params: &[(String, f64)],
    state: &[(String, f64)],
    equations: &[(String, String)],
    observables: &[(String, String)],
) -> String {
    let mut s = format!("name = {}\n", toml_string(name));
    let mut section = |title: &str, rows: Vec<(String, String)>, always: bool| {
        if rows.is_empty() && !always {
            return;
        }
        s += &format!("\n[{title}]\n");
        for (k, v) in rows {
            s += &format!("{} = {v}\n", toml_key(&k));
        }
    };
    let num = |rows: &[(String, f64)]| rows.iter().map(|(k, v)| (k.clone(), toml_float(*v))).collect::<Vec<_>>();
    let strs = |rows: &[(String, String)]| rows.iter().map(|(k, v)| (k.clone(), toml_string(v))).collect::<Vec<_>>();
    section("parameters", num(params), true);
    section("state", num(state), true);
    section("equations", strs(equations), true);
    section("observables", strs(observables), false);
    s
}

fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

fn toml_float(v: f64) -> String {
    toml::Value::Float(v).to_string()
}

fn toml_key(k: &str) -> String {
    if !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        k.to_string()
    } else {
        toml_string(k)
    }
}
