//! Plain weights of NeSF's networks (method section 2) and a reference forward pass in Rust.
//!
//! BatchNorm is already folded into the Linear layers. Every MLP is Linear -> ReLU between
//! layers and a plain Linear at the end. Layouts follow PyTorch: a [`Linear`] weight is
//! `[out][in]` row-major. Wherever a query point (or the lattice) is concatenated to a layer's
//! input, the running features come first and the appended values last:
//!
//! The layer shapes are those of [`Architecture`] (the query features appended: the raw point,
//! 3 values, or its positional encoding, 60); the lattice input of the encoder head is
//! `[a, b, c, alpha, beta, gamma]` with angles in radians.

use super::architecture::{Architecture, NETWORKS};
use crate::error::{Error, Result};
use crate::rng::SplitMix64;

pub use super::architecture::{FIELD_WIDTH, LATENT_SIZE, LATTICE_SIZE, POOLED_SIZE};

/// A fully connected layer `y = W x + b`.
#[derive(Debug, Clone, PartialEq)]
pub struct Linear {
    /// Input size.
    pub in_dim: usize,
    /// Output size.
    pub out_dim: usize,
    /// Weights, `[out_dim][in_dim]` row-major (PyTorch layout).
    pub weight: Vec<f32>,
    /// Biases, `out_dim` values.
    pub bias: Vec<f32>,
}

/// Floating-point operations per query point of a field's `layers` (multiply-adds count two),
/// without the latent's share of the first layer, which is computed once per structure: the
/// first layer counts only its 3 point inputs.
pub fn field_flops_per_point(layers: &[Linear]) -> f64 {
    layers
        .iter()
        .enumerate()
        .map(|(k, l)| {
            let inputs = if k == 0 { 3 } else { l.in_dim };
            2.0 * (inputs * l.out_dim) as f64
        })
        .sum()
}

impl Linear {
    /// A layer initialised like PyTorch's default: weights and biases uniform in
    /// `(-1/sqrt(in_dim), 1/sqrt(in_dim))`, drawn from `rng` (weights row by row, then biases).
    pub fn random(in_dim: usize, out_dim: usize, rng: &mut SplitMix64) -> Linear {
        let bound = 1.0 / (in_dim.max(1) as f64).sqrt();
        let mut draw = |n: usize| -> Vec<f32> {
            (0..n)
                .map(|_| ((rng.next_f64() * 2.0 - 1.0) * bound) as f32)
                .collect()
        };
        let weight = draw(in_dim * out_dim);
        let bias = draw(out_dim);
        Linear {
            in_dim,
            out_dim,
            weight,
            bias,
        }
    }

    /// The columns `range` of the weight matrix, as an `[out_dim][range.len()]` row-major matrix.
    pub fn weight_columns(&self, range: std::ops::Range<usize>) -> Result<Vec<f32>> {
        if range.start > range.end || range.end > self.in_dim {
            return Err(Error::Model(format!(
                "columns {range:?} of a layer with {} inputs",
                self.in_dim
            )));
        }
        self.check_lengths("layer")?;
        Ok(self
            .weight
            .chunks_exact(self.in_dim)
            .flat_map(|row| row[range.clone()].iter().copied())
            .collect())
    }

    /// The weight matrix transposed, `[in_dim][out_dim]` row-major.
    pub fn weight_transposed(&self) -> Result<Vec<f32>> {
        self.check_lengths("layer")?;
        let mut t = vec![0.0; self.weight.len()];
        for (o, row) in self.weight.chunks_exact(self.in_dim.max(1)).enumerate() {
            for (i, &w) in row.iter().enumerate() {
                t[i * self.out_dim + o] = w;
            }
        }
        Ok(t)
    }

    fn check_lengths(&self, name: &str) -> Result<()> {
        if self.in_dim.checked_mul(self.out_dim) != Some(self.weight.len()) {
            return Err(Error::Model(format!(
                "{name}: {} -> {} needs {} weights, found {}",
                self.in_dim,
                self.out_dim,
                self.in_dim.saturating_mul(self.out_dim),
                self.weight.len()
            )));
        }
        if self.bias.len() != self.out_dim {
            return Err(Error::Model(format!(
                "{name}: {} outputs need {} biases, found {}",
                self.out_dim,
                self.out_dim,
                self.bias.len()
            )));
        }
        Ok(())
    }

