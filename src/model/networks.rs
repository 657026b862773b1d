//! A loaded NeSF model: the bundle's graphs as ONNX Runtime sessions, encoding structures to
//! latents, and the neural fields that the decoder runs on.

use std::path::Path;
use std::sync::Mutex;

use ort::session::builder::GraphOptimizationLevel;
use ort::session::Session;
use ort::value::TensorRef;

use super::bundle::{Bundle, FieldWidths, Manifest};
use super::graphs;
use super::latents::Latents;
use super::provider::{ModelOptions, Provider, ProviderReport};
use super::runtime;
use crate::crystal::{LatticeParameters, Structure};
use crate::decode::{decode_with_progress, DecodeOptions, DecodedStructure, PredictedLattice};
use crate::error::{Error, Result};
use crate::field::{BoundingBox, Field, Query};
use crate::vocabulary::Vocabulary;

/// Structures encoded per encoder run, at most.
pub const ENCODE_CHUNK: usize = 256;

/// Atom slots (structures × the largest atom count among them) per encoder run, at most: the
/// encoder pads every structure of a run to its largest, so one large structure among many
/// small ones would otherwise multiply the run's memory (about 6 kB per slot). A structure with
/// more atoms than this runs alone.
pub const ENCODE_PADDED_ATOMS: usize = 1 << 15;

/// Splits structures of `atoms[i]` atoms, in order, into encoder runs of at most
/// [`ENCODE_CHUNK`] structures and [`ENCODE_PADDED_ATOMS`] padded atom slots (a structure
/// larger than that alone).
pub fn encode_runs(atoms: &[usize]) -> Vec<std::ops::Range<usize>> {
    let mut runs = Vec::new();
    let (mut start, mut largest) = (0, 0);
    for (i, &n) in atoms.iter().enumerate() {
        let wider = largest.max(n);
        let count = i - start;
        if count > 0
            && (count == ENCODE_CHUNK || (count + 1).saturating_mul(wider) > ENCODE_PADDED_ATOMS)
        {
            runs.push(start..i);
            start = i;
            largest = n;
        } else {
            largest = wider;
        }
    }
    if start < atoms.len() {
        runs.push(start..atoms.len());
    }
    runs
}

/// A NeSF model ready to run. Immutable after loading and safe to share between threads
/// (each graph's session is used by one thread at a time).
pub struct Model {
    bundle: Bundle,
    widths: FieldWidths,
    options: ModelOptions,
    provider: ProviderReport,
    encoder: Mutex<Session>,
    latent_terms: Mutex<Session>,
    position_field: FieldGraph,
    species_field: FieldGraph,
}

/// A per-point field graph and the shapes of its term input and output.
struct FieldGraph {
    session: Mutex<Session>,
    role: &'static str,
    output: &'static str,
    term_width: usize,
    out_width: usize,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("manifest", self.bundle.manifest())
            .field("provider", &self.provider)
            .finish_non_exhaustive()
    }
}

fn ort_error(what: &str) -> impl Fn(ort::Error) -> Error + '_ {
    move |e| Error::Runtime(format!("{what}: {e}"))
}

impl Model {
    /// Loads a bundle (folder or file) and creates its sessions.
    pub fn load(path: impl AsRef<Path>, options: &ModelOptions) -> Result<Self> {
        Model::from_bundle(Bundle::load(path)?, options)
    }

    /// Loads the model embedded in the library (`models/default.nesf`, trained on LCS6Å). Fails
    /// in a build without the `default-model` feature.
    pub fn load_default(options: &ModelOptions) -> Result<Self> {
        let bytes = super::default::default_model_bytes().ok_or_else(|| {
            Error::Model(
                "no default model is embedded in this build (built without the `default-model` \
                 feature); pass a model bundle explicitly"
                    .into(),
            )
        })?;
        Model::from_bytes(bytes, options)
    }

    /// Loads a bundle file from memory and creates its sessions.
    pub fn from_bytes(bytes: &[u8], options: &ModelOptions) -> Result<Self> {
        Model::from_bundle(Bundle::from_bytes(bytes)?, options)
    }

