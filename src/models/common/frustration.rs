//! Label-weight data and the frustration operator (`docs/embedding.md` section 1).
//!
//! Sample `i` of primary class `c(i)` carries a label-weight row `A_i`
//! (non-negative, summing to one). The frustration operator
//!
//! ```text
//!     M = diag(m)^{-1} A^T A,      m_c = sum_i A_ic,
//! ```
//!
//! is row-stochastic; its non-unit eigenvalues describe how the label
//! geometry contracts and `phi = 1 - max_{k>=2} Re mu_k` is the frustration
//! index.
use std::path::Path;

use faer::{Mat, Side};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// How the partner class `b(i)` of a frustrated sample is chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Pairing {
    /// Frustrated samples of class `c` spread round robin over the other
    /// `K-1` classes.
    Balanced,
    /// `b` drawn uniformly among the other classes.
    Uniform,
    /// `b = c + 1 mod K`.
    Ring,
}

impl Pairing {
    pub const NAMES: [&'static str; 3] = ["balanced", "uniform", "ring"];

    /// Parses a pairing name, naming the valid choices on failure.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "balanced" => Ok(Pairing::Balanced),
            "uniform" => Ok(Pairing::Uniform),
            "ring" => Ok(Pairing::Ring),
            other => Err(Error::invalid("pairing", other, "one of balanced | uniform | ring")),
        }
    }
}

/// The frustrated-data design of `docs/embedding.md` section 1.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Design {
    pub classes: usize,
    pub per_class: usize,
    /// Fraction `f` of every class that is frustrated.
    pub frustrated: f64,
    /// Frustration strength `rho` in (0, 1/2].
    pub rho: f64,
    pub pairing: Pairing,
    pub seed: u64,
}

/// The label-weight matrix `A` (N x K) stored sparsely by rows, with each
/// sample's primary class.
#[derive(Clone, Debug, PartialEq)]
pub struct LabelWeights {
    classes: usize,
    primary: Vec<usize>,
    row_ptr: Vec<usize>,
    cols: Vec<usize>,
    vals: Vec<f64>,
    mass: Vec<f64>,
}

impl LabelWeights {
    /// Builds `A` from a design. The first `round(f n)` samples of each class
    /// are frustrated: `A_i = (1-rho) e_c + rho e_b`.
    pub fn from_design(d: &Design) -> Result<Self> {
        validate_design(d)?;
        let (k, n) = (d.classes, d.per_class);
        let n_frustrated = (d.frustrated * n as f64).round() as usize;
        // Stream 2 of the seed: the data design is independent of the embeddings.
        let mut rng = ChaCha8Rng::seed_from_u64(d.seed);
        rng.set_stream(2);
        let mut rows = Vec::with_capacity(k * n);
        for c in 0..k {
            for j in 0..n {
                if j < n_frustrated {
                    let b = match d.pairing {
                        Pairing::Balanced => (c + 1 + j % (k - 1)) % k,
                        Pairing::Ring => (c + 1) % k,
                        Pairing::Uniform => (c + 1 + rng.random_range(0..k - 1)) % k,
                    };
                    rows.push((c, vec![(c, 1.0 - d.rho), (b, d.rho)]));
                } else {
                    rows.push((c, vec![(c, 1.0)]));
                }
            }
        }
        Self::from_rows(k, rows)
    }