    /// `W x + b` with f64 accumulation; the caller has checked the shapes.
    fn apply(&self, x: &[f64]) -> Vec<f64> {
        self.weight
            .chunks_exact(self.in_dim.max(1))
            .zip(&self.bias)
            .map(|(row, &b)| {
                row.iter()
                    .zip(x)
                    .fold(b as f64, |acc, (&w, &v)| acc + w as f64 * v)
            })
            .collect()
    }
}

/// Weights of the PointNet-style encoder (structure -> latent).
#[derive(Debug, Clone, PartialEq)]
pub struct EncoderWeights {
    /// Per-atom position branch: 3 -> 64 -> 128 -> 128.
    pub position: Vec<Linear>,
    /// Per-atom species branch: one-hot V -> 128 -> 128.
    pub species: Vec<Linear>,
    /// Single plain Linear on [position, species] features: 256 -> 512; max-pooled after it.
    pub merge: Linear,
    /// Head on [pooled, lattice]: 518 -> 256 -> 256 -> L.
    pub head: Vec<Linear>,
}

/// All weights of a NeSF model: encoder, the two fields and the two lattice heads.
#[derive(Debug, Clone, PartialEq)]
pub struct NesfWeights {
    /// The encoder.
    pub encoder: EncoderWeights,
    /// Position field, 9 layers: L+3 -> 256, 259 -> 128, 131 -> 128 (x6), 128 -> 3.
    pub position_field: Vec<Linear>,
    /// Species field, 3 layers: L+3 -> 256, 259 -> 128, 128 -> V.
    pub species_field: Vec<Linear>,
    /// Lattice lengths head (Å): L -> 128 -> 3.
    pub lattice_lengths: Vec<Linear>,
    /// Lattice angles head (radians): L -> 128 -> 3.
    pub lattice_angles: Vec<Linear>,
    /// The fields take the positional encoding of the query point (60 values) instead of the
    /// point (3): their layers are then 57 inputs wider.
    pub positional_encoding: bool,
}

impl NesfWeights {
    /// Random weights with the paper's architecture for `vocab_size` species and latents of
    /// `latent_size`, initialised like PyTorch's Linear default; deterministic in `seed`.
    pub fn random(vocab_size: usize, latent_size: usize, seed: u64) -> Result<NesfWeights> {
        let architecture = Architecture {
            latent: latent_size,
            ..Architecture::paper(vocab_size)
        };
        NesfWeights::random_for(&architecture, seed)
    }

    /// Random weights of `architecture` (e.g. the positional-encoding variant), initialised
    /// like PyTorch's Linear default; deterministic in `seed`.
    pub fn random_for(architecture: &Architecture, seed: u64) -> Result<NesfWeights> {
        let (vocab_size, latent_size) = (architecture.vocab, architecture.latent);
        if vocab_size == 0 || latent_size == 0 {
            return Err(Error::InvalidArgument(format!(
                "random NeSF weights need a vocabulary and a latent size of at least 1, \
                 got {vocab_size} and {latent_size}"
            )));
        }
        let mut rng = SplitMix64::new(seed);
        let mut nets = architecture.layers().map(|shapes| {
            shapes
                .into_iter()
                .map(|(i, o)| Linear::random(i, o, &mut rng))
                .collect::<Vec<_>>()
        });
        let mut take = |k: usize| std::mem::take(&mut nets[k]);
        let (position, species, mut merge, head) = (take(0), take(1), take(2), take(3));
        let (position_field, species_field) = (take(4), take(5));
        let (lattice_lengths, lattice_angles) = (take(6), take(7));
        let merge = merge
            .pop()
            .ok_or_else(|| Error::Model("no merge layer".into()))?;
        Ok(NesfWeights {
            encoder: EncoderWeights {
                position,
                species,
                merge,
                head,
            },
            position_field,
            species_field,
            lattice_lengths,
            lattice_angles,
            positional_encoding: architecture.positional_encoding,
        })
    }

    /// The architecture these weights are meant to have (the vocabulary and latent sizes read
    /// off the encoder).
    pub fn architecture(&self) -> Architecture {
        Architecture {
            vocab: self.vocab_size(),
            latent: self.latent_size(),
            positional_encoding: self.positional_encoding,
        }
    }

    /// Size of the species vocabulary (input size of the encoder's species branch).
    pub fn vocab_size(&self) -> usize {
        self.encoder.species.first().map_or(0, |l| l.in_dim)
    }

    /// Size of the latent vector (output size of the encoder head).
    pub fn latent_size(&self) -> usize {
        self.encoder.head.last().map_or(0, |l| l.out_dim)
    }