    /// Creates the sessions of a validated bundle.
    pub fn from_bundle(bundle: Bundle, options: &ModelOptions) -> Result<Self> {
        options.validate()?;
        let info = runtime::load(options.runtime_path.as_deref())?;
        let mut provider = ProviderReport {
            requested: options.provider,
            active: options.provider,
            fallback_reason: None,
        };
        if let Provider::Cuda { .. } = options.provider {
            if !info
                .available_providers
                .iter()
                .any(|p| p == "CUDAExecutionProvider")
            {
                let reason = format!(
                    "the ONNX Runtime library {} (version {}) has no CUDA execution provider \
                     (it offers {:?}); use a GPU build of ONNX Runtime",
                    info.path.display(),
                    info.version,
                    info.available_providers
                );
                fall_back(&mut provider, options, reason)?;
            }
        }
        let encoder = session(bundle.encoder(), "encoder", options, &mut provider)?;
        let latent_terms = session(
            bundle.latent_terms(),
            "latent_terms",
            options,
            &mut provider,
        )?;
        let position_field = session(
            bundle.position_field(),
            "position_field",
            options,
            &mut provider,
        )?;
        let species_field = session(
            bundle.species_field(),
            "species_field",
            options,
            &mut provider,
        )?;
        let widths = bundle.field_widths()?;
        Ok(Model {
            position_field: FieldGraph {
                session: Mutex::new(position_field),
                role: "position_field",
                output: "displacement",
                term_width: widths.position,
                out_width: 3,
            },
            species_field: FieldGraph {
                session: Mutex::new(species_field),
                role: "species_field",
                output: "logits",
                term_width: widths.species,
                out_width: bundle.vocabulary().len(),
            },
            widths,
            bundle,
            options: options.clone(),
            provider,
            encoder: Mutex::new(encoder),
            latent_terms: Mutex::new(latent_terms),
        })
    }

    /// The bundle's manifest.
    pub fn manifest(&self) -> &Manifest {
        self.bundle.manifest()
    }

    /// The bundle the model was loaded from.
    pub fn bundle(&self) -> &Bundle {
        &self.bundle
    }

    /// The species vocabulary.
    pub fn vocabulary(&self) -> &Vocabulary {
        self.bundle.vocabulary()
    }

    /// Size of the latent vectors.
    pub fn latent_size(&self) -> usize {
        self.manifest().latent_size
    }

    /// The execution provider asked for and the one in use.
    pub fn provider(&self) -> &ProviderReport {
        &self.provider
    }

    /// The model's decoder defaults.
    pub fn decode_options(&self) -> &DecodeOptions {
        &self.manifest().decode
    }

    /// Encodes structures to latent vectors, many structures per encoder run. Fails when a
    /// structure holds an element outside the vocabulary.
    pub fn encode(&self, structures: &[Structure]) -> Result<Latents> {
        let l = self.latent_size();
        let v = self.vocabulary().len();
        let mut out = Vec::with_capacity(structures.len() * l);
        let sizes: Vec<usize> = structures.iter().map(Structure::len).collect();
        for run in encode_runs(&sizes) {
            let first = run.start;
            let (mut positions, mut species, mut lattice) = (Vec::new(), Vec::new(), Vec::new());
            for (i, s) in structures[run].iter().enumerate() {
                let f = graphs::structure_features(s, self.vocabulary())
                    .map_err(|e| Error::InvalidArgument(format!("structure {}: {e}", first + i)))?;
                positions.push(f.positions);
                species.push(f.classes);
                lattice.push(f.lattice);
            }
            let packed = graphs::encoder_inputs(&positions, &species, &lattice, v)?;
            let (b, n_max) = (packed.batch, packed.atoms);
            let (positions, species, lattice) = (packed.positions, packed.species, packed.lattice);
            let mut session = lock(&self.encoder);
            let inputs = ort::inputs![
                "positions" => TensorRef::from_array_view(([b, n_max, 3], positions.as_slice())).map_err(ort_error("encoder input"))?,
                "species" => TensorRef::from_array_view(([b, n_max, v], species.as_slice())).map_err(ort_error("encoder input"))?,
                "lattice" => TensorRef::from_array_view(([b, 6], lattice.as_slice())).map_err(ort_error("encoder input"))?,
            ];
            let outputs = session
                .run(inputs)
                .map_err(ort_error("running the encoder"))?;
            let (_, z) = outputs["latent"]
                .try_extract_tensor::<f32>()
                .map_err(ort_error("reading the encoder's latent"))?;
            check_output("encoder", "latent", z, b * l)?;
            out.extend_from_slice(z);
        }
        Latents::from_flat(l, out)
    }

