//! A generator of standard normals in blocks: eight interleaved xoshiro256++
//! lanes feeding a 256-layer ziggurat, vectorised across the lanes.
//!
//! # Streams
//!
//! [`BlockNormalRng`] holds nine xoshiro256++ states. Seeded with
//! `seed_from_u64(s)`, the *scalar* state is exactly
//! `rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(s)` (SplitMix64 of `s`),
//! and lane `l` (`l = 0..8`) is that state after `l + 1` xoshiro jumps
//! (`2^128` steps each), so the nine streams never overlap.
//!
//! * [`BlockNormalRng::fill_standard_normal`] fills a slice in chunks of 8:
//!   entry `8c + l` takes the `c`-th output `b` of lane `l` (every lane steps
//!   once per chunk; a last partial chunk of `m < 8` entries steps all lanes
//!   and uses lanes `0..m`). The ziggurat's fast path turns `b` into the
//!   normal: layer `i = b & 0xff`, `u = [2, 4)-float of b >> 12 - 3`,
//!   `x = u X[i]`, accepted if `|x| < X[i + 1]` (about 99% of draws). The
//!   rejected entries of a chunk are finished in increasing `l` by
//!   rand_distr's ziggurat algorithm continued on the scalar stream (wedge
//!   test with one uniform; base layer: Marsaglia's tail with two `Open01`
//!   draws; a rejected wedge restarts with a fresh `next_u64`) — so each
//!   entry is `rand_distr::StandardNormal` applied to the stream "`b`, then
//!   the scalar stream".
//! * [`rand::RngCore`] (`next_u64` etc., hence `random_range`, `random`) draws
//!   from the scalar stream.
//!
//! # Same bits everywhere
//!
//! The fast path uses integer operations, one IEEE subtraction, one
//! multiplication and a comparison, so the portable (scalar) code and the
//! AVX2 and AVX-512 intrinsics of [`BlockNormalRng::fill_standard_normal`]
//! agree bit for bit
//! (tests/models/normal_block.rs runs each level this CPU has against the scalar
//! reference). The tables are decimal literals. Only the rare slow path
//! (about 1% of entries) calls `exp` and `ln`, from the platform's libm,
//! as rand_distr does.
//!
//! # Speed
//!
//! 10^4 normals on the AMD EPYC (Zen 4) of issue 11, one core, load ~3
//! (benches/teacher.rs `normal_block`, one run): rand_distr `StandardNormal`
//! on one xoshiro256++ 26.2 us; this generator 27.9 us portable, 13.7 us
//! AVX2, 11.4 us AVX-512. The fast path was bound by its table lookups: two
//! 8-wide gathers per chunk cost more than the rest, so each lane loads
//! `(X[i], X[i + 1])` with one 16-byte load and the pairs are transposed; and
//! the rare slow path runs after each sub-block's fast pass, so that the
//! lane state stays in registers (a call inside the loop made LLVM keep it
//! on the stack).
use rand::distr::Open01;
use rand::{Rng, RngCore, SeedableRng};
use rand_xoshiro::{SplitMix64, Xoshiro256PlusPlus};

use super::ziggurat_tables::{ZIG_NORM_F, ZIG_NORM_R, ZIG_NORM_X};
use crate::simd::{self, Level};

/// Interleaved lanes (one AVX-512 register of `u64`, two AVX2 registers).
pub const LANES: usize = 8;

/// xoshiro256++ state words `s[k][l]` (word `k` of lane `l`), so that one
/// step of all lanes is eight-wide integer arithmetic.
type LaneState = [[u64; LANES]; 4];

/// Block normal generator (see the module doc for its streams).
#[derive(Clone, Debug)]
pub struct BlockNormalRng {
    lanes: LaneState,
    scalar: Xoshiro256PlusPlus,
}

