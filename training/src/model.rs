//! NeSF's networks in tch, built from the library's architecture description
//! ([`nesf::model::Architecture`]: every width, and where the query point is appended), as
//! method section 2:
//!
//! - MLP block = Linear -> ReLU -> BatchNorm1d (-> Dropout where listed); the last layer of every
//!   MLP is a plain Linear.
//! - Encoder: per-atom position and species branches, one merge Linear (the dropout the
//!   reference configuration lists for it never applies), max-pool over each structure's atoms,
//!   then the head on `[pooled, lattice (rad)]` with dropout 0.3 after its two hidden blocks
//!   (VAE: 2L outputs, mean and softplus variance).
//! - Fields: the query (point or positional encoding) appended to every layer but the last.
//! - Lattice heads: plain MLPs (no BatchNorm).
//!
//! The concatenation order (running features first, appended values last) and the `[out][in]`
//! weight layout are those of the library's `NesfWeights`, so that after folding BatchNorm
//! (see [`crate::fold`]) every Linear maps 1:1 onto it.
//!
//! The fields' first layer is evaluated as `W_z · z` once per structure plus `W_q · q` per point
//! (method section 2, efficiency note): the same function as a Linear on `[z, q]`, with about a
//! quarter less work. The next layers compute `W_h · h + W_q · q + b` rather than a Linear on the
//! concatenation `[h, q]`: the same function again, without the copy, and with a contiguous
//! gradient for the BatchNorm before it (on the CPU, BatchNorm's backward on the strided
//! gradient that a concatenation hands back is ~10x slower; that made a training step ~2x
//! slower in PyTorch and tch alike).

use std::collections::BTreeMap;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Tensor};

use nesf::model::architecture::{mlp_layers, pe_scale, PE_FREQUENCIES};
use nesf::model::{Architecture, Linear};

use crate::data::{DeviceBatch, KIND};
use crate::recipe::LossWeights;
use crate::rng::{Rng, Stream};

/// Weight of the VAE's KL divergence.
pub const WEIGHT_KL: f64 = 0.001;

/// BatchNorm1d settings (PyTorch defaults).
pub const BN_EPS: f64 = 1e-5;
/// BatchNorm1d running-statistics momentum (PyTorch default).
pub const BN_MOMENTUM: f64 = 0.1;
/// Dropout of the encoder head's hidden blocks (the reference; a run's recipe may change it).
pub const HEAD_DROPOUT: f64 = 0.3;

/// Everything that fixes the networks' shapes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelConfig {
    /// Species vocabulary size V.
    pub vocab: usize,
    /// Latent size L (192 in the paper).
    pub latent: usize,
    /// Feed the fields sin/cos(pi 2^k x), k = 0..9 (60 values) instead of the raw point.
    pub positional_encoding: bool,
    /// Variational encoder (mean and softplus variance, KL weight 0.001).
    pub vae: bool,
}

impl ModelConfig {
    /// The paper's model for a vocabulary of `vocab` species.
    pub fn paper(vocab: usize) -> ModelConfig {
        ModelConfig {
            vocab,
            latent: 192,
            positional_encoding: false,
            vae: false,
        }
    }

    /// The library's description of these networks.
    pub fn architecture(&self) -> Architecture {
        Architecture {
            vocab: self.vocab,
            latent: self.latent,
            positional_encoding: self.positional_encoding,
        }
    }
}

/// Named tensors of a model: trainable parameters and BatchNorm running statistics.
#[derive(Debug, Default)]
pub struct Params {
    entries: Vec<(String, Tensor, bool)>,
}

impl Params {
    fn add(&mut self, name: String, t: Tensor, trainable: bool) -> Tensor {
        let t = if trainable {
            t.set_requires_grad(true)
        } else {
            t
        };
        self.entries.push((name, t.shallow_clone(), trainable));
        t
    }

    /// Every tensor with its name and whether it is trained by the optimizer.
    pub fn entries(&self) -> &[(String, Tensor, bool)] {
        &self.entries
    }

    /// The trainable parameters with their names.
    pub fn trainable(&self) -> Vec<(String, Tensor)> {
        self.entries
            .iter()
            .filter(|e| e.2)
            .map(|e| (e.0.clone(), e.1.shallow_clone()))
            .collect()
    }

    /// Number of trainable values.
    pub fn trainable_count(&self) -> i64 {
        self.entries
            .iter()
            .filter(|e| e.2)
            .map(|e| e.1.numel() as i64)
            .sum()
    }

