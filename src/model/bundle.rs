//! Model bundles: the ONNX graphs of a trained NeSF model plus a manifest (format version,
//! species vocabulary, latent size, decoding box and defaults, provenance).
//!
//! A bundle is a folder holding `manifest.json` and the graph files it names, or the same
//! files in one uncompressed tar archive (conventionally `*.nesf`). Either can be loaded from
//! bytes, so a bundle can be embedded in a binary. See docs/model-bundle.md.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use crate::decode::DecodeOptions;
use crate::error::{Error, Result};
use crate::field::BoundingBox;
use crate::metrics::Metrics;
use crate::model::graphs;
use crate::model::onnx_writer::{graph_signature, ElementType, Signature};
use crate::model::weights::NesfWeights;
use crate::vocabulary::Vocabulary;

/// The bundle format version this library reads and writes.
pub const FORMAT_VERSION: u32 = 1;
/// The value of the manifest's `format` key.
pub const FORMAT_NAME: &str = "nesf-model";
/// The manifest's file name inside a bundle.
pub const MANIFEST: &str = "manifest.json";

/// Where the model came from.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Provenance {
    /// Training data set (name or file).
    pub dataset: String,
    /// Number of training structures.
    pub training_structures: usize,
    /// Epochs trained (of the checkpoint exported).
    pub epochs: usize,
    /// Validation metrics of the exported model, if measured.
    pub validation: Option<Metrics>,
    /// What produced the bundle (program and version).
    pub created_by: String,
    /// Free text: hardware, training time, choices made.
    pub notes: String,
}

/// The file names of the four graphs inside the bundle.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GraphFiles {
    /// Encoder: `positions` [B,N,3], `species` [B,N,V] one-hot, `lattice` [B,6] -> `latent` [B,L].
    pub encoder: String,
    /// Per-latent terms: `latent` [M,L] -> `position_term` [M,H], `species_term` [M,H'],
    /// `lengths` [M,3] (Å), `angles` [M,3] (radians).
    pub latent_terms: String,
    /// Position field: `term` [M,H], `index` [N] int64, `points` [N,3] -> `displacement` [N,3].
    pub position_field: String,
    /// Species field: `term` [M,H'], `index` [N] int64, `points` [N,3] -> `logits` [N,V].
    pub species_field: String,
}

impl Default for GraphFiles {
    fn default() -> Self {
        GraphFiles {
            encoder: "encoder.onnx".into(),
            latent_terms: "latent_terms.onnx".into(),
            position_field: "position_field.onnx".into(),
            species_field: "species_field.onnx".into(),
        }
    }
}

/// SHA-256 digests (lowercase hex) of the four graph files.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GraphChecksums {
    /// Of the encoder graph.
    pub encoder: String,
    /// Of the latent-terms graph.
    pub latent_terms: String,
    /// Of the position-field graph.
    pub position_field: String,
    /// Of the species-field graph.
    pub species_field: String,
}

/// Lowercase hex SHA-256 of `bytes`.
fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The manifest of a bundle (`manifest.json`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Manifest {
    /// Always [`FORMAT_NAME`].
    pub format: String,
    /// Bundle format version ([`FORMAT_VERSION`]).
    pub format_version: u32,
    /// Size of the latent vector.
    pub latent_size: usize,
    /// Species vocabulary: atomic numbers in class order.
    pub vocabulary: Vec<u8>,
    /// The decoding grid's box (the training set's atom bounding box), Å.
    pub bounding_box: BoundingBox,
    /// Decoder defaults for this model.
    #[serde(default)]
    pub decode: DecodeOptions,
    /// True when the fields take a sin/cos positional encoding of the points (computed inside
    /// the graphs; callers always pass Cartesian points).
    #[serde(default)]
    pub positional_encoding: bool,
    /// Graph file names.
    #[serde(default)]
    pub graphs: GraphFiles,
    /// SHA-256 of each graph file, checked at load, so that a corrupt byte is refused. Bundles
    /// written before checksums existed have none and load unchecked; every bundle nesf
    /// writes has them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksums: Option<GraphChecksums>,
    /// Where the model came from.
    #[serde(default)]
    pub provenance: Provenance,
}

/// A loaded, validated bundle: manifest plus the bytes of the four graphs.
#[derive(Debug, Clone)]
pub struct Bundle {
    manifest: Manifest,
    vocabulary: Vocabulary,
    encoder: Vec<u8>,
    latent_terms: Vec<u8>,
    position_field: Vec<u8>,
    species_field: Vec<u8>,
}

/// Widths of the first hidden layer of the two fields, read from the graphs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldWidths {
    /// Width of the position field's latent term.
    pub position: usize,
    /// Width of the species field's latent term.
    pub species: usize,
}