    /// The neural fields of `latents` (their latent terms and lattices computed once here).
    pub fn field<'a>(&'a self, latents: &Latents) -> Result<NetworkField<'a>> {
        if latents.latent_size() != self.latent_size() {
            return Err(Error::InvalidArgument(format!(
                "latents of size {} given to a model of latent size {}",
                latents.latent_size(),
                self.latent_size()
            )));
        }
        let m = latents.len();
        let (hp, hs) = (self.widths.position, self.widths.species);
        let mut field = NetworkField {
            model: self,
            position_term: Vec::with_capacity(m * hp),
            species_term: Vec::with_capacity(m * hs),
            lattices: Vec::with_capacity(m),
        };
        let l = self.latent_size();
        for chunk in latents.as_flat().chunks(ENCODE_CHUNK * l) {
            let rows = chunk.len() / l;
            let mut session = lock(&self.latent_terms);
            let outputs = session
                .run(ort::inputs![
                    "latent" => TensorRef::from_array_view(([rows, l], chunk)).map_err(ort_error("latent_terms input"))?
                ])
                .map_err(ort_error("running latent_terms"))?;
            let get = |name: &str, width: usize| -> Result<Vec<f32>> {
                let (_, v) = outputs[name]
                    .try_extract_tensor::<f32>()
                    .map_err(ort_error("reading latent_terms"))?;
                check_output("latent_terms", name, v, rows * width)?;
                Ok(v.to_vec())
            };
            field.position_term.extend(get("position_term", hp)?);
            field.species_term.extend(get("species_term", hs)?);
            let lengths = get("lengths", 3)?;
            let angles = get("angles", 3)?;
            for r in 0..rows {
                let p = LatticeParameters {
                    a: f64::from(lengths[r * 3]),
                    b: f64::from(lengths[r * 3 + 1]),
                    c: f64::from(lengths[r * 3 + 2]),
                    alpha: f64::from(angles[r * 3]).to_degrees(),
                    beta: f64::from(angles[r * 3 + 1]).to_degrees(),
                    gamma: f64::from(angles[r * 3 + 2]).to_degrees(),
                };
                // non-finite parameters form no cell: the decoder reports that structure
                field.lattices.push(PredictedLattice::from_parameters(p));
            }
        }
        Ok(field)
    }

    /// Decodes latents into structures with `options`.
    pub fn decode(
        &self,
        latents: &Latents,
        options: &DecodeOptions,
    ) -> Result<Vec<DecodedStructure>> {
        self.decode_with_progress(latents, options, &|_| {})
    }

    /// As [`Model::decode`], calling `progress(n)` after each batch of structures.
    pub fn decode_with_progress(
        &self,
        latents: &Latents,
        options: &DecodeOptions,
        progress: &(dyn Fn(usize) + Sync),
    ) -> Result<Vec<DecodedStructure>> {
        let field = self.field(latents)?;
        let items: Vec<usize> = (0..latents.len()).collect();
        decode_with_progress(&field, &items, options, progress)
    }

    /// As [`Model::decode`], calling `proceed(n)` (n: structures finished) after every flow
    /// step and batch; when it returns false the decode stops with [`Error::Cancelled`].
    pub fn decode_monitored(
        &self,
        latents: &Latents,
        options: &DecodeOptions,
        proceed: &(dyn Fn(usize) -> bool + Sync),
    ) -> Result<Vec<DecodedStructure>> {
        let field = self.field(latents)?;
        let items: Vec<usize> = (0..latents.len()).collect();
        crate::decode::decode_monitored(&field, &items, options, proceed)
    }

    /// Encodes and decodes structures (the autoencoder).
    pub fn autoencode(
        &self,
        structures: &[Structure],
        options: &DecodeOptions,
    ) -> Result<Vec<DecodedStructure>> {
        self.decode(&self.encode(structures)?, options)
    }

    /// Runs a field graph over `points`, `index[i]` naming the row of `term` of point i, in
    /// runs of at most `max_points_per_run` points, writing the outputs into `out`.
    fn run_field(
        &self,
        graph: &FieldGraph,
        term: &[f32],
        index: &[i64],
        points: &[[f32; 3]],
        out: &mut [f32],
    ) -> Result<()> {
        let (role, w, ow) = (graph.role, graph.term_width, graph.out_width);
        let rows = term.len() / w;
        let step = self.options.max_points_per_run;
        let mut session = lock(&graph.session);
        for (start, chunk) in (0..points.len()).step_by(step).zip(points.chunks(step)) {
            let n = chunk.len();
            let inputs = ort::inputs![
                "term" => TensorRef::from_array_view(([rows, w], term)).map_err(ort_error("field input"))?,
                "index" => TensorRef::from_array_view(([n], &index[start..start + n])).map_err(ort_error("field input"))?,
                "points" => TensorRef::from_array_view(([n, 3], chunk.as_flattened())).map_err(ort_error("field input"))?,
            ];
            let outputs = session
                .run(inputs)
                .map_err(|e| Error::Runtime(format!("running {role}: {e}")))?;
            let (_, values) = outputs[graph.output]
                .try_extract_tensor::<f32>()
                .map_err(|e| Error::Runtime(format!("reading {role} output: {e}")))?;
            check_output(role, graph.output, values, n * ow)?;
            out[start * ow..(start + n) * ow].copy_from_slice(values);
        }
        Ok(())
    }
}