/// One xoshiro256++ step of a single state: returns the output
/// `rotl(s0 + s3, 23) + s0` and advances the state (Blackman and Vigna's
/// reference `next()`).
#[inline(always)]
fn xoshiro_next(s: &mut [u64; 4]) -> u64 {
    let out = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
    let t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = s[3].rotate_left(45);
    out
}

/// The xoshiro256 jump: the state `2^128` steps ahead (reference `jump()`).
fn xoshiro_jump(s: &mut [u64; 4]) {
    const JUMP: [u64; 4] = [0x180e_c6d3_3cfd_0aba, 0xd5a6_1266_f0c9_392c, 0xa958_2618_e03f_c9aa, 0x39ab_dc45_29b1_661c];
    let mut acc = [0u64; 4];
    for j in JUMP {
        for b in 0..64 {
            if j & (1u64 << b) != 0 {
                for k in 0..4 {
                    acc[k] ^= s[k];
                }
            }
            xoshiro_next(s);
        }
    }
    *s = acc;
}

/// One step of all lanes: lane `l`'s next output in entry `l`.
#[inline(always)]
fn lanes_next(s: &mut LaneState) -> [u64; LANES] {
    let mut out = [0u64; LANES];
    for l in 0..LANES {
        out[l] = s[0][l].wrapping_add(s[3][l]).rotate_left(23).wrapping_add(s[0][l]);
        let t = s[1][l] << 17;
        s[2][l] ^= s[0][l];
        s[3][l] ^= s[1][l];
        s[1][l] ^= s[2][l];
        s[0][l] ^= s[3][l];
        s[2][l] ^= t;
        s[3][l] = s[3][l].rotate_left(45);
    }
    out
}

/// The ziggurat's candidate from 64 random bits: `x = u X[i]` with layer
/// `i` from the low 8 bits and `u` in `[-1, 1)` from the high 52 bits
/// (rand_distr's conversion: the bits as the mantissa of a float in `[2, 4)`,
/// minus 3, which is exact).
#[inline(always)]
fn candidate(bits: u64) -> (usize, f64, f64) {
    let i = (bits & 0xff) as usize;
    let u = f64::from_bits((bits >> 12) | (1024u64 << 52)) - 3.0;
    (i, u, u * ZIG_NORM_X[i])
}

/// A standard normal from the first draw `bits` and, where the fast path
/// rejects, further draws from `rng`: rand_distr 0.5's ziggurat algorithm
/// (`StandardNormal`) with its first `next_u64` replaced by `bits`.
#[inline]
pub fn ziggurat_finish<R: Rng + ?Sized>(mut bits: u64, rng: &mut R) -> f64 {
    loop {
        let (i, u, x) = candidate(bits);
        if x.abs() < ZIG_NORM_X[i + 1] {
            return x;
        }
        if i == 0 {
            return tail(rng, u);
        }
        // Wedge: accept with probability (f(x) - F[i+1]) / (F[i] - F[i+1]).
        if ZIG_NORM_F[i + 1] + (ZIG_NORM_F[i] - ZIG_NORM_F[i + 1]) * rng.random::<f64>() < (-x * x / 2.0).exp() {
            return x;
        }
        bits = rng.next_u64();
    }
}

/// Marsaglia's tail beyond `R`, on the side of `u`'s sign (rand_distr's
/// `zero_case`).
#[cold]
fn tail<R: Rng + ?Sized>(rng: &mut R, u: f64) -> f64 {
    let (mut x, mut y) = (1.0f64, 0.0f64);
    while -2.0 * y < x * x {
        let x_: f64 = rng.sample(Open01);
        let y_: f64 = rng.sample(Open01);
        x = x_.ln() / ZIG_NORM_R;
        y = y_.ln();
    }
    if u < 0.0 {
        x - ZIG_NORM_R
    } else {
        ZIG_NORM_R - x
    }
}

