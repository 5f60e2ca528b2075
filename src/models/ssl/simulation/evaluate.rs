//! The collapse indicators of one state (`docs/ssl.md`, "Collapse
//! indicators"), measured on the clean (unaugmented) images:
//!
//! * `output_std`: the per-dimension standard deviation over the training
//!   images of the l2-normalised representation `z / |z|`, averaged over the
//!   d dimensions (SimSiam's indicator: `1/sqrt(d)` for isotropic outputs, 0
//!   when every image maps to one direction);
//! * `effective_rank`: `exp(-sum_k q_k ln q_k)`, `q_k = s_k / sum s`, over the
//!   singular values `s_k` of the N x d matrix of training `z` (RankMe);
//! * `knn_accuracy`, `probe_accuracy`: the encoder output `x` of the held-out
//!   images classified by its `k` nearest training images (cosine
//!   similarity, majority vote) and by a ridge-regularised linear probe
//!   fitted to the training images' one-hot classes;
//! * for the linear predictor, the DirectPred diagnostics against
//!   `F = (1/N) sum_i z_i z_i^T`: F's eigenvalues `lambda_k` and
//!   eigenvectors `u_k`, the predictor in that basis (`u_k^T W_p u_k`), the
//!   eigenvalues of `(W_p + W_p^T)/2`, the mean alignment
//!   `|cos(u_k, W_p u_k)|`, the off-diagonal fraction
//!   `||offdiag(U^T W_p U)|| / ||W_p||`, and the relation residual
//!   `||W_p^2 - c F|| / ||W_p^2||` at the best `c = <W_p^2, F> / <F, F>`.
use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, MatRef, Par, Side};
use serde::Serialize;

use super::kernels::{net_forward, NORM_EPS};
use super::prepare::Prepared;
use super::state::State;
use crate::error::{Error, Result};

/// The DirectPred diagnostics of a linear predictor (eigen-quantities in
/// descending order of F's eigenvalues).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct PredictorDiagnostics {
    pub f_eigenvalues: Vec<f64>,
    /// `u_k^T W_p u_k`.
    pub predictor_in_f_basis: Vec<f64>,
    /// Eigenvalues of the symmetric part of `W_p`, descending.
    pub predictor_eigenvalues: Vec<f64>,
    pub alignment: f64,
    pub offdiag_fraction: f64,
    pub directpred_residual: f64,
    pub directpred_c: f64,
}

/// Indicators after one epoch.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Record {
    pub epoch: usize,
    /// Mean batch loss over the epoch's steps (None before training).
    pub loss: Option<f64>,
    pub output_std: f64,
    pub effective_rank: f64,
    pub knn_accuracy: f64,
    pub probe_accuracy: f64,
    /// Largest eigenvalue of F (the representation's scale).
    pub f_top: f64,
    pub predictor: Option<PredictorDiagnostics>,
}

/// Symmetric eigen-decomposition, eigenvalues descending.
pub fn eigen_desc(m: MatRef<'_, f64>, what: &str) -> Result<(Vec<f64>, Mat<f64>)> {
    let n = m.nrows();
    let eig = m.self_adjoint_eigen(Side::Lower).map_err(|e| Error::numerical(what.to_string(), format!("{e:?}")))?;
    let s = eig.S().column_vector();
    let mut idx: Vec<usize> = (0..n).collect();
    idx.sort_by(|&a, &b| s[b].total_cmp(&s[a]));
    let u = eig.U();
    Ok((idx.iter().map(|&k| s[k]).collect(), Mat::from_fn(n, n, |i, j| u[(i, idx[j])])))
}

