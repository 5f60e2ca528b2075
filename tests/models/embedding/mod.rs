//! Model E: simulation and reduced theory.
mod simulation;
mod theory;
