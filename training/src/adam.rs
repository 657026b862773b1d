//! Adam (Kingma & Ba), exactly as `torch.optim.Adam` with its defaults (betas 0.9 / 0.999,
//! eps 1e-8, no weight decay, no amsgrad), with a state that can be saved and restored: tch's
//! own optimizer wrapper does not expose its moments, so checkpoints could not resume it.

use std::collections::BTreeMap;

use anyhow::{bail, Context, Result};
use tch::{Device, Tensor};

/// Adam's first moment decay.
pub const BETA1: f64 = 0.9;
/// Adam's second moment decay.
pub const BETA2: f64 = 0.999;
/// Adam's denominator epsilon.
pub const EPS: f64 = 1e-8;

/// Adam over a fixed list of named parameters.
#[derive(Debug)]
pub struct Adam {
    params: Vec<(String, Tensor)>,
    m: Vec<Tensor>,
    v: Vec<Tensor>,
    /// Number of updates done.
    pub step: i64,
}

impl Adam {
    /// An optimizer with zero moments for `params`.
    pub fn new(params: Vec<(String, Tensor)>) -> Adam {
        let m = params.iter().map(|(_, p)| p.zeros_like()).collect();
        let v = params.iter().map(|(_, p)| p.zeros_like()).collect();
        Adam {
            params,
            m,
            v,
            step: 0,
        }
    }

    /// Sets every gradient to zero.
    pub fn zero_grad(&mut self) {
        for (_, p) in &mut self.params {
            p.zero_grad();
        }
    }

    /// One update with learning rate `lr` from the current gradients.
    pub fn step(&mut self, lr: f64) {
        self.step += 1;
        let t = self.step as i32;
        let bias1 = 1.0 - BETA1.powi(t);
        let bias2 = 1.0 - BETA2.powi(t);
        let step_size = lr / bias1;
        let bias2_sqrt = bias2.sqrt();
        tch::no_grad(|| {
            for ((_, p), (m, v)) in self
                .params
                .iter_mut()
                .zip(self.m.iter_mut().zip(self.v.iter_mut()))
            {
                let g = p.grad();
                if !g.defined() {
                    continue;
                }
                let _ = m.g_mul_scalar_(BETA1).g_add_(&(&g * (1.0 - BETA1)));
                let _ = v.g_mul_scalar_(BETA2).g_add_(&(g.square() * (1.0 - BETA2)));
                let denom = v.sqrt() / bias2_sqrt + EPS;
                let _ = p.g_sub_(&(&*m / denom * step_size));
            }
        });
    }

    /// The moments by name (`adam.m.<param>`, `adam.v.<param>`), on the CPU.
    pub fn state(&self) -> Vec<(String, Tensor)> {
        let mut out = Vec::with_capacity(2 * self.params.len());
        for ((name, _), (m, v)) in self.params.iter().zip(self.m.iter().zip(&self.v)) {
            out.push((format!("adam.m.{name}"), m.to_device(Device::Cpu).copy()));
            out.push((format!("adam.v.{name}"), v.to_device(Device::Cpu).copy()));
        }
        out
    }

    /// Restores the moments saved by [`Adam::state`] and the step count.
    pub fn load(&mut self, source: &BTreeMap<String, Tensor>, step: i64) -> Result<()> {
        tch::no_grad(|| -> Result<()> {
            for ((name, _), (m, v)) in self
                .params
                .iter()
                .zip(self.m.iter_mut().zip(self.v.iter_mut()))
            {
                for (prefix, dst) in [("adam.m", m), ("adam.v", v)] {
                    let key = format!("{prefix}.{name}");
                    let src = source
                        .get(&key)
                        .with_context(|| format!("checkpoint lacks optimizer tensor {key}"))?;
                    if src.size() != dst.size() {
                        bail!("optimizer tensor {key} has shape {:?}", src.size());
                    }
                    dst.copy_(src);
                }
            }
            Ok(())
        })?;
        self.step = step;
        Ok(())
    }
}
