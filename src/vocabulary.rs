//! The species vocabulary of a model: the atomic numbers it knows, in class order.

use crate::crystal::{elements, Structure};
use crate::error::{Error, Result};

/// The sorted list of distinct atomic numbers a model predicts; class `i` of the species
/// field is atomic number `numbers()[i]`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Vocabulary {
    numbers: Vec<u8>,
}

impl Vocabulary {
    /// A vocabulary from atomic numbers (sorted and de-duplicated). Fails when empty or when a
    /// number is not an element.
    pub fn new(mut numbers: Vec<u8>) -> Result<Self> {
        for &z in &numbers {
            elements::check_atomic_number(z)?;
        }
        numbers.sort_unstable();
        numbers.dedup();
        if numbers.is_empty() {
            return Err(Error::InvalidArgument("empty species vocabulary".into()));
        }
        Ok(Vocabulary { numbers })
    }

    /// The vocabulary of every element present in `structures` (as the training set defines it).
    pub fn from_structures<'a>(
        structures: impl IntoIterator<Item = &'a Structure>,
    ) -> Result<Self> {
        let mut present = [false; 256];
        for s in structures {
            for &z in s.numbers() {
                present[z as usize] = true;
            }
        }
        Vocabulary::new((0..=255u8).filter(|&z| present[z as usize]).collect())
    }

    /// Atomic numbers in class order.
    pub fn numbers(&self) -> &[u8] {
        &self.numbers
    }

    /// Number of classes.
    pub fn len(&self) -> usize {
        self.numbers.len()
    }

    /// Never true: a vocabulary holds at least one element.
    pub fn is_empty(&self) -> bool {
        self.numbers.is_empty()
    }

    /// The class of atomic number `z`, if the vocabulary has it.
    pub fn class_of(&self, z: u8) -> Option<usize> {
        self.numbers.binary_search(&z).ok()
    }

    /// The atomic number of class `class`.
    pub fn atomic_number(&self, class: usize) -> Option<u8> {
        self.numbers.get(class).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        let v = Vocabulary::new(vec![8, 1, 26, 8]).unwrap();
        assert_eq!(v.numbers(), &[1, 8, 26]);
        assert_eq!(v.class_of(26), Some(2));
        assert_eq!(v.class_of(2), None);
        assert_eq!(v.atomic_number(1), Some(8));
        assert!(Vocabulary::new(vec![]).is_err());
        assert!(Vocabulary::new(vec![0]).is_err());
    }
}
