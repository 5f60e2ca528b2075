//! What every model shares: the label-weight matrix and its frustration
//! operator, the collapse metrics, and the optimisers wrapped around each
//! model's gradient step.
pub mod frustration;
pub mod metrics;
pub mod optimizer;