/// One standard normal from `rng` by the same ziggurat (the first draw is
/// `rng.next_u64()`): bit for bit `rand_distr::StandardNormal`.
pub fn ziggurat_normal<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    let bits = rng.next_u64();
    ziggurat_finish(bits, rng)
}

impl BlockNormalRng {
    /// The generator whose scalar xoshiro256++ state is `s` (not all zero)
    /// and whose lanes are `s` after 1, ..., 8 jumps.
    fn from_state(s: [u64; 4]) -> Self {
        let mut bytes = [0u8; 32];
        for (k, w) in s.iter().enumerate() {
            bytes[8 * k..8 * k + 8].copy_from_slice(&w.to_le_bytes());
        }
        let scalar = Xoshiro256PlusPlus::from_seed(bytes);
        let mut lanes = [[0u64; LANES]; 4];
        let mut j = s;
        for l in 0..LANES {
            xoshiro_jump(&mut j);
            for k in 0..4 {
                lanes[k][l] = j[k];
            }
        }
        BlockNormalRng { lanes, scalar }
    }

    /// The next raw output of every lane (what the next chunk of
    /// [`Self::fill_standard_normal`] would use); for tests of the stream layout.
    pub fn next_lane_outputs(&mut self) -> [u64; LANES] {
        lanes_next(&mut self.lanes)
    }

    /// Fills `out` with independent standard normals (layout in the module
    /// doc), on the process's [`simd::level`]. Allocation-free; the same bits
    /// on every level.
    #[inline]
    pub fn fill_standard_normal(&mut self, out: &mut [f64]) {
        self.fill_standard_normal_on(simd::level(), out)
    }

    /// [`Self::fill_standard_normal`] on a given level (one of
    /// [`simd::supported`]); the tests compare the levels.
    pub fn fill_standard_normal_on(&mut self, level: Level, out: &mut [f64]) {
        match level {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: a level above Portable is only ever chosen (simd::level)
            // or passed by the tests (simd::supported) when the CPU has it.
            Level::Avx512 => unsafe { self.fill_avx512(out) },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: as above.
            Level::Avx2 => unsafe { self.fill_avx2(out) },
            _ => self.fill_impl(out),
        }
    }

    /// The scalar reference of [`Self::fill_standard_normal`]: each entry is
    /// [`ziggurat_finish`] of its lane output, in order.
    pub fn fill_standard_normal_reference(&mut self, out: &mut [f64]) {
        for chunk in out.chunks_mut(LANES) {
            let bits = lanes_next(&mut self.lanes);
            for (v, &b) in chunk.iter_mut().zip(&bits) {
                *v = ziggurat_finish(b, &mut self.scalar);
            }
        }
    }

    /// The wide fill: sub-blocks of [`SUB`] entries, each a fast pass over
    /// its whole chunks (`fast`, which calls nothing, so the lane state stays
    /// in registers; it stores every chunk's lane words in `bits` and its
    /// rejection mask in `rejected`), then the rejected entries finished in
    /// increasing position. The fast path never touches the scalar stream,
    /// so finishing after the pass consumes it exactly as the reference does.
    #[inline(always)]
    fn fill_wide(&mut self, out: &mut [f64], fast: impl Fn(&mut LaneState, &mut [f64], &mut [u64; SUB], &mut [u8; SUB / LANES])) {
        let mut bits = [0u64; SUB];
        let mut rejected = [0u8; SUB / LANES];
        for sub in out.chunks_mut(SUB) {
            let whole = sub.len() / LANES * LANES;
            let (body, rest) = sub.split_at_mut(whole);
            fast(&mut self.lanes, body, &mut bits, &mut rejected);
            for (c, &m) in rejected.iter().enumerate().take(whole / LANES) {
                let mut m = u32::from(m);
                while m != 0 {
                    let j = LANES * c + m.trailing_zeros() as usize;
                    body[j] = ziggurat_finish(bits[j], &mut self.scalar);
                    m &= m - 1;
                }
            }
            self.fill_rest(rest);
        }
    }