    /// Number of weights and biases in all networks.
    pub fn parameter_count(&self) -> usize {
        self.networks()
            .iter()
            .flat_map(|net| net.iter())
            .map(|l| l.weight.len() + l.bias.len())
            .sum()
    }

    fn networks(&self) -> [Vec<&Linear>; 8] {
        fn refs(layers: &[Linear]) -> Vec<&Linear> {
            layers.iter().collect()
        }
        [
            refs(&self.encoder.position),
            refs(&self.encoder.species),
            vec![&self.encoder.merge],
            refs(&self.encoder.head),
            refs(&self.position_field),
            refs(&self.species_field),
            refs(&self.lattice_lengths),
            refs(&self.lattice_angles),
        ]
    }

    /// Checks every layer's shape against the architecture (for this model's vocabulary and
    /// latent sizes) and the lengths of its weight and bias vectors. Cheap: no value is read.
    pub fn check_shapes(&self) -> Result<()> {
        let (vocab, latent) = (self.vocab_size(), self.latent_size());
        if vocab == 0 || latent == 0 {
            return Err(Error::Model(format!(
                "NeSF weights: vocabulary size {vocab} and latent size {latent} must be at least 1"
            )));
        }
        let expected = self.architecture().layers();
        for ((name, layers), shapes) in NETWORKS.iter().zip(self.networks()).zip(expected) {
            if layers.len() != shapes.len() {
                return Err(Error::Model(format!(
                    "{name}: expected {} layers, found {}",
                    shapes.len(),
                    layers.len()
                )));
            }
            for (k, (layer, (i, o))) in layers.iter().zip(shapes).enumerate() {
                let label = format!("{name} layer {} of {}", k + 1, layers.len());
                if (layer.in_dim, layer.out_dim) != (i, o) {
                    return Err(Error::Model(format!(
                        "{label}: expected {i} -> {o}, found {} -> {}",
                        layer.in_dim, layer.out_dim
                    )));
                }
                layer.check_lengths(&label)?;
            }
        }
        Ok(())
    }

    /// [`NesfWeights::check_shapes`], plus: every weight and bias is finite.
    pub fn validate(&self) -> Result<()> {
        self.check_shapes()?;
        for (name, layers) in NETWORKS.iter().zip(self.networks()) {
            for (k, layer) in layers.iter().enumerate() {
                if let Some(v) = layer
                    .weight
                    .iter()
                    .chain(&layer.bias)
                    .find(|v| !v.is_finite())
                {
                    return Err(Error::Model(format!(
                        "{name} layer {} of {}: non-finite parameter {v}",
                        k + 1,
                        layers.len()
                    )));
                }
            }
        }
        Ok(())
    }

    /// Reference encoder for a batch of structures: `positions[s]` (Cartesian, Å),
    /// `species[s]` (vocabulary classes) and `lattice[s]` (a, b, c in Å, angles in radians)
    /// of each structure `s`; returns one latent vector per structure.
    pub fn encode(
        &self,
        positions: &[Vec<[f32; 3]>],
        species: &[Vec<usize>],
        lattice: &[[f32; 6]],
    ) -> Result<Vec<Vec<f32>>> {
        if positions.len() != species.len() || positions.len() != lattice.len() {
            return Err(Error::InvalidArgument(format!(
                "encode: {} position lists, {} species lists and {} lattices",
                positions.len(),
                species.len(),
                lattice.len()
            )));
        }
        self.check_shapes()?;
        (0..positions.len())
            .map(|s| {
                check_structure(&positions[s], &species[s], &lattice[s], self.vocab_size())
                    .map_err(|m| Error::InvalidArgument(format!("structure {s}: {m}")))?;
                self.encode_structure(&positions[s], &species[s], lattice[s])
            })
            .collect()
    }

    /// Reference encoder for one structure; see [`NesfWeights::encode`].
    pub fn encode_structure(
        &self,
        positions: &[[f32; 3]],
        species: &[usize],
        lattice: [f32; 6],
    ) -> Result<Vec<f32>> {
        self.check_shapes()?;
        check_structure(positions, species, &lattice, self.vocab_size())
            .map_err(Error::InvalidArgument)?;
        let enc = &self.encoder;
        let mut pooled = vec![f64::NEG_INFINITY; enc.merge.out_dim];
        for (p, &class) in positions.iter().zip(species) {
            let mut one_hot = vec![0.0; self.vocab_size()];
            one_hot[class] = 1.0;
            let mut features = mlp(&enc.position, to_f64(p));
            features.extend(mlp(&enc.species, one_hot));
            for (m, v) in pooled.iter_mut().zip(enc.merge.apply(&features)) {
                *m = m.max(v);
            }
        }
        pooled.extend(lattice.iter().map(|&v| v as f64));
        Ok(to_f32(&mlp(&enc.head, pooled)))
    }