impl Bundle {
    /// A bundle from a manifest and the four graphs' bytes (encoder, latent terms, position
    /// field, species field); validates everything.
    pub fn new(
        manifest: Manifest,
        encoder: Vec<u8>,
        latent_terms: Vec<u8>,
        position_field: Vec<u8>,
        species_field: Vec<u8>,
    ) -> Result<Self> {
        let mut manifest = manifest;
        let vocabulary = check_manifest(&manifest)?;
        let computed = GraphChecksums {
            encoder: sha256_hex(&encoder),
            latent_terms: sha256_hex(&latent_terms),
            position_field: sha256_hex(&position_field),
            species_field: sha256_hex(&species_field),
        };
        if let Some(stored) = &manifest.checksums {
            let g = &manifest.graphs;
            for (name, want, got) in [
                (&g.encoder, &stored.encoder, &computed.encoder),
                (
                    &g.latent_terms,
                    &stored.latent_terms,
                    &computed.latent_terms,
                ),
                (
                    &g.position_field,
                    &stored.position_field,
                    &computed.position_field,
                ),
                (
                    &g.species_field,
                    &stored.species_field,
                    &computed.species_field,
                ),
            ] {
                if !want.eq_ignore_ascii_case(got) {
                    return Err(Error::Model(format!(
                        "graph {name} is corrupt: its SHA-256 is {got}, the manifest records \
                         {want}"
                    )));
                }
            }
        }
        manifest.checksums = Some(computed);
        let bundle = Bundle {
            manifest,
            vocabulary,
            encoder,
            latent_terms,
            position_field,
            species_field,
        };
        bundle.check_graphs()?;
        Ok(bundle)
    }

    /// A bundle from plain weights: writes the four ONNX graphs and the manifest.
    pub fn from_weights(
        weights: &NesfWeights,
        vocabulary: &Vocabulary,
        bounding_box: BoundingBox,
        decode: DecodeOptions,
        provenance: Provenance,
    ) -> Result<Self> {
        if weights.vocab_size() != vocabulary.len() {
            return Err(Error::Model(format!(
                "weights predict {} species but the vocabulary has {}",
                weights.vocab_size(),
                vocabulary.len()
            )));
        }
        let manifest = Manifest {
            format: FORMAT_NAME.into(),
            format_version: FORMAT_VERSION,
            latent_size: weights.latent_size(),
            vocabulary: vocabulary.numbers().to_vec(),
            bounding_box,
            decode,
            positional_encoding: weights.positional_encoding,
            graphs: GraphFiles::default(),
            checksums: None,
            provenance,
        };
        Bundle::new(
            manifest,
            graphs::encoder(weights)?,
            graphs::latent_terms(weights)?,
            graphs::position_field(weights)?,
            graphs::species_field(weights)?,
        )
    }

