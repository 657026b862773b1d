//! Chemical elements: atomic numbers and symbols.

use crate::error::{Error, Result};

/// Element symbols indexed by atomic number - 1 (H = 1 ... Og = 118).
const SYMBOLS: [&str; 118] = [
    "H", "He", "Li", "Be", "B", "C", "N", "O", "F", "Ne", "Na", "Mg", "Al", "Si", "P", "S", "Cl",
    "Ar", "K", "Ca", "Sc", "Ti", "V", "Cr", "Mn", "Fe", "Co", "Ni", "Cu", "Zn", "Ga", "Ge", "As",
    "Se", "Br", "Kr", "Rb", "Sr", "Y", "Zr", "Nb", "Mo", "Tc", "Ru", "Rh", "Pd", "Ag", "Cd", "In",
    "Sn", "Sb", "Te", "I", "Xe", "Cs", "Ba", "La", "Ce", "Pr", "Nd", "Pm", "Sm", "Eu", "Gd", "Tb",
    "Dy", "Ho", "Er", "Tm", "Yb", "Lu", "Hf", "Ta", "W", "Re", "Os", "Ir", "Pt", "Au", "Hg", "Tl",
    "Pb", "Bi", "Po", "At", "Rn", "Fr", "Ra", "Ac", "Th", "Pa", "U", "Np", "Pu", "Am", "Cm", "Bk",
    "Cf", "Es", "Fm", "Md", "No", "Lr", "Rf", "Db", "Sg", "Bh", "Hs", "Mt", "Ds", "Rg", "Cn", "Nh",
    "Fl", "Mc", "Lv", "Ts", "Og",
];

/// The largest atomic number known (oganesson).
pub const MAX_ATOMIC_NUMBER: u8 = 118;

/// The symbol of atomic number `z` ("Fe" for 26), or an error for numbers outside 1..=118.
pub fn symbol(z: u8) -> Result<&'static str> {
    if (1..=MAX_ATOMIC_NUMBER).contains(&z) {
        Ok(SYMBOLS[z as usize - 1])
    } else {
        Err(Error::UnknownElement(format!("atomic number {z}")))
    }
}

/// The atomic number of an exact element symbol ("Fe" -> 26). Case-insensitive.
pub fn atomic_number(symbol: &str) -> Result<u8> {
    SYMBOLS
        .iter()
        .position(|s| s.eq_ignore_ascii_case(symbol))
        .map(|i| i as u8 + 1)
        .ok_or_else(|| Error::UnknownElement(format!("'{symbol}'")))
}

/// The element of a crystallographic type symbol or site label: "Fe", "Fe3+", "O2-", "Fe1",
/// "Ba_a" all name an element by their leading letters. A two-letter element wins over a
/// one-letter one when both exist ("Co1" is cobalt, "C1" carbon).
pub fn element_of_label(label: &str) -> Result<u8> {
    let letters: String = label
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .take(2)
        .collect();
    if letters.len() == 2 {
        if let Ok(z) = atomic_number(&letters) {
            // "CA" in a label written all upper case is ambiguous; element names use one capital.
            let second = letters.as_bytes()[1];
            if second.is_ascii_lowercase() || label.len() == 2 {
                return Ok(z);
            }
        }
    }
    letters
        .get(..1)
        .and_then(|l| atomic_number(l).ok())
        .ok_or_else(|| Error::UnknownElement(format!("no element in label '{label}'")))
}

/// Checks that `z` is a real atomic number.
pub fn check_atomic_number(z: u8) -> Result<()> {
    symbol(z).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbols_round_trip() {
        for z in 1..=MAX_ATOMIC_NUMBER {
            assert_eq!(atomic_number(symbol(z).unwrap()).unwrap(), z);
        }
        assert!(symbol(0).is_err());
        assert!(symbol(119).is_err());
        assert!(atomic_number("Xx").is_err());
    }

    #[test]
    fn labels() {
        assert_eq!(element_of_label("Fe3+").unwrap(), 26);
        assert_eq!(element_of_label("O2-").unwrap(), 8);
        assert_eq!(element_of_label("Co1").unwrap(), 27);
        assert_eq!(element_of_label("C1").unwrap(), 6);
        assert_eq!(element_of_label("Ba_a").unwrap(), 56);
        assert_eq!(element_of_label("O").unwrap(), 8);
        assert!(element_of_label("1").is_err());
    }
}
