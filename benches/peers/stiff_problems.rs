//! The problems of the work-precision diagrams with a hand-written right-hand
//! side (the four stiff ones and the non-stiff Lorenz; the Model T head ODE
//! is too long to write out and every peer reads its model file), term for
//! term as in the model files (examples/models/<name>.toml) and as in
//! benches/peers/cvode_peer.c, with their exact Jacobians: the right-hand
//! sides the Rust peers (diffsol, benches/diffsol_peer.rs) are given, so
//! that every peer solves the same equations with the same Jacobian.
//! tests/engine/diffsol_peer.rs checks both against the model files'
//! symbolic right-hand side and Jacobian.
// Included by a bench and by a test crate, each of which uses a part.
#![allow(dead_code)]

/// One problem: dimension, end time, initial state, f(y) and the dense
/// Jacobian df/dy (row-major, n x n) at y; and the error norm of the
/// diagrams (benches/peers/work_precision.py): the floor `floor` of the
/// relative error (atol = floor * rtol) and the factor `check_factor` by
/// which a run's end-point error may exceed rtol and still reproduce the
/// reference (100 for the stiff problems; e^(0.906 t_end) for Lorenz, its
/// error growth at the largest Lyapunov exponent).
pub struct StiffProblem {
    pub name: &'static str,
    pub model_file: &'static str,
    pub n: usize,
    pub t_end: f64,
    pub y0: &'static [f64],
    pub rhs: fn(&[f64], &mut [f64]),
    pub jacobian: fn(&[f64], &mut [f64]),
    pub floor: f64,
    pub check_factor: f64,
}

/// Robertson: y1' = -k1 y1 + k3 y2 y3, y2' = k1 y1 - k3 y2 y3 - k2 y2^2,
/// y3' = k2 y2^2, (k1, k2, k3) = (0.04, 3e7, 1e4).
fn rob_f(y: &[f64], f: &mut [f64]) {
    let (k1, k2, k3) = (0.04, 3.0e7, 1.0e4);
    f[0] = -k1 * y[0] + k3 * y[1] * y[2];
    f[1] = k1 * y[0] - k3 * y[1] * y[2] - k2 * y[1] * y[1];
    f[2] = k2 * y[1] * y[1];
}
fn rob_j(y: &[f64], j: &mut [f64]) {
    let (k1, k2, k3) = (0.04, 3.0e7, 1.0e4);
    j.copy_from_slice(&[
        -k1, k3 * y[2], k3 * y[1],
        k1, -k3 * y[2] - 2.0 * k2 * y[1], -k3 * y[1],
        0.0, 2.0 * k2 * y[1], 0.0,
    ]);
}

/// Van der Pol, Hairer's scaled form: y1' = y2, y2' = ((1 - y1^2) y2 - y1)/eps, eps = 1e-6.
fn vdp_f(y: &[f64], f: &mut [f64]) {
    let eps = 1.0e-6;
    f[0] = y[1];
    f[1] = ((1.0 - y[0] * y[0]) * y[1] - y[0]) / eps;
}
fn vdp_j(y: &[f64], j: &mut [f64]) {
    let eps = 1.0e-6;
    j.copy_from_slice(&[0.0, 1.0, (-2.0 * y[0] * y[1] - 1.0) / eps, (1.0 - y[0] * y[0]) / eps]);
}

/// HIRES (Hairer & Wanner II, Sect. IV.10), eight linear reactions and one bilinear.
fn hires_f(y: &[f64], f: &mut [f64]) {
    f[0] = -1.71 * y[0] + 0.43 * y[1] + 8.32 * y[2] + 0.0007;
    f[1] = 1.71 * y[0] - 8.75 * y[1];
    f[2] = -10.03 * y[2] + 0.43 * y[3] + 0.035 * y[4];
    f[3] = 8.32 * y[1] + 1.71 * y[2] - 1.12 * y[3];
    f[4] = -1.745 * y[4] + 0.43 * y[5] + 0.43 * y[6];
    f[5] = -280.0 * y[5] * y[7] + 0.69 * y[3] + 1.71 * y[4] - 0.43 * y[5] + 0.69 * y[6];
    f[6] = 280.0 * y[5] * y[7] - 1.81 * y[6];
    f[7] = -280.0 * y[5] * y[7] + 1.81 * y[6];
}
fn hires_j(y: &[f64], j: &mut [f64]) {
    j.fill(0.0);
    let mut set = |r: usize, c: usize, v: f64| j[8 * r + c] = v;
    set(0, 0, -1.71);
    set(0, 1, 0.43);
    set(0, 2, 8.32);
    set(1, 0, 1.71);
    set(1, 1, -8.75);
    set(2, 2, -10.03);
    set(2, 3, 0.43);
    set(2, 4, 0.035);
    set(3, 1, 8.32);
    set(3, 2, 1.71);
    set(3, 3, -1.12);
    set(4, 4, -1.745);
    set(4, 5, 0.43);
    set(4, 6, 0.43);
    set(5, 3, 0.69);
    set(5, 4, 1.71);
    set(5, 5, -280.0 * y[7] - 0.43);
    set(5, 6, 0.69);
    set(5, 7, -280.0 * y[5]);
    set(6, 5, 280.0 * y[7]);
    set(6, 6, -1.81);
    set(6, 7, 280.0 * y[5]);
    set(7, 5, -280.0 * y[7]);
    set(7, 6, 1.81);
    set(7, 7, -280.0 * y[5]);
}

