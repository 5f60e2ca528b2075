//! Typed, range-checked parameter sets shared by every model's config.
//!
//! A model declares a schema (`&[ParamSpec]`); values arrive from a study
//! file's TOML table or from `--set key=value` pairs. Every failure names the
//! field, the value and the valid range, so the CLI can print it verbatim.
use std::collections::BTreeMap;

use crate::error::{num, suggest, Error, Result};

/// The valid range of one parameter.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    /// Integer in `[min, max]`.
    Int { min: i64, max: i64 },
    /// Real number in the interval; `open_min`/`open_max` exclude the ends.
    Real { min: f64, max: f64, open_min: bool, open_max: bool },
    /// One of a fixed set of names.
    Choice(&'static [&'static str]),
    /// Free text (file paths); empty means unset.
    Text,
}

impl Kind {
    /// Positive real `(0, inf)`.
    pub const POSITIVE: Kind = Kind::Real { min: 0.0, max: f64::INFINITY, open_min: true, open_max: true };
    /// Non-negative real `[0, inf)`.
    pub const NON_NEGATIVE: Kind = Kind::Real { min: 0.0, max: f64::INFINITY, open_min: false, open_max: true };
    /// Largest learning rate or weight decay any model accepts. The rates
    /// multiply the entries of each model's linear operator (Model E's `L`,
    /// the head and finite-data Jacobians), whose entries also carry sample
    /// counts (at most 1e8 per class) and squared scales; the symmetric
    /// eigensolvers and SVDs sum squares of those entries, so they must stay
    /// below sqrt(f64::MAX) ~ 1.3e154. At 1e100 a rate leaves 54 orders of
    /// magnitude for the rest; at 1e200 the head's Jacobian SVD and, at
    /// 1e308, the spectrum of `L` failed with `NoConvergence` (issue 24).
    pub const MAX_RATE: f64 = 1e100;
    /// A positive rate `(0, MAX_RATE]`.
    pub const RATE: Kind = Kind::Real { min: 0.0, max: Kind::MAX_RATE, open_min: true, open_max: false };
    /// A non-negative rate (weight decay) `[0, MAX_RATE]`.
    pub const NON_NEGATIVE_RATE: Kind = Kind::Real { min: 0.0, max: Kind::MAX_RATE, open_min: false, open_max: false };

    /// The valid range in words, as error messages and parameter tables show it.
    pub fn range_text(&self) -> String {
        match *self {
            Kind::Int { min, max } if max == i64::MAX => format!("integer >= {min}"),
            Kind::Int { min, max } => format!("integer in [{min}, {max}]"),
            Kind::Real { min, max, open_min, open_max } => {
                let lo = if open_min { "(" } else { "[" };
                let hi = if open_max { ")" } else { "]" };
                // `num` prints infinities as `inf`, -inf as `-inf`.
                format!("real number in {lo}{}, {}{hi}", num(min), num(max))
            }
            Kind::Choice(names) => format!("one of {}", names.join(" | ")),
            Kind::Text => "text".into(),
        }
    }
}

impl Kind {
    /// Whether `value` has this kind's type and lies in its range (reals
    /// also accept integers; NaN and infinities are never accepted).
    pub fn accepts(&self, value: &toml::Value) -> bool {
        match (*self, value) {
            (Kind::Int { min, max }, toml::Value::Integer(i)) => (min..=max).contains(i),
            (Kind::Real { .. }, toml::Value::Float(x)) => self.accepts_real(*x),
            (Kind::Real { .. }, toml::Value::Integer(i)) => self.accepts_real(*i as f64),
            (Kind::Choice(names), toml::Value::String(s)) => names.contains(&s.as_str()),
            (Kind::Text, toml::Value::String(_)) => true,
            _ => false,
        }
    }

    fn accepts_real(&self, x: f64) -> bool {
        match *self {
            Kind::Real { min, max, open_min, open_max } => {
                let lo_ok = if open_min { x > min } else { x >= min };
                let hi_ok = if open_max { x < max } else { x <= max };
                x.is_finite() && lo_ok && hi_ok
            }
            _ => false,
        }
    }
}

/// One parameter of a schema.
#[derive(Clone, Copy, Debug)]
pub struct ParamSpec {
    pub name: &'static str,
    pub kind: Kind,
    /// Default in TOML literal syntax (`"4"`, `"0.5"`, `"\"balanced\""`).
    pub default: &'static str,
    pub doc: &'static str,
}

/// Parameter overrides in the order given: the CLI's `--set key=value`
/// pairs, or keyword arguments from the Python bindings. Checked against a
/// model's schema only when a config is built from them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Overrides(pub Vec<(String, toml::Value)>);

impl Overrides {
    /// Parses `key=value` strings; a value is a TOML literal, or else a bare string.
    pub fn from_sets(sets: &[String]) -> Result<Self> {
        let mut pairs = Vec::with_capacity(sets.len());
        for s in sets {
            let (k, v) = s.split_once('=').ok_or_else(|| Error::invalid("--set", s, "key=value (for example frustrated=0.1)"))?;
            let (k, v) = (k.trim(), v.trim());
            let value = toml::from_str::<toml::Table>(&format!("v = {v}"))
                .ok()
                .and_then(|mut t| t.remove("v"))
                .unwrap_or_else(|| toml::Value::String(v.to_string()));
            pairs.push((k.to_string(), value));
        }
        Ok(Overrides(pairs))
    }
}

/// A validated parameter set: every schema key present, every value in range.
#[derive(Clone, Debug, PartialEq)]
pub struct Params {
    values: BTreeMap<String, toml::Value>,
}