    /// Loads `A` from a CSV file: one row per sample, `K` non-negative
    /// weights summing to one; an optional first column `class` gives the
    /// primary class (otherwise the class of largest weight). Lines starting
    /// with `#` and a header line of non-numbers are skipped.
    pub fn from_csv(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::Read { path: path.into(), reason: e.to_string() })?;
        Self::from_csv_str(&text, path)
    }

    /// Parses the CSV text of [`from_csv`](Self::from_csv); `path` is used
    /// in error messages only.
    pub fn from_csv_str(text: &str, path: &Path) -> Result<Self> {
        let bad = |line: usize, reason: String| Error::Read {
            path: path.into(),
            reason: format!("line {line}: {reason}"),
        };
        let mut header_class = false;
        let mut table: Vec<(usize, Vec<f64>)> = Vec::new();
        for (idx, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let fields: Vec<&str> = line.split(',').map(str::trim).collect();
            if table.is_empty() && fields.iter().any(|f| f.parse::<f64>().is_err()) {
                header_class = fields.first().is_some_and(|f| f.eq_ignore_ascii_case("class"));
                continue;
            }
            let nums: std::result::Result<Vec<f64>, _> = fields.iter().map(|f| f.parse::<f64>()).collect();
            let nums = nums.map_err(|e| bad(idx + 1, format!("not a number ({e})")))?;
            table.push((idx + 1, nums));
        }
        if table.is_empty() {
            return Err(Error::Read { path: path.into(), reason: "no data rows".into() });
        }
        let width = table[0].1.len() - usize::from(header_class);
        if width < 2 {
            return Err(bad(table[0].0, format!("{width} weight column(s); need at least 2 classes")));
        }
        let mut rows = Vec::with_capacity(table.len());
        for (line, nums) in table {
            let (class, w) = if header_class { (Some(nums[0]), &nums[1..]) } else { (None, &nums[..]) };
            if w.len() != width {
                return Err(bad(line, format!("{} weights, expected {width}", w.len())));
            }
            if let Some(v) = w.iter().find(|v| !v.is_finite() || **v < 0.0) {
                return Err(bad(line, format!("weight {v} is negative or not finite")));
            }
            let sum: f64 = w.iter().sum();
            if (sum - 1.0).abs() > 1e-9 {
                return Err(bad(line, format!("weights sum to {sum}, must sum to 1")));
            }
            let primary = match class {
                Some(c) if c >= 0.0 && c.fract() == 0.0 && (c as usize) < width => c as usize,
                Some(c) => return Err(bad(line, format!("class {c} is not an integer in [0, {}]", width - 1))),
                None => (0..width).max_by(|&a, &b| w[a].total_cmp(&w[b]).then(b.cmp(&a))).unwrap_or(0),
            };
            let entries = w.iter().enumerate().filter(|(_, v)| **v > 0.0).map(|(c, v)| (c, *v)).collect();
            rows.push((primary, entries));
        }
        let a = Self::from_rows(width, rows)?;
        if let Some(c) = (0..width).find(|&c| a.class_mass(c) == 0.0) {
            return Err(Error::Read { path: path.into(), reason: format!("class {c} has zero total weight") });
        }
        Ok(a)
    }

    fn from_rows(classes: usize, rows: Vec<(usize, Vec<(usize, f64)>)>) -> Result<Self> {
        let mut a = LabelWeights {
            classes,
            primary: Vec::new(),
            row_ptr: vec![0],
            cols: Vec::new(),
            vals: Vec::new(),
            mass: vec![0.0; classes],
        };
        for (primary, entries) in rows {
            a.primary.push(primary);
            for (c, v) in entries {
                a.cols.push(c);
                a.vals.push(v);
                a.mass[c] += v;
            }
            a.row_ptr.push(a.cols.len());
        }
        Ok(a)
    }

    /// Number of classes `K`.
    pub fn classes(&self) -> usize {
        self.classes
    }
    /// Number of samples `N`.
    pub fn samples(&self) -> usize {
        self.primary.len()
    }
    /// Number of (sample, label) pairs with positive weight.
    pub fn pairs(&self) -> usize {
        self.vals.len()
    }
    /// Mean number of samples per class, `n = N / K`, the normalisation of
    /// the label rate.
    pub fn per_class(&self) -> f64 {
        self.samples() as f64 / self.classes as f64
    }
    /// Primary class `c(i)`.
    pub fn primary(&self, i: usize) -> usize {
        self.primary[i]
    }
    /// Non-zero entries `(c, A_ic)` of row `i`.
    pub fn row(&self, i: usize) -> impl Iterator<Item = (usize, f64)> + '_ {
        let r = self.row_ptr[i]..self.row_ptr[i + 1];
        self.cols[r.clone()].iter().copied().zip(self.vals[r].iter().copied())
    }
    /// Pair list slices (column, weight) for row `i`, allocation-free.
    pub fn row_slices(&self, i: usize) -> (&[usize], &[f64]) {
        let r = self.row_ptr[i]..self.row_ptr[i + 1];
        (&self.cols[r.clone()], &self.vals[r])
    }
    /// `(i, c, A_ic)` of the `p`-th pair in row order.
    pub fn pair_row_index(&self) -> Vec<usize> {
        (0..self.samples()).flat_map(|i| std::iter::repeat_n(i, self.row_ptr[i + 1] - self.row_ptr[i])).collect()
    }
    /// Column and value of pair `p`.
    pub fn pair(&self, p: usize) -> (usize, f64) {
        (self.cols[p], self.vals[p])
    }
    /// Class mass `m_c = sum_i A_ic`.
    pub fn class_mass(&self, c: usize) -> f64 {
        self.mass[c]
    }
    /// Dense row `i` (length K).
    pub fn dense_row(&self, i: usize) -> Vec<f64> {
        let mut r = vec![0.0; self.classes];
        for (c, v) in self.row(i) {
            r[c] = v;
        }
        r
    }
}