    /// Loads a bundle from a folder or a bundle file.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let describe = path.display().to_string();
        if path.is_dir() {
            let mut files = BTreeMap::new();
            for entry in std::fs::read_dir(path).map_err(|e| Error::io(path, e))? {
                let entry = entry.map_err(|e| Error::io(path, e))?;
                if entry.path().is_file() {
                    let name = entry.file_name().to_string_lossy().into_owned();
                    let bytes =
                        std::fs::read(entry.path()).map_err(|e| Error::io(entry.path(), e))?;
                    files.insert(name, bytes);
                }
            }
            Self::from_files(files, &describe)
        } else {
            let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
            Self::from_bytes_named(&bytes, &describe)
        }
    }

    /// Loads a bundle file (tar archive) from memory.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        Self::from_bytes_named(bytes, "bundle in memory")
    }

    fn from_bytes_named(bytes: &[u8], describe: &str) -> Result<Self> {
        let bad = |m: String| Error::Model(format!("{describe}: {m}"));
        if bytes.len() < 512 {
            return Err(bad(format!(
                "{} bytes is too short for a model bundle (a tar archive of manifest.json and ONNX graphs)",
                bytes.len()
            )));
        }
        let mut archive = tar::Archive::new(bytes);
        let mut files = BTreeMap::new();
        let entries = archive
            .entries()
            .map_err(|e| bad(format!("not a model bundle archive: {e}")))?;
        for entry in entries {
            let mut entry = entry.map_err(|e| bad(format!("corrupt bundle archive: {e}")))?;
            if !entry.header().entry_type().is_file() {
                continue;
            }
            let name = entry
                .path()
                .map_err(|e| bad(format!("bad file name in bundle: {e}")))?
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let mut data = Vec::new();
            entry
                .read_to_end(&mut data)
                .map_err(|e| bad(format!("truncated bundle member '{name}': {e}")))?;
            files.insert(name, data);
        }
        Self::from_files(files, describe)
    }

    fn from_files(mut files: BTreeMap<String, Vec<u8>>, describe: &str) -> Result<Self> {
        let bad = |m: String| Error::Model(format!("{describe}: {m}"));
        let manifest_bytes = files
            .remove(MANIFEST)
            .ok_or_else(|| bad(format!("no {MANIFEST} in the bundle")))?;
        let manifest: Manifest = serde_json::from_slice(&manifest_bytes)
            .map_err(|e| bad(format!("{MANIFEST} is not a valid manifest: {e}")))?;
        if manifest.format != FORMAT_NAME {
            return Err(bad(format!(
                "{MANIFEST} says format '{}', expected '{FORMAT_NAME}'",
                manifest.format
            )));
        }
        let mut take = |name: &str, role: &str| {
            files.remove(name).ok_or_else(|| {
                bad(format!(
                    "the {role} graph '{name}' named in {MANIFEST} is missing"
                ))
            })
        };
        let g = manifest.graphs.clone();
        let encoder = take(&g.encoder, "encoder")?;
        let latent_terms = take(&g.latent_terms, "latent_terms")?;
        let position_field = take(&g.position_field, "position_field")?;
        let species_field = take(&g.species_field, "species_field")?;
        Bundle::new(
            manifest,
            encoder,
            latent_terms,
            position_field,
            species_field,
        )
        .map_err(|e| bad(e.to_string()))
    }

    /// The manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The species vocabulary.
    pub fn vocabulary(&self) -> &Vocabulary {
        &self.vocabulary
    }

    /// The encoder graph's bytes.
    pub fn encoder(&self) -> &[u8] {
        &self.encoder
    }

    /// The latent-terms graph's bytes.
    pub fn latent_terms(&self) -> &[u8] {
        &self.latent_terms
    }

    /// The position-field graph's bytes.
    pub fn position_field(&self) -> &[u8] {
        &self.position_field
    }

    /// The species-field graph's bytes.
    pub fn species_field(&self) -> &[u8] {
        &self.species_field
    }

    /// Widths of the fields' latent terms.
    pub fn field_widths(&self) -> Result<FieldWidths> {
        let s = graph_signature(&self.latent_terms)?;
        let width = |name: &str| {
            s.output(name)
                .and_then(|t| t.dims.get(1).copied().flatten())
                .ok_or_else(|| {
                    Error::Model(format!("latent_terms output '{name}' has no fixed width"))
                })
        };
        Ok(FieldWidths {
            position: width("position_term")?,
            species: width("species_term")?,
        })
    }

    /// The bundle as files: manifest first, then the graphs.
    fn files(&self) -> Result<Vec<(String, Vec<u8>)>> {
        let manifest = serde_json::to_vec_pretty(&self.manifest)
            .map_err(|e| Error::Model(format!("cannot serialise the manifest: {e}")))?;
        let g = &self.manifest.graphs;
        Ok(vec![
            (MANIFEST.to_string(), manifest),
            (g.encoder.clone(), self.encoder.clone()),
            (g.latent_terms.clone(), self.latent_terms.clone()),
            (g.position_field.clone(), self.position_field.clone()),
            (g.species_field.clone(), self.species_field.clone()),
        ])
    }

    /// The bundle as one file's bytes (an uncompressed tar archive).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut builder = tar::Builder::new(Vec::new());
        for (name, data) in self.files()? {
            let mut header = tar::Header::new_gnu();
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            header.set_mtime(0);
            header.set_cksum();
            builder
                .append_data(&mut header, &name, data.as_slice())
                .map_err(|e| Error::Model(format!("cannot archive '{name}': {e}")))?;
        }
        builder
            .into_inner()
            .map_err(|e| Error::Model(format!("cannot finish the bundle archive: {e}")))
    }

    /// Writes the bundle as one file, atomically (on error the previous file stays).
    pub fn write_file(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        crate::io::atomic::write(path, &self.to_bytes()?)
    }

    /// Writes the bundle as a folder (created if needed), each file atomically.
    pub fn write_dir(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        std::fs::create_dir_all(path).map_err(|e| Error::io(path, e))?;
        for (name, data) in self.files()? {
            let file = path.join(&name);
            crate::io::atomic::write(&file, &data)?;
        }
        Ok(())
    }

    /// Checks every graph's inputs and outputs against the manifest and each other.
    fn check_graphs(&self) -> Result<()> {
        let m = &self.manifest;
        let v = self.vocabulary.len();
        let l = m.latent_size;
        let sig = |role: &str, bytes: &[u8]| {
            graph_signature(bytes).map_err(|e| Error::Model(format!("{role} graph: {e}")))
        };
        let enc = sig("encoder", &self.encoder)?;
        expect(
            &enc,
            "encoder",
            Io::Input,
            "positions",
            ElementType::F32,
            &[None, None, Some(3)],
        )?;
        expect(
            &enc,
            "encoder",
            Io::Input,
            "species",
            ElementType::F32,
            &[None, None, Some(v)],
        )?;
        expect(
            &enc,
            "encoder",
            Io::Input,
            "lattice",
            ElementType::F32,
            &[None, Some(6)],
        )?;
        expect(
            &enc,
            "encoder",
            Io::Output,
            "latent",
            ElementType::F32,
            &[None, Some(l)],
        )?;

        let terms = sig("latent_terms", &self.latent_terms)?;
        expect(
            &terms,
            "latent_terms",
            Io::Input,
            "latent",
            ElementType::F32,
            &[None, Some(l)],
        )?;
        expect(
            &terms,
            "latent_terms",
            Io::Output,
            "lengths",
            ElementType::F32,
            &[None, Some(3)],
        )?;
        expect(
            &terms,
            "latent_terms",
            Io::Output,
            "angles",
            ElementType::F32,
            &[None, Some(3)],
        )?;
        let widths = self.field_widths()?;
        expect(
            &terms,
            "latent_terms",
            Io::Output,
            "position_term",
            ElementType::F32,
            &[None, Some(widths.position)],
        )?;
        expect(
            &terms,
            "latent_terms",
            Io::Output,
            "species_term",
            ElementType::F32,
            &[None, Some(widths.species)],
        )?;

        for (role, bytes, width, out, out_width) in [
            (
                "position_field",
                &self.position_field,
                widths.position,
                "displacement",
                3,
            ),
            (
                "species_field",
                &self.species_field,
                widths.species,
                "logits",
                v,
            ),
        ] {
            let s = sig(role, bytes)?;
            expect(
                &s,
                role,
                Io::Input,
                "term",
                ElementType::F32,
                &[None, Some(width)],
            )?;
            expect(&s, role, Io::Input, "index", ElementType::I64, &[None])?;
            expect(
                &s,
                role,
                Io::Input,
                "points",
                ElementType::F32,
                &[None, Some(3)],
            )?;
            expect(
                &s,
                role,
                Io::Output,
                out,
                ElementType::F32,
                &[None, Some(out_width)],
            )?;
        }
        Ok(())
    }
}

