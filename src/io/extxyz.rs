//! Extended XYZ: many frames per file, each with a `Lattice="..."` comment line.

use std::fmt::Write as _;

use super::parse_number;
use crate::crystal::{elements, Lattice, Structure};
use crate::error::{Error, Result};

/// Parses every frame of an extended XYZ text. Each frame needs a `Lattice` and species and
/// positions columns (`Properties`, default `species:S:1:pos:R:3`). The frame's `material_id`
/// (or `id`) becomes the structure's identifier.
pub fn parse(text: &str, source: &str) -> Result<Vec<Structure>> {
    let lines: Vec<&str> = text.lines().collect();
    let mut structures = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].trim().is_empty() {
            i += 1;
            continue;
        }
        let count_line = i + 1;
        let n: usize = lines[i].trim().parse().map_err(|_| {
            Error::parse(
                source,
                count_line,
                format!("expected the number of atoms, found '{}'", lines[i].trim()),
            )
        })?;
        if n == 0 {
            return Err(Error::parse(source, count_line, "a frame with zero atoms"));
        }
        let header = lines
            .get(i + 1)
            .ok_or_else(|| Error::parse(source, count_line + 1, "missing comment line"))?;
        if n > lines.len().saturating_sub(i + 2) {
            return Err(Error::parse(
                source,
                lines.len() + 1,
                format!(
                    "the frame starting at line {count_line} announces {n} atoms but the file ends after {}",
                    lines.len() - (i + 2).min(lines.len())
                ),
            ));
        }
        let frame = parse_frame(&lines[i + 2..i + 2 + n], header, source, count_line + 1)?;
        structures.push(frame);
        i += 2 + n;
    }
    Ok(structures)
}

fn parse_frame(
    atoms: &[&str],
    header: &str,
    source: &str,
    header_line: usize,
) -> Result<Structure> {
    let info = parse_key_values(header).map_err(|m| Error::parse(source, header_line, m))?;
    let get = |key: &str| {
        info.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    };
    let lattice_text = get("Lattice").ok_or_else(|| {
        Error::parse(
            source,
            header_line,
            "no Lattice=\"...\" on the comment line (a periodic cell is required)",
        )
    })?;
    let values: Vec<f64> = lattice_text
        .split_whitespace()
        .map(|t| parse_number(t).ok_or(t))
        .collect::<std::result::Result<_, _>>()
        .map_err(|t| Error::parse(source, header_line, format!("bad Lattice number '{t}'")))?;
    if values.len() != 9 {
        return Err(Error::parse(
            source,
            header_line,
            format!("Lattice needs 9 numbers, found {}", values.len()),
        ));
    }
    let lattice = Lattice::new([
        [values[0], values[1], values[2]],
        [values[3], values[4], values[5]],
        [values[6], values[7], values[8]],
    ])
    .map_err(|e| Error::parse(source, header_line, e.to_string()))?;

    let (species_col, z_col, pos_col, ncols) =
        columns(get("Properties").unwrap_or("species:S:1:pos:R:3"))
            .map_err(|m| Error::parse(source, header_line, m))?;

    let mut numbers = Vec::with_capacity(atoms.len());
    let mut positions = Vec::with_capacity(atoms.len());
    for (k, line) in atoms.iter().enumerate() {
        let line_no = header_line + 1 + k;
        let tokens: Vec<&str> = line.split_whitespace().collect();
        if tokens.len() < ncols {
            return Err(Error::parse(
                source,
                line_no,
                format!("expected {ncols} columns, found {}", tokens.len()),
            ));
        }
        let z = match (species_col, z_col) {
            (Some(c), _) => elements::atomic_number(tokens[c])
                .map_err(|e| Error::parse(source, line_no, e.to_string()))?,
            (None, Some(c)) => tokens[c]
                .parse::<u8>()
                .ok()
                .filter(|&z| elements::check_atomic_number(z).is_ok())
                .ok_or_else(|| {
                    Error::parse(
                        source,
                        line_no,
                        format!("bad atomic number '{}'", tokens[c]),
                    )
                })?,
            (None, None) => unreachable!("columns() requires species or Z"),
        };
        let mut p = [0.0; 3];
        for (d, slot) in p.iter_mut().enumerate() {
            let t = tokens[pos_col + d];
            *slot = parse_number(t).ok_or_else(|| {
                Error::parse(
                    source,
                    line_no,
                    format!("bad coordinate '{t}' (not a finite number)"),
                )
            })?;
        }
        numbers.push(z);
        positions.push(p);
    }
    let mut s = Structure::new(lattice, numbers, positions)
        .map_err(|e| Error::parse(source, header_line, e.to_string()))?;
    if let Some(id) = get("material_id").or_else(|| get("id")) {
        s = s.with_id(id);
    }
    Ok(s)
}

