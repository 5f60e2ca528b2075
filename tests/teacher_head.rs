//! Model T with a head: the head ODE reduces to the head-free ODE at
//! `W_h = I` (independent implementations), and online SGD follows it.
use repcollapse::engine::VectorField;
use repcollapse::model::teacher::Student;
use repcollapse::model::teacher_config::TeacherConfig;
use repcollapse::study::teacher_head::HeadExperiment;
use repcollapse::theory::teacher_head::HeadOde;
use repcollapse::theory::teacher_ode::TeacherOde;

fn cfg(sets: &[&str]) -> TeacherConfig {
    TeacherConfig::from_sets(&sets.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
}

#[test]
fn head_ode_at_identity_head_reduces_to_head_free_ode() {
    for head in ["asymmetric", "symmetric"] {
        let h = format!("head=\"{head}\"");
        let c = cfg(&[&h, "label_noise=0.2", "teacher=\"argmax\"", "eta_x=0.7"]);
        let op = Student::initial(&c, 1).order_params();
        let d = c.dim;
        let eye: Vec<f64> = (0..d * d).map(|ij| if ij / d == ij % d { 1.0 } else { 0.0 }).collect();
        let ho = HeadOde::new(&c, &op, &eye).unwrap();
        let plain = TeacherOde::new(&c, vec![0.0; 2 * d * c.classes + d * (d + 1) / 2]).unwrap();
        let x0 = plain.pack(&op);
        let (mut f1, mut f2) = (vec![0.0; ho.dim()], vec![0.0; plain.dim()]);
        ho.rhs(&ho.initial, &ho.params, &mut f1);
        plain.rhs(&x0, &plain.default_params(), &mut f2);
        // Same layout for R, Y, Sigma; the head block follows.
        for i in 0..plain.dim() {
            assert!((f1[i] - f2[i]).abs() < 1e-12, "{head}: component {i}: {} vs {}", f1[i], f2[i]);
        }
    }
}

#[test]
fn sgd_with_head_follows_the_head_ode_and_keeps_labels_apart() {
    let c = cfg(&["head=\"symmetric\"", "label_noise=0.2", "input_dim=400", "t_max=40", "points=16", "seeds=3"]);
    let e = HeadExperiment::run(&c).unwrap();
    let last = e.runs[0].times.len() - 1;
    for k in 1..=last {
        let sim = e.metric_at(k, false, |m| m.base.min_label_distance).mean;
        let th = e.metric_at(k, true, |m| m.base.min_label_distance).mean;
        assert!((sim - th).abs() < 0.1 * th + 0.02, "t index {k}: {sim} vs {th}");
    }
    let sep0 = e.metric_at(1, true, |m| m.base.min_label_distance).mean;
    assert!(e.metric_at(last, true, |m| m.base.min_label_distance).mean > sep0, "no collapse with the symmetric head");
}
