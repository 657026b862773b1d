//! Species vote: evaluate the species field on a small grid around every detected atom and take
//! the majority of the per-point argmax (the reference), or the class of the largest summed
//! probability.

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

/// How the points around an atom choose its species.
/// Its command-line names (`clap::ValueEnum`) are its serde names: `majority`, `probability`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    serde::Serialize,
    serde::Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "snake_case")]
pub enum SpeciesVote {
    /// Every point votes for its argmax class; the most votes win (the reference).
    #[default]
    Majority,
    /// The class with the largest softmax probability summed over the points wins.
    Probability,
}

/// The class `rule` chooses from `logits` (`rows x classes`) and its confidence: the fraction
/// of rows whose argmax it is (majority) or its mean probability (probability).
pub fn choose(rule: SpeciesVote, logits: &[f32], classes: usize) -> (usize, f32) {
    match rule {
        SpeciesVote::Majority => vote(logits, classes),
        SpeciesVote::Probability => {
            let mut sums = vec![0f64; classes];
            let rows = logits.len() / classes;
            for row in logits.chunks_exact(classes) {
                let top = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let total: f64 = row.iter().map(|&v| f64::from(v - top).exp()).sum();
                for (s, &v) in sums.iter_mut().zip(row) {
                    *s += f64::from(v - top).exp() / total;
                }
            }
            let mut best = 0;
            for (i, &v) in sums.iter().enumerate() {
                if v > sums[best] {
                    best = i;
                }
            }
            (best, (sums[best] / rows.max(1) as f64) as f32)
        }
    }
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

    #[test]
    fn probability_sums_can_overrule_the_majority() {
        // two points barely prefer class 0, one point is sure of class 1
        let logits = [0.1, 0.0, /**/ 0.1, 0.0, /**/ 0.0, 9.0];
        assert_eq!(choose(SpeciesVote::Majority, &logits, 2).0, 0);
        let (class, confidence) = choose(SpeciesVote::Probability, &logits, 2);
        assert_eq!(class, 1);
        assert!(confidence > 0.6 && confidence < 0.7, "{confidence}");
    }
}
