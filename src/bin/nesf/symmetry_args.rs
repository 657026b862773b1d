//! The space-group tolerance of the commands that show space groups (autoencode, interpolate).

use clap::Args;
use nesf::crystal::symmetry::DECODED_SYMPREC;
use nesf::Structure;

/// Space-group settings.
#[derive(Args, Debug)]
pub struct SymmetryArgs {
    /// Position tolerance (Å) of the space groups shown
    #[arg(long, default_value_t = DECODED_SYMPREC, value_parser = positive_length)]
    symprec: f64,
}

fn positive_length(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!("expected a positive length in Å, got '{text}'")),
    }
}

impl SymmetryArgs {
    /// The structure's space group as "Fm-3m (225)", or "?" when none is found.
    pub fn label(&self, s: &Structure) -> String {
        s.space_group(self.symprec)
            .map(|g| g.to_string())
            .unwrap_or_else(|_| "?".into())
    }
}
