//! Labelled data sets from CSV files (plain or gzip), standardisation and the
//! fixed train/held-out split.
//!
//! A file holds one sample per line: numeric feature columns and one label
//! column (integer or text). Blank lines and lines starting with `#` are
//! skipped; a first line with a non-numeric feature field is a header. Every
//! malformed entry is reported with the file, the 1-based line and column
//! and the offending text. The bundled UCI optical-digits set
//! (`data/digits.csv.gz`, 1797 x 64 + label, see `data/README.md`) is
//! compiled into the binary, so nothing is read from the network or even
//! from disk at run time.
use std::io::Read;
use std::path::Path;

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::error::{Error, Result};

/// The bundled digits file (gzip), embedded at compile time.
pub const DIGITS_GZ: &[u8] = include_bytes!("../../../data/digits.csv.gz");

/// Which column holds the label.
#[derive(Clone, Debug, PartialEq)]
pub enum LabelColumn {
    /// The last column (scikit-learn's layout).
    Last,
    /// The first column.
    First,
    /// A 0-based column index.
    Index(usize),
    /// A header name (requires a header line).
    Name(String),
}

impl LabelColumn {
    /// `last`, `first`, a 0-based index, or a header name.
    pub fn parse(s: &str) -> Self {
        match s {
            "last" | "" => LabelColumn::Last,
            "first" => LabelColumn::First,
            other => other.parse::<usize>().map(LabelColumn::Index).unwrap_or_else(|_| LabelColumn::Name(other.to_string())),
        }
    }
}

/// A labelled data set: `N` samples of `D` features (row-major) and class
/// indices `0..K` (`class_names[c]` is the label text of class `c`).
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    pub features: Vec<f64>,
    pub labels: Vec<usize>,
    pub dim: usize,
    pub class_names: Vec<String>,
    pub feature_names: Vec<String>,
    /// Where the data came from (file path or `bundled digits`).
    pub source: String,
}

impl Dataset {
    pub fn len(&self) -> usize {
        self.labels.len()
    }
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }
    pub fn classes(&self) -> usize {
        self.class_names.len()
    }
    pub fn row(&self, i: usize) -> &[f64] {
        &self.features[i * self.dim..(i + 1) * self.dim]
    }

    /// The bundled UCI optical digits (1797 x 64, 10 classes).
    pub fn digits() -> Result<Self> {
        let text = gunzip(DIGITS_GZ, Path::new("data/digits.csv.gz (bundled)"))?;
        parse_csv(&text, Path::new("data/digits.csv.gz (bundled)"), &LabelColumn::Last).map(|mut d| {
            d.source = "bundled UCI optical digits (data/digits.csv.gz)".into();
            d
        })
    }

    /// Reads a CSV file, gzip-compressed or plain (detected from the magic
    /// bytes, not the name).
    pub fn from_file(path: &Path, label: &LabelColumn) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| Error::Read { path: path.into(), reason: e.to_string() })?;
        let text = if bytes.starts_with(&[0x1f, 0x8b]) {
            gunzip(&bytes, path)?
        } else {
            String::from_utf8(bytes).map_err(|e| Error::Read { path: path.into(), reason: format!("not UTF-8 text ({e})") })?
        };
        parse_csv(&text, path, label)
    }

    /// The rows `idx` as a new data set (same classes).
    pub fn select(&self, idx: &[usize]) -> Self {
        let mut features = Vec::with_capacity(idx.len() * self.dim);
        for &i in idx {
            features.extend_from_slice(self.row(i));
        }
        Dataset { features, labels: idx.iter().map(|&i| self.labels[i]).collect(), ..self.clone() }
    }
}

fn gunzip(bytes: &[u8], path: &Path) -> Result<String> {
    let mut s = String::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_string(&mut s)
        .map_err(|e| Error::Read { path: path.into(), reason: format!("gzip stream: {e}") })?;
    Ok(s)
}

