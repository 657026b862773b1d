//! Species vote: evaluate the species field on a small grid around every detected atom and take
//! the majority of the per-point argmax.

/// The class with the largest logit (the first on ties).
pub fn argmax(logits: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in logits.iter().enumerate() {
        if v > logits[best] {
            best = i;
        }
    }
    best
}

/// The majority class among the argmax of every row of `logits` (`rows x classes`), the
/// smallest class on ties, and the fraction of rows that voted for it.
pub fn vote(logits: &[f32], classes: usize) -> (usize, f32) {
    let mut votes = vec![0usize; classes];
    let rows = logits.len() / classes;
    for row in logits.chunks_exact(classes) {
        votes[argmax(row)] += 1;
    }
    let winner = argmax_count(&votes);
    (winner, votes[winner] as f32 / rows.max(1) as f32)
}

fn argmax_count(votes: &[usize]) -> usize {
    let mut best = 0;
    for (i, &v) in votes.iter().enumerate() {
        if v > votes[best] {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn majority() {
        let logits = [
            0.0, 1.0, 0.0, /**/ 2.0, 0.0, 0.0, /**/ 0.0, 3.0, 1.0,
        ];
        assert_eq!(vote(&logits, 3), (1, 2.0 / 3.0));
        assert_eq!(argmax(&[1.0, 1.0]), 0);
    }
}
