//! Engine tests: integration (explicit and stiff), equilibria and stability, continuation, codimension-2 boundaries and Bogdanov-Takens points, published models, bad input and budgets.
//!
//! One test crate per capability (see tests/README.md); shared helpers live in tests/support/.
#[path = "../support/mod.rs"]
mod support;

mod equilibria_and_integration;
mod stiff;
mod continuation;
mod bogdanov_takens;
mod published_models;
mod bad_input_and_budgets;
mod dop853_peer;
#[path = "../../benches/peers/arenstorf.rs"]
mod arenstorf;
mod diffsol_peer;
#[path = "../../benches/peers/stiff_problems.rs"]
mod stiff_problems;
#[path = "../../benches/peers/diffsol_solve.rs"]
mod diffsol_solve;
mod normal_forms;
mod hopf_criticality;
mod periodic_orbits;
mod auto_demo_ab;
mod period_doubling;
mod lpc_curve;
mod grid_check_bazykin;
mod floquet_periodic_qr;
mod auto_demo_lor;
mod auto_demo_pp2;
mod morris_lecar_cycles;