/// Parses CSV text (see the module doc); `path` names the file in errors.
pub fn parse_csv(text: &str, path: &Path, label: &LabelColumn) -> Result<Dataset> {
    let bad = |line: usize, col: usize, reason: String| Error::Read { path: path.into(), reason: format!("line {line}, column {col}: {reason}") };
    let mut header: Option<Vec<String>> = None;
    let mut label_col: Option<usize> = None;
    let mut width = 0usize;
    let mut features = Vec::new();
    let mut label_text: Vec<String> = Vec::new();
    for (idx, raw) in text.lines().enumerate() {
        let line_no = idx + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if width == 0 {
            width = fields.len();
            if width < 2 {
                return Err(bad(line_no, 1, format!("{width} column(s); need at least one feature and a label")));
            }
            let lc = match label {
                LabelColumn::Last => width - 1,
                LabelColumn::First => 0,
                LabelColumn::Index(i) if *i < width => *i,
                LabelColumn::Index(i) => {
                    return Err(Error::invalid("label_column", i, format!("a column index in [0, {}] (the file has {width} columns)", width - 1)))
                }
                LabelColumn::Name(_) => usize::MAX,
            };
            let named = matches!(label, LabelColumn::Name(_));
            let is_header = fields.iter().enumerate().any(|(c, f)| (named || c != lc) && f.parse::<f64>().is_err());
            if named && !is_header {
                return Err(bad(line_no, 1, "label column given by name but the first line is not a header".into()));
            }
            if is_header {
                let names: Vec<String> = fields.iter().map(|s| s.to_string()).collect();
                let lc = match label {
                    LabelColumn::Name(n) => names.iter().position(|h| h == n).ok_or_else(|| {
                        Error::invalid("label_column", format!("\"{n}\""), format!("a header name of `{}`: {}", path.display(), names.join(", ")))
                    })?,
                    _ => lc,
                };
                label_col = Some(lc);
                header = Some(names);
                continue;
            }
            label_col = Some(lc);
        }
        let lc = label_col.expect("set with the first line");
        if fields.len() != width {
            return Err(bad(line_no, fields.len().min(width) + 1, format!("{} columns, expected {width} (as in the first line)", fields.len())));
        }
        for (c, f) in fields.iter().enumerate() {
            if c == lc {
                if f.is_empty() {
                    return Err(bad(line_no, c + 1, "empty label".into()));
                }
                label_text.push(f.to_string());
            } else {
                let v: f64 = f.parse().map_err(|_| bad(line_no, c + 1, format!("`{f}` is not a number")))?;
                if !v.is_finite() {
                    return Err(bad(line_no, c + 1, format!("`{f}` is not finite")));
                }
                features.push(v);
            }
        }
    }
    if label_text.is_empty() {
        return Err(Error::Read { path: path.into(), reason: "no data rows".into() });
    }
    let lc = label_col.expect("data rows seen");
    // Classes: integer labels in numeric order, otherwise text order.
    let mut names: Vec<String> = label_text.clone();
    names.sort_by(|a, b| match (a.parse::<i64>(), b.parse::<i64>()) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        _ => a.cmp(b),
    });
    names.dedup();
    if names.len() < 2 {
        return Err(Error::Read { path: path.into(), reason: format!("only {} distinct label(s) in column {}; need at least 2 classes", names.len(), lc + 1) });
    }
    let labels = label_text.iter().map(|l| names.iter().position(|n| n == l).expect("listed")).collect();
    let feature_names = match header {
        Some(h) => h.into_iter().enumerate().filter(|(c, _)| *c != lc).map(|(_, s)| s).collect(),
        None => (0..width).filter(|c| *c != lc).map(|c| format!("f{c}")).collect(),
    };
    Ok(Dataset { features, labels, dim: width - 1, class_names: names, feature_names, source: path.display().to_string() })
}

/// A fixed train / held-out split of a data set, standardised (optionally
/// whitened) with the training statistics.
#[derive(Clone, Debug)]
pub struct Split {
    pub train: Dataset,
    pub test: Dataset,
    /// Number of features with zero training variance (set to 0).
    pub constant_features: usize,
    /// Whether the features were whitened (then `dim` is the rank).
    pub whitened: bool,
    /// Features that vary on the training set, `D - constant_features`: the
    /// input dimension in `alpha = N / D` (the rank of the standardised
    /// inputs is at most this, and at most `N - 1` after centring).
    pub informative_features: usize,
}

