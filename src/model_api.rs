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