    /// Overwrites every tensor from `source` (by name); fails on a missing name or a shape
    /// mismatch.
    pub fn load(&self, source: &BTreeMap<String, Tensor>) -> Result<()> {
        tch::no_grad(|| -> Result<()> {
            for (name, t, _) in &self.entries {
                let s = source
                    .get(name)
                    .with_context(|| format!("checkpoint lacks tensor {name}"))?;
                if s.size() != t.size() {
                    bail!(
                        "tensor {name}: checkpoint has shape {:?}, the model {:?}",
                        s.size(),
                        t.size()
                    );
                }
                t.shallow_clone().copy_(s);
            }
            Ok(())
        })
    }
}

/// A Linear layer, `y = x W^T + b`, weight `[out][in]`.
#[derive(Debug)]
pub struct Lin {
    /// `[out][in]`.
    pub w: Tensor,
    /// `[out]`.
    pub b: Tensor,
}

impl Lin {
    fn new(p: &mut Params, name: &str, i: usize, o: usize, rng: &mut Rng, device: Device) -> Lin {
        // the library's initialisation (PyTorch's default) from the trainer's stream
        let l = Linear::random(i, o, rng.splitmix());
        let w = Tensor::from_slice(&l.weight)
            .view([o as i64, i as i64])
            .to_device(device);
        let b = Tensor::from_slice(&l.bias).to_device(device);
        Lin {
            w: p.add(format!("{name}.weight"), w, true),
            b: p.add(format!("{name}.bias"), b, true),
        }
    }

    /// `x W^T + b`.
    pub fn forward(&self, x: &Tensor) -> Tensor {
        x.linear(&self.w, Some(&self.b))
    }

    /// (in, out).
    pub fn shape(&self) -> (i64, i64) {
        let s = self.w.size();
        (s[1], s[0])
    }
}

/// BatchNorm1d with affine parameters and running statistics.
#[derive(Debug)]
pub struct Bn {
    /// Scale gamma.
    pub weight: Tensor,
    /// Shift beta.
    pub bias: Tensor,
    /// Running mean.
    pub mean: Tensor,
    /// Running (unbiased) variance.
    pub var: Tensor,
}

impl Bn {
    fn new(p: &mut Params, name: &str, n: usize, device: Device) -> Bn {
        let opts = (KIND, device);
        Bn {
            weight: p.add(
                format!("{name}.weight"),
                Tensor::ones([n as i64], opts),
                true,
            ),
            bias: p.add(
                format!("{name}.bias"),
                Tensor::zeros([n as i64], opts),
                true,
            ),
            mean: p.add(
                format!("{name}.running_mean"),
                Tensor::zeros([n as i64], opts),
                false,
            ),
            var: p.add(
                format!("{name}.running_var"),
                Tensor::ones([n as i64], opts),
                false,
            ),
        }
    }

    /// Batch statistics (and a running-statistics update) when `train`, running statistics
    /// otherwise.
    pub fn forward(&self, x: &Tensor, train: bool) -> Tensor {
        x.batch_norm(
            Some(&self.weight),
            Some(&self.bias),
            Some(&self.mean),
            Some(&self.var),
            train,
            BN_MOMENTUM,
            BN_EPS,
            true,
        )
    }
}

/// An MLP: (Linear -> ReLU [-> BatchNorm] [-> Dropout]) blocks, then a plain Linear.
#[derive(Debug)]
pub struct Mlp {
    /// The Linear layers.
    pub layers: Vec<Lin>,
    /// BatchNorm after each hidden block (empty when the MLP has none).
    pub bns: Vec<Bn>,
    /// Dropout probability after each hidden block (0: none).
    pub dropout: f64,
}

impl Mlp {
    fn new(
        p: &mut Params,
        name: &str,
        widths: &[usize],
        bn: bool,
        dropout: f64,
        rng: &mut Rng,
        device: Device,
    ) -> Mlp {
        let layers = mlp_layers(widths)
            .into_iter()
            .enumerate()
            .map(|(k, (i, o))| Lin::new(p, &format!("{name}.{k}"), i, o, rng, device))
            .collect::<Vec<_>>();
        let bns = if bn {
            widths[1..widths.len() - 1]
                .iter()
                .enumerate()
                .map(|(k, &n)| Bn::new(p, &format!("{name}.bn{k}"), n, device))
                .collect()
        } else {
            Vec::new()
        };
        Mlp {
            layers,
            bns,
            dropout,
        }
    }