/// Every indicator of `st` at `epoch`.
pub fn measure(epoch: usize, loss: Option<f64>, st: &State, prep: &Prepared, knn_k: usize) -> Result<Record> {
    let (n, nt, d) = (prep.samples(), prep.xi_test.nrows(), st.online.encoder.dim);
    let rows = n.max(nt);
    let mut buf = st.online.encoder.buffers(rows);
    let (mut x, mut z) = (Mat::<f64>::zeros(n, d), Mat::<f64>::zeros(n, d));
    net_forward(&st.online, prep.xi.as_ref(), x.as_mut(), z.as_mut(), &mut buf);
    let (mut xt, mut zt) = (Mat::<f64>::zeros(nt, d), Mat::<f64>::zeros(nt, d));
    net_forward(&st.online, prep.xi_test.as_ref(), xt.as_mut(), zt.as_mut(), &mut buf);
    // Normalised-output std.
    let norms: Vec<f64> = (0..n).map(|i| (0..d).map(|j| z[(i, j)] * z[(i, j)]).sum::<f64>().sqrt().max(NORM_EPS)).collect();
    let output_std = (0..d)
        .map(|j| {
            let m = (0..n).map(|i| z[(i, j)] / norms[i]).sum::<f64>() / n as f64;
            ((0..n).map(|i| (z[(i, j)] / norms[i] - m).powi(2)).sum::<f64>() / n as f64).sqrt()
        })
        .sum::<f64>()
        / d as f64;
    // F and the effective rank.
    let mut f = Mat::<f64>::zeros(d, d);
    matmul(f.as_mut(), Accum::Replace, z.transpose(), z.as_ref(), 1.0 / n as f64, Par::Seq);
    let (lam, u) = eigen_desc(f.as_ref(), "ssl: eigenvalues of F")?;
    let sv: Vec<f64> = lam.iter().map(|l| (l.max(0.0) * n as f64).sqrt()).collect();
    let total: f64 = sv.iter().sum();
    let effective_rank = if total > 0.0 { (-sv.iter().filter(|s| **s > 0.0).map(|s| (s / total) * (s / total).ln()).sum::<f64>()).exp() } else { 0.0 };
    let predictor = if st.predictor.wa.nrows() > 0 && !st.predictor.is_mlp() { Some(predictor_diagnostics(st.predictor.wa.as_ref(), f.as_ref(), &lam, u.as_ref())?) } else { None };
    Ok(Record {
        epoch,
        loss,
        output_std,
        effective_rank,
        knn_accuracy: knn_accuracy(x.as_ref(), &prep.train_labels, xt.as_ref(), &prep.test_labels, prep.classes, knn_k),
        probe_accuracy: probe_accuracy(x.as_ref(), &prep.train_labels, xt.as_ref(), &prep.test_labels, prep.classes)?,
        f_top: lam[0],
        predictor,
    })
}

fn predictor_diagnostics(w: MatRef<'_, f64>, f: MatRef<'_, f64>, lam: &[f64], u: MatRef<'_, f64>) -> Result<PredictorDiagnostics> {
    let d = w.nrows();
    let mut wu = Mat::<f64>::zeros(d, d);
    matmul(wu.as_mut(), Accum::Replace, w, u, 1.0, Par::Seq);
    let mut b = Mat::<f64>::zeros(d, d);
    matmul(b.as_mut(), Accum::Replace, u.transpose(), wu.as_ref(), 1.0, Par::Seq);
    let wn = w.norm_l2();
    let diag: Vec<f64> = (0..d).map(|k| b[(k, k)]).collect();
    let off = (0..d).flat_map(|i| (0..d).map(move |j| (i, j))).filter(|(i, j)| i != j).map(|(i, j)| b[(i, j)].powi(2)).sum::<f64>().sqrt();
    let alignment = (0..d)
        .map(|k| {
            let nk = (0..d).map(|i| wu[(i, k)].powi(2)).sum::<f64>().sqrt();
            if nk > 0.0 { diag[k].abs() / nk } else { 0.0 }
        })
        .sum::<f64>()
        / d as f64;
    let sym = Mat::<f64>::from_fn(d, d, |i, j| 0.5 * (w[(i, j)] + w[(j, i)]));
    let (pe, _) = eigen_desc(sym.as_ref(), "ssl: predictor eigenvalues")?;
    let mut w2 = Mat::<f64>::zeros(d, d);
    matmul(w2.as_mut(), Accum::Replace, w, w, 1.0, Par::Seq);
    let ff: f64 = lam.iter().map(|l| l * l).sum();
    let wf: f64 = (0..d).flat_map(|i| (0..d).map(move |j| (i, j))).map(|(i, j)| w2[(i, j)] * f[(i, j)]).sum();
    let c = if ff > 0.0 { wf / ff } else { 0.0 };
    let w2n = w2.norm_l2();
    let res = Mat::<f64>::from_fn(d, d, |i, j| w2[(i, j)] - c * f[(i, j)]).norm_l2();
    Ok(PredictorDiagnostics {
        f_eigenvalues: lam.to_vec(),
        predictor_in_f_basis: diag,
        predictor_eigenvalues: pe,
        alignment,
        offdiag_fraction: if wn > 0.0 { off / wn } else { 0.0 },
        directpred_residual: if w2n > 0.0 { res / w2n } else { f64::NAN },
        directpred_c: c,
    })
}

