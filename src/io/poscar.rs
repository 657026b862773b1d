//! VASP POSCAR / CONTCAR (VASP 5 format, with the line of element symbols).

use std::fmt::Write as _;

use super::parse_number;
use crate::crystal::{elements, Lattice, Structure, Vec3};
use crate::error::{Error, Result};

/// Parses a VASP 5 POSCAR or CONTCAR.
///
/// Layout: a comment (which becomes the structure id when not blank); the scale factor (one
/// number, negative meaning the target cell volume in Å^3 as in VASP, or three positive
/// per-axis factors); three lattice vectors; the element symbols (POTCAR suffixes such as
/// "Fe_pv" or "Fe/hash" are stripped); the atom counts; an optional `Selective dynamics` line;
/// the coordinate mode (`Direct`, or `Cartesian` — first letter C or K — whose positions are
/// scaled like the lattice); then one position per line, extra columns (selective-dynamics flags,
/// element names) ignored. VASP 4 files, without element symbols, are refused with a clear
/// message, since the species cannot be known. Errors name the file and the line.
pub fn parse(text: &str, source: &str) -> Result<Structure> {
    let lines: Vec<&str> = text.lines().collect();
    let line = |i: usize, what: &str| -> Result<&str> {
        lines.get(i).copied().ok_or_else(|| {
            Error::parse(
                source,
                i + 1,
                format!("the file ends before line {} ({what})", i + 1),
            )
        })
    };
    let err = |i: usize, msg: String| Error::parse(source, i + 1, msg);

    let comment = line(0, "the comment")?.trim();

    // Scale factor(s).
    let scale_tokens: Vec<&str> = line(1, "the scale factor")?.split_whitespace().collect();
    let numbers: Vec<f64> = scale_tokens
        .iter()
        .take(3)
        .map_while(|t| parse_number(t))
        .collect();
    let scale = match numbers.as_slice() {
        [] => {
            return Err(err(
                1,
                format!(
                    "expected the scale factor, found '{}'",
                    scale_tokens.first().unwrap_or(&"")
                ),
            ))
        }
        [s, sy, sz] => {
            if [*s, *sy, *sz].iter().any(|&x| x <= 0.0) {
                return Err(err(1, "three scale factors must all be positive".into()));
            }
            Scale::PerAxis([*s, *sy, *sz])
        }
        [_, _] => {
            return Err(err(
                1,
                "the scale line holds two numbers: give one scale factor (or three, per axis)"
                    .into(),
            ))
        }
        [s, ..] if *s == 0.0 => return Err(err(1, "the scale factor is zero".into())),
        [s, ..] if *s < 0.0 => Scale::Volume(-*s),
        [s, ..] => Scale::Uniform(*s),
    };

    // Lattice.
    let mut raw = [[0.0; 3]; 3];
    for (k, row) in raw.iter_mut().enumerate() {
        let i = 2 + k;
        let tokens: Vec<&str> = line(i, "a lattice vector")?.split_whitespace().collect();
        if tokens.len() < 3 {
            return Err(err(
                i,
                format!(
                    "lattice vector {} needs 3 numbers, found {}",
                    k + 1,
                    tokens.len()
                ),
            ));
        }
        for (d, slot) in row.iter_mut().enumerate() {
            *slot = parse_number(tokens[d]).ok_or_else(|| {
                err(
                    i,
                    format!("bad number '{}' in lattice vector {}", tokens[d], k + 1),
                )
            })?;
        }
    }
    let raw_lattice = Lattice::new(raw).map_err(|e| err(2, e.to_string()))?;
    let factors: Vec3 = match scale {
        Scale::Uniform(s) => [s; 3],
        Scale::PerAxis(f) => f,
        Scale::Volume(v) => [(v / raw_lattice.volume()).cbrt(); 3],
    };
    let matrix = raw.map(|row| [0, 1, 2].map(|d| row[d] * factors[d]));
    let lattice = Lattice::new(matrix).map_err(|e| err(1, format!("after scaling: {e}")))?;

    // Species.
    let symbols: Vec<&str> = line(5, "the element symbols")?.split_whitespace().collect();
    if symbols.is_empty() {
        return Err(err(
            5,
            "expected the element symbols, found a blank line".into(),
        ));
    }
    if symbols.iter().all(|t| t.parse::<u64>().is_ok()) {
        return Err(err(
            5,
            "this line holds atom counts, not element symbols: a VASP 4 POSCAR; element \
             names are required (add a line of element symbols above the counts, VASP 5 format)"
                .into(),
        ));
    }
    let mut species = Vec::with_capacity(symbols.len());
    for token in &symbols {
        let name = token.split(['/', '_']).next().unwrap_or(token);
        let z = elements::atomic_number(name)
            .map_err(|_| err(5, format!("unknown element '{token}'")))?;
        species.push(z);
    }
    let count_tokens: Vec<&str> = line(6, "the atom counts")?.split_whitespace().collect();
    if count_tokens.len() < species.len() {
        return Err(err(
            6,
            format!(
                "{} element symbols but {} atom counts",
                species.len(),
                count_tokens.len()
            ),
        ));
    }
    // every atom needs a line of its own: the total is checked before anything is allocated
    let mut counts = Vec::with_capacity(species.len());
    let mut total = 0usize;
    for token in count_tokens.iter().take(species.len()) {
        let n: usize = token
            .parse()
            .map_err(|_| err(6, format!("bad atom count '{token}'")))?;
        total = total
            .checked_add(n)
            .filter(|&t| t <= lines.len())
            .ok_or_else(|| {
                err(
                    6,
                    format!(
                        "the atom counts add up to more atoms than the file has lines ({})",
                        lines.len()
                    ),
                )
            })?;
        counts.push(n);
    }
    let mut numbers = Vec::with_capacity(total);
    for (&n, &z) in counts.iter().zip(&species) {
        numbers.extend(std::iter::repeat_n(z, n));
    }
    if numbers.is_empty() {
        return Err(err(6, "the atom counts add up to zero".into()));
    }

    // Coordinate mode.
    let mut i = 7;
    if line(i, "the coordinate mode")?
        .trim_start()
        .starts_with(['s', 'S'])
    {
        i += 1;
    }
    let mode = line(i, "the coordinate mode")?.trim_start();
    let cartesian = match mode.chars().next() {
        Some('d' | 'D') => false,
        Some('c' | 'C' | 'k' | 'K') => true,
        _ => {
            return Err(err(
                i,
                format!("expected 'Direct' or 'Cartesian', found '{}'", mode.trim()),
            ))
        }
    };

    // Positions.
    let mut positions = Vec::with_capacity(numbers.len());
    for k in 0..numbers.len() {
        let i = i + 1 + k;
        let Some(text) = lines.get(i) else {
            return Err(err(
                i,
                format!("the file ends after {k} of {} positions", numbers.len()),
            ));
        };
        let tokens: Vec<&str> = text.split_whitespace().collect();
        if tokens.len() < 3 {
            return Err(err(
                i,
                format!("a position needs 3 numbers, found {}", tokens.len()),
            ));
        }
        let mut p = [0.0; 3];
        for (d, slot) in p.iter_mut().enumerate() {
            *slot = parse_number(tokens[d])
                .ok_or_else(|| err(i, format!("bad coordinate '{}'", tokens[d])))?;
        }
        positions.push(if cartesian {
            [0, 1, 2].map(|d| p[d] * factors[d])
        } else {
            lattice.to_cartesian(p)
        });
    }
    let s = Structure::new(lattice, numbers, positions).map_err(|e| err(i, e.to_string()))?;
    Ok(if comment.is_empty() {
        s
    } else {
        s.with_id(comment)
    })
}

