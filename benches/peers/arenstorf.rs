//! Arenstorf's restricted three-body orbit (Hairer, Norsett & Wanner,
//! *Solving ODEs I*, Sect. II.0, eq. (0.1)) as a model file, and its period
//! (eq. (0.2)): periodic, so the state after one period is the initial
//! state, a reference known to all digits. The one definition of the
//! problem, included by tests/engine/dop853_peer.rs (accuracy against
//! ode_solvers) and benches/dop853_peer.rs (timing).

/// The model: satellite position `(x, y)` and velocity `(u, v)` in the
/// rotating frame of two bodies with mass ratio `mu`.
pub const ARENSTORF: &str = r#"
name = "arenstorf"
[parameters]
mu = 0.012277471
[state]
x = 0.994
y = 0.0
u = 0.0
v = -2.00158510637908252240537862224
[equations]
x = "u"
y = "v"
u = "x + 2*v - (1 - mu)*(x + mu)/((x + mu)^2 + y^2)^1.5 - mu*(x - 1 + mu)/((x - 1 + mu)^2 + y^2)^1.5"
v = "y - 2*u - (1 - mu)*y/((x + mu)^2 + y^2)^1.5 - mu*y/((x - 1 + mu)^2 + y^2)^1.5"
"#;

/// The period of the orbit (Hairer, Norsett & Wanner, Solving ODEs I, (0.2)).
pub const ARENSTORF_PERIOD: f64 = 17.0652165601579625588917206249;
