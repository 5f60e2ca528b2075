//! Scratch: Model H symmetric attractor from microscopic GD.
use faer::Mat;
use rayon::prelude::*;
use repcollapse::engine::spectrum::jacobian_eigenvalues;
use repcollapse::engine::VectorField;
use repcollapse::model::frustration::FrustrationOperator;
use repcollapse::model::head::{simulate, HeadRates, square, label_subspace};
use repcollapse::model::head_config::HeadConfig;
use repcollapse::theory::head_class_level::HeadClassLevel;

fn matmul(a: &[f64], b: &[f64], n: usize, k: usize, m: usize) -> Vec<f64> {
    (0..n * m).map(|ij| (0..k).map(|l| a[(ij / m) * k + l] * b[l * m + ij % m]).sum()).collect()
}

fn main() {
    let sets: Vec<String> = std::env::args().skip(1).collect();
    let cfg = HeadConfig::from_sets(&sets).unwrap();
    let a = cfg.base.label_weights().unwrap();
    let fo = FrustrationOperator::new(&a).unwrap();
    let (k, d) = (a.classes(), cfg.base.dim);
    let mm: Vec<f64> = fo.matrix.iter().flatten().copied().collect();
    println!("M spectrum {:?}", fo.spectrum);
    let rates = HeadRates::from_config(&cfg);
    let out: Vec<String> = (0..cfg.base.seeds as u64).into_par_iter().map(|s| {
        let run = simulate(&cfg, &a, s).unwrap();
        let st = &run.last;
        let (y, w) = (&st.y, &st.w);
        let w2 = square(w, d);
        // centroid
        let c: Vec<f64> = (0..d).map(|j| (0..k).map(|cl| y[cl * d + j]).sum::<f64>() / k as f64).collect();
        let cn = c.iter().map(|v| v * v).sum::<f64>().sqrt();
        let ys = (0..k * d).map(|i| (y[i] - c[i % d]).powi(2)).sum::<f64>().sqrt();
        let w2c: Vec<f64> = (0..d).map(|i| (0..d).map(|j| w2[i * d + j] * c[j]).sum()).collect();
        let res_c = w2c.iter().zip(&c).map(|(u, v)| (u - v).powi(2)).sum::<f64>().sqrt() / cn.max(1e-300);
        let wc = (0..d).map(|i| c[i] * (0..d).map(|j| w[i * d + j] * c[j]).sum::<f64>()).sum::<f64>() / (cn * cn).max(1e-300);
        // W^2 Y^T - Y^T M^T
        let yt: Vec<f64> = (0..d * k).map(|ij| y[(ij % k) * d + ij / k]).collect();
        let mt: Vec<f64> = (0..k * k).map(|ij| mm[(ij % k) * k + ij / k]).collect();
        let lhs = matmul(&w2, &yt, d, d, k);
        let rhs = matmul(&yt, &mt, d, k, k);
        let fp_res = lhs.iter().zip(&rhs).map(|(u, v)| (u - v).powi(2)).sum::<f64>().sqrt() / rhs.iter().map(|v| v * v).sum::<f64>().sqrt();
        // constraint map L(dY, dW) = dW W Y^T + W dW Y^T + W^2 dY^T - dY^T M^T: rank
        let nu = k * d + d * d;
        let mut l = Mat::<f64>::zeros(d * k, nu);
        for col in 0..nu {
            let mut dyt = vec![0.0; d * k];
            let mut dw = vec![0.0; d * d];
            if col < k * d { dyt[col] = 1.0 } else { dw[col - k * d] = 1.0 }
            let t1 = matmul(&matmul(&dw, w, d, d, d), &yt, d, d, k);
            let t2 = matmul(&matmul(w, &dw, d, d, d), &yt, d, d, k);
            let t3 = matmul(&w2, &dyt, d, d, k);
            let t4 = matmul(&dyt, &mt, d, k, k);
            for r in 0..d * k { l[(r, col)] = t1[r] + t2[r] + t3[r] - t4[r]; }
        }
        let sv = l.svd().unwrap();
        let svals = sv.S().column_vector();
        let smax = (0..svals.nrows()).map(|i| svals[i]).fold(0.0, f64::max);
        let rank = (0..svals.nrows()).filter(|&i| svals[i] > 1e-8 * smax).count();
        let fam = nu - rank;
        // class-level Jacobian
        let sys = HeadClassLevel::new(&a, rates, d).unwrap();
        let z = sys.project(st);
        let mut fz = vec![0.0; z.len()];
        sys.rhs(&z, &sys.default_params(), &mut fz);
        let ev = jacobian_eigenvalues(&sys, &z, &sys.default_params()).unwrap();
        let scale = ev.iter().map(|e| e.re.hypot(e.im)).fold(0.0, f64::max);
        let mut mags: Vec<f64> = ev.iter().map(|e| e.re.hypot(e.im)).collect();
        mags.sort_by(|a, b| a.total_cmp(b));
        let zero = ev.iter().filter(|e| e.re.hypot(e.im) < 1e-6 * scale).count();
        let maxre = ev.iter().filter(|e| e.re.hypot(e.im) >= 1e-6 * scale).map(|e| e.re).fold(f64::NEG_INFINITY, f64::max);
        let q = label_subspace(y, k, d);
        let nq = q.len() / d;
        let comp = |m: &[f64]| -> Vec<f64> { let mut v = Vec::new(); let mq: Vec<Vec<f64>> = (0..nq).map(|b| (0..d).map(|i| (0..d).map(|j| m[i*d+j]*q[b*d+j]).sum()).collect()).collect(); let cm = Mat::from_fn(nq, nq, |a_, b| (0..d).map(|i| q[a_*d+i]*mq[b][i]).sum::<f64>()); let e = repcollapse::engine::spectrum::sorted_eigenvalues(&cm).unwrap(); for z in e { v.push((z.re*1e4).round()/1e4) } v };
        format!("seed {s}: |c|/|Ycentred|={:.3e} |W2c-c|/|c|={res_c:.2e} c'Wc={wc:.3} fp_res={fp_res:.1e} |F|={:.1e} family_dim={fam} zero_eigs={zero} (dim {}) next |ev|: {:.2e},{:.2e} max Re nonzero={maxre:.4} W2 spec on centred span {:?} W spec {:?}",
            cn / ys, fz.iter().map(|v| v*v).sum::<f64>().sqrt(), z.len(), mags[zero.saturating_sub(1)], mags[zero], comp(&w2), comp(w))
    }).collect();
    for l in out { println!("{l}"); }
}