/// Most columns an atom line may declare (`Properties`); no real file comes near it.
const MAX_COLUMNS: usize = 1 << 16;

/// Finds the species (or Z) column, the first of the three position columns, and the total
/// number of columns from a `Properties` value.
fn columns(
    properties: &str,
) -> std::result::Result<(Option<usize>, Option<usize>, usize, usize), String> {
    let parts: Vec<&str> = properties.split(':').collect();
    if !parts.len().is_multiple_of(3) {
        return Err(format!(
            "Properties '{properties}' is not a list of name:type:count"
        ));
    }
    let (mut col, mut species, mut z, mut pos) = (0usize, None, None, None);
    for p in parts.chunks(3) {
        let n: usize = p[2]
            .parse()
            .map_err(|_| format!("bad column count '{}' in Properties", p[2]))?;
        match (p[0].to_ascii_lowercase().as_str(), p[1], n) {
            ("species", "S", 1) => species = Some(col),
            ("z", "I", 1) => z = Some(col),
            ("pos", "R", 3) => pos = Some(col),
            _ => {}
        }
        col = col
            .checked_add(n)
            .filter(|&c| c <= MAX_COLUMNS)
            .ok_or_else(|| {
                format!("Properties declares more than {MAX_COLUMNS} columns per atom line")
            })?;
    }
    if species.is_none() && z.is_none() {
        return Err("Properties has no species:S:1 (or Z:I:1) column".into());
    }
    let pos = pos.ok_or("Properties has no pos:R:3 column")?;
    Ok((species, z, pos, col))
}

/// Splits an extended XYZ comment line into key=value pairs; values may be double-quoted
/// (with backslash escapes) and keys without a value get "T".
fn parse_key_values(line: &str) -> std::result::Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() {
            break;
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c.is_whitespace() {
                break;
            }
            key.push(c);
            chars.next();
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek() != Some(&'=') {
            out.push((key, "T".to_string()));
            continue;
        }
        chars.next();
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut value = String::new();
        match chars.peek() {
            Some(&q @ ('"' | '\'' | '{')) => {
                let close = if q == '{' { '}' } else { q };
                chars.next();
                let mut closed = false;
                while let Some(c) = chars.next() {
                    if c == '\\' {
                        if let Some(e) = chars.next() {
                            value.push(e);
                        }
                    } else if c == close {
                        closed = true;
                        break;
                    } else {
                        value.push(c);
                    }
                }
                if !closed {
                    return Err(format!("unterminated quoted value of '{key}'"));
                }
            }
            _ => {
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() {
                        break;
                    }
                    value.push(c);
                    chars.next();
                }
            }
        }
        out.push((key, value));
    }
    Ok(out)
}