    /// [`Self::fill_wide`] with AVX-512F: one register per state word holds
    /// all eight lanes; the layer edges `(X[i], X[i + 1])` are one 16-byte load per lane.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    unsafe fn fill_avx512(&mut self, out: &mut [f64]) {
        self.fill_wide(out, |lanes, body, bits, rejected| unsafe { fast_avx512(lanes, body, bits, rejected) })
    }

    /// [`Self::fill_wide`] with AVX2: two registers per state word (lanes
    /// 0..4 and 4..8); rotations are two shifts and an or.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn fill_avx2(&mut self, out: &mut [f64]) {
        self.fill_wide(out, |lanes, body, bits, rejected| unsafe { fast_avx2(lanes, body, bits, rejected) })
    }

    /// A last partial chunk (fewer than 8 entries): all lanes step, lanes
    /// `0..rest.len()` are used.
    fn fill_rest(&mut self, rest: &mut [f64]) {
        if !rest.is_empty() {
            let bits = lanes_next(&mut self.lanes);
            for (v, &b) in rest.iter_mut().zip(&bits) {
                *v = ziggurat_finish(b, &mut self.scalar);
            }
        }
    }

    /// The portable fast path over whole chunks (scalar code), the rare
    /// rejections finished in order.
    #[inline(always)]
    fn fill_impl(&mut self, out: &mut [f64]) {
        let mut s = self.lanes;
        let mut chunks = out.chunks_exact_mut(LANES);
        for chunk in &mut chunks {
            let bits = lanes_next(&mut s);
            let mut x = [0.0f64; LANES];
            let mut rejected = 0u32;
            for l in 0..LANES {
                let (i, _, xl) = candidate(bits[l]);
                x[l] = xl;
                rejected |= u32::from(!(xl.abs() < ZIG_NORM_X[i + 1])) << l;
            }
            chunk.copy_from_slice(&x);
            while rejected != 0 {
                let l = rejected.trailing_zeros() as usize;
                chunk[l] = ziggurat_finish(bits[l], &mut self.scalar);
                rejected &= rejected - 1;
            }
        }
        self.lanes = s;
        self.fill_rest(chunks.into_remainder());
    }
}

impl RngCore for BlockNormalRng {
    /// The scalar stream's upper 32 bits (as rand_xoshiro does).
    #[inline]
    fn next_u32(&mut self) -> u32 {
        self.scalar.next_u32()
    }
    #[inline]
    fn next_u64(&mut self) -> u64 {
        self.scalar.next_u64()
    }
    #[inline]
    fn fill_bytes(&mut self, dst: &mut [u8]) {
        self.scalar.fill_bytes(dst)
    }
}

impl SeedableRng for BlockNormalRng {
    type Seed = [u8; 32];

    /// The scalar state is the seed's four little-endian words (an all-zero
    /// seed, invalid for xoshiro, means `seed_from_u64(0)`, as in rand_xoshiro).
    fn from_seed(seed: [u8; 32]) -> Self {
        if seed.iter().all(|&b| b == 0) {
            return Self::seed_from_u64(0);
        }
        let mut s = [0u64; 4];
        for (k, w) in s.iter_mut().enumerate() {
            *w = u64::from_le_bytes(seed[8 * k..8 * k + 8].try_into().expect("8 bytes"));
        }
        Self::from_state(s)
    }

    /// The scalar state is four SplitMix64 outputs of `seed`, as in
    /// `Xoshiro256PlusPlus::seed_from_u64`.
    fn seed_from_u64(seed: u64) -> Self {
        let mut sm = SplitMix64::seed_from_u64(seed);
        let s = [sm.next_u64(), sm.next_u64(), sm.next_u64(), sm.next_u64()];
        if s == [0; 4] {
            // Impossible (SplitMix64's outputs of consecutive counters are
            // distinct), but xoshiro must never get the zero state.
            return Self::from_state([1, 0, 0, 0]);
        }
        Self::from_state(s)
    }
}

