//! The periodic cell: lattice vectors a, b, c (rows, Å) and their parameters.

use crate::error::{Error, Result};

/// A 3-vector of f64.
pub type Vec3 = [f64; 3];

/// The smallest cell volume (Å^3) accepted; anything below is treated as degenerate.
const MIN_VOLUME: f64 = 1e-6;

/// Lattice parameters: edge lengths a, b, c in Å and angles alpha, beta, gamma in degrees.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LatticeParameters {
    /// Length of a (Å).
    pub a: f64,
    /// Length of b (Å).
    pub b: f64,
    /// Length of c (Å).
    pub c: f64,
    /// Angle between b and c (degrees).
    pub alpha: f64,
    /// Angle between a and c (degrees).
    pub beta: f64,
    /// Angle between a and b (degrees).
    pub gamma: f64,
}

impl LatticeParameters {
    /// The three lengths (Å).
    pub fn lengths(&self) -> Vec3 {
        [self.a, self.b, self.c]
    }

    /// The three angles (degrees).
    pub fn angles(&self) -> Vec3 {
        [self.alpha, self.beta, self.gamma]
    }
}

/// A crystal lattice given by its three vectors a, b, c as the rows of a matrix (Å).
/// Cartesian = fractional · matrix (row vectors).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Lattice {
    matrix: [Vec3; 3],
    inverse: [Vec3; 3],
}

/// Largest lattice-vector component accepted (Å): 1 mm, far beyond any crystal cell, and small
/// enough that volumes, inverses and fractional coordinates stay finite.
pub const MAX_LATTICE_COMPONENT: f64 = 1e7;

impl Lattice {
    /// A lattice from its vectors (rows a, b, c in Å). Fails on non-finite numbers, a
    /// component beyond [`MAX_LATTICE_COMPONENT`] or a cell whose volume is (nearly) zero.
    pub fn new(matrix: [Vec3; 3]) -> Result<Self> {
        if matrix.iter().flatten().any(|x| !x.is_finite()) {
            return Err(Error::InvalidLattice(format!(
                "non-finite lattice vector component in {matrix:?}"
            )));
        }
        if let Some(x) = matrix
            .iter()
            .flatten()
            .find(|x| x.abs() > MAX_LATTICE_COMPONENT)
        {
            return Err(Error::InvalidLattice(format!(
                "lattice vector component {x:e} Å is beyond {MAX_LATTICE_COMPONENT:e} Å: not a \
                 crystal cell (are the units Å?)"
            )));
        }
        let det = det3(&matrix);
        if det.abs() < MIN_VOLUME {
            return Err(Error::InvalidLattice(format!(
                "degenerate cell (volume {det:.3e} Å^3) from vectors {matrix:?}"
            )));
        }
        Ok(Lattice {
            matrix,
            inverse: inverse3(&matrix, det),
        })
    }

    /// A lattice from lengths (Å) and angles (degrees), in the standard orientation:
    /// a along x, b in the xy plane, c completing a right-handed cell.
    pub fn from_parameters(p: &LatticeParameters) -> Result<Self> {
        let values = [p.a, p.b, p.c, p.alpha, p.beta, p.gamma];
        if values.iter().any(|x| !x.is_finite()) {
            return Err(Error::InvalidLattice(format!(
                "non-finite lattice parameter in {p:?}"
            )));
        }
        if p.a <= 0.0 || p.b <= 0.0 || p.c <= 0.0 {
            return Err(Error::InvalidLattice(format!(
                "lattice lengths must be positive, got a={} b={} c={}",
                p.a, p.b, p.c
            )));
        }
        for (name, angle) in [("alpha", p.alpha), ("beta", p.beta), ("gamma", p.gamma)] {
            if angle <= 0.0 || angle >= 180.0 {
                return Err(Error::InvalidLattice(format!(
                    "angle {name} = {angle} degrees is outside (0, 180)"
                )));
            }
        }
        let (ca, cb, cg) = (cos_deg(p.alpha), cos_deg(p.beta), cos_deg(p.gamma));
        let sg = sin_deg(p.gamma);
        let cx = p.c * cb;
        let cy = p.c * (ca - cb * cg) / sg;
        let cz2 = p.c * p.c - cx * cx - cy * cy;
        if cz2 <= 0.0 {
            return Err(Error::InvalidLattice(format!(
                "angles alpha={} beta={} gamma={} do not form a cell",
                p.alpha, p.beta, p.gamma
            )));
        }
        Lattice::new([
            [p.a, 0.0, 0.0],
            [p.b * cg, p.b * sg, 0.0],
            [cx, cy, cz2.sqrt()],
        ])
    }

