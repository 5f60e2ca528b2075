//! What every model shares: the label-weight matrix and its frustration
//! operator, and the collapse metrics.
pub mod frustration;
pub mod metrics;
