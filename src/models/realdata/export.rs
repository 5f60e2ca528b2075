//! The real-data model's model file: none, refused with the reason (the
//! dynamics have no closed low-dimensional form, `docs/realdata.md`).
use crate::config::Overrides;
use crate::error::{Error, Result};
use crate::models::realdata::config::RealConfig;

/// No model file: the real-data dynamics have no low-dimensional closed
/// form. The linear encoder's exact flow is linear with `(D + K)` states per
/// embedding coordinate whose coefficients are the data's moments
/// (`Xi^T Xi`, `Xi^T A`), and the MLP has no closed reduced ODE at all.
pub fn export(overrides: &Overrides) -> Result<String> {
    RealConfig::from_overrides(overrides)?;
    Err(Error::invalid(
        "model",
        "\"real-data\"",
        "a model with a reduced ODE (embedding | head | teacher-student): the real-data dynamics have no closed low-dimensional \
         form (the linear encoder's exact flow is a (D+K)-state linear system per coordinate with the data's moments as \
         coefficients, see `theory real-data --json`; the MLP has none)",
    ))
}
