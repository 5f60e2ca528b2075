//! The block normal generator (`repcollapse::random::BlockNormalRng`):
//! its per-draw ziggurat against rand_distr's `StandardNormal` bit for bit,
//! its xoshiro lanes and seeding against rand_xoshiro, every SIMD level
//! against the scalar reference bit for bit, and its output distribution
//! against N(0, 1) with statistical tolerances derived below.
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use rand_xoshiro::Xoshiro256PlusPlus;
use repcollapse::random::normal_block::{ziggurat_normal, LANES};
use repcollapse::random::ziggurat_tables::ZIG_NORM_R;
use repcollapse::random::BlockNormalRng;
use repcollapse::simd;
use statrs::distribution::{ContinuousCDF, Normal};

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// Counts the 64-bit words drawn, to see which draws left the fast path.
struct Counting<R>(R, u64);

impl<R: RngCore> RngCore for Counting<R> {
    fn next_u32(&mut self) -> u32 {
        self.1 += 1;
        self.0.next_u32()
    }
    fn next_u64(&mut self) -> u64 {
        self.1 += 1;
        self.0.next_u64()
    }
    fn fill_bytes(&mut self, d: &mut [u8]) {
        self.0.fill_bytes(d)
    }
}

/// The scalar ziggurat is rand_distr's StandardNormal draw for draw, on the
/// fast path, the wedges and the tail (all three are shown to occur).
#[test]
fn scalar_ziggurat_is_rand_distr_standard_normal() {
    let n = 1_000_000;
    let mut ours = Counting(ChaCha8Rng::seed_from_u64(17), 0);
    let mut theirs = ChaCha8Rng::seed_from_u64(17);
    let (mut slow, mut tail) = (0usize, 0usize);
    for k in 0..n {
        let before = ours.1;
        let a = ziggurat_normal(&mut ours);
        let b: f64 = StandardNormal.sample(&mut theirs);
        assert_eq!(a.to_bits(), b.to_bits(), "draw {k}: {a} vs {b}");
        slow += usize::from(ours.1 - before > 1);
        tail += usize::from(a.abs() > ZIG_NORM_R);
    }
    // About 1% of draws leave the fast path and 2(1 - Phi(R)) = 2.6e-4 fall in the tail.
    assert!(slow > 5_000, "slow path taken only {slow} times");
    assert!(tail > 100, "tail taken only {tail} times");
}

/// The scalar stream is rand_xoshiro's `Xoshiro256PlusPlus::seed_from_u64`,
/// and lane `l` is that generator after `l + 1` jumps (rand_xoshiro's `jump`).
#[test]
fn seeding_and_lanes_match_rand_xoshiro() {
    for seed in [0u64, 1, 12_345, u64::MAX] {
        let mut ours = BlockNormalRng::seed_from_u64(seed);
        let reference = Xoshiro256PlusPlus::seed_from_u64(seed);
        let mut lanes: Vec<Xoshiro256PlusPlus> = (0..LANES)
            .map(|l| {
                let mut r = reference.clone();
                for _ in 0..=l {
                    r.jump();
                }
                r
            })
            .collect();
        for _ in 0..50 {
            let got = ours.next_lane_outputs();
            for l in 0..LANES {
                assert_eq!(got[l], lanes[l].next_u64(), "seed {seed} lane {l}");
            }
        }
        let mut scalar = reference.clone();
        for _ in 0..50 {
            assert_eq!(ours.next_u64(), scalar.next_u64(), "seed {seed} scalar stream");
        }
    }
    // from_seed of the words SplitMix64 gives is the same generator.
    let mut sm = rand_xoshiro::SplitMix64::seed_from_u64(5);
    let mut seed = [0u8; 32];
    sm.fill_bytes(&mut seed);
    let (mut a, mut b) = (BlockNormalRng::from_seed(seed), BlockNormalRng::seed_from_u64(5));
    assert_eq!(a.next_lane_outputs(), b.next_lane_outputs());
    assert_eq!(a.next_u64(), b.next_u64());
}