    /// The lattice vectors as rows a, b, c (Å).
    pub fn matrix(&self) -> &[Vec3; 3] {
        &self.matrix
    }

    /// Lengths (Å) and angles (degrees).
    pub fn parameters(&self) -> LatticeParameters {
        let [a, b, c] = self.matrix;
        let (la, lb, lc) = (norm(a), norm(b), norm(c));
        LatticeParameters {
            a: la,
            b: lb,
            c: lc,
            alpha: angle_deg(b, c),
            beta: angle_deg(a, c),
            gamma: angle_deg(a, b),
        }
    }

    /// Cell volume (Å^3, positive).
    pub fn volume(&self) -> f64 {
        det3(&self.matrix).abs()
    }

    /// The smallest distance (Å) between neighbouring lattice planes of the cell's three faces
    /// (volume over face area). No lattice vector is shorter, so a cell whose planes lie closer
    /// than a tolerance is degenerate at that tolerance.
    pub fn min_plane_spacing(&self) -> f64 {
        let [a, b, c] = self.matrix;
        let cross = |u: Vec3, v: Vec3| {
            [
                u[1] * v[2] - u[2] * v[1],
                u[2] * v[0] - u[0] * v[2],
                u[0] * v[1] - u[1] * v[0],
            ]
        };
        let volume = self.volume();
        [cross(b, c), cross(c, a), cross(a, b)]
            .into_iter()
            .map(|f| volume / norm(f))
            .fold(f64::INFINITY, f64::min)
    }

    /// Cartesian coordinates (Å) of a fractional position.
    pub fn to_cartesian(&self, frac: Vec3) -> Vec3 {
        mul_row(frac, &self.matrix)
    }

    /// Fractional coordinates of a Cartesian position (Å).
    pub fn to_fractional(&self, cart: Vec3) -> Vec3 {
        mul_row(cart, &self.inverse)
    }

    /// The shortest Cartesian distance (Å) between two fractional positions over lattice
    /// translations (minimum image, checking the 27 neighbouring cells after wrapping).
    pub fn periodic_distance(&self, f1: Vec3, f2: Vec3) -> f64 {
        let d = [0, 1, 2].map(|k| {
            let x = f1[k] - f2[k];
            x - x.round()
        });
        let mut best = f64::INFINITY;
        for i in -1..=1 {
            for j in -1..=1 {
                for k in -1..=1 {
                    let v = self.to_cartesian([d[0] + i as f64, d[1] + j as f64, d[2] + k as f64]);
                    best = best.min(norm(v));
                }
            }
        }
        best
    }
}