    /// Forward pass; `train` selects batch statistics and active dropout.
    pub fn forward(&self, x: &Tensor, train: bool) -> Tensor {
        let last = self.layers.len() - 1;
        let mut h = x.shallow_clone();
        for (k, layer) in self.layers.iter().enumerate() {
            h = layer.forward(&h);
            if k < last {
                h = h.relu();
                if let Some(bn) = self.bns.get(k) {
                    h = bn.forward(&h, train);
                }
                if self.dropout > 0.0 {
                    h = h.dropout(self.dropout, train);
                }
            }
        }
        h
    }
}

/// A field MLP (DeepSDF-style): the query features are appended to the input of every layer
/// but the last; Linear -> ReLU -> BatchNorm blocks, plain Linear at the end.
#[derive(Debug)]
pub struct FieldNet {
    /// The Linear layers; layer 0 takes `[z, q]`, the next ones `[h, q]`, the last `h`.
    pub layers: Vec<Lin>,
    /// BatchNorm after each hidden block.
    pub bns: Vec<Bn>,
    /// Latent size L.
    pub latent: i64,
}

impl FieldNet {
    fn new(
        p: &mut Params,
        name: &str,
        architecture: &Architecture,
        widths: &[usize],
        rng: &mut Rng,
        device: Device,
    ) -> FieldNet {
        let shapes = architecture.field_layers(widths);
        let layers = shapes
            .iter()
            .enumerate()
            .map(|(k, &(i, o))| Lin::new(p, &format!("{name}.{k}"), i, o, rng, device))
            .collect::<Vec<_>>();
        let bns = shapes[..shapes.len() - 1]
            .iter()
            .enumerate()
            .map(|(k, &(_, w))| Bn::new(p, &format!("{name}.bn{k}"), w, device))
            .collect();
        FieldNet {
            layers,
            bns,
            latent: widths[0] as i64,
        }
    }

    /// The field at query features `q` (`[n][Q]`) of structures `items` (`[n]`, indices into
    /// the rows of `z`).
    pub fn forward(&self, z: &Tensor, items: &Tensor, q: &Tensor, train: bool) -> Tensor {
        let first = &self.layers[0];
        let wz = first.w.narrow(1, 0, self.latent);
        let wq = first
            .w
            .narrow(1, self.latent, first.w.size()[1] - self.latent);
        // [z, q] W^T + b = (z W_z^T)[item] + q W_q^T + b
        let per_structure = z.matmul(&wz.tr());
        let mut h = q.linear(&wq, Some(&first.b)) + per_structure.index_select(0, items);
        let last = self.layers.len() - 1;
        for k in 0..last {
            h = h.relu();
            h = self.bns[k].forward(&h, train);
            let layer = &self.layers[k + 1];
            h = if k + 1 < last {
                // [h, q] W^T + b = h W_h^T + (q W_q^T + b): no concatenated copy, and the
                // gradient reaching BatchNorm stays contiguous (its strided CPU backward is
                // about ten times slower).
                let n = h.size()[1];
                let wh = layer.w.narrow(1, 0, n);
                let wq = layer.w.narrow(1, n, layer.w.size()[1] - n);
                q.linear(&wq, Some(&layer.b)).addmm(&h, &wh.tr())
            } else {
                layer.forward(&h)
            };
        }
        h
    }
}

/// The PointNet-style encoder.
#[derive(Debug)]
pub struct Encoder {
    /// Position branch 3 -> 64 -> 128 -> 128.
    pub position: Mlp,
    /// Species branch V -> 128 -> 128.
    pub species: Mlp,
    /// 256 -> 512, max-pooled over atoms.
    pub merge: Lin,
    /// 518 -> 256 -> 256 -> L (2L for the VAE).
    pub head: Mlp,
}

/// The latent of a batch (and, for the VAE, its mean and variance).
#[derive(Debug)]
pub struct Latent {
    /// The latent fed to the fields and heads.
    pub z: Tensor,
    /// VAE mean and variance.
    pub vae: Option<(Tensor, Tensor)>,
}

/// The whole model.
#[derive(Debug)]
pub struct Nesf {
    /// Shapes.
    pub config: ModelConfig,
    /// Encoder.
    pub encoder: Encoder,
    /// Position field (9 layers).
    pub position_field: FieldNet,
    /// Species field (3 layers).
    pub species_field: FieldNet,
    /// Lattice lengths head.
    pub lengths: Mlp,
    /// Lattice angles head.
    pub angles: Mlp,
    /// Every tensor by name.
    pub params: Params,
    /// Where the tensors live.
    pub device: Device,
}

