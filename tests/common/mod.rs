//! Helpers shared by the integration tests: data files and random-weight model bundles.
#![allow(dead_code)]

pub mod native;

use nesf::model::{Architecture, Bundle, NesfWeights, Provenance};
use nesf::{BoundingBox, DecodeOptions, Structure, Vocabulary};

/// Every structure of a file in data/.
pub fn data(name: &str) -> Vec<Structure> {
    nesf::io::read(format!("{}/data/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// Random weights of the paper's sizes whose lattice heads give plausible cells
/// (lengths near 4 Å, angles near 90 degrees), so random latents decode without errors.
pub fn random_weights(vocab: usize, seed: u64) -> NesfWeights {
    random_weights_for(&Architecture::paper(vocab), seed)
}

/// [`random_weights`] of any architecture (e.g. the positional-encoding variant).
pub fn random_weights_for(architecture: &Architecture, seed: u64) -> NesfWeights {
    let mut w = NesfWeights::random_for(architecture, seed).unwrap();
    for (head, centre) in [
        (&mut w.lattice_lengths, 4.0f32),
        (&mut w.lattice_angles, std::f32::consts::FRAC_PI_2),
    ] {
        let last = head.last_mut().unwrap();
        last.weight.iter_mut().for_each(|x| *x *= 0.01);
        last.bias.iter_mut().for_each(|b| *b = centre);
    }
    w
}

/// A random-weight bundle for `structures` (their vocabulary and bounding box).
pub fn random_bundle(structures: &[Structure], seed: u64) -> (Bundle, NesfWeights) {
    random_bundle_of(structures, seed, false)
}

/// [`random_bundle`], with the positional-encoding variant's fields when `encoded`.
pub fn random_bundle_of(
    structures: &[Structure],
    seed: u64,
    encoded: bool,
) -> (Bundle, NesfWeights) {
    let vocabulary = Vocabulary::from_structures(structures).unwrap();
    let architecture = Architecture {
        positional_encoding: encoded,
        ..Architecture::paper(vocabulary.len())
    };
    let weights = random_weights_for(&architecture, seed);
    let bundle = Bundle::from_weights(
        &weights,
        &vocabulary,
        BoundingBox::of_structures(structures).unwrap(),
        DecodeOptions::default(),
        Provenance {
            dataset: "random weights (test)".into(),
            ..Default::default()
        },
    )
    .unwrap();
    (bundle, weights)
}

/// `bundle`'s archive with its manifest.json text replaced by `edit(text)`, as a crafted or
/// damaged file would hold it.
pub fn with_manifest(bundle: &Bundle, edit: impl Fn(String) -> String) -> Vec<u8> {
    use std::io::Read;
    let bytes = bundle.to_bytes().unwrap();
    let mut archive = tar::Archive::new(bytes.as_slice());
    let mut out = tar::Builder::new(Vec::new());
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = entry.path().unwrap().to_string_lossy().into_owned();
        let mut content = Vec::new();
        entry.read_to_end(&mut content).unwrap();
        if name == "manifest.json" {
            content = edit(String::from_utf8(content).unwrap()).into_bytes();
        }
        let mut header = tar::Header::new_gnu();
        header.set_size(content.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        out.append_data(&mut header, &name, content.as_slice())
            .unwrap();
    }
    out.into_inner().unwrap()
}
