//! Model T with a shared projection head and stop-gradient (Model H's
//! variants): online SGD, its order-parameter ODE and the exact channel
//! reduction of that ODE (`docs/teacher.md`).
pub mod experiment;
pub mod finite_d;
pub mod oscillation;
pub mod reduced;
pub mod simulation;
pub mod theory;