impl Params {
    /// Defaults of `schema`, overridden by `table` (unknown keys rejected).
    pub fn from_table(schema: &[ParamSpec], table: &toml::Table, context: &str) -> Result<Self> {
        let mut values = BTreeMap::new();
        for spec in schema {
            let v: toml::Value = toml::from_str::<toml::Table>(&format!("v = {}", spec.default))
                .expect("schema defaults are valid TOML")
                .remove("v")
                .expect("default parsed");
            values.insert(spec.name.to_string(), v);
        }
        let mut p = Params { values };
        for (k, v) in table {
            p.set(schema, k, v.clone(), context)?;
        }
        Ok(p)
    }

    /// Applies `key=value` overrides (the CLI's `--set`). Values are read as
    /// TOML literals, falling back to a bare string.
    pub fn with_overrides(self, schema: &[ParamSpec], sets: &[String], context: &str) -> Result<Self> {
        self.with_pairs(schema, &Overrides::from_sets(sets)?, context)
    }

    /// Applies already-typed overrides in order (later pairs win).
    pub fn with_pairs(mut self, schema: &[ParamSpec], overrides: &Overrides, context: &str) -> Result<Self> {
        for (k, v) in &overrides.0 {
            self.set(schema, k, v.clone(), context)?;
        }
        Ok(self)
    }

    fn set(&mut self, schema: &[ParamSpec], key: &str, value: toml::Value, context: &str) -> Result<()> {
        let spec = schema.iter().find(|s| s.name == key).ok_or_else(|| unknown_key(schema, key, context))?;
        let bad = || {
            let hint = match (spec.kind, &value) {
                (Kind::Choice(names), toml::Value::String(v)) => {
                    suggest(v, names.iter().copied()).map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default()
                }
                _ => String::new(),
            };
            Error::invalid(key, format!("{}{hint}", display(&value)), spec.kind.range_text())
        };
        if !spec.kind.accepts(&value) {
            return Err(bad());
        }
        let value = match (spec.kind, value) {
            (Kind::Real { .. }, toml::Value::Integer(i)) => toml::Value::Float(i as f64),
            (_, v) => v,
        };
        self.values.insert(key.to_string(), value);
        Ok(())
    }

    /// Integer value of `key` (schema-checked, so it exists and is in range).
    pub fn int(&self, key: &str) -> i64 {
        self.values[key].as_integer().expect("schema-checked integer")
    }
    /// Non-negative integer value as `usize`.
    pub fn usize(&self, key: &str) -> usize {
        self.int(key) as usize
    }
    /// Real value of `key`.
    pub fn real(&self, key: &str) -> f64 {
        self.values[key].as_float().expect("schema-checked real")
    }
    /// Text value of `key`.
    pub fn text(&self, key: &str) -> &str {
        self.values[key].as_str().expect("schema-checked text")
    }
    /// All values as a JSON object, recorded in every result file.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(&self.values).expect("TOML scalars serialise to JSON")
    }
}

fn display(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => format!("\"{s}\""),
        // Very large and very small values in exponent form (TOML would print
        // 1e308 with 309 digits); ordinary ones as TOML writes them (`1.0`).
        toml::Value::Float(x) if num(*x).contains('e') => num(*x),
        other => other.to_string(),
    }
}

/// The error for a key that `schema` does not know, with a suggestion.
pub fn unknown_key(schema: &[ParamSpec], key: &str, context: &str) -> Error {
    let names: Vec<&str> = schema.iter().map(|s| s.name).collect();
    let hint = suggest(key, names.iter().copied()).map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default();
    Error::UnknownKey { key: key.into(), context: context.into(), hint, valid: names.join(", ") }
}

/// Markdown table of a schema, for `--help` texts and the README.
pub fn schema_markdown(schema: &[ParamSpec]) -> String {
    let mut s = String::from("| key | valid range | default | meaning |\n|---|---|---|---|\n");
    for p in schema {
        s += &format!("| `{}` | {} | `{}` | {} |\n", p.name, p.kind.range_text(), p.default, p.doc);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCHEMA: &[ParamSpec] = &[
        ParamSpec { name: "classes", kind: Kind::Int { min: 2, max: i64::MAX }, default: "4", doc: "" },
        ParamSpec { name: "rho", kind: Kind::Real { min: 0.0, max: 0.5, open_min: true, open_max: false }, default: "0.5", doc: "" },
    ];

    #[test]
    fn messages_name_field_value_and_range() {
        let p = Params::from_table(SCHEMA, &toml::Table::new(), "test").unwrap();
        let e = p.clone().with_overrides(SCHEMA, &["classes=1".into()], "test").unwrap_err().to_string();
        assert!(e.contains("`classes`") && e.contains(": 1 ") && e.contains(">= 2"), "{e}");
        let e = p.clone().with_overrides(SCHEMA, &["rho=0".into()], "test").unwrap_err().to_string();
        assert!(e.contains("(0, 0.5]"), "{e}");
        let e = p.clone().with_overrides(SCHEMA, &["rhoo=0.1".into()], "test").unwrap_err().to_string();
        assert!(e.contains("did you mean `rho`"), "{e}");
        const CHOICE: &[ParamSpec] = &[ParamSpec { name: "pairing", kind: Kind::Choice(&["balanced", "ring"]), default: "\"ring\"", doc: "" }];
        let c = Params::from_table(CHOICE, &toml::Table::new(), "test").unwrap();
        let e = c.with_overrides(CHOICE, &["pairing=balance".into()], "test").unwrap_err().to_string();
        assert!(e.contains("\"balance\"") && e.contains("did you mean `balanced`") && e.contains("balanced | ring"), "{e}");
        let ok = p.with_overrides(SCHEMA, &["rho=0.25".into(), "classes=3".into()], "test").unwrap();
        assert_eq!((ok.real("rho"), ok.usize("classes")), (0.25, 3));
    }
}