/// Splits `data` by a permutation drawn from `split_seed` (independent of the
/// training seeds, so every run of a study sees the same split): the first
/// `round(test_fraction N)` permuted samples are held out; the training set
/// is all remaining samples (`train_samples = 0`) or a class-balanced
/// subsample of them. Features are
/// standardised, `(v - mean) / std` with the training mean and std; a
/// feature constant on the training set is set to 0 (it carries nothing).
///
/// With `whiten`, the standardised features are further rotated onto the
/// principal axes of the training covariance `C = Xi^T Xi / N` and scaled to
/// unit variance, `xi -> Lambda^{-1/2} U^T xi` over the eigenvalues above
/// `1e-10` of the largest (so `dim` becomes the rank). This is a linear,
/// invertible change of input coordinates on the data's span: a linear
/// encoder can represent exactly the same maps and the least-squares hat
/// matrix `Pi` (hence every frustration operator) is unchanged; only the
/// encoder's gradient-descent time scales change (all equal to
/// `eta_x N / D`: preconditioned gradient descent).
pub fn split(data: &Dataset, test_fraction: f64, train_samples: usize, split_seed: u64, whiten: bool) -> Result<Split> {
    if !(0.0..1.0).contains(&test_fraction) {
        return Err(Error::invalid("test_fraction", test_fraction, "[0, 1)"));
    }
    let n = data.len();
    let mut perm: Vec<usize> = (0..n).collect();
    perm.shuffle(&mut ChaCha8Rng::seed_from_u64(split_seed ^ 0x5_9117));
    let n_test = (test_fraction * n as f64).round() as usize;
    let available = n - n_test;
    let n_train = if train_samples == 0 { available } else { train_samples };
    if n_train > available || n_train < data.classes() {
        return Err(Error::invalid(
            "train_samples",
            train_samples,
            format!("0 (all) or an integer in [{}, {available}] ({n} samples, {n_test} held out)", data.classes()),
        ));
    }
    // Class-balanced subsample: class c gets floor(n/K) (+1 for the first
    // n mod K classes) samples in permuted order; any shortfall (a small
    // class) is filled from the remaining samples in the same order.
    let k = data.classes();
    let pool = &perm[n_test..];
    let mut quota: Vec<usize> = (0..k).map(|c| n_train / k + usize::from(c < n_train % k)).collect();
    let mut chosen: Vec<usize> = Vec::with_capacity(n_train);
    let mut used = vec![false; pool.len()];
    for (p, &i) in pool.iter().enumerate() {
        let c = data.labels[i];
        if chosen.len() < n_train && quota[c] > 0 {
            quota[c] -= 1;
            chosen.push(i);
            used[p] = true;
        }
    }
    for (p, &i) in pool.iter().enumerate() {
        if chosen.len() < n_train && !used[p] {
            chosen.push(i);
        }
    }
    let mut train = data.select(&chosen);
    let mut test = data.select(&perm[..n_test]);
    let dd = data.dim;
    let mut constant = 0;
    for j in 0..dd {
        let mean = (0..n_train).map(|i| train.features[i * dd + j]).sum::<f64>() / n_train as f64;
        let var = (0..n_train).map(|i| (train.features[i * dd + j] - mean).powi(2)).sum::<f64>() / n_train as f64;
        let sd = var.sqrt();
        let constant_here = sd <= 1e-12 * (1.0 + mean.abs());
        constant += usize::from(constant_here);
        for set in [&mut train, &mut test] {
            for i in 0..set.len() {
                let v = &mut set.features[i * dd + j];
                *v = if constant_here { 0.0 } else { (*v - mean) / sd };
            }
        }
    }
    for c in 0..data.classes() {
        if !train.labels.contains(&c) {
            return Err(Error::invalid("train_samples", n_train, format!("enough samples for every class; class `{}` has none in the training split", data.class_names[c])));
        }
    }
    if whiten {
        whiten_in_place(&mut train, &mut test)?;
    }
    Ok(Split { train, test, constant_features: constant, whitened: whiten, informative_features: dd - constant })
}

