//! Curves of equilibria and of their bifurcations: one-parameter branches
//! with codimension-one test functions, and two-parameter fold and Hopf
//! boundaries with their codimension-two points and grid check.
pub mod bogdanov_takens;
pub mod boundary;
pub mod branches;
pub mod grid_check;
pub mod test_functions;
