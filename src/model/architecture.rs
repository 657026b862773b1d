//! NeSF's architecture (method section 2): the layer widths of every network and where the
//! query point is appended. One description for the whole project: the library checks loaded
//! weights, draws random weights and writes ONNX graphs from it, and the trainer builds its
//! tch modules from it, so an exported model cannot disagree with the one that loads.
//!
//! | network | widths |
//! |---|---|
//! | encoder position branch | 3 -> 64 -> 128 -> 128 |
//! | encoder species branch | V (one-hot) -> 128 -> 128 |
//! | encoder merge | [position 128, species 128] 256 -> 512 (one Linear), max-pool over atoms |
//! | encoder head | [pooled 512, lattice 6] 518 -> 256 -> 256 -> L |
//! | position field | L -> 256 -> 128 (x7) -> 3, the query appended to every layer's input but the last |
//! | species field | L -> 256 -> 128 -> V, likewise |
//! | lattice lengths / angles | L -> 128 -> 3 (Å / radians) |
//!
//! V is the species vocabulary size, L the latent size; the query is the point itself (3
//! values) or, with the positional encoding, sin/cos(pi 2^k x) for k below
//! [`PE_FREQUENCIES`] (60 values, [`Architecture::query_features`]).

/// Latent size of the paper's networks.
pub const LATENT_SIZE: usize = 192;
/// Width of the first layer of both fields, i.e. of the per-latent "terms" W_z · z + b.
pub const FIELD_WIDTH: usize = 256;
/// Size of the pooled per-structure feature of the encoder (the merge layer's output).
pub const POOLED_SIZE: usize = 512;
/// Number of lattice values fed to the encoder head: a, b, c (Å), alpha, beta, gamma (rad).
pub const LATTICE_SIZE: usize = 6;
/// Frequencies of the optional positional encoding: sin/cos(pi 2^k x), k below this.
pub const PE_FREQUENCIES: usize = 10;

/// Width of the encoder's per-atom branches and of the fields' hidden layers after the first.
const HIDDEN: usize = 128;
/// Hidden layers of 128 in the position field.
const POSITION_FIELD_DEPTH: usize = 7;

/// The sizes that fix NeSF's networks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Architecture {
    /// Species vocabulary size V.
    pub vocab: usize,
    /// Latent size L.
    pub latent: usize,
    /// The fields see the positional encoding of the query point instead of the point.
    pub positional_encoding: bool,
}

impl Architecture {
    /// The paper's networks (L = 192, raw query points) for a vocabulary of `vocab` species.
    pub fn paper(vocab: usize) -> Architecture {
        Architecture {
            vocab,
            latent: LATENT_SIZE,
            positional_encoding: false,
        }
    }

    /// Number of query features appended to the fields' layers: 3, or 60 when encoded.
    pub fn query_size(&self) -> usize {
        if self.positional_encoding {
            6 * PE_FREQUENCIES
        } else {
            3
        }
    }

    /// The query features of point `p` (Cartesian Å) that the fields see: `p` itself, or its
    /// positional encoding `[sin(s_0 p), cos(s_0 p), sin(s_1 p), cos(s_1 p), ...]` (each of
    /// the three coordinates, `s_k` = [`pe_scale`]`(k)`, the argument rounded to f32 as the
    /// graphs and the trainer compute it).
    pub fn query_features(&self, p: [f32; 3]) -> Vec<f64> {
        if !self.positional_encoding {
            return p.iter().map(|&v| f64::from(v)).collect();
        }
        let mut q = Vec::with_capacity(self.query_size());
        for k in 0..PE_FREQUENCIES {
            let arg = p.map(|v| f64::from(v * pe_scale(k)));
            q.extend(arg.map(f64::sin));
            q.extend(arg.map(f64::cos));
        }
        q
    }

    /// Widths of the encoder's per-atom position branch.
    pub fn encoder_position(&self) -> Vec<usize> {
        vec![3, 64, HIDDEN, HIDDEN]
    }

    /// Widths of the encoder's per-atom species branch (one-hot input).
    pub fn encoder_species(&self) -> Vec<usize> {
        vec![self.vocab, HIDDEN, HIDDEN]
    }

    /// Widths of the merge layer on the concatenated branch outputs.
    pub fn encoder_merge(&self) -> Vec<usize> {
        vec![2 * HIDDEN, POOLED_SIZE]
    }

    /// Widths of the encoder head on `[pooled, lattice]`, ending in `outputs` values (L; 2L
    /// for a variational encoder's mean and variance).
    pub fn encoder_head(&self, outputs: usize) -> Vec<usize> {
        vec![POOLED_SIZE + LATTICE_SIZE, 256, 256, outputs]
    }

