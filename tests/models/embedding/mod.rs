//! Model E: simulation and reduced theory.
mod optimizers;
mod simulation;
mod sphere;
mod theory;
