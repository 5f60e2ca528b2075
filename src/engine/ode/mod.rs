//! Time integration of `dx/dt = F(x; p)`, one file per method:
//!
//! * [`stepper`]: the [`Stepper`](stepper::Stepper) trait every method implements;
//! * [`explicit_rk`]: the explicit Dormand-Prince pairs DOPRI5 and DOP853;
//! * [`radau`]: the implicit Radau IIA method of order 5 for stiff systems;
//! * [`integrate`]: the driver (automatic switching, output on a time grid,
//!   budgets).
//!
//! Each stepper carries its own dense output (the method's continuous
//! extension), reached through [`Stepper::dense_output`](stepper::Stepper::dense_output).
//! Imports run one way: `stepper` <- `explicit_rk`, `radau` <- `integrate`.
pub mod explicit_rk;
pub mod integrate;
pub mod radau;
pub mod stepper;