/// Oregonator (Field & Noyes; Hairer & Wanner II, Sect. IV.1):
/// y1' = s (y2 + y1 (1 - q y1 - y2)), y2' = (y3 - (1 + y1) y2)/s, y3' = w (y1 - y3).
fn orego_f(y: &[f64], f: &mut [f64]) {
    let (s, w, q) = (77.27, 0.161, 8.375e-6);
    f[0] = s * (y[1] + y[0] * (1.0 - q * y[0] - y[1]));
    f[1] = (y[2] - (1.0 + y[0]) * y[1]) / s;
    f[2] = w * (y[0] - y[2]);
}
fn orego_j(y: &[f64], j: &mut [f64]) {
    let (s, w, q) = (77.27, 0.161, 8.375e-6);
    j.copy_from_slice(&[
        s * (1.0 - 2.0 * q * y[0] - y[1]), s * (1.0 - y[0]), 0.0,
        -y[1] / s, -(1.0 + y[0]) / s, 1.0 / s,
        w, 0.0, -w,
    ]);
}

/// Lorenz (examples/models/lorenz.toml): x' = sigma (y - x),
/// y' = x (rho - z) - y, z' = x y - beta z, (sigma, rho, beta) = (10, 28, 8/3
/// rounded to a double, as in the file).
fn lorenz_f(y: &[f64], f: &mut [f64]) {
    let (sigma, rho, beta) = (10.0, 28.0, 2.6666666666666665);
    f[0] = sigma * (y[1] - y[0]);
    f[1] = y[0] * (rho - y[2]) - y[1];
    f[2] = y[0] * y[1] - beta * y[2];
}
fn lorenz_j(y: &[f64], j: &mut [f64]) {
    let (sigma, rho, beta) = (10.0, 28.0, 2.6666666666666665);
    j.copy_from_slice(&[-sigma, sigma, 0.0, rho - y[2], -1.0, -y[0], y[1], y[0], -beta]);
}

/// End time of Lorenz in the diagrams: 10 (docs/work-precision.md,
/// "Lorenz"): errors grow like e^(0.906 t), ~8.6e3 at t = 10, so a run at
/// rtol 1e-3 is still within ~0.1 of the reference while one at 1e-10 is
/// well above the double-precision floor; at t = 20 (growth 7e7) runs at
/// rtol 1e-4 land anywhere on the attractor.
pub const LORENZ_T_END: f64 = 10.0;

/// Lorenz at t = 10 from the file's initial state (1, 1, 1): a Taylor-series
/// integration in mpmath at 50 and 60 digits (benches/peers/lorenz_reference.py;
/// the two agree to 1e-48), rounded to doubles. The same values are in
/// benches/peers/work_precision.py.
pub const LORENZ_REFERENCE: [f64; 3] = [-4.90268754113464813, -3.7438729218029188727, 24.690858102790562894];

pub const PROBLEMS: [StiffProblem; 5] = [
    StiffProblem {
        name: "robertson",
        model_file: "robertson.toml",
        n: 3,
        t_end: 4.0e10,
        y0: &[1.0, 0.0, 0.0],
        rhs: rob_f,
        jacobian: rob_j,
        floor: 1e-10,
        check_factor: 100.0,
    },
    StiffProblem {
        name: "van-der-pol-scaled",
        model_file: "van-der-pol-scaled.toml",
        n: 2,
        t_end: 2.0,
        y0: &[2.0, 0.0],
        rhs: vdp_f,
        jacobian: vdp_j,
        floor: 1e-6,
        check_factor: 100.0,
    },
    StiffProblem {
        name: "hires",
        model_file: "hires.toml",
        n: 8,
        t_end: 321.8122,
        y0: &[1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0057],
        rhs: hires_f,
        jacobian: hires_j,
        floor: 1e-6,
        check_factor: 100.0,
    },
    StiffProblem {
        name: "oregonator",
        model_file: "oregonator.toml",
        n: 3,
        t_end: 360.0,
        y0: &[1.0, 2.0, 3.0],
        rhs: orego_f,
        jacobian: orego_j,
        floor: 1e-6,
        check_factor: 100.0,
    },
    StiffProblem {
        name: "lorenz",
        model_file: "lorenz.toml",
        n: 3,
        t_end: LORENZ_T_END,
        y0: &[1.0, 1.0, 1.0],
        rhs: lorenz_f,
        jacobian: lorenz_j,
        floor: 1.0,
        // e^(0.906 * 10), the error growth at the largest Lyapunov exponent.
        check_factor: 8.6e3,
    },
];

pub fn problem(name: &str) -> Option<&'static StiffProblem> {
    PROBLEMS.iter().find(|p| p.name == name)
}