/// Every SIMD level this CPU has fills the same bits as the scalar
/// reference (each entry = the ziggurat of its lane word, slow paths on the
/// scalar stream in order), and leaves the generator in the same state;
/// lengths below, at and above one chunk of 8, and long ones.
#[test]
fn every_simd_level_gives_the_reference_bits() {
    let levels = simd::supported();
    for len in [1usize, 7, 8, 9, 10_000, 100_003] {
        let start = BlockNormalRng::seed_from_u64(len as u64);
        let mut reference = start.clone();
        let mut want = vec![0.0; len];
        reference.fill_standard_normal_reference(&mut want);
        let mut want2 = vec![0.0; len];
        reference.fill_standard_normal_reference(&mut want2);
        let after = reference.next_u64();
        for &level in &levels {
            let mut r = start.clone();
            let mut got = vec![f64::NAN; len];
            r.fill_standard_normal_on(level, &mut got);
            assert_eq!(bits(&got), bits(&want), "{level:?}, {len} entries");
            r.fill_standard_normal_on(level, &mut got);
            assert_eq!(bits(&got), bits(&want2), "{level:?}, {len} entries, second block");
            assert_eq!(r.next_u64(), after, "{level:?}, {len} entries: state after");
        }
    }
    // The test compares wide code only where the CPU has it.
    if cfg!(target_arch = "x86_64") && std::arch::is_x86_feature_detected!("avx2") {
        assert!(levels.len() > 1, "AVX2 present but not offered: {levels:?}");
    }
}

/// Same seed, same bits; another seed, other bits.
#[test]
fn streams_are_reproducible_from_the_seed() {
    let fill = |seed: u64| {
        let mut r = BlockNormalRng::seed_from_u64(seed);
        let mut v = vec![0.0; 1003];
        r.fill_standard_normal(&mut v);
        (bits(&v), r.next_u64())
    };
    assert_eq!(fill(42), fill(42));
    let (a, b) = (fill(42).0, fill(43).0);
    assert!(a.iter().zip(&b).all(|(p, q)| p != q), "seeds 42 and 43 share draws");
}

/// The distribution of 10^7 draws (blocks of 10^4, as a D = 10^4 run
/// draws them) against N(0, 1).
///
/// Tolerances: each moment estimate is a mean of n i.i.d. terms, so its
/// standard error is sqrt(Var / n) with Var from the normal's moments:
/// Var z = 1, Var z^2 = 2, Var z^3 = 15, Var z^4 = E z^8 - 9 = 96. The
/// checks allow 4.5 standard errors (two-sided p = 7e-6 for a correct
/// sampler). A tail count is binomial(n, p) with p = 2 (1 - Phi(t)),
/// allowed 4.5 of its standard deviations. Kolmogorov-Smirnov: for a
/// correct sampler P(sqrt(n) D > t) ~ 2 exp(-2 t^2), so t = 2.5 is
/// p = 7.5e-6. The lag correlations (lags 1..16 cover neighbouring lanes and
/// the same lane one and two chunks later) have standard error 1/sqrt(n).
#[test]
fn draws_are_standard_normal() {
    let (block, blocks) = (10_000usize, 1_000usize);
    let n = block * blocks;
    let nf = n as f64;
    let mut rng = BlockNormalRng::seed_from_u64(2026);
    let mut z = vec![0.0; n];
    for b in z.chunks_mut(block) {
        rng.fill_standard_normal(b);
    }
    let k = 4.5;
    let m = |p: i32| z.iter().map(|v| v.powi(p)).sum::<f64>() / nf;
    let (m1, m2, m3, m4) = (m(1), m(2), m(3), m(4));
    assert!(m1.abs() < k * (1.0 / nf).sqrt(), "mean {m1}");
    assert!((m2 - 1.0).abs() < k * (2.0 / nf).sqrt(), "E z^2 = {m2}");
    assert!(m3.abs() < k * (15.0 / nf).sqrt(), "E z^3 = {m3}");
    assert!((m4 - 3.0).abs() < k * (96.0 / nf).sqrt(), "E z^4 = {m4}");

    let normal = Normal::new(0.0, 1.0).unwrap();
    // Thresholds: inside the layers, the edge of the top layer X[2] = 3.449,
    // the base R = 3.654 (beyond it only Marsaglia's tail), deep tail.
    for t in [1.0, 2.0, 3.0, 3.449_278_298_560_964, ZIG_NORM_R, 4.0, 4.5] {
        let p = 2.0 * (1.0 - normal.cdf(t));
        let count = z.iter().filter(|v| v.abs() > t).count() as f64;
        let sd = (nf * p * (1.0 - p)).sqrt();
        assert!((count - nf * p).abs() < k * sd, "|z| > {t}: {count} draws, expected {} +- {sd}", nf * p);
    }

    for lag in 1..=16 {
        let c = z.iter().zip(&z[lag..]).map(|(a, b)| a * b).sum::<f64>() / (nf - lag as f64);
        assert!(c.abs() < k / nf.sqrt(), "lag-{lag} correlation {c}");
    }

    z.sort_by(f64::total_cmp);
    let d = z
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            let f = normal.cdf(v);
            ((i + 1) as f64 / nf - f).max(f - i as f64 / nf)
        })
        .fold(0.0f64, f64::max);
    assert!(nf.sqrt() * d < 2.5, "KS statistic sqrt(n) D = {}", nf.sqrt() * d);
}