    /// Widths of the position field, from the latent to the displacement.
    pub fn position_field(&self) -> Vec<usize> {
        let mut w = vec![self.latent, FIELD_WIDTH];
        w.extend([HIDDEN; POSITION_FIELD_DEPTH]);
        w.push(3);
        w
    }

    /// Widths of the species field, from the latent to the logits.
    pub fn species_field(&self) -> Vec<usize> {
        vec![self.latent, FIELD_WIDTH, HIDDEN, self.vocab]
    }

    /// Widths of each lattice head (lengths in Å, angles in radians).
    pub fn lattice_head(&self) -> Vec<usize> {
        vec![self.latent, HIDDEN, 3]
    }

    /// The (in, out) shape of every layer of a field of `widths`: the query features are
    /// appended to the input of every layer but the last.
    pub fn field_layers(&self, widths: &[usize]) -> Vec<(usize, usize)> {
        let n = widths.len().saturating_sub(1);
        (0..n)
            .map(|k| {
                let query = if k + 1 < n { self.query_size() } else { 0 };
                (widths[k] + query, widths[k + 1])
            })
            .collect()
    }

    /// The (in, out) shape of every layer of the networks [`NETWORKS`] names, in that order
    /// (the encoder head ending in L values).
    pub fn layers(&self) -> [Vec<(usize, usize)>; 8] {
        [
            mlp_layers(&self.encoder_position()),
            mlp_layers(&self.encoder_species()),
            mlp_layers(&self.encoder_merge()),
            mlp_layers(&self.encoder_head(self.latent)),
            self.field_layers(&self.position_field()),
            self.field_layers(&self.species_field()),
            mlp_layers(&self.lattice_head()),
            mlp_layers(&self.lattice_head()),
        ]
    }
}

/// Names of NeSF's networks, in the order of [`Architecture::layers`].
pub const NETWORKS: [&str; 8] = [
    "encoder.position",
    "encoder.species",
    "encoder.merge",
    "encoder.head",
    "position_field",
    "species_field",
    "lattice_lengths",
    "lattice_angles",
];

/// The scale of frequency `k` of the positional encoding, `pi 2^k`, as the f32 every
/// implementation multiplies the points by.
pub fn pe_scale(k: usize) -> f32 {
    (std::f64::consts::PI * (1u64 << k) as f64) as f32
}

/// The (in, out) shape of every layer of a plain MLP of `widths`.
pub fn mlp_layers(widths: &[usize]) -> Vec<(usize, usize)> {
    widths.windows(2).map(|w| (w[0], w[1])).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_papers_shapes() {
        let a = Architecture::paper(80);
        let layers = a.layers();
        assert_eq!(layers[4].len(), 9);
        assert_eq!(layers[4][0], (195, 256));
        assert_eq!(layers[4][1], (259, 128));
        assert_eq!(layers[4][2], (131, 128));
        assert_eq!(layers[4][8], (128, 3));
        assert_eq!(layers[5], vec![(195, 256), (259, 128), (128, 80)]);
        assert_eq!(layers[3][0], (518, 256));
        let parameters: usize = layers.iter().flatten().map(|(i, o)| (i + 1) * o).sum();
        assert_eq!(parameters, 760_729); // the paper's 0.76 M
        let pe = Architecture {
            positional_encoding: true,
            ..a
        };
        assert_eq!(pe.layers()[4][0], (252, 256));
        assert_eq!(pe.layers()[4][8], (128, 3));
    }

    #[test]
    fn query_features_are_the_point_or_its_encoding() {
        let p = [0.25f32, -1.0, 2.0];
        assert_eq!(
            Architecture::paper(3).query_features(p),
            vec![0.25, -1.0, 2.0]
        );
        let pe = Architecture {
            positional_encoding: true,
            ..Architecture::paper(3)
        };
        let q = pe.query_features(p);
        assert_eq!(q.len(), 60);
        // k = 0: sin(pi x) then cos(pi x) for x, y, z
        assert!(
            (q[0] - std::f64::consts::FRAC_1_SQRT_2).abs() < 1e-6,
            "{q:?}"
        );
        assert!((q[3] - (std::f64::consts::PI * 0.25).cos()).abs() < 1e-6);
        assert!((q[4] + 1.0).abs() < 1e-6 && (q[5] - 1.0).abs() < 1e-6);
        // k = 1: sin(2 pi x) at x = 0.25 is 1
        assert!((q[6] - 1.0).abs() < 1e-6);
        assert_eq!(pe_scale(3), (8.0 * std::f64::consts::PI) as f32);
    }
}
