//! The pass over the student's encoder `W` (d x D, row-major) of Model T's
//! online SGD step, compiled for each [`crate::simd::Level`].
//!
//! One pass does, for every row `i` of `W`, any of
//!
//! ```text
//!     w_i  <- keep w_i - g_i old        (the pending rank-1 update, if UPDATE)
//!     out_i = w_i . new                 (the forward pass, if DOT)
//! ```
//!
//! The dot product of a row uses eight accumulators (`acc_l` sums the
//! columns `j = l mod 8` in increasing `j`), then `acc_0 + ... + acc_7` in
//! that order, plus the `D mod 8` tail columns summed in order: exactly
//! [`super::simulation::dot`]. The columns are visited in blocks of
//! [`BLOCK`], all rows per block, so `old` and `new` are read from L1 once per
//! row instead of streamed from L2 once per row; each row still sees its
//! columns in increasing order, so the blocking changes no bit. The AVX2 and
//! AVX-512 builds of the same code compute the same IEEE operations (no FMA:
//! Rust never contracts), so every level gives the same bits; the tests check it.
use crate::simd::Level;

/// Columns per block: `old` and `new` of one block are 2 x 4 KB, which stay
/// in L1 while all rows of `W` use them.
pub const BLOCK: usize = 512;

/// Rows processed together (their accumulators live on the stack).
const ROW_GROUP: usize = 16;

