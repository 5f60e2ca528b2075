//! Model T studies (figures i-l).
pub mod collapse;
pub mod convergence;
pub mod finite_map;
pub mod head;
pub mod head_long;
pub mod optim;
pub mod phase;