/// Euclidean length of a vector.
pub fn norm(v: Vec3) -> f64 {
    (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt()
}

/// Euclidean distance between two points.
pub fn distance(a: Vec3, b: Vec3) -> f64 {
    norm([a[0] - b[0], a[1] - b[1], a[2] - b[2]])
}

fn cos_deg(x: f64) -> f64 {
    // exact values for right angles keep orthogonal cells exactly orthogonal
    if x == 90.0 {
        0.0
    } else {
        x.to_radians().cos()
    }
}

fn sin_deg(x: f64) -> f64 {
    if x == 90.0 {
        1.0
    } else {
        x.to_radians().sin()
    }
}

fn angle_deg(u: Vec3, v: Vec3) -> f64 {
    let c = (u[0] * v[0] + u[1] * v[1] + u[2] * v[2]) / (norm(u) * norm(v));
    c.clamp(-1.0, 1.0).acos().to_degrees()
}

fn det3(m: &[Vec3; 3]) -> f64 {
    m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
        - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
        + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
}

fn inverse3(m: &[Vec3; 3], det: f64) -> [Vec3; 3] {
    // inverse = adjugate / det, with the cofactors written cyclically
    [0, 1, 2].map(|i| {
        [0, 1, 2].map(|j| {
            let (a, b) = ((j + 1) % 3, (j + 2) % 3);
            let (c, d) = ((i + 1) % 3, (i + 2) % 3);
            (m[a][c] * m[b][d] - m[a][d] * m[b][c]) / det
        })
    })
}

fn mul_row(v: Vec3, m: &[Vec3; 3]) -> Vec3 {
    [0, 1, 2].map(|k| v[0] * m[0][k] + v[1] * m[1][k] + v[2] * m[2][k])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absurd_cells_are_refused() {
        let e = Lattice::new([[1e300, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
            .unwrap_err()
            .to_string();
        assert!(e.contains("beyond"), "{e}");
        // the largest accepted cell still has finite fractional coordinates
        let m = MAX_LATTICE_COMPONENT;
        let l = Lattice::new([[m, 0.0, 0.0], [0.0, m, 0.0], [0.0, 0.0, m]]).unwrap();
        assert!(l
            .to_fractional([1.0, 2.0, 3.0])
            .iter()
            .all(|x| x.is_finite()));
    }

    #[test]
    fn parameters_round_trip() {
        let p = LatticeParameters {
            a: 3.1,
            b: 4.2,
            c: 5.3,
            alpha: 80.0,
            beta: 95.0,
            gamma: 110.0,
        };
        let l = Lattice::from_parameters(&p).unwrap();
        let q = l.parameters();
        for (x, y) in [p.a, p.b, p.c, p.alpha, p.beta, p.gamma]
            .iter()
            .zip([q.a, q.b, q.c, q.alpha, q.beta, q.gamma])
        {
            assert!((x - y).abs() < 1e-10, "{x} vs {y}");
        }
    }

    #[test]
    fn fractional_round_trip() {
        let l = Lattice::new([[3.0, 0.1, 0.2], [-1.5, 2.6, 0.0], [0.3, 0.4, 5.0]]).unwrap();
        let f = [0.1, 0.7, 0.35];
        let back = l.to_fractional(l.to_cartesian(f));
        for k in 0..3 {
            assert!((back[k] - f[k]).abs() < 1e-12);
        }
    }

    #[test]
    fn rejects_bad_cells() {
        assert!(Lattice::new([[1.0, 0.0, 0.0], [2.0, 0.0, 0.0], [0.0, 0.0, 1.0]]).is_err());
        assert!(Lattice::new([[f64::NAN, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]).is_err());
        let mut p = LatticeParameters {
            a: 1.0,
            b: 1.0,
            c: 1.0,
            alpha: 90.0,
            beta: 90.0,
            gamma: 90.0,
        };
        p.gamma = 180.0;
        assert!(Lattice::from_parameters(&p).is_err());
        p.gamma = 90.0;
        p.a = -1.0;
        assert!(Lattice::from_parameters(&p).is_err());
        p.a = 1.0;
        p.alpha = 10.0;
        p.beta = 10.0;
        p.gamma = 170.0;
        assert!(Lattice::from_parameters(&p).is_err());
    }

    #[test]
    fn plane_spacing_is_the_thinnest_direction() {
        let l = Lattice::new([[4.0, 0.0, 0.0], [0.0, 3.0, 0.0], [0.0, 0.0, 5.0]]).unwrap();
        assert!((l.min_plane_spacing() - 3.0).abs() < 1e-12);
        // a sheared cell: long vectors, but planes 1 Å apart
        let l = Lattice::new([[4.0, 0.0, 0.0], [3.9, 1.0, 0.0], [0.0, 0.0, 5.0]]).unwrap();
        // volume 20 over the area of the face spanned by b and c, |(5, -19.5, 0)|
        assert!((l.min_plane_spacing() - 20.0 / 5.0f64.hypot(19.5)).abs() < 1e-12);
    }

    #[test]
    fn periodic_distance_wraps() {
        let l = Lattice::new([[4.0, 0.0, 0.0], [0.0, 4.0, 0.0], [0.0, 0.0, 4.0]]).unwrap();
        assert!((l.periodic_distance([0.01, 0.0, 0.0], [0.99, 0.0, 0.0]) - 0.08).abs() < 1e-12);
    }
}
