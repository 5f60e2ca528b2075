//! Model E: simulation and reduced theory.
mod optimizers;
mod simulation;
mod theory;
