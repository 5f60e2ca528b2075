//! Random streams that name no model: the block normal generator and the
//! trait through which the samplers fill a vector with standard normals.
pub mod normal_block;
pub mod ziggurat_tables;

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

pub use normal_block::BlockNormalRng;

/// A generator that can fill a slice with i.i.d. `N(0, 1)` draws.
pub trait NormalFill: Rng {
    /// Fills `out` with independent standard normals.
    fn fill_standard_normal(&mut self, out: &mut [f64]);
}

/// Block ziggurat on interleaved xoshiro256++ lanes (stream layout in
/// [`normal_block`]).
impl NormalFill for BlockNormalRng {
    #[inline]
    fn fill_standard_normal(&mut self, out: &mut [f64]) {
        BlockNormalRng::fill_standard_normal(self, out)
    }
}

/// One `rand_distr::StandardNormal` draw per entry, in order (the stream of
/// the finite-data training sets and of tests that use ChaCha8).
impl NormalFill for ChaCha8Rng {
    #[inline]
    fn fill_standard_normal(&mut self, out: &mut [f64]) {
        for v in out.iter_mut() {
            *v = StandardNormal.sample(self);
        }
    }
}
