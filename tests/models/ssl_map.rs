//! SSL collapse map (study s3): the augmentation-frustration estimator
//! against a brute-force computation, and the sharded sweep of the map
//! merging to the bytes of the unsharded run.
use std::collections::BTreeMap;
use std::path::Path;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use repcollapse::models::ssl::frustration::{operator_of, view_soft_labels};

/// Brute force for two classes: every view's nearest view of another image
/// from the full sorted distance list; `A^T A` as the average over ordered
/// pairs of distinct views of the same image of the product of their
/// neighbours' class indicators; `M = diag(m)^-1 A^T A` and, for K = 2,
/// `mu_1 = 1`, `mu_2 = tr M - 1`, so `phi = 2 - M_00 - M_11`.
fn brute_force(views: &[Vec<f64>], labels: &[usize], r: usize) -> (Vec<[f64; 2]>, f64) {
    let n = labels.len();
    let neighbour_class = |v: usize| -> usize {
        let mut all: Vec<(f64, usize)> = (0..views.len())
            .filter(|u| u / r != v / r)
            .map(|u| (views[v].iter().zip(&views[u]).map(|(a, b)| (a - b).powi(2)).sum::<f64>(), u))
            .collect();
        all.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        labels[all[0].1 / r]
    };
    let classes: Vec<usize> = (0..views.len()).map(neighbour_class).collect();
    let a: Vec<[f64; 2]> = (0..n).map(|i| {
        let mut row = [0.0; 2];
        for v in i * r..(i + 1) * r {
            row[classes[v]] += 1.0 / r as f64;
        }
        row
    }).collect();
    let mut ata = [[0.0; 2]; 2];
    for i in 0..n {
        for v in i * r..(i + 1) * r {
            for w in (i * r..(i + 1) * r).filter(|w| *w != v) {
                ata[classes[v]][classes[w]] += 1.0 / (r * (r - 1)) as f64;
            }
        }
    }
    let m = [a.iter().map(|x| x[0]).sum::<f64>(), a.iter().map(|x| x[1]).sum::<f64>()];
    (a, 2.0 - ata[0][0] / m[0] - ata[1][1] / m[1])
}

#[test]
fn frustration_estimator_matches_brute_force() {
    let mut checked = 0;
    for seed in 0..20u64 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let (n, r, d) = (7, 3, 2);
        let labels: Vec<usize> = (0..n).map(|i| i % 2).collect();
        // Two overlapping clouds: views of class c around (c, 0), spread 0.8.
        let views: Vec<Vec<f64>> = (0..n * r).map(|v| (0..d).map(|j| if j == 0 { labels[v / r] as f64 } else { 0.0 } + 0.8 * rng.random_range(-1.0..1.0)).collect()).collect();
        let flat: Vec<f64> = views.iter().flatten().copied().collect();
        let a = view_soft_labels(&flat, &labels, 2, r, d);
        let (a_ref, phi_ref) = brute_force(&views, &labels, r);
        for i in 0..n {
            for c in 0..2 {
                assert!((a[i * 2 + c] - a_ref[i][c]).abs() < 1e-15, "seed {seed}: A[{i}][{c}] = {} vs {}", a[i * 2 + c], a_ref[i][c]);
            }
        }
        let Ok(op) = operator_of(&a, &labels, 2, r) else { continue };
        assert!((op.phi - phi_ref.max(0.0)).abs() < 1e-12, "seed {seed}: phi {} vs brute force {phi_ref}", op.phi);
        assert!((op.spectrum[0] - 1.0).abs() < 1e-12, "M_aug is row-stochastic: top eigenvalue {}", op.spectrum[0]);
        checked += usize::from(op.phi > 0.05);
    }
    assert!(checked >= 5, "only {checked} seeds had a frustrated operator: the test would not see a wrong off-diagonal");
}

#[test]
fn well_separated_views_have_no_frustration_and_one_view_is_refused() {
    // Two tight clusters far apart: every nearest view is of the own class.
    let labels = [0, 0, 1, 1];
    let views = [0.0, 0.01, 0.02, 0.03, 10.0, 10.01, 10.02, 10.03];
    let a = view_soft_labels(&views, &labels, 2, 2, 1);
    assert_eq!(a, vec![1.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 1.0]);
    let op = operator_of(&a, &labels, 2, 2).unwrap();
    assert!(op.phi.abs() < 1e-12 && op.wrong_neighbour == 0.0);
    let e = operator_of(&a, &labels, 2, 1).unwrap_err().to_string();
    assert!(e.contains("frustration_views"), "{e}");
}

/// A map of 2 frustration and 4 training cells, small enough for a test.
const MAP: &str = r#"
study = "ssl-collapse-map"
title = "ssl collapse map (test)"
strengths = [0.0, 1.0]
weight_decays = [0.05, 0.2]

[params]
train_samples = 60
shift = 0
mask_size = 0
contrast = 0.0
lr = 0.3
epochs = 2
seeds = 2
batch = 32
"#;

fn repcollapse(args: &[&str], threads: Option<usize>) {
    let mut c = crate::support::bin::command();
    c.args(args);
    if let Some(t) = threads {
        c.env("RAYON_NUM_THREADS", t.to_string());
    }
    let out = c.output().expect("binary runs");
    assert!(out.status.success(), "repcollapse {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
}

/// Every output file (relative path -> bytes), without the cell files.
fn tree(root: &Path, dir: &Path, acc: &mut BTreeMap<String, Vec<u8>>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            if p.file_name().unwrap() != "cells" {
                tree(root, &p, acc);
            }
        } else {
            acc.insert(p.strip_prefix(root).unwrap().display().to_string(), std::fs::read(&p).unwrap());
        }
    }
}

#[test]
fn sharded_map_merges_to_the_unsharded_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let study = tmp.path().join("map.toml");
    std::fs::write(&study, MAP).unwrap();
    let s = study.to_str().unwrap();
    let whole = tmp.path().join("whole");
    repcollapse(&["run", s, "--out", whole.to_str().unwrap(), "--quiet"], None);
    let parts = tmp.path().join("parts");
    let o = parts.to_str().unwrap();
    for i in 0..3 {
        repcollapse(&["run", s, "--out", o, "--quiet", "--shard", &format!("{i}/3")], Some(1));
    }
    repcollapse(&["merge", s, "--out", o, "--quiet"], None);
    let (mut a, mut b) = (BTreeMap::new(), BTreeMap::new());
    tree(&whole, &whole, &mut a);
    tree(&parts, &parts, &mut b);
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>(), "different file sets");
    for (k, v) in &a {
        assert!(v == &b[k], "{k} differs between the unsharded and the merged run");
    }
    assert_eq!(std::fs::read_dir(parts.join("map/cells")).unwrap().count(), 6, "2 frustration + 4 training cells");
    for f in ["map/summary.json", "map/ssl_collapse_map.csv", "map/ssl_collapse_map.png", "map/ssl_frustration.csv", "report.md"] {
        assert!(a.contains_key(f), "{f} missing from {:?}", a.keys().collect::<Vec<_>>());
    }
    let summary: serde_json::Value = serde_json::from_slice(&a["map/summary.json"]).unwrap();
    assert_eq!(summary["cells"], 4);
}
