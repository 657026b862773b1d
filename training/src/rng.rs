//! Deterministic random numbers for the trainer.
//!
//! Every random draw of a training step is a pure function of `(seed, epoch, batch)`: the batch
//! order of an epoch, the jitter of the query points, the initial weights, and the seed handed
//! to libtorch for dropout and the VAE noise. A checkpoint therefore only has to remember where
//! it stopped (epoch and batch) to continue exactly as an uninterrupted run would.

use nesf::rng::{mix, SplitMix64};

/// SplitMix64 (the library's [`nesf::rng::SplitMix64`]) with the trainer's derived streams and
/// normal draws.
#[derive(Debug, Clone)]
pub struct Rng {
    inner: SplitMix64,
    spare_normal: Option<f64>,
}

/// Streams: independent sequences derived from the same seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u64)]
pub enum Stream {
    /// Initial weights.
    Init = 1,
    /// Batch order of an epoch.
    Shuffle = 2,
    /// Training query points of a batch.
    TrainPoints = 3,
    /// Validation query points (the same every epoch).
    ValPoints = 4,
    /// Seed handed to libtorch before a training step (dropout, VAE noise).
    Torch = 5,
}

impl Rng {
    /// A generator from a plain seed.
    pub fn new(seed: u64) -> Rng {
        Rng {
            inner: SplitMix64::new(mix(seed ^ 0x6A09_E667_F3BC_C908)),
            spare_normal: None,
        }
    }

    /// The generator of `stream` for `(seed, a, b)` (e.g. epoch and batch).
    pub fn derive(seed: u64, stream: Stream, a: u64, b: u64) -> Rng {
        let mut h = mix(seed.wrapping_add(0x9E37_79B9_7F4A_7C15));
        for v in [stream as u64, a, b] {
            h = mix(h ^ v.wrapping_mul(0xD6E8_FEB8_6659_FD93));
        }
        Rng::new(h)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.inner.next_u64()
    }

    /// The underlying generator (e.g. for the library's weight initialisation).
    pub fn splitmix(&mut self) -> &mut SplitMix64 {
        &mut self.inner
    }

    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        self.inner.next_f64()
    }

    /// Standard normal (Box–Muller, both values used).
    pub fn normal(&mut self) -> f64 {
        if let Some(v) = self.spare_normal.take() {
            return v;
        }
        let u1 = 1.0 - self.uniform(); // (0, 1]
        let u2 = self.uniform();
        let r = (-2.0 * u1.ln()).sqrt();
        let t = std::f64::consts::TAU * u2;
        self.spare_normal = Some(r * t.sin());
        r * t.cos()
    }

    /// Uniform integer in [0, n).
    pub fn below(&mut self, n: usize) -> usize {
        // Multiply-shift; the bias is negligible for the sizes used here.
        ((self.next_u64() as u128 * n as u128) >> 64) as usize
    }

    /// Fisher–Yates shuffle.
    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i + 1);
            v.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_moments() {
        let mut r = Rng::new(1);
        let n = 200_000;
        let xs: Vec<f64> = (0..n).map(|_| r.normal()).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        assert!(mean.abs() < 0.01, "{mean}");
        assert!((var - 1.0).abs() < 0.02, "{var}");
    }

    #[test]
    fn derived_streams_differ_and_repeat() {
        let a = Rng::derive(7, Stream::TrainPoints, 3, 4).next_u64();
        assert_eq!(a, Rng::derive(7, Stream::TrainPoints, 3, 4).next_u64());
        assert_ne!(a, Rng::derive(7, Stream::TrainPoints, 3, 5).next_u64());
        assert_ne!(a, Rng::derive(7, Stream::ValPoints, 3, 4).next_u64());
        assert_ne!(a, Rng::derive(8, Stream::TrainPoints, 3, 4).next_u64());
    }
}
