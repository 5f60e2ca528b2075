//! Time integration of `dx/dt = F(x; p)`: the explicit Dormand-Prince pairs,
//! the implicit Radau IIA method for stiff systems, and the driver that
//! switches between them and writes the trajectory on the requested grid.
pub mod explicit_rk;
pub mod integrate;
pub mod radau;