    /// Reference position field: the displacement from query point `p` to its nearest atom,
    /// for the structure with latent `z`.
    pub fn position_field(&self, z: &[f32], p: [f32; 3]) -> Result<[f32; 3]> {
        self.check_field_inputs(z, &p)?;
        let q = self.architecture().query_features(p);
        let out = field(&self.position_field, z, &q);
        Ok([out[0] as f32, out[1] as f32, out[2] as f32])
    }

    /// Reference species field: logits over the vocabulary at query point `p`.
    pub fn species_field(&self, z: &[f32], p: [f32; 3]) -> Result<Vec<f32>> {
        self.check_field_inputs(z, &p)?;
        let q = self.architecture().query_features(p);
        Ok(to_f32(&field(&self.species_field, z, &q)))
    }

    /// Reference lattice heads: `([a, b, c] in Å, [alpha, beta, gamma] in radians)`.
    pub fn lattice(&self, z: &[f32]) -> Result<([f32; 3], [f32; 3])> {
        self.check_field_inputs(z, &[0.0; 3])?;
        let lengths = mlp(&self.lattice_lengths, to_f64(z));
        let angles = mlp(&self.lattice_angles, to_f64(z));
        let three = |v: &[f64]| [v[0] as f32, v[1] as f32, v[2] as f32];
        Ok((three(&lengths), three(&angles)))
    }

    fn check_field_inputs(&self, z: &[f32], p: &[f32; 3]) -> Result<()> {
        self.check_shapes()?;
        if z.len() != self.latent_size() {
            return Err(Error::InvalidArgument(format!(
                "latent of {} values, the model expects {}",
                z.len(),
                self.latent_size()
            )));
        }
        if !z.iter().chain(p).all(|v| v.is_finite()) {
            return Err(Error::InvalidArgument(
                "non-finite value in a latent or query point".into(),
            ));
        }
        Ok(())
    }
}

/// Checks one structure's encoder inputs: matching lengths, at least one atom, classes inside
/// the vocabulary, finite numbers. Returns what is wrong.
pub(crate) fn check_structure(
    positions: &[[f32; 3]],
    species: &[usize],
    lattice: &[f32; 6],
    vocab: usize,
) -> std::result::Result<(), String> {
    if positions.len() != species.len() {
        return Err(format!(
            "{} positions but {} species",
            positions.len(),
            species.len()
        ));
    }
    if positions.is_empty() {
        return Err("a structure without atoms".into());
    }
    if let Some((atom, class)) = species.iter().enumerate().find(|(_, &c)| c >= vocab) {
        return Err(format!(
            "atom {atom}: species class {class} outside the vocabulary of {vocab}"
        ));
    }
    if let Some(atom) = positions
        .iter()
        .position(|p| !p.iter().all(|v| v.is_finite()))
    {
        return Err(format!("atom {atom}: non-finite position"));
    }
    if !lattice.iter().all(|v| v.is_finite()) {
        return Err("non-finite lattice value".into());
    }
    Ok(())
}

/// An MLP: Linear -> ReLU between layers, plain Linear at the end.
fn mlp(layers: &[Linear], mut x: Vec<f64>) -> Vec<f64> {
    for (k, layer) in layers.iter().enumerate() {
        x = layer.apply(&x);
        if k + 1 < layers.len() {
            relu(&mut x);
        }
    }
    x
}

/// A field MLP: the query features `q` are appended to the input of every layer except the
/// last.
fn field(layers: &[Linear], z: &[f32], q: &[f64]) -> Vec<f64> {
    let mut h = to_f64(z);
    for (k, layer) in layers.iter().enumerate() {
        let last = k + 1 == layers.len();
        if !last {
            h.extend_from_slice(q);
        }
        h = layer.apply(&h);
        if !last {
            relu(&mut h);
        }
    }
    h
}

fn relu(x: &mut [f64]) {
    x.iter_mut().for_each(|v| *v = v.max(0.0));
}

fn to_f64(x: &[f32]) -> Vec<f64> {
    x.iter().map(|&v| v as f64).collect()
}