#[derive(Clone, Copy)]
enum Io {
    Input,
    Output,
}

/// Checks that `sig` has an input or output `name` of type `ty` and shape `dims` (None = any).
fn expect(
    sig: &Signature,
    role: &str,
    io: Io,
    name: &str,
    ty: ElementType,
    dims: &[Option<usize>],
) -> Result<()> {
    let (found, kind) = match io {
        Io::Input => (sig.input(name), "input"),
        Io::Output => (sig.output(name), "output"),
    };
    let t = found.ok_or_else(|| {
        let names: Vec<&str> = match io {
            Io::Input => sig.inputs.iter().map(|t| t.name.as_str()).collect(),
            Io::Output => sig.outputs.iter().map(|t| t.name.as_str()).collect(),
        };
        Error::Model(format!(
            "{role} graph has no {kind} '{name}' (it has {names:?})"
        ))
    })?;
    let shape_ok = t.dims.len() == dims.len()
        && t.dims
            .iter()
            .zip(dims)
            .all(|(got, want)| want.is_none() || got == want);
    if t.element_type != ty || !shape_ok {
        let show = |d: &[Option<usize>]| {
            d.iter()
                .map(|x| x.map_or("?".to_string(), |n| n.to_string()))
                .collect::<Vec<_>>()
                .join(", ")
        };
        return Err(Error::Model(format!(
            "{role} graph {kind} '{name}' is {:?} [{}], the manifest requires {ty:?} [{}]",
            t.element_type,
            show(&t.dims),
            show(dims)
        )));
    }
    Ok(())
}

