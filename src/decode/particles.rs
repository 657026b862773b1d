//! Particle flow: move a grid of particles along the position field.

use crate::error::{Error, Result};
use crate::field::{Field, Query};

/// Final particle positions and scores (squared length of the last move) of every item of a
/// batch, `grid.len()` particles per item, items in order.
pub struct Flowed {
    /// Final positions, `[items][grid]` flattened.
    pub positions: Vec<[f32; 3]>,
    /// Squared length of each particle's last move (Å^2).
    pub scores: Vec<f32>,
}

/// Starts one copy of `grid` per item and moves all of them `steps` times with one field call
/// per step.
pub fn flow(field: &dyn Field, items: &[usize], grid: &[[f32; 3]], steps: usize) -> Result<Flowed> {
    let n = grid.len();
    let mut positions: Vec<[f32; 3]> = Vec::with_capacity(items.len() * n);
    for _ in items {
        positions.extend_from_slice(grid);
    }
    let counts = vec![n; items.len()];
    let mut moves = vec![[0f32; 3]; positions.len()];
    for step in 0..steps {
        field.displacements(
            &Query {
                items,
                counts: &counts,
                points: &positions,
            },
            &mut moves,
        )?;
        if let Some(i) = moves.iter().position(|m| m.iter().any(|x| !x.is_finite())) {
            return Err(Error::Field(format!(
                "position field returned a non-finite vector {:?} at step {step} for structure {}",
                moves[i],
                items[i / n.max(1)]
            )));
        }
        for (p, m) in positions.iter_mut().zip(&moves) {
            for k in 0..3 {
                p[k] += m[k];
            }
        }
    }
    let scores = moves
        .iter()
        .map(|m| m[0] * m[0] + m[1] * m[1] + m[2] * m[2])
        .collect();
    Ok(Flowed { positions, scores })
}
