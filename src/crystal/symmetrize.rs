//! Symmetrisation: snapping a structure to the space group moyo finds at a tolerance. The
//! lattice and the sites are refined to the group's ideal values, in the structure's own cell
//! and orientation; atoms that the group makes one site are merged, and sites the group
//! requires but the structure lacks are added.

use std::collections::HashMap;

use nalgebra::{Matrix3, Vector3};

use super::symmetry::space_group_of;
use super::{Lattice, SpaceGroup, Structure, Vec3};
use crate::error::{Error, Result};

/// Most images of the primitive cell a structure's cell may hold (its volume over the
/// primitive cell's); more would mean a degenerate symmetry search, not a crystal.
pub const MAX_PRIMITIVE_IMAGES: usize = 4096;

/// A structure snapped to its space group, and where each of its sites came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Symmetrized {
    /// The refined structure, in the original cell (same lattice vectors up to refinement).
    pub structure: Structure,
    /// The space group it was snapped to.
    pub space_group: SpaceGroup,
    /// For every site of `structure`, the indices of the original atoms that became it (empty
    /// for a site the group required and the original lacked). Sites with sources come first,
    /// in the order of their first source.
    pub sources: Vec<Vec<usize>>,
    /// For every site of `structure`, its symmetry orbit (equal values: equivalent sites).
    pub orbits: Vec<usize>,
}

impl Structure {
    /// The structure snapped to the space group moyo finds at `symprec` Å: the lattice metric
    /// and the sites are refined to the group's ideal values in this structure's cell and
    /// orientation, atoms that land on one site are merged, and missing images are added.
    pub fn symmetrized(&self, symprec: f64) -> Result<Symmetrized> {
        let dataset = self.symmetry_dataset(symprec, false)?;
        let space_group = space_group_of(&dataset)?;
        let prim = &dataset.prim_std_cell;
        // A_prim = A_in * linear (column bases), so A_in = A_prim * linear^-1, an integer matrix
        let linear = dataset.prim_std_linear;
        let inverse = linear.try_inverse().ok_or_else(|| {
            Error::Symmetry("moyo returned a singular primitive transformation".into())
        })?;
        let supercell = inverse.map(f64::round);
        if (supercell - inverse).amax() > 1e-6 {
            return Err(Error::Symmetry(
                "the cell is not a supercell of the primitive cell moyo found".into(),
            ));
        }
        let images = supercell.determinant().round().abs();
        if !(images >= 1.0 && images <= MAX_PRIMITIVE_IMAGES as f64) {
            return Err(Error::Symmetry(format!(
                "the cell holds {images} primitive cells; at most {MAX_PRIMITIVE_IMAGES} are \
                 supported"
            )));
        }
        let images = images as usize;
        let basis = prim.lattice.basis * supercell;
        let lattice = Lattice::new([0, 1, 2].map(|c| [0, 1, 2].map(|r| basis[(r, c)])))?;
        let shifts = primitive_translations(&linear, images)?;
        let origin = dataset.prim_std_origin_shift;

        // every site of the refined structure: each primitive site at each translation
        let mut sites: Vec<(Vec3, u8, usize)> = Vec::with_capacity(prim.positions.len() * images);
        for (p, (x, &z)) in prim.positions.iter().zip(&prim.numbers).enumerate() {
            let z = u8::try_from(z)
                .map_err(|_| Error::Symmetry(format!("moyo returned atomic number {z}")))?;
            let base = linear * x + origin;
            for t in &shifts {
                let y = base + t;
                sites.push(([y.x, y.y, y.z].map(|v| v - v.floor()), z, p));
            }
        }

        // each original atom goes to the nearest site of its primitive site's images
        let original = self.fractional_positions();
        let mut sources = vec![Vec::new(); sites.len()];
        let mut near = vec![[0.0; 3]; sites.len()];
        for (i, f) in original.iter().enumerate() {
            let p = *dataset.mapping_std_prim.get(i).ok_or_else(|| {
                Error::Symmetry("moyo mapped fewer atoms than the structure has".into())
            })?;
            let best = (p * images..(p + 1) * images)
                .min_by(|&a, &b| {
                    let da = lattice.periodic_distance(sites[a].0, *f);
                    let db = lattice.periodic_distance(sites[b].0, *f);
                    da.total_cmp(&db)
                })
                .ok_or_else(|| Error::Symmetry("moyo returned no primitive site".into()))?;
            if sources[best].is_empty() {
                // the image of the site nearest the atom's own (unwrapped) position
                near[best] =
                    [0, 1, 2].map(|k| sites[best].0[k] + (f[k] - sites[best].0[k]).round());
            }
            sources[best].push(i);
        }
        let mut order: Vec<usize> = (0..sites.len()).collect();
        order.sort_by_key(|&s| sources[s].first().copied().unwrap_or(usize::MAX));
        let mut numbers = Vec::with_capacity(sites.len());
        let mut fractional = Vec::with_capacity(sites.len());
        let mut orbits = Vec::with_capacity(sites.len());
        let mut site_sources = Vec::with_capacity(sites.len());
        for s in order {
            let (f, z, p) = sites[s];
            numbers.push(z);
            fractional.push(if sources[s].is_empty() { f } else { near[s] });
            orbits.push(dataset.orbits[*sources_or_first(&sources, p, images, s)]);
            site_sources.push(std::mem::take(&mut sources[s]));
        }
        let mut structure = Structure::from_fractional(lattice, numbers, &fractional)?;
        if let Some(id) = self.id() {
            structure = structure.with_id(id);
        }
        Ok(Symmetrized {
            structure,
            space_group,
            sources: site_sources,
            orbits,
        })
    }
}

