//! Folding BatchNorm into the Linear layers: the trained tch model (eval mode) becomes the
//! library's plain [`NesfWeights`] (Linear -> ReLU between layers, plain Linear at the end).
//!
//! A block is Linear -> ReLU -> BatchNorm, so BatchNorm acts on the *input* of the next layer:
//! `BN(r) = s ⊙ r + t` with `s = gamma / sqrt(var + eps)`, `t = beta - mean · s`, and the next
//! layer `W [BN(r), q] + b` equals `W' [r, q] + b'` with `W'_h = W_h diag(s)` on the hidden
//! columns only (the appended query-point columns stay as they are) and `b' = b + W_h t`.
//! Dropout is the identity in eval mode. The VAE exports its mean (the first L outputs of the
//! encoder head).

use anyhow::Result;
use nesf::model::{EncoderWeights, Linear, NesfWeights};
use tch::{Device, Kind, Tensor};

use crate::model::{Bn, FieldNet, Lin, Mlp, Nesf, BN_EPS};

fn to_vec(t: &Tensor) -> Vec<f64> {
    let t = t
        .detach()
        .to_device(Device::Cpu)
        .to_kind(Kind::Double)
        .contiguous();
    Vec::<f64>::try_from(t.view([-1])).expect("a float tensor")
}

/// A Linear in f64 while folding: `[out][in]` weight and bias.
#[derive(Debug, Clone)]
struct Plain {
    in_dim: usize,
    out_dim: usize,
    w: Vec<f64>,
    b: Vec<f64>,
}

impl Plain {
    fn of(l: &Lin) -> Plain {
        let (i, o) = l.shape();
        Plain {
            in_dim: i as usize,
            out_dim: o as usize,
            w: to_vec(&l.w),
            b: to_vec(&l.b),
        }
    }

    /// Folds a BatchNorm acting on input columns `0..bn.len()` into this layer.
    fn fold_input(&mut self, bn: &Bn) {
        let gamma = to_vec(&bn.weight);
        let beta = to_vec(&bn.bias);
        let mean = to_vec(&bn.mean);
        let var = to_vec(&bn.var);
        let n = gamma.len();
        assert!(
            n <= self.in_dim,
            "BatchNorm wider than the next layer's input"
        );
        let s: Vec<f64> = (0..n)
            .map(|k| gamma[k] / (var[k] + BN_EPS).sqrt())
            .collect();
        let t: Vec<f64> = (0..n).map(|k| beta[k] - mean[k] * s[k]).collect();
        for o in 0..self.out_dim {
            let row = &mut self.w[o * self.in_dim..o * self.in_dim + n];
            let mut shift = 0.0;
            for k in 0..n {
                shift += row[k] * t[k];
                row[k] *= s[k];
            }
            self.b[o] += shift;
        }
    }

    /// Keeps output rows `0..rows` only.
    fn first_rows(mut self, rows: usize) -> Plain {
        self.w.truncate(rows * self.in_dim);
        self.b.truncate(rows);
        self.out_dim = rows;
        self
    }

    fn to_linear(&self) -> Linear {
        Linear {
            in_dim: self.in_dim,
            out_dim: self.out_dim,
            weight: self.w.iter().map(|&v| v as f32).collect(),
            bias: self.b.iter().map(|&v| v as f32).collect(),
        }
    }
}

/// Folds the BatchNorms of a chain of layers (BN `k` after layer `k`) into layer `k + 1`.
fn fold_chain(layers: &[Lin], bns: &[Bn]) -> Vec<Plain> {
    let mut out: Vec<Plain> = layers.iter().map(Plain::of).collect();
    for (k, bn) in bns.iter().enumerate() {
        out[k + 1].fold_input(bn);
    }
    out
}

fn fold_mlp(m: &Mlp) -> Vec<Plain> {
    fold_chain(&m.layers, &m.bns)
}

fn fold_field(f: &FieldNet) -> Vec<Plain> {
    fold_chain(&f.layers, &f.bns)
}

fn linears(p: &[Plain]) -> Vec<Linear> {
    p.iter().map(Plain::to_linear).collect()
}

/// The model's weights with every BatchNorm folded (eval mode), as the library's type.
pub fn fold(model: &Nesf) -> Result<NesfWeights> {
    let e = &model.encoder;
    let mut head = fold_mlp(&e.head);
    if model.config.vae {
        let last = head.pop().expect("the head has layers");
        head.push(last.first_rows(model.config.latent));
    }
    let weights = NesfWeights {
        encoder: EncoderWeights {
            position: linears(&fold_mlp(&e.position)),
            species: linears(&fold_mlp(&e.species)),
            merge: Plain::of(&e.merge).to_linear(),
            head: linears(&head),
        },
        position_field: linears(&fold_field(&model.position_field)),
        species_field: linears(&fold_field(&model.species_field)),
        lattice_lengths: linears(&fold_mlp(&model.lengths)),
        lattice_angles: linears(&fold_mlp(&model.angles)),
        positional_encoding: model.config.positional_encoding,
    };
    weights.validate()?;
    Ok(weights)
}
