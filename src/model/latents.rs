//! Latent vectors: a batch of z, stored row-major.

use crate::error::{Error, Result};

/// A batch of latent vectors of one size, row-major `[len][latent_size]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Latents {
    latent_size: usize,
    values: Vec<f32>,
}

impl Latents {
    /// Latents from a flat row-major array; fails when the length is not a multiple of
    /// `latent_size` or a value is not finite.
    pub fn from_flat(latent_size: usize, values: Vec<f32>) -> Result<Self> {
        if latent_size == 0 || !values.len().is_multiple_of(latent_size) {
            return Err(Error::InvalidArgument(format!(
                "{} latent values do not form vectors of size {latent_size}",
                values.len()
            )));
        }
        if let Some(i) = values.iter().position(|x| !x.is_finite()) {
            return Err(Error::InvalidArgument(format!(
                "latent {} holds a non-finite value at component {}",
                i / latent_size,
                i % latent_size
            )));
        }
        Ok(Latents {
            latent_size,
            values,
        })
    }

    /// Size of each vector.
    pub fn latent_size(&self) -> usize {
        self.latent_size
    }

    /// Number of vectors.
    pub fn len(&self) -> usize {
        self.values.len() / self.latent_size
    }

    /// True when there is no vector.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Vector `i`.
    pub fn get(&self, i: usize) -> Option<&[f32]> {
        self.values.chunks_exact(self.latent_size).nth(i)
    }

    /// All values, row-major.
    pub fn as_flat(&self) -> &[f32] {
        &self.values
    }

    /// `steps` vectors evenly spaced on the straight line from `a` to `b`, both included.
    pub fn interpolate(a: &[f32], b: &[f32], steps: usize) -> Result<Self> {
        if a.len() != b.len() || a.is_empty() {
            return Err(Error::InvalidArgument(format!(
                "cannot interpolate latents of sizes {} and {}",
                a.len(),
                b.len()
            )));
        }
        if steps < 2 {
            return Err(Error::InvalidArgument(format!(
                "interpolation needs at least 2 steps (both ends), got {steps}"
            )));
        }
        let mut values = Vec::with_capacity(steps * a.len());
        for s in 0..steps {
            let t = s as f32 / (steps - 1) as f32;
            values.extend(a.iter().zip(b).map(|(x, y)| x + t * (y - x)));
        }
        Latents::from_flat(a.len(), values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_and_interpolation() {
        assert!(Latents::from_flat(3, vec![0.0; 4]).is_err());
        assert!(Latents::from_flat(2, vec![0.0, f32::NAN]).is_err());
        let l = Latents::interpolate(&[0.0, 2.0], &[1.0, 0.0], 3).unwrap();
        assert_eq!(l.len(), 3);
        assert_eq!(l.get(1).unwrap(), &[0.5, 1.0]);
        assert_eq!(l.get(2).unwrap(), &[1.0, 0.0]);
        assert!(Latents::interpolate(&[0.0], &[1.0, 2.0], 3).is_err());
    }
}