/// `(X[i], X[i + 1])` per layer, for one 16-byte load per lane.
static ZIG_PAIRS: [[f64; 2]; 256] = {
    let mut p = [[0.0; 2]; 256];
    let mut i = 0;
    while i < 256 {
        p[i] = [ZIG_NORM_X[i], ZIG_NORM_X[i + 1]];
        i += 1;
    }
    p
};

/// Entries per sub-block of the wide fill (its lane words, 4 KB, stay on the
/// stack).
const SUB: usize = 512;

/// The fast path of whole chunks with AVX-512F (see [`BlockNormalRng::fill_wide`]).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn fast_avx512(lanes: &mut LaneState, body: &mut [f64], bits: &mut [u64; SUB], rejected: &mut [u8; SUB / LANES]) {
    use std::arch::x86_64::*;
    let load = |w: &[u64; LANES]| unsafe { _mm512_loadu_si512(w.as_ptr().cast()) };
    let (mut s0, mut s1, mut s2, mut s3) = (load(&lanes[0]), load(&lanes[1]), load(&lanes[2]), load(&lanes[3]));
    let exponent = _mm512_set1_epi64((1024u64 << 52) as i64);
    let three = _mm512_set1_pd(3.0);
    for (c, chunk) in body.chunks_exact_mut(LANES).enumerate() {
        let b = _mm512_add_epi64(_mm512_rol_epi64::<23>(_mm512_add_epi64(s0, s3)), s0);
        let t = _mm512_slli_epi64::<17>(s1);
        s2 = _mm512_xor_si512(s2, s0);
        s3 = _mm512_xor_si512(s3, s1);
        s1 = _mm512_xor_si512(s1, s2);
        s0 = _mm512_xor_si512(s0, s3);
        s2 = _mm512_xor_si512(s2, t);
        s3 = _mm512_rol_epi64::<45>(s3);
        let u = _mm512_sub_pd(_mm512_castsi512_pd(_mm512_or_si512(_mm512_srli_epi64::<12>(b), exponent)), three);
        // SAFETY: chunk and bits[8c..8c + 8] have 8 entries (body has at
        // most SUB entries); the layer index is a byte, and the pair table
        // has 256 entries.
        unsafe {
            let w = &mut bits[LANES * c..LANES * c + LANES];
            _mm512_storeu_si512(w.as_mut_ptr().cast(), b);
            // (X[i], X[i + 1]) of each lane as one 16-byte load (cheaper than
            // two 8-wide gathers on Zen 4), transposed four lanes at a time.
            let pair = |l: usize| _mm_loadu_pd(ZIG_PAIRS[(w[l] & 0xff) as usize].as_ptr());
            let half = |h: usize| {
                let a02 = _mm256_set_m128d(pair(4 * h + 2), pair(4 * h));
                let a13 = _mm256_set_m128d(pair(4 * h + 3), pair(4 * h + 1));
                (_mm256_unpacklo_pd(a02, a13), _mm256_unpackhi_pd(a02, a13))
            };
            let ((e0, n0), (e1, n1)) = (half(0), half(1));
            let edge = _mm512_insertf64x4::<1>(_mm512_castpd256_pd512(e0), e1);
            let next = _mm512_insertf64x4::<1>(_mm512_castpd256_pd512(n0), n1);
            let x = _mm512_mul_pd(u, edge);
            let accepted = _mm512_cmp_pd_mask::<_CMP_LT_OQ>(_mm512_abs_pd(x), next);
            _mm512_storeu_pd(chunk.as_mut_ptr(), x);
            rejected[c] = !accepted;
        }
    }
    for (k, v) in [s0, s1, s2, s3].into_iter().enumerate() {
        // SAFETY: each lane array has 8 entries.
        unsafe { _mm512_storeu_si512(lanes[k].as_mut_ptr().cast(), v) };
    }
}