fn whiten_in_place(train: &mut Dataset, test: &mut Dataset) -> Result<()> {
    let (n, dd) = (train.len(), train.dim);
    let c = faer::Mat::<f64>::from_fn(dd, dd, |a, b| (0..n).map(|i| train.features[i * dd + a] * train.features[i * dd + b]).sum::<f64>() / n as f64);
    let eig = c.self_adjoint_eigen(faer::Side::Lower).map_err(|e| Error::numerical("whitening: covariance spectrum", format!("{e:?}")))?;
    let vals: Vec<f64> = (0..dd).map(|k| eig.S().column_vector()[k]).collect();
    let top = vals.iter().cloned().fold(0.0, f64::max);
    let keep: Vec<usize> = (0..dd).rev().filter(|&k| vals[k] > 1e-10 * top).collect();
    let u = eig.U();
    for set in [train, test] {
        let mut out = Vec::with_capacity(set.len() * keep.len());
        for i in 0..set.len() {
            let row = &set.features[i * dd..(i + 1) * dd];
            out.extend(keep.iter().map(|&k| (0..dd).map(|a| u[(a, k)] * row[a]).sum::<f64>() / vals[k].sqrt()));
        }
        set.features = out;
        set.dim = keep.len();
        set.feature_names = (0..keep.len()).map(|k| format!("pc{k}")).collect();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_digits_have_the_documented_shape() {
        let d = Dataset::digits().unwrap();
        assert_eq!((d.len(), d.dim, d.classes()), (1797, 64, 10));
        assert_eq!(d.class_names, (0..10).map(|c| c.to_string()).collect::<Vec<_>>());
        assert!(d.features.iter().all(|v| (0.0..=16.0).contains(v)));
    }

    #[test]
    fn errors_name_line_and_column() {
        let p = Path::new("x.csv");
        let e = parse_csv("1,2,a\n3,x,b\n", p, &LabelColumn::Last).unwrap_err().to_string();
        assert!(e.contains("x.csv") && e.contains("line 2, column 2") && e.contains("`x`"), "{e}");
        let e = parse_csv("1,2,a\n3,b\n", p, &LabelColumn::Last).unwrap_err().to_string();
        assert!(e.contains("line 2") && e.contains("2 columns, expected 3"), "{e}");
        let e = parse_csv("1,2,a\n3,4,a\n", p, &LabelColumn::Last).unwrap_err().to_string();
        assert!(e.contains("need at least 2 classes"), "{e}");
        let e = parse_csv("u,v,cls\n1,2,a\n", p, &LabelColumn::Name("class".into())).unwrap_err().to_string();
        assert!(e.contains("label_column") && e.contains("cls"), "{e}");
    }

    #[test]
    fn header_and_named_label_column() {
        let d = parse_csv("# c\ncls,u,v\nb,1,2\na,3,4\nb,5,6\n", Path::new("y.csv"), &LabelColumn::Name("cls".into())).unwrap();
        assert_eq!(d.class_names, vec!["a", "b"]);
        assert_eq!(d.labels, vec![1, 0, 1]);
        assert_eq!(d.features, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        assert_eq!(d.feature_names, vec!["u", "v"]);
    }

    #[test]
    fn split_standardises_with_training_statistics() {
        let d = Dataset::digits().unwrap();
        let s = split(&d, 0.3, 0, 0, false).unwrap();
        assert_eq!(s.train.len() + s.test.len(), 1797);
        for j in 0..64 {
            let m: f64 = (0..s.train.len()).map(|i| s.train.row(i)[j]).sum::<f64>() / s.train.len() as f64;
            assert!(m.abs() < 1e-12);
        }
        assert!(s.constant_features >= 1, "digits have blank corner pixels");
        let w = split(&d, 0.3, 0, 0, true).unwrap();
        let (n, r) = (w.train.len(), w.train.dim);
        assert!(r <= 64 - s.constant_features);
        for a in 0..r {
            for b in 0..r {
                let c: f64 = (0..n).map(|i| w.train.row(i)[a] * w.train.row(i)[b]).sum::<f64>() / n as f64;
                assert!((c - f64::from(u8::from(a == b))).abs() < 1e-9, "whitened covariance ({a},{b}) = {c}");
            }
        }
        assert_eq!(split(&d, 0.3, 0, 0, false).unwrap().train, s.train, "split is reproducible");
    }
}
