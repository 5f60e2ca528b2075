//! Cycles of the fast Morris-Lecar model (examples/models/morris-lecar.toml,
//! the MatCont manual's MLfast) born at its subcritical Hopf point
//! y = 0.0756588: the branch turns at a fold of cycles (LPC) near
//! y = 0.0845695 (period 4.22) and then runs to a homoclinic orbit at
//! y = 0.07293070, the period growing without bound at nearly constant y.
//!
//! On the way to the homoclinic orbit, with the `analyze periodic` defaults
//! (40 mesh intervals), the computed monodromy loses its trivial multiplier
//! (at period ~45 it is 0.59 instead of 1, at ~48 it is negative) and the
//! parameter component of the tangent shrinks to ~1e-12, so both change sign
//! at random. That once gave a "located" second LPC whose multiplier test
//! was -3.8 and a PD point, impossible in a planar system (the non-trivial
//! multiplier is `exp(int div f) > 0`). Such crossings are now reported with
//! `located = false` and a note (`engine::cycles::branch::confirm`).
use repcollapse::engine::{continue_cycles_from_hopf, full_diagram, BifurcationKind, CycleBifurcationKind, CycleBranch, CycleContinuationParams, ContinuationParams};
use repcollapse::engine::VectorField;
use repcollapse::symbolic::SymbolicModel;

fn branch(ntst: usize) -> CycleBranch {
    let m = SymbolicModel::from_path(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/models/morris-lecar.toml")).unwrap();
    let mut p = m.default_params();
    p[0] = -0.1;
    let d = full_diagram(&m, &p, &ContinuationParams::new(0, -0.1, 0.2)).unwrap();
    let h = d.bifurcations.iter().find(|b| b.kind == BifurcationKind::Hopf).expect("Hopf point");
    p[0] = h.param;
    // The CLI's defaults for `--from -0.1 --to 0.2` (ds 0.02, ds_max 0.5, 200 steps).
    let mut cp = CycleContinuationParams::new(0, -0.1, 0.2);
    cp.orbit.ntst = ntst;
    continue_cycles_from_hopf(&m, &h.state, &p, h.frequency.unwrap(), &cp).unwrap()
}

#[test]
fn morris_lecar_fold_of_cycles_is_located_and_homoclinic_noise_is_flagged() {
    let br = branch(40);
    let last = br.points.last().unwrap();
    assert!(last.period > 90.0 && (last.param - 0.0729307).abs() < 1e-6, "the branch should run to the homoclinic orbit: y {} T {}", last.param, last.period);
    for b in &br.bifurcations {
        eprintln!("ML ntst 40: {:?} at y = {:.12}, T = {:.4}, located {}, {:?}", b.kind, b.point.param, b.point.period, b.located, b.note);
    }
    let located: Vec<_> = br.bifurcations.iter().filter(|b| b.located).collect();
    assert_eq!(located.len(), 1, "only the fold is a located special point");
    let lpc = located[0];
    assert_eq!(lpc.kind, CycleBifurcationKind::Lpc);
    assert!((lpc.point.param - 0.0845695).abs() < 1e-7 && (lpc.point.period - 4.2220).abs() < 1e-4, "LPC at y = {}, T = {}", lpc.point.param, lpc.point.period);
    // At a fold of cycles a non-trivial multiplier is 1 (observed |mu - 1| = 2e-11).
    assert!(lpc.point.multipliers.fold_test().unwrap().abs() < 1e-6);
    // The crossings near the homoclinic orbit are reported, not located: the
    // PD (impossible in the plane) and the second LPC (multiplier test -3.8).
    let flagged: Vec<_> = br.bifurcations.iter().filter(|b| !b.located).collect();
    assert!(flagged.iter().any(|b| b.kind == CycleBifurcationKind::Pd), "the spurious PD is not reported");
    assert!(flagged.iter().any(|b| b.kind == CycleBifurcationKind::Lpc && b.point.multipliers.fold_test().unwrap().abs() > 1.0), "the false LPC is not reported");
    for b in &flagged {
        assert!(b.point.period > 40.0, "flagged away from the homoclinic end: {:?} T = {}", b.kind, b.point.period);
        let note = b.note.as_deref().expect("a flagged point says why");
        assert!(note.contains("inaccurate") || note.contains("did not converge") || note.contains("not a fold"), "{note}");
    }
    let json = br.to_json(&["v".to_string(), "w".to_string()]);
    let bifs = json["bifurcations"].as_array().unwrap();
    assert_eq!(bifs.iter().filter(|b| b["located"] == true).count(), 1);
    assert!(bifs.iter().filter(|b| b["located"] == false).all(|b| b["located_note"].is_string()));
    let mut csv = Vec::new();
    br.write_csv(&mut csv, &["v".to_string(), "w".to_string()]).unwrap();
    let csv = String::from_utf8(csv).unwrap();
    assert_eq!(csv.lines().filter(|l| l.starts_with("lpc,")).count(), 1);
    assert!(csv.lines().any(|l| l.starts_with("pd-unconfirmed,")));

    // The cause is the mesh: with 160 intervals the trivial multiplier stays
    // within 1e-3 of 1 up to period ~55, and no crossing is found on the
    // way to period 100; the fold is the same to 1e-11.
    let fine = branch(160);
    assert!(fine.points.last().unwrap().period > 90.0);
    assert_eq!(fine.bifurcations.len(), 1, "{:?}", fine.bifurcations.iter().map(|b| (b.kind, b.point.param, b.located)).collect::<Vec<_>>());
    assert!(fine.bifurcations[0].located && (fine.bifurcations[0].point.param - lpc.point.param).abs() < 1e-11);
}