fn validate_design(d: &Design) -> Result<()> {
    if d.classes < 2 {
        return Err(Error::invalid("classes", d.classes, "integer >= 2"));
    }
    if d.per_class < 1 {
        return Err(Error::invalid("per_class", d.per_class, "integer >= 1"));
    }
    if !(0.0..=1.0).contains(&d.frustrated) {
        return Err(Error::invalid("frustrated", d.frustrated, "[0, 1]"));
    }
    if !(d.rho > 0.0 && d.rho <= 0.5) {
        return Err(Error::invalid("rho", d.rho, "(0, 0.5]"));
    }
    Ok(())
}

/// The frustration operator `M = diag(m)^{-1} A^T A` and its spectrum.
#[derive(Clone, Debug, Serialize)]
pub struct FrustrationOperator {
    /// `M` row-major, K x K.
    pub matrix: Vec<Vec<f64>>,
    /// Eigenvalues of `M` in decreasing order (real: `M` is similar to the
    /// symmetric `diag(m)^{-1/2} A^T A diag(m)^{-1/2}`).
    pub spectrum: Vec<f64>,
    /// Frustration index `phi = 1 - mu_2`.
    pub frustration_index: f64,
}

impl FrustrationOperator {
    /// Computes `M`, its spectrum (faer self-adjoint eigensolver on the
    /// symmetrised form) and `phi`.
    pub fn new(a: &LabelWeights) -> Result<Self> {
        let k = a.classes();
        let mut ata = Mat::<f64>::zeros(k, k);
        for i in 0..a.samples() {
            for (c1, v1) in a.row(i) {
                for (c2, v2) in a.row(i) {
                    ata[(c1, c2)] += v1 * v2;
                }
            }
        }
        let m: Vec<f64> = (0..k).map(|c| a.class_mass(c)).collect();
        let sym = Mat::<f64>::from_fn(k, k, |r, c| ata[(r, c)] / (m[r] * m[c]).sqrt());
        let eig = sym
            .self_adjoint_eigen(Side::Lower)
            .map_err(|e| Error::numerical("spectrum of M", format!("{e:?}")))?;
        let s = eig.S().column_vector();
        let mut spectrum: Vec<f64> = (0..k).map(|i| s[i]).collect();
        spectrum.sort_by(|x, y| y.total_cmp(x));
        let matrix = (0..k).map(|r| (0..k).map(|c| ata[(r, c)] / m[r]).collect()).collect();
        Ok(FrustrationOperator { matrix, frustration_index: (1.0 - spectrum[1]).max(0.0), spectrum })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn design(k: usize, n: usize, f: f64, rho: f64, pairing: Pairing) -> Design {
        Design { classes: k, per_class: n, frustrated: f, rho, pairing, seed: 1 }
    }

    #[test]
    fn consistent_data_give_identity() {
        let a = LabelWeights::from_design(&design(3, 5, 0.0, 0.3, Pairing::Balanced)).unwrap();
        let m = FrustrationOperator::new(&a).unwrap();
        assert!(m.frustration_index.abs() < 1e-12);
        for (r, row) in m.matrix.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                assert!((v - f64::from(u8::from(r == c))).abs() < 1e-14);
            }
        }
    }

    #[test]
    fn rows_of_m_sum_to_one_for_uniform_pairing() {
        let a = LabelWeights::from_design(&design(5, 40, 0.3, 0.4, Pairing::Uniform)).unwrap();
        let m = FrustrationOperator::new(&a).unwrap();
        for row in &m.matrix {
            assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        }
        assert!((m.spectrum[0] - 1.0).abs() < 1e-12);
    }

    #[test]
    fn csv_rejects_bad_rows() {
        let p = Path::new("a.csv");
        assert!(LabelWeights::from_csv_str("0.5,0.6\n", p).unwrap_err().to_string().contains("sum to"));
        assert!(LabelWeights::from_csv_str("class,a,b\n0,1,0\n1,0.3,0.7\n", p).is_ok());
        assert!(LabelWeights::from_csv_str("1,0\n0,x\n", p).unwrap_err().to_string().contains("line 2"));
    }
}