/// The neural position and species fields of a batch of latents; implements [`Field`] so the
/// decoder runs on it.
pub struct NetworkField<'a> {
    model: &'a Model,
    position_term: Vec<f32>,
    species_term: Vec<f32>,
    lattices: Vec<PredictedLattice>,
}

impl NetworkField<'_> {
    /// The rows of `term` (width `w`) of the query's items, and each point's row number.
    fn gather(&self, term: &[f32], w: usize, query: &Query) -> (Vec<f32>, Vec<i64>) {
        let mut rows = Vec::with_capacity(query.items.len() * w);
        let mut index = Vec::with_capacity(query.points.len());
        for (g, (&item, &count)) in query.items.iter().zip(query.counts).enumerate() {
            rows.extend_from_slice(&term[item * w..(item + 1) * w]);
            index.extend(std::iter::repeat_n(g as i64, count));
        }
        (rows, index)
    }
}

impl Field for NetworkField<'_> {
    fn len(&self) -> usize {
        self.lattices.len()
    }

    fn vocabulary(&self) -> &Vocabulary {
        self.model.vocabulary()
    }

    fn bounding_box(&self) -> BoundingBox {
        self.model.manifest().bounding_box
    }

    fn lattices(&self, items: &[usize]) -> Result<Vec<PredictedLattice>> {
        items
            .iter()
            .map(|&i| match self.lattices.get(i) {
                Some(l) => Ok(*l),
                None => Err(Error::InvalidArgument(format!(
                    "latent {i} requested from a field of {}",
                    self.lattices.len()
                ))),
            })
            .collect()
    }

    fn displacements(&self, query: &Query, out: &mut [[f32; 3]]) -> Result<()> {
        query.validate(self.len())?;
        if out.len() != query.points.len() {
            return Err(Error::InvalidArgument(format!(
                "displacement output holds {} vectors for {} points",
                out.len(),
                query.points.len()
            )));
        }
        let graph = &self.model.position_field;
        let (term, index) = self.gather(&self.position_term, graph.term_width, query);
        self.model
            .run_field(graph, &term, &index, query.points, out.as_flattened_mut())
    }

    fn species_logits(&self, query: &Query, out: &mut [f32]) -> Result<()> {
        query.validate(self.len())?;
        let graph = &self.model.species_field;
        if out.len() != query.points.len() * graph.out_width {
            return Err(Error::InvalidArgument(format!(
                "species output holds {} values, {} points need {}",
                out.len(),
                query.points.len(),
                query.points.len() * graph.out_width
            )));
        }
        let (term, index) = self.gather(&self.species_term, graph.term_width, query);
        self.model
            .run_field(graph, &term, &index, query.points, out)
    }
}

