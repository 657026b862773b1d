//! Symmetry operations written as text ("-x+1/2, y, -z") and their parsing.

use super::*;

/// A symmetry operation: x' = R·x + t on fractional coordinates.
pub(super) type SymOp = ([Vec3; 3], Vec3);

/// Parses an operation such as "-x+1/2, y, -z", "1/2+x,1/2-y,z", "x-y,x,z+1/2" or
/// "-y+x, 0.5+z, x". The rotation part must have determinant ±1.
pub(super) fn parse_symop(text: &str) -> Option<SymOp> {
    let parts: Vec<&str> = text.split(',').collect();
    if parts.len() != 3 {
        return None;
    }
    let mut rot = [[0.0; 3]; 3];
    let mut t = [0.0; 3];
    for (i, part) in parts.iter().enumerate() {
        (rot[i], t[i]) = parse_symop_component(part)?;
    }
    let det = rot[0][0] * (rot[1][1] * rot[2][2] - rot[1][2] * rot[2][1])
        - rot[0][1] * (rot[1][0] * rot[2][2] - rot[1][2] * rot[2][0])
        + rot[0][2] * (rot[1][0] * rot[2][1] - rot[1][1] * rot[2][0]);
    ((det.abs() - 1.0).abs() < 1e-6).then_some((rot, t))
}

pub(super) fn parse_symop_component(part: &str) -> Option<(Vec3, f64)> {
    let chars: Vec<char> = part
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    if chars.is_empty() {
        return None;
    }
    let mut row = [0.0; 3];
    let mut t = 0.0;
    let mut p = 0;
    while p < chars.len() {
        let mut sign = 1.0;
        match chars[p] {
            '+' => p += 1,
            '-' => {
                sign = -1.0;
                p += 1;
            }
            _ if p > 0 => return None,
            _ => {}
        }
        let number = |p: &mut usize| -> Option<f64> {
            let start = *p;
            while *p < chars.len() && (chars[*p].is_ascii_digit() || chars[*p] == '.') {
                *p += 1;
            }
            chars[start..*p]
                .iter()
                .collect::<String>()
                .parse::<f64>()
                .ok()
        };
        let mut coefficient = None;
        if p < chars.len() && (chars[p].is_ascii_digit() || chars[p] == '.') {
            let mut value = number(&mut p)?;
            if chars.get(p) == Some(&'/') {
                p += 1;
                let denominator = number(&mut p)?;
                if denominator == 0.0 {
                    return None;
                }
                value /= denominator;
            }
            coefficient = Some(value);
            if chars.get(p) == Some(&'*') {
                p += 1;
            }
        }
        match chars.get(p) {
            Some(&c @ ('x' | 'y' | 'z')) => {
                row[(c as u8 - b'x') as usize] += sign * coefficient.unwrap_or(1.0);
                p += 1;
            }
            _ => t += sign * coefficient?,
        }
    }
    (row.iter().all(|x| x.is_finite()) && t.is_finite()).then_some((row, t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symmetry_operations() {
        let (r, t) = parse_symop("-x+1/2, y, -z").unwrap();
        assert_eq!(r, [[-1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, -1.0]]);
        assert_eq!(t, [0.5, 0.0, 0.0]);
        let (r, t) = parse_symop("1/2+x,1/2-y,z").unwrap();
        assert_eq!(r, [[1.0, 0.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, 1.0]]);
        assert_eq!(t, [0.5, 0.5, 0.0]);
        let (r, t) = parse_symop("x-y,x,z+1/2").unwrap();
        assert_eq!(r, [[1.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]);
        assert_eq!(t, [0.0, 0.0, 0.5]);
        let (r, t) = parse_symop("-y+x, 0.5+z, x").unwrap();
        assert_eq!(r, [[1.0, -1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]);
        assert_eq!(t, [0.0, 0.5, 0.0]);
        let (_, t) = parse_symop("X+0.25, Y, -Z-.75").unwrap();
        assert_eq!(t, [0.25, 0.0, -0.75]);
        for bad in [
            "x,y",
            "x,y,z,x",
            "x,x,z",
            "x+1/0,y,z",
            "x+,y,z",
            "a,b,c",
            "xy,y,z",
            "",
            "1/2,y,z",
        ] {
            assert!(parse_symop(bad).is_none(), "{bad}");
        }
    }
}
