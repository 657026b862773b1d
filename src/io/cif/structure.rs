//! Building a structure from a CIF data block: cell, symmetry operations, atom sites (species,
//! occupancy, fractional coordinates), symmetry expansion and de-duplication of sites.

use super::symop::{parse_symop, SymOp};
use super::syntax::{excerpt, Block, Val};
use super::*;

/// Most symmetry operations a block may list: 192 is the most any space group has in a
/// conventional (face-centred cubic) cell.
const MAX_SYMMETRY_OPERATIONS: usize = 192;

/// A parse error at a line, naming the block.
type BlockError<'a> = &'a dyn Fn(usize, String) -> Error;

/// The structure of a data block that holds atom sites (None for a block without any).
pub(super) fn build_structure(block: &Block, source: &str) -> Result<Option<Structure>> {
    let is_site_tag = |t: &str| t.starts_with("_atom_site_") && !t.starts_with("_atom_site_aniso");
    if !block.has_tag(is_site_tag) {
        return Ok(None);
    }
    let name = if block.name.is_empty() {
        "data_".to_string()
    } else {
        format!("data_{}", block.name)
    };
    let err = |line: usize, msg: String| Error::parse(source, line, format!("{name}: {msg}"));

    // Atom-site columns, all from one table.
    let mut coords = Vec::new();
    for axis in ["x", "y", "z"] {
        let tag = format!("_atom_site_fract_{axis}");
        match block.find(&tag) {
            Some(found) => coords.push(found),
            None if block.has_tag(|t| t.starts_with("_atom_site_cartn_")) => {
                return Err(err(
                    block.line,
                    format!("only Cartesian atom sites (_atom_site_Cartn_x/y/z); fractional {tag} is required"),
                ))
            }
            None => return Err(err(block.line, format!("atom sites without {tag}"))),
        }
    }
    let table_index = coords[0].0;
    let table = &block.tables[table_index];
    if coords.iter().any(|&(t, _)| t != table_index) {
        return Err(err(
            table.line,
            "_atom_site_fract_x/y/z are not in the same loop_".into(),
        ));
    }
    let n = table.rows();
    if n == 0 {
        return Err(err(
            table.line,
            "the atom-site loop_ has no rows (no atom sites)".into(),
        ));
    }
    let same_table = |tag: &str| -> Result<Option<&[Val]>> {
        match block.find(tag) {
            None => Ok(None),
            Some((t, c)) if block.tables[t].rows() == n => {
                Ok(Some(block.tables[t].columns[c].as_slice()))
            }
            Some((t, _)) => Err(err(
                block.tables[t].line,
                format!(
                    "{tag} has {} values but there are {n} atom sites",
                    block.tables[t].rows()
                ),
            )),
        }
    };
    let labels = same_table("_atom_site_label")?;
    let types = same_table("_atom_site_type_symbol")?;
    let occupancies = same_table("_atom_site_occupancy")?;
    let [cx, cy, cz] = [0, 1, 2].map(|d| table.columns[coords[d].1].as_slice());

    let lattice = block_lattice(block, &err)?;
    let ops = block_operations(block, &err)?;

    // Sites, expanded and merged.
    let mut sites = SiteIndex::new(&lattice, MERGE_TOLERANCE);
    let mut numbers: Vec<u8> = Vec::new();
    let mut fractional: Vec<Vec3> = Vec::new();
    let mut origin: Vec<usize> = Vec::new();
    let site_label = |r: usize| -> String {
        match labels {
            Some(l) if !l[r].is_unknown() => l[r].text.clone(),
            _ => format!("#{}", r + 1),
        }
    };
    for r in 0..n {
        let label = site_label(r);
        let row_line = cx[r].line;
        let z = match (types.map(|t| &t[r]), labels.map(|l| &l[r])) {
            (Some(t), _) if !t.is_unknown() => (t, "_atom_site_type_symbol"),
            (_, Some(l)) if !l.is_unknown() => (l, "_atom_site_label"),
            _ => {
                return Err(err(
                    row_line,
                    format!("no species for site {label} (neither _atom_site_type_symbol nor _atom_site_label)"),
                ))
            }
        };
        let z = elements::element_of_label(z.0.text.trim()).map_err(|_| {
            err(
                z.0.line,
                format!(
                    "unknown element '{}' ({}) at site {label}",
                    excerpt(&z.0.text),
                    z.1
                ),
            )
        })?;
        if let Some(occ) = occupancies.map(|o| &o[r]).filter(|o| !o.is_unknown()) {
            let value = parse_number(occ.text.trim()).ok_or_else(|| {
                err(
                    occ.line,
                    format!(
                        "bad number '{}' for _atom_site_occupancy at site {label}",
                        excerpt(&occ.text)
                    ),
                )
            })?;
            if value < 1.0 - OCCUPANCY_TOLERANCE {
                return Err(err(
                    occ.line,
                    format!("partial occupancy {value} at site {label}: disordered structures are not supported"),
                ));
            }
            if value > 1.0 + OCCUPANCY_TOLERANCE {
                return Err(err(
                    occ.line,
                    format!("occupancy {value} above 1 at site {label}"),
                ));
            }
        }
        let mut f = [0.0; 3];
        for (d, (col, tag)) in [
            (cx, "_atom_site_fract_x"),
            (cy, "_atom_site_fract_y"),
            (cz, "_atom_site_fract_z"),
        ]
        .into_iter()
        .enumerate()
        {
            let v = &col[r];
            f[d] = parse_number(v.text.trim()).ok_or_else(|| {
                err(
                    v.line,
                    format!(
                        "bad number '{}' for {tag} at site {label}",
                        excerpt(&v.text)
                    ),
                )
            })?;
        }
        for (rot, t) in &ops {
            let image = [0, 1, 2]
                .map(|i| wrap(rot[i][0] * f[0] + rot[i][1] * f[1] + rot[i][2] * f[2] + t[i]));
            match sites.find(image) {
                None => {
                    numbers.push(z);
                    fractional.push(image);
                    origin.push(r);
                    sites.insert(image);
                }
                Some(j) if numbers[j] == z => {}
                Some(j) => {
                    return Err(err(
                        row_line,
                        format!(
                            "two different species on one position: {} (site {}) and {} (site {label}) at fractional {:?}",
                            elements::symbol(numbers[j]).unwrap_or("?"),
                            site_label(origin[j]),
                            elements::symbol(z).unwrap_or("?"),
                            image
                        ),
                    ))
                }
            }
        }
    }
    let s = Structure::from_fractional(lattice, numbers, &fractional)
        .map_err(|e| err(table.line, e.to_string()))?;
    Ok(Some(if block.name.is_empty() {
        s
    } else {
        s.with_id(block.name.clone())
    }))
}

