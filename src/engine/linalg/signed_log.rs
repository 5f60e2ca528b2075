//! Determinants and long products carried as sign and log-modulus, so that
//! products of many factors neither overflow nor underflow.

/// A real number stored as `sign * exp(log)`, so that products of many
/// factors neither overflow nor underflow. `sign` is -1, 0 or +1.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SignedLog {
    pub sign: f64,
    pub log: f64,
}

impl SignedLog {
    /// `self / reference` as an ordinary float, with the exponent clamped so
    /// the result stays finite; a continuous, well-scaled surrogate for the
    /// test function when root finding inside a bracket.
    pub fn relative_to(&self, reference: &SignedLog) -> f64 {
        if self.sign == 0.0 {
            return 0.0;
        }
        self.sign * (self.log - reference.log).clamp(-700.0, 700.0).exp()
    }
}