/// Loss terms of a batch (unweighted) and the weighted total.
#[derive(Debug)]
pub struct Losses {
    /// The weighted sum (reference: 10 position + 0.1 species + lengths + angles, + 0.001 KL).
    pub total: Tensor,
    /// MSE of the position field (Å²).
    pub position: Tensor,
    /// Cross-entropy of the species field.
    pub species: Tensor,
    /// MSE of the lattice lengths (Å²).
    pub lengths: Tensor,
    /// MSE of the lattice angles (rad²).
    pub angles: Tensor,
    /// KL divergence (VAE only).
    pub kl: Option<Tensor>,
    /// Every structure's weighted loss without the KL term, `[structures]`, detached (what
    /// hard-example sampling ranks structures by).
    pub per_structure: Tensor,
}

impl Nesf {
    /// A freshly initialised model (PyTorch's default initialisation, deterministic in `seed`).
    pub fn new(config: ModelConfig, seed: u64, device: Device) -> Nesf {
        let mut p = Params::default();
        let mut rng = Rng::derive(seed, Stream::Init, 0, 0);
        let arch = config.architecture();
        let head_out = if config.vae {
            2 * config.latent
        } else {
            config.latent
        };
        let (rng, pm) = (&mut rng, &mut p);
        let position = Mlp::new(
            pm,
            "encoder.position",
            &arch.encoder_position(),
            true,
            0.0,
            rng,
            device,
        );
        let species = Mlp::new(
            pm,
            "encoder.species",
            &arch.encoder_species(),
            true,
            0.0,
            rng,
            device,
        );
        // a single Linear, named as such in checkpoints
        let (merge_in, merge_out) = mlp_layers(&arch.encoder_merge())[0];
        let merge = Lin::new(pm, "encoder.merge", merge_in, merge_out, rng, device);
        let head = Mlp::new(
            pm,
            "encoder.head",
            &arch.encoder_head(head_out),
            true,
            HEAD_DROPOUT,
            rng,
            device,
        );
        let encoder = Encoder {
            position,
            species,
            merge,
            head,
        };
        let position_field = FieldNet::new(
            pm,
            "position_field",
            &arch,
            &arch.position_field(),
            rng,
            device,
        );
        let species_field = FieldNet::new(
            pm,
            "species_field",
            &arch,
            &arch.species_field(),
            rng,
            device,
        );
        let lengths = Mlp::new(
            pm,
            "lattice_lengths",
            &arch.lattice_head(),
            false,
            0.0,
            rng,
            device,
        );
        let angles = Mlp::new(
            pm,
            "lattice_angles",
            &arch.lattice_head(),
            false,
            0.0,
            rng,
            device,
        );
        Nesf {
            config,
            encoder,
            position_field,
            species_field,
            lengths,
            angles,
            params: p,
            device,
        }
    }

    /// The query features of points `[n][3]`: the points themselves, or their encoding.
    pub fn query_features(&self, points: &Tensor) -> Tensor {
        if !self.config.positional_encoding {
            return points.shallow_clone();
        }
        // the library's encoding (Architecture::query_features), on tensors
        let mut parts = Vec::with_capacity(2 * PE_FREQUENCIES);
        for k in 0..PE_FREQUENCIES {
            let x = points * f64::from(pe_scale(k));
            parts.push(x.sin());
            parts.push(x.cos());
        }
        Tensor::cat(&parts, 1)
    }

    /// Encodes a batch. With `train`, BatchNorm uses batch statistics, dropout is active and
    /// the VAE samples its latent; otherwise the VAE returns its mean.
    pub fn encode(&self, b: &DeviceBatch, train: bool) -> Latent {
        let e = &self.encoder;
        let pos = e.position.forward(&b.atom_positions, train);
        let one_hot = b
            .atom_classes
            .one_hot(self.config.vocab as i64)
            .to_kind(KIND);
        let spec = e.species.forward(&one_hot, train);
        let x = e.merge.forward(&Tensor::cat(&[pos, spec], 1));
        let width = x.size()[1];
        let pooled = Tensor::full(
            [b.structures * b.max_atoms, width],
            f64::NEG_INFINITY,
            (KIND, self.device),
        )
        .index_copy(0, &b.atom_slots, &x)
        .view([b.structures, b.max_atoms, width])
        .amax([1i64].as_slice(), false);
        let h = e
            .head
            .forward(&Tensor::cat(&[&pooled, &b.lattice], 1), train);
        if !self.config.vae {
            return Latent { z: h, vae: None };
        }
        let l = self.config.latent as i64;
        let mean = h.narrow(1, 0, l);
        let var = h.narrow(1, l, l).softplus();
        let z = if train {
            &mean + var.sqrt() * mean.randn_like()
        } else {
            mean.shallow_clone()
        };
        Latent {
            z,
            vae: Some((mean, var)),
        }
    }