/// The cell of a block (`_cell_length_a` ... `_cell_angle_gamma`).
fn block_lattice(block: &Block, err: BlockError) -> Result<Lattice> {
    let mut cell = [0.0; 6];
    for (slot, tag) in cell.iter_mut().zip([
        "_cell_length_a",
        "_cell_length_b",
        "_cell_length_c",
        "_cell_angle_alpha",
        "_cell_angle_beta",
        "_cell_angle_gamma",
    ]) {
        let v = match block.column(tag).and_then(|c| c.first()) {
            Some(v) if !v.is_unknown() => v,
            _ => return Err(err(block.line, format!("missing cell parameter {tag}"))),
        };
        *slot = parse_number(v.text.trim()).ok_or_else(|| {
            err(
                v.line,
                format!("bad number '{}' for {tag}", excerpt(&v.text)),
            )
        })?;
    }
    let cell_line = block
        .column("_cell_length_a")
        .and_then(|c| c.first())
        .map_or(block.line, |v| v.line);
    Lattice::from_parameters(&LatticeParameters {
        a: cell[0],
        b: cell[1],
        c: cell[2],
        alpha: cell[3],
        beta: cell[4],
        gamma: cell[5],
    })
    .map_err(|e| err(cell_line, e.to_string()))
}

/// The symmetry operations of a block (`_space_group_symop_operation_xyz` or
/// `_symmetry_equiv_pos_as_xyz`; the identity alone when it lists none).
fn block_operations(block: &Block, err: BlockError) -> Result<Vec<SymOp>> {
    let ops_column = block
        .column("_space_group_symop_operation_xyz")
        .or_else(|| block.column("_symmetry_equiv_pos_as_xyz"));
    let listed = ops_column.unwrap_or(&[]);
    if listed.len() > MAX_SYMMETRY_OPERATIONS {
        return Err(err(
            listed[0].line,
            format!(
                "{} symmetry operations listed; no space group has more than \
                 {MAX_SYMMETRY_OPERATIONS}",
                listed.len()
            ),
        ));
    }
    let mut ops = Vec::new();
    for v in listed {
        if v.is_unknown() {
            continue;
        }
        let op = parse_symop(&v.text).ok_or_else(|| {
            err(
                v.line,
                format!("bad symmetry operation '{}'", excerpt(&v.text)),
            )
        })?;
        ops.push(op);
    }
    if ops.is_empty() {
        ops.push((
            [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
            [0.0; 3],
        ));
    }
    Ok(ops)
}