fn to_f32(x: &[f64]) -> Vec<f32> {
    x.iter().map(|&v| v as f32).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_weights_have_the_paper_architecture() {
        let w = NesfWeights::random(80, LATENT_SIZE, 7).unwrap();
        w.validate().unwrap();
        assert_eq!((w.vocab_size(), w.latent_size()), (80, 192));
        assert_eq!(w.position_field.len(), 9);
        assert_eq!(w.position_field[0].in_dim, 195);
        assert_eq!(w.position_field[8].in_dim, 128);
        // The paper reports 0.76 M parameters (BatchNorm excluded).
        assert_eq!(w.parameter_count(), 760_729);
        assert_eq!(w, NesfWeights::random(80, LATENT_SIZE, 7).unwrap());
        assert_ne!(w, NesfWeights::random(80, LATENT_SIZE, 8).unwrap());
        let bound = 1.0 / (195f32).sqrt();
        assert!(w.position_field[0].weight.iter().all(|v| v.abs() <= bound));
        assert!(NesfWeights::random(0, 192, 1).is_err());
    }

    #[test]
    fn validation_names_the_bad_layer() {
        let mut w = NesfWeights::random(5, 16, 1).unwrap();
        w.position_field[3].out_dim = 64;
        let err = w.validate().unwrap_err().to_string();
        assert!(err.contains("position_field layer 4 of 9"), "{err}");

        let mut w = NesfWeights::random(5, 16, 1).unwrap();
        w.species_field[1].bias.pop();
        let err = w.validate().unwrap_err().to_string();
        assert!(
            err.contains("species_field layer 2 of 3") && err.contains("biases"),
            "{err}"
        );

        let mut w = NesfWeights::random(5, 16, 1).unwrap();
        w.lattice_angles.pop();
        assert!(w
            .validate()
            .unwrap_err()
            .to_string()
            .contains("lattice_angles"));

        let mut w = NesfWeights::random(5, 16, 1).unwrap();
        w.encoder.merge.weight[3] = f32::NAN;
        let err = w.validate().unwrap_err().to_string();
        assert!(err.contains("encoder.merge layer 1 of 1"), "{err}");
        assert!(w.check_shapes().is_ok());
    }

    #[test]
    fn linear_layout_is_out_by_in() {
        let l = Linear {
            in_dim: 2,
            out_dim: 3,
            weight: vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
            bias: vec![0.5, 0.0, -1.0],
        };
        assert_eq!(l.apply(&[1.0, 10.0]), vec![21.5, 43.0, 64.0]);
        assert_eq!(
            l.weight_transposed().unwrap(),
            vec![1.0, 3.0, 5.0, 2.0, 4.0, 6.0]
        );
        assert_eq!(l.weight_columns(1..2).unwrap(), vec![2.0, 4.0, 6.0]);
        assert!(l.weight_columns(1..3).is_err());
    }

    #[test]
    fn reference_passes_check_their_inputs() {
        let w = NesfWeights::random(4, 8, 3).unwrap();
        let z = vec![0.1; 8];
        assert_eq!(w.species_field(&z, [0.0, 1.0, 2.0]).unwrap().len(), 4);
        assert!(w.position_field(&z[..7], [0.0; 3]).is_err());
        assert!(w.position_field(&z, [f32::NAN, 0.0, 0.0]).is_err());
        let lat = [3.0, 3.0, 3.0, 1.5, 1.5, 1.5];
        let ok = w.encode(&[vec![[0.0; 3]]], &[vec![3]], &[lat]).unwrap();
        assert_eq!(ok[0].len(), 8);
        let err = w
            .encode(
                &[vec![[0.0; 3]], vec![[0.0; 3]]],
                &[vec![0], vec![4]],
                &[lat, lat],
            )
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("structure 1") && err.contains("class 4"),
            "{err}"
        );
        assert!(w.encode(&[vec![]], &[vec![]], &[lat]).is_err());
        assert!(w.encode(&[vec![[0.0; 3]]], &[vec![0, 1]], &[lat]).is_err());
    }

    #[test]
    fn encoder_is_invariant_to_atom_order_and_duplicates() {
        let w = NesfWeights::random(6, 12, 5).unwrap();
        let lat = [4.0, 4.5, 5.0, 1.4, 1.5, 1.6];
        let p = vec![[0.0, 0.5, 1.0], [2.0, 1.0, 0.0], [3.0, 3.0, 1.0]];
        let s = vec![0, 5, 2];
        let z = w.encode_structure(&p, &s, lat).unwrap();
        let p2 = vec![p[2], p[0], p[1], p[0]];
        let s2 = vec![s[2], s[0], s[1], s[0]];
        assert_eq!(z, w.encode_structure(&p2, &s2, lat).unwrap());
    }
}