/// The fast path of whole chunks with AVX2 (see [`BlockNormalRng::fill_wide`]).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn fast_avx2(lanes: &mut LaneState, body: &mut [f64], bits: &mut [u64; SUB], rejected: &mut [u8; SUB / LANES]) {
    use std::arch::x86_64::*;
    #[inline(always)]
    fn rotl<const L: i32, const R: i32>(v: __m256i) -> __m256i {
        // SAFETY: only called from this AVX2 function.
        unsafe { _mm256_or_si256(_mm256_slli_epi64::<L>(v), _mm256_srli_epi64::<R>(v)) }
    }
    let load = |w: &[u64; LANES], h: usize| unsafe { _mm256_loadu_si256(w[4 * h..].as_ptr().cast()) };
    let mut s: [[__m256i; 2]; 4] = std::array::from_fn(|k| [load(&lanes[k], 0), load(&lanes[k], 1)]);
    let exponent = _mm256_set1_epi64x((1024u64 << 52) as i64);
    let three = _mm256_set1_pd(3.0);
    let sign = _mm256_set1_pd(-0.0);
    for (c, chunk) in body.chunks_exact_mut(LANES).enumerate() {
        let mut accepted = 0i32;
        for h in 0..2 {
            let [s0, s1, s2, s3] = [s[0][h], s[1][h], s[2][h], s[3][h]];
            let b = _mm256_add_epi64(rotl::<23, 41>(_mm256_add_epi64(s0, s3)), s0);
            let t = _mm256_slli_epi64::<17>(s1);
            let s2 = _mm256_xor_si256(s2, s0);
            let s3 = _mm256_xor_si256(s3, s1);
            let s1 = _mm256_xor_si256(s1, s2);
            let s0 = _mm256_xor_si256(s0, s3);
            let s2 = _mm256_xor_si256(s2, t);
            let s3 = rotl::<45, 19>(s3);
            [s[0][h], s[1][h], s[2][h], s[3][h]] = [s0, s1, s2, s3];
            let u = _mm256_sub_pd(_mm256_castsi256_pd(_mm256_or_si256(_mm256_srli_epi64::<12>(b), exponent)), three);
            // SAFETY: the chunk and bits[8c + 4h..8c + 4h + 4] have 4 entries
            // from the offset; the layer index is a byte, and the pair table
            // has 256 entries.
            unsafe {
                let w = &mut bits[LANES * c + 4 * h..LANES * c + 4 * h + 4];
                _mm256_storeu_si256(w.as_mut_ptr().cast(), b);
                // (X[i], X[i + 1]) of lanes 0..4 as four 16-byte loads (a
                // gather of each would cost more on Zen 4), then transposed.
                let pair = |l: usize| _mm_loadu_pd(ZIG_PAIRS[(w[l] & 0xff) as usize].as_ptr());
                let a02 = _mm256_set_m128d(pair(2), pair(0));
                let a13 = _mm256_set_m128d(pair(3), pair(1));
                let (edge, next) = (_mm256_unpacklo_pd(a02, a13), _mm256_unpackhi_pd(a02, a13));
                let x = _mm256_mul_pd(u, edge);
                let ok = _mm256_cmp_pd::<_CMP_LT_OQ>(_mm256_andnot_pd(sign, x), next);
                accepted |= _mm256_movemask_pd(ok) << (4 * h);
                _mm256_storeu_pd(chunk[4 * h..4 * h + 4].as_mut_ptr(), x);
            }
        }
        rejected[c] = !(accepted as u8);
    }
    for (k, pair) in s.iter().enumerate() {
        for (h, v) in pair.iter().enumerate() {
            // SAFETY: each lane array has 8 entries.
            unsafe { _mm256_storeu_si256(lanes[k][4 * h..4 * h + 4].as_mut_ptr().cast(), *v) };
        }
    }
}
