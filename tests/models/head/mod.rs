//! Model H: simulation, reduced theory, class-level Jacobian, attractor and mean field.
mod attractor;
mod class_level_jacobian;
mod meanfield;
mod momentum;
mod optimizers;
mod roots;
mod simulation;
mod sphere;
mod theory;
