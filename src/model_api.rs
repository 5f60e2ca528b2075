//! The contract between a model's entry points (`models/<m>/api.rs`) and
//! their callers (the registry, the CLI, the Python bindings): what every
//! entry point accepts besides its parameters, and what it returns.

/// Options that every entry point accepts.
#[derive(Clone, Copy, Debug, Default)]
pub struct RunOptions {
    /// Show progress bars on stderr.
    pub progress: bool,
}

/// What `theory` and `simulate` return: the machine-readable result and the
/// text summary the CLI prints without `--json`.
#[derive(Clone, Debug)]
pub struct ModelOutput {
    pub json: serde_json::Value,
    pub text: String,
}

impl ModelOutput {
    /// A result whose text form is its pretty-printed JSON.
    pub fn json_only(json: serde_json::Value) -> Self {
        let text = serde_json::to_string_pretty(&json).expect("JSON serialises");
        ModelOutput { json, text }
    }
}

/// The `theory_comparison` field of a `simulate` result:
/// `{"available": true}`, or `{"available": false, "reason": "..."}` when
/// the companion theory ODE failed. In the second case the simulation's own
/// results are complete and every theory-dependent field is `null`; the CLI
/// prints the reason on stderr and still exits 0, since the simulation the
/// command ran is valid (docs/cli.md, "simulate: exit codes").
pub fn comparison_json(unavailable: Option<&str>) -> serde_json::Value {
    match unavailable {
        None => serde_json::json!({"available": true}),
        Some(reason) => serde_json::json!({"available": false, "reason": reason}),
    }
}

/// The text line of a `simulate` summary for an unavailable comparison.
pub fn comparison_line(unavailable: Option<&str>) -> Option<String> {
    unavailable.map(|r| format!("  theory comparison unavailable: {r}"))
}