fn lock(m: &Mutex<Session>) -> std::sync::MutexGuard<'_, Session> {
    // a panic while holding the lock leaves the session usable: ONNX Runtime keeps no state
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn check_output(role: &str, name: &str, values: &[f32], expected: usize) -> Result<()> {
    if values.len() != expected {
        return Err(Error::Runtime(format!(
            "{role} output '{name}' holds {} values, expected {expected}",
            values.len()
        )));
    }
    Ok(())
}

fn fall_back(report: &mut ProviderReport, options: &ModelOptions, reason: String) -> Result<()> {
    if !options.allow_fallback {
        return Err(Error::Runtime(super::provider::cannot_run(
            options.provider,
            &reason,
        )));
    }
    report.active = Provider::Cpu;
    report.fallback_reason = Some(reason);
    Ok(())
}

/// A session for one graph on the provider in use (registering it with errors on failure).
fn session(
    bytes: &[u8],
    role: &str,
    options: &ModelOptions,
    report: &mut ProviderReport,
) -> Result<Session> {
    let environment = runtime::environment()?;
    let what = format!("creating the {role} session");
    let mut builder = Session::builder(environment)
        .map_err(ort_error(&what))?
        .with_optimization_level(GraphOptimizationLevel::Level3)
        .map_err(|e| Error::Runtime(format!("{what}: {e}")))?
        // The fast flow sends a different number of points at every step; ONNX Runtime's
        // memory patterns are planned and kept per input shape, so with them resident memory
        // grows with the number of structures decoded instead of staying bounded.
        .with_memory_pattern(false)
        .map_err(|e| Error::Runtime(format!("{what}: {e}")))?
        // ONNX Runtime's informational lines are not formatted at all; its warnings go to
        // the logger of `runtime_log`, never to the host program's stderr
        .with_log_level(ort::logging::LogLevel::Warning)
        .map_err(|e| Error::Runtime(format!("{what}: {e}")))?;
    if options.threads > 0 {
        builder = builder
            .with_intra_threads(options.threads)
            .map_err(|e| Error::Runtime(format!("{what}: {e}")))?;
    }
    if let Provider::Cuda { device_id } = report.active {
        let cuda = ort::ep::CUDA::default()
            .with_device_id(device_id)
            .build()
            .error_on_failure();
        builder = match builder.with_execution_providers([cuda]) {
            Ok(b) => b,
            Err(e) => {
                let reason = e.to_string();
                fall_back(report, options, reason)?;
                e.recover()
            }
        };
    }
    builder
        .commit_from_memory(bytes)
        .map_err(|e| Error::Runtime(format!("{what} (the graph may be corrupt): {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoder_runs_bound_structures_and_padded_atoms() {
        // one 2000-atom structure among 255 small ones: it no longer pads the others
        let mut atoms = vec![2000];
        atoms.extend([2; 255]);
        let runs = encode_runs(&atoms);
        assert_eq!(runs[0], 0..16);
        for r in &runs {
            let largest = atoms[r.clone()].iter().max().unwrap();
            assert!(r.len() <= ENCODE_CHUNK);
            assert!(
                r.len() == 1 || r.len() * largest <= ENCODE_PADDED_ATOMS,
                "{r:?}"
            );
        }
        // in order, every structure once
        let flat: Vec<usize> = runs.iter().flat_map(|r| r.clone()).collect();
        assert_eq!(flat, (0..atoms.len()).collect::<Vec<_>>());
        // small structures: runs of ENCODE_CHUNK, as before
        let runs = encode_runs(&[8; 600]);
        assert_eq!(runs, vec![0..256, 256..512, 512..600]);
        // a structure larger than the budget runs alone
        let runs = encode_runs(&[3, ENCODE_PADDED_ATOMS + 1, 3]);
        assert_eq!(runs, vec![0..1, 1..2, 2..3]);
        assert!(encode_runs(&[]).is_empty());
    }
}
