//! The SSL model's model file: none, refused with the reason (a trained
//! network on augmented images has no closed low-dimensional ODE; the
//! theory it is compared with is Model H's, `docs/ssl.md`).
use crate::config::Overrides;
use crate::error::{Error, Result};
use crate::models::ssl::config::SslConfig;

pub fn export(overrides: &Overrides) -> Result<String> {
    SslConfig::from_overrides(overrides)?;
    Err(Error::invalid(
        "model",
        "\"ssl\"",
        "a model with a reduced ODE (embedding | head | teacher-student): the SSL learner has no closed low-dimensional \
         form (its theory is Model H's by analogy, see `theory ssl`; export the head model instead)",
    ))
}