fn unit_rows(x: MatRef<'_, f64>) -> Vec<Vec<f64>> {
    (0..x.nrows())
        .map(|i| {
            let n = (0..x.ncols()).map(|j| x[(i, j)] * x[(i, j)]).sum::<f64>().sqrt().max(NORM_EPS);
            (0..x.ncols()).map(|j| x[(i, j)] / n).collect()
        })
        .collect()
}

/// Held-out accuracy of the `k`-nearest-neighbour vote (cosine similarity;
/// a tie goes to the tied class whose nearest member is nearest).
pub fn knn_accuracy(x: MatRef<'_, f64>, labels: &[usize], xt: MatRef<'_, f64>, test_labels: &[usize], classes: usize, k: usize) -> f64 {
    let (tr, te) = (unit_rows(x), unit_rows(xt));
    let k = k.min(tr.len());
    let mut ok = 0usize;
    let mut sims: Vec<(f64, usize)> = Vec::with_capacity(tr.len());
    for (q, &truth) in te.iter().zip(test_labels) {
        sims.clear();
        sims.extend(tr.iter().enumerate().map(|(i, r)| (r.iter().zip(q).map(|(a, b)| a * b).sum::<f64>(), i)));
        sims.select_nth_unstable_by(k - 1, |a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let top = &mut sims[..k];
        top.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let mut count = vec![0usize; classes];
        for &(_, i) in top.iter() {
            count[labels[i]] += 1;
        }
        let best = *count.iter().max().expect("classes");
        let vote = top.iter().map(|&(_, i)| labels[i]).find(|&c| count[c] == best).expect("a neighbour");
        ok += usize::from(vote == truth);
    }
    ok as f64 / te.len().max(1) as f64
}

/// Held-out accuracy of a ridge linear probe `[x, 1] -> one-hot class`
/// (ridge `1e-4` of the mean diagonal of the Gram matrix; argmax decision).
pub fn probe_accuracy(x: MatRef<'_, f64>, labels: &[usize], xt: MatRef<'_, f64>, test_labels: &[usize], classes: usize) -> Result<f64> {
    let (n, d) = (x.nrows(), x.ncols());
    let xa = Mat::<f64>::from_fn(n, d + 1, |i, j| if j < d { x[(i, j)] } else { 1.0 });
    let mut g = Mat::<f64>::zeros(d + 1, d + 1);
    matmul(g.as_mut(), Accum::Replace, xa.transpose(), xa.as_ref(), 1.0, Par::Seq);
    let ridge = 1e-4 * (0..=d).map(|k| g[(k, k)]).sum::<f64>() / (d + 1) as f64 + 1e-12;
    let (s, u) = eigen_desc(g.as_ref(), "ssl: linear probe")?;
    let y = Mat::<f64>::from_fn(n, classes, |i, c| f64::from(u8::from(labels[i] == c)));
    let mut xty = Mat::<f64>::zeros(d + 1, classes);
    matmul(xty.as_mut(), Accum::Replace, xa.transpose(), y.as_ref(), 1.0, Par::Seq);
    let mut uty = Mat::<f64>::zeros(d + 1, classes);
    matmul(uty.as_mut(), Accum::Replace, u.transpose(), xty.as_ref(), 1.0, Par::Seq);
    for k in 0..=d {
        let inv = 1.0 / (s[k].max(0.0) + ridge);
        for c in 0..classes {
            uty[(k, c)] *= inv;
        }
    }
    let mut beta = Mat::<f64>::zeros(d + 1, classes);
    matmul(beta.as_mut(), Accum::Replace, u.as_ref(), uty.as_ref(), 1.0, Par::Seq);
    let mut ok = 0usize;
    for (i, &truth) in test_labels.iter().enumerate() {
        let score = |c: usize| (0..d).map(|j| xt[(i, j)] * beta[(j, c)]).sum::<f64>() + beta[(d, c)];
        let pred = (0..classes).max_by(|&a, &b| score(a).total_cmp(&score(b)).then(b.cmp(&a))).expect("classes");
        ok += usize::from(pred == truth);
    }
    Ok(ok as f64 / test_labels.len().max(1) as f64)
}