/// Any original atom of primitive site `p` (the orbit label moyo gives it), preferring the
/// sources of site `s`; every primitive site has at least one atom, since moyo built the
/// primitive cell from them.
fn sources_or_first(sources: &[Vec<usize>], p: usize, images: usize, s: usize) -> &usize {
    sources[s]
        .first()
        .or_else(|| (p * images..(p + 1) * images).find_map(|t| sources[t].first()))
        .unwrap_or(&0)
}

/// The translations of the primitive lattice that are distinct in the structure's cell, as
/// fractional vectors of that cell: the group generated by the columns of `linear` modulo 1,
/// which has `images` elements (the volume ratio). Found by closure, with exact integer keys
/// (every element is a multiple of 1/`images`).
fn primitive_translations(linear: &Matrix3<f64>, images: usize) -> Result<Vec<Vector3<f64>>> {
    let n = images as i64;
    let key =
        |v: &Vector3<f64>| [v.x, v.y, v.z].map(|x| ((x * n as f64).round() as i64).rem_euclid(n));
    let generators: Vec<[i64; 3]> = (0..3)
        .map(|c| key(&linear.column(c).into_owned()))
        .collect();
    let mut seen: HashMap<[i64; 3], ()> = HashMap::from([([0, 0, 0], ())]);
    let mut found = vec![[0i64; 3]];
    let mut next = 0;
    while next < found.len() {
        let t = found[next];
        next += 1;
        for g in &generators {
            let s = [0, 1, 2].map(|k| (t[k] + g[k]).rem_euclid(n));
            if seen.insert(s, ()).is_none() {
                found.push(s);
            }
        }
    }
    if found.len() != images {
        return Err(Error::Symmetry(format!(
            "the primitive translations form {} images, not the {images} the volumes imply",
            found.len()
        )));
    }
    Ok(found
        .into_iter()
        .map(|t| Vector3::new(t[0] as f64, t[1] as f64, t[2] as f64) / n as f64)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Conventional rock salt (8 atoms), atoms moved by up to `noise` Å.
    fn rock_salt(a: f64, noise: f64) -> Structure {
        let mut frac = Vec::new();
        let mut numbers = Vec::new();
        let mut k = 0.0f64;
        for (z, o) in [(11u8, 0.0), (17u8, 0.5)] {
            for f in [
                [0.0, 0.0, 0.0],
                [0.5, 0.5, 0.0],
                [0.5, 0.0, 0.5],
                [0.0, 0.5, 0.5],
            ] {
                k += 1.0;
                let d = [(k * 1.3).sin(), (k * 2.1).cos(), (k * 0.7).sin()].map(|x| x * noise / a);
                frac.push([f[0] + o + d[0], f[1] + d[1], f[2] + d[2]]);
                numbers.push(z);
            }
        }
        let lattice =
            Lattice::new([[a, 0.0, 0.0], [0.01, a + 0.02, 0.0], [0.0, -0.01, a - 0.01]]).unwrap();
        Structure::from_fractional(lattice, numbers, &frac).unwrap()
    }

    #[test]
    fn noisy_rock_salt_snaps_to_the_ideal_structure() {
        let noisy = rock_salt(5.64, 0.05);
        assert!(noisy.space_group(1e-4).unwrap().number < 225);
        let s = noisy.symmetrized(0.1).unwrap();
        assert_eq!(s.space_group.number, 225);
        assert_eq!(s.structure.len(), 8);
        assert_eq!(s.structure.numbers(), noisy.numbers());
        assert!(s.sources.iter().enumerate().all(|(i, v)| v == &[i]));
        // ideal at a tight tolerance: a cubic cell and sites half a cell apart
        assert_eq!(s.structure.space_group(1e-6).unwrap().number, 225);
        let p = s.structure.lattice().parameters();
        assert!((p.a - p.b).abs() < 1e-9 && (p.a - p.c).abs() < 1e-9);
        assert!([p.alpha, p.beta, p.gamma]
            .iter()
            .all(|x| (x - 90.0).abs() < 1e-9));
        let f = s.structure.fractional_positions();
        for q in &f {
            for k in 0..3 {
                let d = (q[k] - f[0][k]) * 2.0;
                assert!((d - d.round()).abs() < 1e-9, "{q:?} vs {:?}", f[0]);
            }
        }
        // atoms stay next to where they were
        for (a, b) in s.structure.positions().iter().zip(noisy.positions()) {
            assert!(crate::crystal::lattice::distance(*a, *b) < 0.2);
        }
        // an ideal structure is a fixed point
        let again = s.structure.symmetrized(0.1).unwrap();
        for (a, b) in again
            .structure
            .positions()
            .iter()
            .zip(s.structure.positions())
        {
            assert!(crate::crystal::lattice::distance(*a, *b) < 1e-9);
        }
    }

    #[test]
    fn atoms_on_one_site_merge_and_missing_images_are_added() {
        let ideal = rock_salt(5.64, 0.0);
        let mut numbers = ideal.numbers().to_vec();
        let mut positions = ideal.positions().to_vec();
        // a second Na 0.05 Å from the first, and one Cl missing
        numbers.push(11);
        positions.push([0.05, 0.0, 0.0]);
        numbers.remove(7);
        positions.remove(7);
        let s = Structure::new(*ideal.lattice(), numbers, positions).unwrap();
        let Ok(out) = s.symmetrized(0.2) else {
            // moyo may refuse the overlap; then it must say so (no panic)
            return;
        };
        if out.space_group.number == 225 {
            assert_eq!(out.structure.len(), 8);
            assert!(out.sources.iter().any(|v| v.len() == 2));
            assert!(out.sources.iter().any(|v| v.is_empty()));
        }
    }

    #[test]
    fn primitive_cells_and_supercells_keep_their_cell() {
        // a primitive fcc cell of one atom
        let a = 3.6;
        let lattice = Lattice::new([
            [0.0, a / 2.0, a / 2.0],
            [a / 2.0, 0.0, a / 2.0],
            [a / 2.0, a / 2.0, 0.01],
        ])
        .unwrap();
        let cu = Structure::from_fractional(lattice, vec![29], &[[0.01, 0.0, 0.0]]).unwrap();
        let s = cu.symmetrized(0.1).unwrap();
        assert_eq!((s.space_group.number, s.structure.len()), (225, 1));
        // the noisy conventional cell of a body-centred structure: 2 images of the primitive
        let l = Lattice::new([[3.0, 0.0, 0.0], [0.0, 3.0, 0.0], [0.0, 0.0, 3.02]]).unwrap();
        let fe = Structure::from_fractional(l, vec![26, 26], &[[0.0, 0.0, 0.0], [0.5, 0.51, 0.5]])
            .unwrap();
        let s = fe.symmetrized(0.1).unwrap();
        assert_eq!((s.space_group.number, s.structure.len()), (229, 2));
        assert_eq!(s.orbits[0], s.orbits[1]);
        assert!(s.structure.space_group(1e-6).unwrap().number == 229);
    }

    #[test]
    fn the_id_survives_and_bad_tolerances_are_errors() {
        let s = rock_salt(5.64, 0.02).with_id("nacl");
        assert_eq!(s.symmetrized(0.1).unwrap().structure.id(), Some("nacl"));
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let e = s.symmetrized(bad).unwrap_err().to_string();
            assert!(e.contains("symprec"), "{e}");
        }
    }
}