/// `out_i = w_i . new` for every row of `w` (rows of length `n`), on the
/// given level.
pub fn dot_rows(level: Level, w: &[f64], n: usize, new: &[f64], out: &mut [f64]) {
    let rows = check_shape(w.len(), n);
    assert!(new.len() == n && out.len() >= rows, "dot_rows: new has {} entries (need {n}), out {} (need {rows})", new.len(), out.len());
    match level {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: a level above Portable is only ever chosen (simd::level) or
        // passed by the tests (simd::supported) when the CPU has the feature.
        Level::Avx512 => unsafe { dot_avx512(w, n, new, out) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as above.
        Level::Avx2 => unsafe { dot_avx2(w, n, new, out) },
        _ => dot_impl::<{ rows_at_once(Level::Portable) }>(w, n, new, out),
    }
}

/// `w_i <- keep w_i - g_i old` for every row, then, if `dot` is
/// `Some((new, out))`, `out_i = w_i . new` with the updated row, in the same
/// pass. `keep == 1.0` skips the multiplication (`1 * w` is exact).
pub fn update_rows(level: Level, w: &mut [f64], n: usize, keep: f64, g: &[f64], old: &[f64], dot: Option<(&[f64], &mut [f64])>) {
    let rows = check_shape(w.len(), n);
    assert!(old.len() == n && g.len() >= rows, "update_rows: old has {} entries (need {n}), g {} (need {rows})", old.len(), g.len());
    let (new, out, with_dot) = match dot {
        Some((new, out)) => {
            assert!(new.len() == n && out.len() >= rows, "update_rows: new has {} entries (need {n}), out {} (need {rows})", new.len(), out.len());
            (new, out, true)
        }
        None => (&[][..], &mut [][..], false),
    };
    match (keep == 1.0, with_dot) {
        (true, true) => update_dispatch::<false, true>(level, w, n, keep, g, old, new, out),
        (false, true) => update_dispatch::<true, true>(level, w, n, keep, g, old, new, out),
        (true, false) => update_dispatch::<false, false>(level, w, n, keep, g, old, new, out),
        (false, false) => update_dispatch::<true, false>(level, w, n, keep, g, old, new, out),
    }
}

fn check_shape(len: usize, n: usize) -> usize {
    let rows = if n == 0 { 0 } else { len / n };
    assert_eq!(rows * n, len, "W has {len} entries, not a whole number of rows of {n}");
    rows
}

#[allow(clippy::too_many_arguments)]
fn update_dispatch<const DECAY: bool, const DOT: bool>(level: Level, w: &mut [f64], n: usize, keep: f64, g: &[f64], old: &[f64], new: &[f64], out: &mut [f64]) {
    match level {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: see dot_rows.
        Level::Avx512 => unsafe { update_avx512::<DECAY, DOT>(w, n, keep, g, old, new, out) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: see dot_rows.
        Level::Avx2 => unsafe { update_avx2::<DECAY, DOT>(w, n, keep, g, old, new, out) },
        _ => update_impl::<DECAY, DOT, { rows_at_once(Level::Portable) }>(w, n, keep, g, old, new, out),
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn dot_avx512(w: &[f64], n: usize, new: &[f64], out: &mut [f64]) {
    dot_impl::<{ rows_at_once(Level::Avx512) }>(w, n, new, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn dot_avx2(w: &[f64], n: usize, new: &[f64], out: &mut [f64]) {
    dot_impl::<{ rows_at_once(Level::Avx2) }>(w, n, new, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
#[allow(clippy::too_many_arguments)]
unsafe fn update_avx512<const DECAY: bool, const DOT: bool>(w: &mut [f64], n: usize, keep: f64, g: &[f64], old: &[f64], new: &[f64], out: &mut [f64]) {
    update_impl::<DECAY, DOT, { rows_at_once(Level::Avx512) }>(w, n, keep, g, old, new, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[allow(clippy::too_many_arguments)]
unsafe fn update_avx2<const DECAY: bool, const DOT: bool>(w: &mut [f64], n: usize, keep: f64, g: &[f64], old: &[f64], new: &[f64], out: &mut [f64]) {
    update_impl::<DECAY, DOT, { rows_at_once(Level::Avx2) }>(w, n, keep, g, old, new, out)
}

/// The column blocks `[j0, j1)` of the 8-aligned part of a row of length `n`.
#[inline(always)]
fn blocks(n: usize) -> impl Iterator<Item = (usize, usize)> {
    let n8 = n / 8 * 8;
    (0..n8).step_by(BLOCK).map(move |j0| (j0, (j0 + BLOCK).min(n8)))
}

/// Rows interleaved in the inner loop of a level. One row's 8-lane
/// accumulator is a serial chain of adds (latency ~3 cycles per 8 columns);
/// `R` rows give `R` independent chains and share the loads of `old` and
/// `new`. Portable code has only 16 SSE registers (8 lanes = 4 per row), so
/// it takes one row at a time; AVX2 (2 registers per row) two; AVX-512
/// (one register per row) two as well; the pass is then at ~1.16x a plain
/// read+write of W (benches/teacher.rs, `teacher_w_pass`).
const fn rows_at_once(level: Level) -> usize {
    match level {
        Level::Portable => 1,
        Level::Avx2 => 2,
        Level::Avx512 => 2,
    }
}

/// The read-only pass; inlined into each level's `target_feature` function
/// so that LLVM vectorises the 8-lane loops with that level's registers.
#[inline(always)]
fn dot_impl<const R: usize>(w: &[f64], n: usize, new: &[f64], out: &mut [f64]) {
    if n == 0 {
        out.fill(0.0); // rows of length 0: every dot product is 0
        return;
    }
    let n8 = n / 8 * 8;
    for (group, wg) in w.chunks(ROW_GROUP * n).enumerate() {
        let (r0, rows) = (group * ROW_GROUP, wg.len() / n);
        let mut accs = [[0.0f64; 8]; ROW_GROUP];
        for (j0, j1) in blocks(n) {
            let nb = &new[j0..j1];
            let mut r = 0;
            while r < rows {
                if r + R <= rows {
                    dot_block::<R>(wg, n, r, j0, j1, nb, &mut accs);
                    r += R;
                } else {
                    dot_block::<1>(wg, n, r, j0, j1, nb, &mut accs);
                    r += 1;
                }
            }
        }
        for (r, acc) in accs.iter().enumerate().take(rows) {
            let t: f64 = wg[r * n + n8..(r + 1) * n].iter().zip(&new[n8..]).map(|(p, q)| p * q).sum();
            out[r0 + r] = acc.iter().sum::<f64>() + t;
        }
    }
}

/// Rows `r..r + R` of a row group, columns `[j0, j1)`: `acc += w * new`.
#[inline(always)]
fn dot_block<const R: usize>(wg: &[f64], n: usize, r: usize, j0: usize, j1: usize, nb: &[f64], accs: &mut [[f64; 8]; ROW_GROUP]) {
    let mut acc: [[f64; 8]; R] = std::array::from_fn(|q| accs[r + q]);
    let wrows: [&[f64]; R] = std::array::from_fn(|q| &wg[(r + q) * n + j0..(r + q) * n + j1]);
    for c in 0..(j1 - j0) / 8 {
        let x = &nb[8 * c..8 * c + 8];
        for q in 0..R {
            let wc = &wrows[q][8 * c..8 * c + 8];
            for l in 0..8 {
                acc[q][l] += wc[l] * x[l];
            }
        }
    }
    for q in 0..R {
        accs[r + q] = acc[q];
    }
}

/// The update pass (with the dot product if `DOT`), inlined like [`dot_impl`].
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn update_impl<const DECAY: bool, const DOT: bool, const R: usize>(w: &mut [f64], n: usize, keep: f64, g: &[f64], old: &[f64], new: &[f64], out: &mut [f64]) {
    if n == 0 {
        out.fill(0.0); // rows of length 0: every dot product is 0
        return;
    }
    let n8 = n / 8 * 8;
    for (group, wg) in w.chunks_mut(ROW_GROUP * n).enumerate() {
        let (r0, rows) = (group * ROW_GROUP, wg.len() / n);
        let gg = &g[r0..r0 + rows];
        let mut accs = [[0.0f64; 8]; ROW_GROUP];
        for (j0, j1) in blocks(n) {
            let ob = &old[j0..j1];
            let nb = if DOT { &new[j0..j1] } else { ob };
            let mut r = 0;
            while r < rows {
                if r + R <= rows {
                    update_block::<DECAY, DOT, R>(wg, n, r, j0, j1, keep, gg, ob, nb, &mut accs);
                    r += R;
                } else {
                    update_block::<DECAY, DOT, 1>(wg, n, r, j0, j1, keep, gg, ob, nb, &mut accs);
                    r += 1;
                }
            }
        }
        for (r, acc) in accs.iter().enumerate().take(rows) {
            let gr = gg[r];
            let tail = &mut wg[r * n + n8..(r + 1) * n];
            for (wv, o) in tail.iter_mut().zip(&old[n8..]) {
                *wv = if DECAY { keep * *wv - gr * o } else { *wv - gr * o };
            }
            if DOT {
                let t: f64 = tail.iter().zip(&new[n8..]).map(|(p, q)| p * q).sum();
                out[r0 + r] = acc.iter().sum::<f64>() + t;
            }
        }
    }
}

/// Rows `r..r + R` of a row group, columns `[j0, j1)`:
/// `w <- keep w - g old`, then (if `DOT`) `acc += w * new`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn update_block<const DECAY: bool, const DOT: bool, const R: usize>(wg: &mut [f64], n: usize, r: usize, j0: usize, j1: usize, keep: f64, gg: &[f64], ob: &[f64], nb: &[f64], accs: &mut [[f64; 8]; ROW_GROUP]) {
    let mut acc: [[f64; 8]; R] = std::array::from_fn(|q| accs[r + q]);
    let gr: [f64; R] = std::array::from_fn(|q| gg[r + q]);
    let rows = &mut wg[r * n..(r + R) * n];
    let wrows: [&mut [f64]; R] = {
        let mut it = rows.chunks_exact_mut(n).map(|row| &mut row[j0..j1]);
        std::array::from_fn(|_| it.next().unwrap_or_default())
    };
    for c in 0..(j1 - j0) / 8 {
        let o = &ob[8 * c..8 * c + 8];
        let x = &nb[8 * c..8 * c + 8];
        for q in 0..R {
            let wc = &mut wrows[q][8 * c..8 * c + 8];
            for l in 0..8 {
                let v = if DECAY { keep * wc[l] - gr[q] * o[l] } else { wc[l] - gr[q] * o[l] };
                wc[l] = v;
                if DOT {
                    acc[q][l] += v * x[l];
                }
            }
        }
    }
    if DOT {
        for q in 0..R {
            accs[r + q] = acc[q];
        }
    }
}
