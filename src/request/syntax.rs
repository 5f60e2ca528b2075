//! How each front end spells a request's fields in its messages.
use crate::error::Error;

/// The fields of the requests (and of the engine settings they fill) that
/// a user sets, by their request names.
const REQUEST_FIELDS: &[&str] = &[
    "search_box", "param", "param2", "from", "to", "from2", "to2", "ds", "ds_min", "ds_max", "max_steps", "var", "kind", "grid", "method",
    "newton_tol", "newton_max_iter", "ntst", "ncol", "transient", "max_period",
];

/// The syntax a request came from; errors name fields as the user wrote them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Syntax {
    /// Command-line flags: `ds_max` -> `--ds-max`.
    Cli,
    /// A study file's inline table: `ds_max` -> `continue.ds_max`.
    Study(&'static str),
    /// Python keyword arguments: the field name itself.
    Python,
}

impl Syntax {
    /// The field `name` (a request's own field name) as this syntax writes it.
    pub fn field(self, name: &str) -> String {
        match self {
            Syntax::Cli => format!("--{}", name.replace('_', "-")),
            Syntax::Study(table) => format!("{table}.{name}"),
            Syntax::Python => name.to_string(),
        }
    }

    /// `err` with an [`Error::InvalidParameter`] that names a request
    /// field renamed to this syntax; other errors (a model's state or
    /// parameter named by its own name) unchanged.
    pub fn rename(self, err: Error) -> Error {
        match err {
            Error::InvalidParameter { field, value, range } if REQUEST_FIELDS.contains(&field.as_str()) => {
                Error::InvalidParameter { field: self.field(&field), value, range }
            }
            other => other,
        }
    }
}
