//! Model T: online and finite-data teacher-student, the head variants and prevention.
mod cycle_region;
mod finite;
mod finite_d;
mod fused_step;
mod head;
mod head_long;
mod optimizers;
mod oscillation;
mod prevention;
mod simulation;
mod symmetry_reduction;
mod theory;
