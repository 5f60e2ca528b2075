//! The crate's error type. Every user-facing failure names what was wrong,
//! the offending value and what would be accepted, so the CLI can print it
//! and exit non-zero without further context.
use std::path::PathBuf;

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A parameter outside its valid range.
    #[error("invalid value for `{field}`: {value} (valid range: {range})")]
    InvalidParameter { field: String, value: String, range: String },

    /// A key that no schema knows.
    #[error("unknown key `{key}` in {context}{hint}; valid keys: {valid}")]
    UnknownKey { key: String, context: String, hint: String, valid: String },

    /// A file that cannot be read or parsed.
    #[error("cannot read `{path}`: {reason}")]
    Read { path: PathBuf, reason: String },

    /// A file that cannot be written.
    #[error("cannot write `{path}`: {reason}")]
    Write { path: PathBuf, reason: String },

    /// A simulation or integration that blew up, with what to change.
    #[error("divergence in {what}: {detail}. Advice: {advice}")]
    Divergence { what: String, detail: String, advice: String },

    /// A numerical routine that failed to converge.
    #[error("numerical failure in {what}: {detail}")]
    Numerical { what: String, detail: String },

    /// A wall-time budget (`--max-seconds`) that ran out in a computation
    /// that cannot return a partial result; says where it stopped.
    #[error("wall-time budget exhausted in {what}: stopped at {detail}; raise --max-seconds or make the run shorter")]
    Budget { what: String, detail: String },

    /// A run refused before it started because its predicted cost is above
    /// a default work bound; says the estimate and the option that runs it.
    #[error("{what}: not started: {detail}")]
    WorkBound { what: String, detail: String },

    /// A malformed model file (symbolic engine), already formatted with
    /// line/column and suggestions.
    #[error("{0}")]
    Model(String),
}

impl Error {
    /// Shorthand for [`Error::InvalidParameter`].
    pub fn invalid(field: impl Into<String>, value: impl ToString, range: impl Into<String>) -> Self {
        Error::InvalidParameter { field: field.into(), value: value.to_string(), range: range.into() }
    }
    /// Whether the error is the caller's input (a value out of range, an
    /// unknown key, an unreadable or malformed file) rather than a failed
    /// run. The CLI exits with status 2 for these and 1 otherwise; the Python
    /// bindings raise `ValueError` for these and `RuntimeError` otherwise.
    pub fn is_bad_input(&self) -> bool {
        matches!(self, Error::InvalidParameter { .. } | Error::UnknownKey { .. } | Error::Read { .. } | Error::Model(_))
    }
    /// Shorthand for [`Error::Numerical`].
    pub fn numerical(what: impl Into<String>, detail: impl Into<String>) -> Self {
        Error::Numerical { what: what.into(), detail: detail.into() }
    }
}

/// A number as every message prints it (advice, valid ranges, details):
/// the shortest text that reads back as the same `f64`, in positional form
/// for `1e-3 <= |x| < 1e15` (and 0) and in exponent form outside, so that
/// `use dt < 2.5e-9` never prints as `use dt < 0.000000`, `1e308` is not
/// 309 digits, and a bound printed is exactly the bound computed (rounding
/// `2 / rate` up would advise a step that diverges).
pub fn num(x: f64) -> String {
    if x == 0.0 || !x.is_finite() || (1e-3..1e15).contains(&x.abs()) {
        format!("{x}")
    } else {
        format!("{x:e}")
    }
}

/// Closest valid name to `key` by edit distance, for "did you mean" hints.
pub fn suggest<'a>(key: &str, valid: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    valid
        .into_iter()
        .map(|v| (levenshtein(key, v), v))
        .filter(|(d, v)| *d <= 2.max(v.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, v)| v)
}

#[cfg(test)]
mod number_tests {
    use super::num;

    #[test]
    fn numbers_in_messages_are_never_rounded_to_zero_and_read_back_exactly() {
        for x in [2.5e-9, 1.0 / 3.0 * 1e-7, 5e-324, 1e308, -4.2e-12, 0.5405405405405406, 123.25, 1e15, 9.99e14] {
            let s = num(x);
            assert_eq!(s.parse::<f64>().unwrap(), x, "{s}");
            assert!(s.len() <= 24, "{s}");
            assert!(!s.starts_with("0.000"), "{s}");
        }
        assert_eq!(num(2.5e-9), "2.5e-9");
        assert_eq!(num(0.0), "0");
        assert_eq!(num(0.25), "0.25");
        assert_eq!(num(1e308), "1e308");
        assert_eq!(num(f64::INFINITY), "inf");
    }
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb)).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    #[test]
    fn suggests_close_names() {
        assert_eq!(super::suggest("frustated", ["frustrated", "rho"]), Some("frustrated"));
        assert_eq!(super::suggest("zzzz", ["frustrated", "rho"]), None);
    }
}