enum Scale {
    Uniform(f64),
    PerAxis(Vec3),
    Volume(f64),
}

/// Writes a VASP 5 POSCAR: the id (or the formula) as comment, scale 1, the lattice and
/// `Direct` fractional coordinates with 12 decimals, unwrapped.
///
/// Atoms are grouped by species in order of first appearance, as POSCAR requires, so the atom
/// order of the file differs from the structure's when species are interleaved (reading it back
/// gives the atoms species by species).
pub fn write(s: &Structure) -> String {
    let mut order: Vec<u8> = Vec::new();
    for &z in s.numbers() {
        if !order.contains(&z) {
            order.push(z);
        }
    }
    let comment = s
        .id()
        .map(|id| id.replace(['\n', '\r'], " "))
        .filter(|id| !id.trim().is_empty())
        .unwrap_or_else(|| s.formula());
    let mut out = format!("{comment}\n1.0\n");
    for row in s.lattice().matrix() {
        let _ = writeln!(out, "  {:.12}  {:.12}  {:.12}", row[0], row[1], row[2]);
    }
    let symbols: Vec<&str> = order
        .iter()
        .map(|&z| elements::symbol(z).unwrap_or("X"))
        .collect();
    let _ = writeln!(out, "  {}", symbols.join("  "));
    let counts: Vec<String> = order
        .iter()
        .map(|&z| s.numbers().iter().filter(|&&n| n == z).count().to_string())
        .collect();
    let _ = writeln!(out, "  {}", counts.join("  "));
    out.push_str("Direct\n");
    let frac = s.fractional_positions();
    for (&z, sym) in order.iter().zip(&symbols) {
        for (_, f) in s.numbers().iter().zip(&frac).filter(|(&n, _)| n == z) {
            let _ = writeln!(out, "  {:.12}  {:.12}  {:.12}  {sym}", f[0], f[1], f[2]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPINEL_LIKE: &str = "LiMn2O4 test
1.0
   4.0 0.1 0.0
   0.0 4.2 0.3
   0.2 0.0 5.0
Li Mn_pv O/3f2a
1 2 3
Selective dynamics
Direct
  0.0 0.0 0.0 T T F
  0.5 0.5 0.5 T T T Mn
  0.25 0.75 0.5 F F F
  0.1 0.2 0.3
  0.4 0.5 0.6
  -0.2 1.1 0.9
";

    #[test]
    fn counts_beyond_the_file_and_two_scale_factors_are_refused() {
        let head = "huge\n1.0\n4 0 0\n0 4 0\n0 0 4\n";
        // 10^5 symbols, each counted 10^5 times: refused before any allocation
        let symbols = vec!["H"; 100_000].join(" ");
        let counts = vec!["100000"; 100_000].join(" ");
        let text = format!("{head}{symbols}\n{counts}\nDirect\n0 0 0\n");
        let e = parse(&text, "POSCAR").unwrap_err().to_string();
        assert!(e.contains("more atoms than the file has lines"), "{e}");
        let overflow = format!("{head}H He\n18446744073709551615 18446744073709551615\nDirect\n");
        assert!(parse(&overflow, "POSCAR").is_err());
        let two = "x\n1.0 2.0\n4 0 0\n0 4 0\n0 0 4\nH\n1\nDirect\n0 0 0\n";
        let e = parse(two, "POSCAR").unwrap_err().to_string();
        assert!(e.contains("two numbers"), "{e}");
    }

    #[test]
    fn reads_vasp5_with_selective_dynamics() {
        let s = parse(SPINEL_LIKE, "POSCAR").unwrap();
        assert_eq!(s.id(), Some("LiMn2O4 test"));
        assert_eq!(s.numbers(), &[3, 25, 25, 8, 8, 8]);
        let f = s.fractional_positions();
        for (k, x) in [0.25, 0.75, 0.5].iter().enumerate() {
            assert!((f[2][k] - x).abs() < 1e-12);
        }
        assert!((f[5][1] - 1.1).abs() < 1e-12, "no wrapping on reading");
    }

    #[test]
    fn cartesian_and_scale() {
        let text = "\n2.0\n1 0 0\n0 1 0\n0 0 1\nNa Cl\n1 1\nCartesian\n0 0 0\n0.5 0.5 0.5\n";
        let s = parse(text, "POSCAR").unwrap();
        assert_eq!(s.id(), None);
        assert_eq!(s.lattice().matrix()[0], [2.0, 0.0, 0.0]);
        assert_eq!(s.positions()[1], [1.0, 1.0, 1.0]);
        // Negative scale: the target volume.
        let s = parse(&text.replace("\n2.0\n", "\n-27.0\n"), "POSCAR").unwrap();
        assert!((s.lattice().volume() - 27.0).abs() < 1e-9);
        assert!((s.positions()[1][2] - 1.5).abs() < 1e-12);
        // Three scale factors.
        let s = parse(
            &text
                .replace("\n2.0\n", "\n2 3 4\n")
                .replace("Cartesian", "direct"),
            "POSCAR",
        )
        .unwrap();
        assert_eq!(s.positions()[1], [1.0, 1.5, 2.0]);
        let s = parse(&text.replace("Cartesian", "k"), "POSCAR").unwrap();
        assert_eq!(s.positions()[1], [1.0, 1.0, 1.0]);
    }

    #[test]
    fn round_trip_groups_species() {
        let lattice = Lattice::new([[5.1, 0.3, -0.2], [-1.2, 4.4, 0.1], [0.5, 0.7, 6.3]]).unwrap();
        let frac = [
            [0.0, 0.0, 0.0],
            [0.5, 0.25, 0.75],
            [-0.1, 1.3, 0.75],
            [0.123456789, 0.987654321, 0.5],
        ];
        let s = Structure::from_fractional(lattice, vec![8, 26, 8, 1], &frac)
            .unwrap()
            .with_id("mp-1 oxide");
        let text = write(&s);
        assert!(text.contains("\n  O  Fe  H\n  2  1  1\nDirect\n"), "{text}");
        let back = parse(&text, "POSCAR").unwrap();
        assert_eq!(back.id(), Some("mp-1 oxide"));
        assert_eq!(back.numbers(), &[8, 8, 26, 1]);
        for (i, j) in [(0, 0), (2, 1), (1, 2), (3, 3)] {
            for d in 0..3 {
                assert!((s.positions()[i][d] - back.positions()[j][d]).abs() < 1e-9);
            }
        }
        for (a, b) in s
            .lattice()
            .matrix()
            .iter()
            .flatten()
            .zip(back.lattice().matrix().iter().flatten())
        {
            assert!((a - b).abs() < 1e-11);
        }
        let anonymous = Structure::from_fractional(lattice, vec![8, 8], &frac[..2]).unwrap();
        assert!(write(&anonymous).starts_with("O2\n"));
    }

    #[test]
    fn errors_name_file_and_line() {
        let good = "x\n1.0\n1 0 0\n0 1 0\n0 0 1\nNa Cl\n1 1\nDirect\n0 0 0\n0.5 0.5 0.5\n";
        let cases = [
            (good.replace("Na Cl\n", ""), "POSCAR:6:", "VASP 4"),
            (
                good.replace("Na Cl", "Na Qq"),
                "POSCAR:6:",
                "unknown element 'Qq'",
            ),
            (good.replace("1.0\n", "one\n"), "POSCAR:2:", "scale factor"),
            (good.replace("1.0\n", "0\n"), "POSCAR:2:", "zero"),
            (
                good.replace("0 1 0\n", "0 1\n"),
                "POSCAR:4:",
                "needs 3 numbers",
            ),
            (
                good.replace("0 1 0\n", "0 1 nan\n"),
                "POSCAR:4:",
                "bad number 'nan'",
            ),
            (
                good.replace("0 1 0\n", "1 0 0\n"),
                "POSCAR:3:",
                "degenerate",
            ),
            (
                good.replace("1 1\n", "1\n"),
                "POSCAR:7:",
                "2 element symbols but 1 atom counts",
            ),
            (
                good.replace("1 1\n", "1 x\n"),
                "POSCAR:7:",
                "bad atom count 'x'",
            ),
            (good.replace("1 1\n", "0 0\n"), "POSCAR:7:", "zero"),
            (
                good.replace("Direct", "Reciprocal"),
                "POSCAR:8:",
                "'Direct' or 'Cartesian'",
            ),
            (
                good.replace("0.5 0.5 0.5\n", ""),
                "POSCAR:10:",
                "ends after 1 of 2 positions",
            ),
            (
                good.replace("0.5 0.5 0.5", "0.5 0.5"),
                "POSCAR:10:",
                "needs 3 numbers",
            ),
            (
                good.replace("0.5 0.5 0.5", "0.5 0.5 inf"),
                "POSCAR:10:",
                "bad coordinate 'inf'",
            ),
            (
                "x\n1.0\n1 0 0\n".to_string(),
                "POSCAR:4:",
                "ends before line 4",
            ),
        ];
        for (text, place, message) in cases {
            let e = parse(&text, "POSCAR").unwrap_err().to_string();
            assert!(
                e.starts_with(place) && e.contains(message),
                "expected {place} ... {message}, got: {e}"
            );
        }
    }

    #[test]
    fn never_panics_on_prefixes() {
        for end in 0..=SPINEL_LIKE.len() {
            let _ = parse(&SPINEL_LIKE[..end], "POSCAR");
        }
    }
}