/// Validates the manifest on its own and returns its vocabulary.
fn check_manifest(m: &Manifest) -> Result<Vocabulary> {
    if m.format != FORMAT_NAME {
        return Err(Error::Model(format!(
            "manifest format '{}' is not '{FORMAT_NAME}'",
            m.format
        )));
    }
    if m.format_version != FORMAT_VERSION {
        return Err(Error::Model(format!(
            "bundle format version {} is not supported (this library reads version {FORMAT_VERSION})",
            m.format_version
        )));
    }
    if m.latent_size == 0 {
        return Err(Error::Model("manifest latent_size is 0".into()));
    }
    let vocabulary = Vocabulary::new(m.vocabulary.clone())
        .map_err(|e| Error::Model(format!("manifest vocabulary: {e}")))?;
    if vocabulary.numbers() != m.vocabulary.as_slice() {
        return Err(Error::Model(
            "manifest vocabulary must list distinct atomic numbers in ascending order".into(),
        ));
    }
    let bounding_box = BoundingBox::new(m.bounding_box.min, m.bounding_box.max)
        .map_err(|e| Error::Model(format!("manifest bounding_box: {e}")))?;
    m.decode
        .validate()
        .map_err(|e| Error::Model(format!("manifest decode defaults: {e}")))?;
    // the work the defaults imply over the box: refused at load, not at the first decode
    bounding_box
        .grid_len(m.decode.grid_step)
        .and_then(|points| m.decode.check_particles(points, m.decode.batch_size))
        .map_err(|e| {
            Error::Model(format!(
                "manifest decode defaults over its bounding_box {:?}..{:?}: {e}",
                m.bounding_box.min, m.bounding_box.max
            ))
        })?;
    Ok(vocabulary)
}
