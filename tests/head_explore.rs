use repcollapse::model::head::*;
use repcollapse::model::head_config::HeadConfig;
use repcollapse::model::frustration::FrustrationOperator;
#[test]
fn explore() {
    let c = HeadConfig::from_sets(&["variant=symmetric".into(), "pairing=ring".into(), "frustrated=0.3".into(), "rho=0.35".into(), "t_max=1000".into(), "dt=0.1".into(), "seed=4".into(), "points=6".into()]).unwrap();
    let a = c.base.label_weights().unwrap();
    println!("M {:?}", FrustrationOperator::new(&a).unwrap().spectrum);
    let run = simulate(&c, &a, 4).unwrap();
    for m in &run.metrics { println!("t {:.1} sep {:.4} spec {:?}", m.base.t, m.base.min_label_distance, m.head_spectrum); }
    let st = &run.last; let d = 6; let k = 4;
    let q = label_subspace(&st.y, k, d);
    let r = q.len()/d;
    let w2: Vec<f64> = (0..d*d).map(|i| (0..d).map(|m| st.w[(i/d)*d+m]*st.w[m*d+i%d]).sum()).collect();
    println!("W^2 label spectrum {:?}", repcollapse::model::head::head_label_spectrum(&w2, &st.y, k, d));
    let mut res = 0.0;
    for b in 0..r { let wq: Vec<f64> = (0..d).map(|j| (0..d).map(|l| st.w[j*d+l]*q[b*d+l]).sum()).collect();
        let mut proj = wq.clone(); for a2 in 0..r { let p: f64 = (0..d).map(|j| q[a2*d+j]*wq[j]).sum(); for j in 0..d { proj[j] -= p*q[a2*d+j]; } }
        res += proj.iter().map(|v| v*v).sum::<f64>(); }
    println!("invariance residual {}", res.sqrt());
    println!("y {:?}", st.y);
}