/// Writes structures as extended XYZ frames (species and Cartesian positions, 8 decimals).
pub fn write(structures: &[Structure]) -> String {
    let mut out = String::new();
    for s in structures {
        let m = s.lattice().matrix();
        let _ = writeln!(out, "{}", s.len());
        let _ = write!(out, "Lattice=\"");
        for (k, x) in m.iter().flatten().enumerate() {
            let sep = if k == 0 { "" } else { " " };
            let _ = write!(out, "{sep}{x:.8}");
        }
        let _ = write!(out, "\" Properties=species:S:1:pos:R:3");
        if let Some(id) = s.id() {
            if id
                .chars()
                .any(|c| c.is_whitespace() || c == '"' || c == '=')
            {
                let _ = write!(
                    out,
                    " material_id=\"{}\"",
                    id.replace('\\', "\\\\").replace('"', "\\\"")
                );
            } else {
                let _ = write!(out, " material_id={id}");
            }
        }
        let _ = writeln!(out, " pbc=\"T T T\"");
        for (sym, p) in s.symbols().iter().zip(s.positions()) {
            let _ = writeln!(out, "{sym:<2} {:.8} {:.8} {:.8}", p[0], p[1], p[2]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absurd_counts_are_errors_not_panics() {
        for text in [
            "18446744073709551615\n\n",
            "18446744073709551614\nLattice=\"1 0 0 0 1 0 0 0 1\"\nH 0 0 0\n",
            "1\nLattice=\"4 0 0 0 4 0 0 0 4\" Properties=species:S:1:pos:R:3:f:R:18446744073709551615\nH 0 0 0\n",
            "1\nLattice=\"4 0 0 0 4 0 0 0 4\" Properties=species:S:1:pos:R:3:f:R:9223372036854775807:g:R:9223372036854775807\nH 0 0 0\n",
        ] {
            let e = parse(text, "fuzz.xyz").unwrap_err().to_string();
            assert!(e.contains("fuzz.xyz"), "{e}");
        }
    }

    const TWO: &str = "2\nLattice=\"4 0 0 0 4 0 0 0 4\" Properties=species:S:1:pos:R:3 material_id=mp-1 pbc=\"T T T\"\nNa 0 0 0\nCl 2 2 2\n\n1\nLattice=\"3 0 0 0 3 0 0 0 3\" Properties=species:S:1:pos:R:3:forces:R:3 energy=-1.0\nFe 0.5 0.5 0.5 0.1 0.2 0.3\n";

    #[test]
    fn reads_frames() {
        let s = parse(TWO, "two.xyz").unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].numbers(), &[11, 17]);
        assert_eq!(s[0].id(), Some("mp-1"));
        assert_eq!(s[1].positions()[0], [0.5, 0.5, 0.5]);
    }

    #[test]
    fn round_trip() {
        let s = parse(TWO, "two.xyz").unwrap();
        let back = parse(&write(&s), "back.xyz").unwrap();
        assert_eq!(s, back);
    }

    #[test]
    fn errors_name_line() {
        let bad = "2\nLattice=\"4 0 0 0 4 0 0 0 4\"\nNa 0 0 0\nCl 2 x 2\n";
        let e = parse(bad, "bad.xyz").unwrap_err().to_string();
        assert!(e.starts_with("bad.xyz:4:"), "{e}");
        let e = parse("3\nLattice=\"4 0 0 0 4 0 0 0 4\"\nNa 0 0 0\n", "t.xyz").unwrap_err();
        assert!(e.to_string().contains("announces 3 atoms"), "{e}");
        let e = parse("1\npbc=\"T T T\"\nNa 0 0 0\n", "t.xyz").unwrap_err();
        assert!(e.to_string().contains("Lattice"), "{e}");
        let e = parse("1\nLattice=\"4 0 0 0 4 0 0 0 4\"\nXx 0 0 0\n", "t.xyz").unwrap_err();
        assert!(e.to_string().contains("t.xyz:3:"), "{e}");
        let e = parse("1\nLattice=\"4 0 0 0 4 0 0 0 4\"\nNa nan 0 0\n", "t.xyz").unwrap_err();
        assert!(e.to_string().contains("t.xyz:3:"), "{e}");
        let e = parse("x\n", "t.xyz").unwrap_err();
        assert!(e.to_string().contains("t.xyz:1:"), "{e}");
        let e = parse("1\nLattice=\"1 0 0 2 0 0 0 0 1\"\nNa 0 0 0\n", "t.xyz").unwrap_err();
        assert!(e.to_string().contains("degenerate"), "{e}");
    }
}
