//! `repcollapse theory head` / `simulate head`: documented JSON keys,
//! agreement of the reported numbers with independent closed forms, and
//! errors for invalid variants and parameters.

use crate::support::bin::{json, run as repcollapse};

#[test]
fn theory_head_reports_spectrum_fixed_points_and_fold() {
    // Balanced K = 3, f = 0.3, rho = 0.5: phi = 2 f rho (1-rho) K/(K-1) = 0.225.
    let v = json(&["theory", "head", "--set", "variant=symmetric", "--set", "classes=3", "--set", "frustrated=0.3", "--json"]);
    let phi = 0.225;
    assert!((v["frustration_index"].as_f64().unwrap() - phi).abs() < 1e-12);
    for e in v["head_spectrum"].as_array().unwrap() {
        assert!((e.as_f64().unwrap() - (1.0f64 - phi).sqrt()).abs() < 1e-12);
    }
    let fps = v["fixed_points"].as_array().unwrap();
    assert!(fps.iter().all(|fp| fp.get("stability").is_some() && fp.get("zero_modes").is_some()));
    assert!(fps.iter().any(|fp| fp["kind"].as_str().unwrap().starts_with("non-collapsed") && (fp["stability"] == "stable-node" || fp["stability"] == "stable-focus")));
    assert!(v["critical_frustration"].is_null());
    // Weight decay 0.1: f_c = (1 - 4 lambda)(K-1)/(2 K rho (1-rho)) = 0.8.
    let v = json(&["theory", "head", "--set", "variant=symmetric", "--set", "classes=3", "--set", "weight_decay=0.1", "--json"]);
    assert!((v["critical_frustration"].as_f64().unwrap() - 0.8).abs() < 1e-9, "{}", v["critical_frustration"]);
    let v = json(&["theory", "head", "--set", "variant=head", "--set", "frustrated=0.2", "--json"]);
    assert_eq!(v["head_spectrum"].as_array().unwrap().len(), 0);
    assert_eq!(v["collapses"], true);
}

#[test]
fn simulate_head_reports_measured_spectrum_and_verdict() {
    let v = json(&["simulate", "head", "--set", "variant=asymmetric", "--set", "frustrated=0.2", "--set", "seeds=2", "--set", "t_max=200", "--set", "dt=0.05", "--json"]);
    // W = M on the label subspace: eigenvalue 1 - phi, phi = 2 * 0.2 * 0.25 * 4/3.
    let expect = 1.0 - 2.0 * 0.2 * 0.25 * 4.0 / 3.0;
    for e in v["head_spectrum"].as_array().unwrap() {
        assert!((e["mean"].as_f64().unwrap() - expect).abs() < 1e-6, "{e}");
    }
    for key in ["final_separation_to_spread", "final_accuracy", "collapsed"] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    assert_eq!(v["collapsed"], false);
    let v = json(&["simulate", "head", "--set", "variant=head", "--set", "frustrated=0.2", "--set", "seeds=2", "--set", "t_max=200", "--json"]);
    assert_eq!(v["collapsed"], true);
}

#[test]
fn invalid_variants_and_parameters_are_rejected() {
    for (sets, must) in [
        (vec!["variant=stopgrad"], vec!["`variant`", "stopgrad", "symmetric | asymmetric"]),
        (vec!["weight_decay=-0.1"], vec!["`weight_decay`", "-0.1", "[0, 1e100]"]),
        (vec!["eta_w=0"], vec!["`eta_w`", "(0, 1e100]"]),
        (vec!["eta_w=1e200"], vec!["`eta_w`", "1e200", "(0, 1e100]"]),
        (vec!["etaw=1"], vec!["unknown key `etaw`", "did you mean `eta_w`"]),
        (vec!["classes=5", "dim=3"], vec!["`dim`", ">= classes - 1 = 4"]),
    ] {
        let mut args = vec!["theory", "head"];
        for s in &sets {
            args.extend(["--set", s]);
        }
        let (code, _, err) = repcollapse(&args);
        assert_eq!(code, 2, "{sets:?}");
        for m in must {
            assert!(err.contains(m), "{sets:?}: {err:?} lacks {m:?}");
        }
    }
}
