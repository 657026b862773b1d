//! Space-group identification (through the `moyo` crate): which prototype a structure, for
//! example a decoded one, has at a given position tolerance.

use moyo::base::{AngleTolerance, Cell, Lattice as MoyoLattice};
use moyo::data::Setting;
use moyo::MoyoDataset;
use nalgebra::{Matrix3, Vector3};

use crate::crystal::Structure;
use crate::error::{Error, Result};

/// Position tolerance (Å) suited to decoded structures, whose atoms sit ~0.1 Å from ideal
/// sites; use ~1e-4 Å for structures straight from a database.
pub const DECODED_SYMPREC: f64 = 0.1;

/// A space group: its number (1–230) and short Hermann–Mauguin symbol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpaceGroup {
    /// International Tables number, 1 to 230.
    pub number: u8,
    /// Short Hermann–Mauguin symbol, e.g. "Fm-3m".
    pub symbol: String,
}

impl std::fmt::Display for SpaceGroup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.symbol, self.number)
    }
}

impl Structure {
    /// The space group of the structure, atoms matching within `symprec` Å.
    pub fn space_group(&self, symprec: f64) -> Result<SpaceGroup> {
        let dataset = self.symmetry_dataset(symprec, true)?;
        space_group_of(&dataset)
    }

    /// moyo's symmetry dataset of the structure at `symprec` Å. With `rotate_basis` false the
    /// refined cells keep the structure's Cartesian orientation. A panic inside moyo comes back
    /// as an error.
    pub(crate) fn symmetry_dataset(&self, symprec: f64, rotate_basis: bool) -> Result<MoyoDataset> {
        if !(symprec.is_finite() && symprec > 0.0) {
            return Err(Error::InvalidArgument(format!(
                "symprec must be a positive number of Å, got {symprec}"
            )));
        }
        // moyo's search does not end on cells thinner than the tolerance (a decoded lattice
        // can be 0.3 Å thin): refuse them here
        let spacing = self.lattice().min_plane_spacing();
        if spacing.is_nan() || spacing <= 2.0 * symprec {
            return Err(Error::Symmetry(format!(
                "the cell's lattice planes are {spacing:.3} Å apart, too thin for symprec \
                 {symprec} Å (at least twice the tolerance is needed)"
            )));
        }
        let m = self.lattice().matrix();
        let lattice = MoyoLattice::new(Matrix3::from_fn(|r, c| m[r][c]));
        let positions = self
            .fractional_positions()
            .into_iter()
            .map(|p| Vector3::new(p[0], p[1], p[2]))
            .collect();
        let numbers = self.numbers().iter().map(|&z| i32::from(z)).collect();
        let cell = Cell::new(lattice, positions, numbers);
        let found = std::panic::catch_unwind(|| {
            MoyoDataset::new(
                &cell,
                symprec,
                AngleTolerance::Default,
                Setting::default(),
                rotate_basis,
            )
        })
        .map_err(|_| {
            Error::Symmetry(format!(
                "the symmetry search failed inside moyo at symprec {symprec} Å"
            ))
        })?;
        found.map_err(|e| {
            Error::Symmetry(format!("no space group found at symprec {symprec} Å: {e}"))
        })
    }
}

/// The space group a moyo dataset names.
pub(crate) fn space_group_of(dataset: &MoyoDataset) -> Result<SpaceGroup> {
    Ok(SpaceGroup {
        number: u8::try_from(dataset.number).map_err(|_| {
            Error::Symmetry(format!(
                "space-group number {} out of range",
                dataset.number
            ))
        })?,
        symbol: dataset.hm_symbol.split_whitespace().collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crystal::Lattice;

    fn rock_salt(a: f64, shift: f64) -> Structure {
        let mut frac = Vec::new();
        let mut numbers = Vec::new();
        for (z, o) in [(11u8, 0.0), (17u8, 0.5)] {
            for f in [
                [0.0, 0.0, 0.0],
                [0.5, 0.5, 0.0],
                [0.5, 0.0, 0.5],
                [0.0, 0.5, 0.5],
            ] {
                frac.push([f[0] + o + shift * f[1], f[1], f[2]]);
                numbers.push(z);
            }
        }
        let lattice = Lattice::new([[a, 0.0, 0.0], [0.0, a, 0.0], [0.0, 0.0, a]]).unwrap();
        Structure::from_fractional(lattice, numbers, &frac).unwrap()
    }

    #[test]
    fn rock_salt_is_fm3m_within_tolerance() {
        let exact = rock_salt(5.64, 0.0).space_group(1e-4).unwrap();
        assert_eq!((exact.number, exact.symbol.as_str()), (225, "Fm-3m"));
        assert_eq!(exact.to_string(), "Fm-3m (225)");
        // atoms 0.05 Å off their sites: Fm-3m at 0.1 Å, lower symmetry at 1e-4 Å
        let noisy = rock_salt(5.64, 0.01);
        assert_eq!(noisy.space_group(DECODED_SYMPREC).unwrap().number, 225);
        assert!(noisy.space_group(1e-4).unwrap().number < 225);
    }

    #[test]
    fn cells_thinner_than_the_tolerance_are_refused_at_once() {
        // a decoded NaN3 (lcs6-train mp-1064952): one atom in a cell 0.31 Å thin, on which the
        // symmetry search at 0.3 Å did not end
        let lattice = Lattice::new([
            [0.33732435, 0.0, 0.0],
            [0.21476257, 1.26903323, 0.0],
            [1.10652412, 0.08582324, 2.76850564],
        ])
        .unwrap();
        let f = lattice.to_fractional([4.19199276, 2.02325296, 4.00436449]);
        let s = Structure::from_fractional(lattice, vec![7], &[f]).unwrap();
        for symprec in [0.3, 0.5] {
            let e = s.space_group(symprec).unwrap_err().to_string();
            assert!(e.contains("too thin"), "{e}");
            assert!(s.symmetrized(symprec).is_err());
        }
        // the same atom in an ordinary cell is fine
        let cubic = Lattice::new([[3.0, 0.0, 0.0], [0.0, 3.0, 0.0], [0.0, 0.0, 3.0]]).unwrap();
        let s = Structure::from_fractional(cubic, vec![7], &[[0.1, 0.2, 0.3]]).unwrap();
        assert_eq!(s.space_group(0.5).unwrap().number, 221);
    }

    #[test]
    fn bad_tolerance_is_an_error() {
        let s = rock_salt(5.64, 0.0);
        for bad in [0.0, -1.0, f64::NAN] {
            assert!(s
                .space_group(bad)
                .unwrap_err()
                .to_string()
                .contains("symprec"));
        }
    }
}
