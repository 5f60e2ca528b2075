//! Curves of equilibria and of their bifurcations, one file per job:
//!
//! * [`params`]: settings of one-parameter continuation;
//! * [`arclength`]: the generic pseudo-arclength core (corrector, tangent, step);
//! * [`test_functions`]: codimension-one test functions and their location on an arc;
//! * [`results`]: branches and special points, as JSON and CSV;
//! * [`branches`]: one-parameter continuation of equilibria;
//! * [`bogdanov_takens`]: Newton on the Bogdanov-Takens defining system;
//! * [`boundary`]: two-parameter fold and Hopf curves with cusp and BT points;
//! * [`grid`]: brute-force classification of a parameter plane;
//! * [`grid_check`]: agreement of a traced boundary with the grid.
//!
//! Imports run one way: `params` and `arclength` import nothing here;
//! `test_functions` <- `arclength`; `results` <- `test_functions`;
//! `branches` <- `params`, `arclength`, `test_functions`, `results`;
//! `bogdanov_takens` only `linalg`; `grid` <- `test_functions`;
//! `boundary` <- `params`, `arclength`, `test_functions`, `bogdanov_takens`;
//! `grid_check` <- `boundary`, `grid`, `test_functions`.
pub mod arclength;
pub mod bogdanov_takens;
pub mod boundary;
pub mod branches;
pub mod grid;
pub mod grid_check;
pub mod illinois;
pub mod params;
pub mod results;
pub mod test_functions;