    /// Position field at `points` (`[n][3]`) of structures `items`.
    pub fn position(&self, z: &Tensor, items: &Tensor, points: &Tensor, train: bool) -> Tensor {
        self.position_field
            .forward(z, items, &self.query_features(points), train)
    }

    /// Species logits at `points` of structures `items`.
    pub fn species(&self, z: &Tensor, items: &Tensor, points: &Tensor, train: bool) -> Tensor {
        self.species_field
            .forward(z, items, &self.query_features(points), train)
    }

    /// Lattice lengths (Å) and angles (radians), `[structures][3]` each.
    pub fn lattice(&self, z: &Tensor) -> (Tensor, Tensor) {
        (
            self.lengths.forward(z, false),
            self.angles.forward(z, false),
        )
    }

    /// The loss of a batch (method section 3) with the loss weights `w`.
    pub fn losses(&self, b: &DeviceBatch, train: bool, w: &LossWeights) -> Losses {
        let latent = self.encode(b, train);
        let z = &latent.z;
        let pos = self.position(z, &b.position_items, &b.position_points, train);
        let spec = self.species(z, &b.species_items, &b.species_points, train);
        let (lengths, angles) = self.lattice(z);
        let (true_lengths, true_angles) = b.lattice_targets();
        let position_sq = (pos - &b.position_targets).square();
        // The species cross-entropy per point; its mean is the species loss.
        let species_nll = spec
            .log_softmax(-1, KIND)
            .gather(1, &b.species_targets.unsqueeze(1), false)
            .squeeze_dim(1)
            .neg();
        let length_sq = (lengths - true_lengths).square();
        let angle_sq = (angles - true_angles).square();
        let per_structure = tch::no_grad(|| {
            let n = length_sq.size()[0];
            per_item_mean(&position_sq.mean_dim(1, false, KIND), &b.position_items, n) * w.position
                + per_item_mean(&species_nll, &b.species_items, n) * w.species
                + length_sq.mean_dim(1, false, KIND) * w.lengths
                + angle_sq.mean_dim(1, false, KIND) * w.angles
        });
        let position = position_sq.mean(KIND);
        let species = species_nll.mean(KIND);
        let lengths = length_sq.mean(KIND);
        let angles = angle_sq.mean(KIND);
        let mut total = &position * w.position
            + &species * w.species
            + &lengths * w.lengths
            + &angles * w.angles;
        let kl = latent.vae.map(|(mean, var)| {
            // As the reference: -0.5 * sum over the batch and the latent of
            // (1 + log var - mean² - var).
            (var.clamp_min(1e-12).log() + 1.0 - mean.square() - &var).sum(KIND) * -0.5
        });
        if let Some(kl) = &kl {
            total += kl * WEIGHT_KL;
        }
        Losses {
            total,
            position,
            species,
            lengths,
            angles,
            kl,
            per_structure,
        }
    }

    /// Copies of every tensor, by name (for checkpoints).
    pub fn state(&self) -> Vec<(String, Tensor)> {
        self.params
            .entries()
            .iter()
            .map(|(n, t, _)| (n.clone(), t.detach().to_device(Device::Cpu).copy()))
            .collect()
    }

    /// Number of trainable parameters.
    pub fn parameter_count(&self) -> i64 {
        self.params.trainable_count()
    }
}

/// The mean of `values` (`[n]`) over the entries of each of `structures` items (`items`: the
/// item of every value; an item without values gets 0), summed on the host in a fixed order
/// (on a GPU `index_add` adds in an arbitrary order, which would make hard-example sampling,
/// and so a resumed run, irreproducible).
fn per_item_mean(values: &Tensor, items: &Tensor, structures: i64) -> Tensor {
    let device = values.device();
    let values: Vec<f64> = Vec::try_from(values.to_kind(Kind::Double)).unwrap_or_default();
    let items: Vec<i64> = Vec::try_from(items).unwrap_or_default();
    let mut sums = vec![0.0; structures as usize];
    let mut counts = vec![0usize; structures as usize];
    for (v, &i) in values.iter().zip(&items) {
        if let (Some(s), Some(c)) = (sums.get_mut(i as usize), counts.get_mut(i as usize)) {
            *s += v;
            *c += 1;
        }
    }
    let means: Vec<f64> = sums
        .iter()
        .zip(&counts)
        .map(|(s, &c)| s / c.max(1) as f64)
        .collect();
    Tensor::from_slice(&means).to_device(device)
}

/// Converts a scalar tensor to f64.
pub fn scalar(t: &Tensor) -> f64 {
    t.to_kind(Kind::Double).double_value(&[])
}
