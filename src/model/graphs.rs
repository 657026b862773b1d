//! ONNX graphs of NeSF's networks, built from [`NesfWeights`], and their input contracts.
//!
//! Four graphs (ONNX IR 8, opset 17), every batch axis dynamic:
//!
//! - [`encoder`]: `positions` [B, N, 3] f32, `species` [B, N, V] f32 one-hot, `lattice` [B, 6]
//!   f32 -> `latent` [B, L]. Structures with fewer than N atoms are padded by repeating one of
//!   their own atoms: the max-pool ignores duplicates, so no mask is needed ([`encoder_inputs`]).
//! - [`latent_terms`]: `latent` [M, L] -> `position_term` [M, 256], `species_term` [M, 256] (the
//!   latent's share `W_z · z + b` of each field's first layer), `lengths` [M, 3] (Å) and
//!   `angles` [M, 3] (radians).
//! - [`position_field`]: `term` [M, 256] f32, `index` `[P]` i64, `points` [P, 3] f32 ->
//!   `displacement` [P, 3]. Point `i` belongs to latent `index[i]` (ONNX Gather semantics:
//!   an index outside `[-M, M)` makes the run fail).
//! - [`species_field`]: the same inputs -> `logits` [P, V].
//!
//! Splitting the fields' first layer computes the latent's share once per structure instead of
//! once per query point. A positional-encoding model's field graphs encode the points
//! themselves (Mul, Sin, Cos: [`Architecture::query_features`]); callers always pass points.

use crate::crystal::Structure;
use crate::error::{Error, Result};
use crate::model::architecture::{pe_scale, Architecture, PE_FREQUENCIES};
use crate::model::onnx_writer::{Attribute, Dim, ElementType, GraphBuilder};
use crate::model::weights::{check_structure, Linear, NesfWeights, FIELD_WIDTH, LATTICE_SIZE};
use crate::vocabulary::Vocabulary;

/// Encoder input: atom positions [B, N, 3], Cartesian Å.
pub const POSITIONS: &str = "positions";
/// Encoder input: one-hot species [B, N, V].
pub const SPECIES: &str = "species";
/// Encoder input: lattice [B, 6] = a, b, c (Å), alpha, beta, gamma (radians).
pub const LATTICE: &str = "lattice";
/// Encoder output and input of the latent-terms graph: latents [B, L].
pub const LATENT: &str = "latent";
/// Latent-terms output: the position field's per-latent first-layer term [M, 256].
pub const POSITION_TERM: &str = "position_term";
/// Latent-terms output: the species field's per-latent first-layer term [M, 256].
pub const SPECIES_TERM: &str = "species_term";
/// Latent-terms output: lattice lengths a, b, c [M, 3] in Å.
pub const LENGTHS: &str = "lengths";
/// Latent-terms output: lattice angles alpha, beta, gamma [M, 3] in radians.
pub const ANGLES: &str = "angles";
/// Field input: per-latent first-layer terms [M, 256] (a latent-terms output).
pub const TERM: &str = "term";
/// Field input: the latent (row of `term`) of each query point, `[P]` int64.
pub const INDEX: &str = "index";
/// Field input: query points [P, 3], Cartesian Å.
pub const POINTS: &str = "points";
/// Position-field output: displacement to the nearest atom [P, 3], Å.
pub const DISPLACEMENT: &str = "displacement";
/// Species-field output: logits over the vocabulary [P, V].
pub const LOGITS: &str = "logits";

/// Builds the encoder graph (see the module documentation).
pub fn encoder(weights: &NesfWeights) -> Result<Vec<u8>> {
    weights.validate()?;
    let (vocab, latent) = (weights.vocab_size(), weights.latent_size());
    let enc = &weights.encoder;
    let (b, n) = (Dim::dynamic("batch"), Dim::dynamic("atoms"));
    let mut g = GraphBuilder::new("nesf_encoder");
    g.doc_string("NeSF encoder: structures (padded by repeating atoms) -> latent vectors");
    g.input(
        POSITIONS,
        ElementType::F32,
        &[b.clone(), n.clone(), Dim::Fixed(3)],
    );
    g.input(
        SPECIES,
        ElementType::F32,
        &[b.clone(), n, Dim::Fixed(vocab)],
    );
    g.input(
        LATTICE,
        ElementType::F32,
        &[b.clone(), Dim::Fixed(LATTICE_SIZE)],
    );

    let pos = per_atom_mlp(&mut g, POSITIONS, &enc.position, "encoder.position")?;
    let spe = per_atom_mlp(&mut g, SPECIES, &enc.species, "encoder.species")?;
    let both = g.op("Concat", &[&pos, &spe], &[("axis", Attribute::Int(2))]);
    let merged = per_atom_linear(&mut g, &both, &enc.merge, "encoder.merge")?;
    let pooled = g.op(
        "ReduceMax",
        &[&merged],
        &[
            ("axes", Attribute::Ints(vec![1])),
            ("keepdims", Attribute::Int(0)),
        ],
    );
    let head_in = g.op(
        "Concat",
        &[&pooled, LATTICE],
        &[("axis", Attribute::Int(1))],
    );
    mlp(&mut g, &head_in, &enc.head, "encoder.head", LATENT)?;
    g.output(LATENT, ElementType::F32, &[b, Dim::Fixed(latent)]);
    g.to_bytes()
}

/// Builds the latent-terms graph (see the module documentation).
pub fn latent_terms(weights: &NesfWeights) -> Result<Vec<u8>> {
    weights.validate()?;
    let latent = weights.latent_size();
    let m = Dim::dynamic("latents");
    let mut g = GraphBuilder::new("nesf_latent_terms");
    g.doc_string("NeSF: per-latent first-layer terms of both fields, and the lattice heads");
    g.input(LATENT, ElementType::F32, &[m.clone(), Dim::Fixed(latent)]);
    for (layers, name, output) in [
        (&weights.position_field, "position_field", POSITION_TERM),
        (&weights.species_field, "species_field", SPECIES_TERM),
    ] {
        let first = first_layer(layers, name)?;
        let w = g.initializer_f32(
            &format!("{name}.0.weight_latent"),
            &[first.out_dim, latent],
            &first.weight_columns(0..latent)?,
        )?;
        let bias = g.initializer_f32(&format!("{name}.0.bias"), &[first.out_dim], &first.bias)?;
        g.node(
            "Gemm",
            &[LATENT, &w, &bias],
            &[output],
            &[("transB", Attribute::Int(1))],
        );
        g.output(
            output,
            ElementType::F32,
            &[m.clone(), Dim::Fixed(FIELD_WIDTH)],
        );
    }
    mlp(
        &mut g,
        LATENT,
        &weights.lattice_lengths,
        "lattice_lengths",
        LENGTHS,
    )?;
    mlp(
        &mut g,
        LATENT,
        &weights.lattice_angles,
        "lattice_angles",
        ANGLES,
    )?;
    g.output(LENGTHS, ElementType::F32, &[m.clone(), Dim::Fixed(3)]);
    g.output(ANGLES, ElementType::F32, &[m, Dim::Fixed(3)]);
    g.to_bytes()
}

/// Builds the position-field graph (see the module documentation).
pub fn position_field(weights: &NesfWeights) -> Result<Vec<u8>> {
    weights.validate()?;
    field_graph(
        &weights.position_field,
        "position_field",
        &weights.architecture(),
        DISPLACEMENT,
    )
}

/// Builds the species-field graph (see the module documentation).
pub fn species_field(weights: &NesfWeights) -> Result<Vec<u8>> {
    weights.validate()?;
    field_graph(
        &weights.species_field,
        "species_field",
        &weights.architecture(),
        LOGITS,
    )
}

/// A field graph: Gather(term, index) + q · W_q^T, ReLU, then the remaining layers with the
/// query features q (the points, or their positional encoding) appended to every layer's input
/// except the last.
fn field_graph(
    layers: &[Linear],
    name: &str,
    architecture: &Architecture,
    output: &str,
) -> Result<Vec<u8>> {
    let latent = architecture.latent;
    let first = first_layer(layers, name)?;
    let out_dim = layers.last().map_or(0, |l| l.out_dim);
    let (m, p) = (Dim::dynamic("latents"), Dim::dynamic("points"));
    let mut g = GraphBuilder::new(&format!("nesf_{name}"));
    g.doc_string(&format!("NeSF {name} over query points of many latents"));
    g.input(TERM, ElementType::F32, &[m, Dim::Fixed(first.out_dim)]);
    g.input(INDEX, ElementType::I64, std::slice::from_ref(&p));
    g.input(POINTS, ElementType::F32, &[p.clone(), Dim::Fixed(3)]);

    let gathered = g.op("Gather", &[TERM, INDEX], &[("axis", Attribute::Int(0))]);
    let query = if architecture.positional_encoding {
        positional_encoding(&mut g, POINTS)?
    } else {
        POINTS.to_string()
    };
    let q = architecture.query_size();
    let w_point = g.initializer_f32(
        &format!("{name}.0.weight_point"),
        &[first.out_dim, q],
        &first.weight_columns(latent..latent + q)?,
    )?;
    let point_term = g.op(
        "Gemm",
        &[&query, &w_point],
        &[("transB", Attribute::Int(1))],
    );
    let sum = g.op("Add", &[&gathered, &point_term], &[]);
    let mut h = g.op("Relu", &[&sum], &[]);
    for (k, layer) in layers.iter().enumerate().skip(1) {
        let layer_name = format!("{name}.{k}");
        if k + 1 < layers.len() {
            let input = g.op("Concat", &[&h, &query], &[("axis", Attribute::Int(1))]);
            let y = gemm(&mut g, &input, layer, &layer_name, None)?;
            h = g.op("Relu", &[&y], &[]);
        } else {
            h = gemm(&mut g, &h, layer, &layer_name, Some(output))?;
        }
    }
    if h != output {
        return Err(Error::Model(format!(
            "{name}: a field needs at least two layers"
        )));
    }
    g.output(output, ElementType::F32, &[p, Dim::Fixed(out_dim)]);
    g.to_bytes()
}

/// The positional encoding of `points` [P, 3] as [P, 60], in the order of
/// [`Architecture::query_features`]: the points scaled by every frequency ([P, K, 3]), their
/// sines and cosines side by side ([P, K, 6]), flattened.
fn positional_encoding(g: &mut GraphBuilder, points: &str) -> Result<String> {
    let scales: Vec<f32> = (0..PE_FREQUENCIES).map(pe_scale).collect();
    let scales = g.initializer_f32("pe.scales", &[PE_FREQUENCIES, 1], &scales)?;
    let axis = g.initializer_i64("pe.axis", &[1], &[1])?;
    let expanded = g.op("Unsqueeze", &[points, &axis], &[]);
    let scaled = g.op("Mul", &[&expanded, &scales], &[]);
    let sin = g.op("Sin", &[&scaled], &[]);
    let cos = g.op("Cos", &[&scaled], &[]);
    let both = g.op("Concat", &[&sin, &cos], &[("axis", Attribute::Int(2))]);
    let shape = g.initializer_i64("pe.shape", &[2], &[0, (6 * PE_FREQUENCIES) as i64])?;
    Ok(g.op("Reshape", &[&both, &shape], &[]))
}

fn first_layer<'a>(layers: &'a [Linear], name: &str) -> Result<&'a Linear> {
    layers
        .first()
        .ok_or_else(|| Error::Model(format!("{name}: no layers")))
}

/// `Gemm(x, W, b, transB=1)` with the layer's `[out, in]` weights as stored; writes `output`
/// when given, a fresh name otherwise. Returns the output name.
fn gemm(
    g: &mut GraphBuilder,
    x: &str,
    layer: &Linear,
    name: &str,
    output: Option<&str>,
) -> Result<String> {
    let w = g.initializer_f32(
        &format!("{name}.weight"),
        &[layer.out_dim, layer.in_dim],
        &layer.weight,
    )?;
    let b = g.initializer_f32(&format!("{name}.bias"), &[layer.out_dim], &layer.bias)?;
    let y = match output {
        Some(o) => o.to_string(),
        None => g.fresh_name("gemm"),
    };
    g.node(
        "Gemm",
        &[x, &w, &b],
        &[&y],
        &[("transB", Attribute::Int(1))],
    );
    Ok(y)
}

/// A 2-D MLP of Gemm layers with ReLU between them; the last layer writes `output`.
fn mlp(g: &mut GraphBuilder, x: &str, layers: &[Linear], name: &str, output: &str) -> Result<()> {
    let mut h = x.to_string();
    for (k, layer) in layers.iter().enumerate() {
        let last = k + 1 == layers.len();
        let y = gemm(g, &h, layer, &format!("{name}.{k}"), last.then_some(output))?;
        h = if last { y } else { g.op("Relu", &[&y], &[]) };
    }
    if h != output {
        return Err(Error::Model(format!("{name}: no layers")));
    }
    Ok(())
}

/// `MatMul(x, W^T) + b` on a [B, N, in] tensor; returns the output name.
fn per_atom_linear(g: &mut GraphBuilder, x: &str, layer: &Linear, name: &str) -> Result<String> {
    let w = g.initializer_f32(
        &format!("{name}.weight_t"),
        &[layer.in_dim, layer.out_dim],
        &layer.weight_transposed()?,
    )?;
    let b = g.initializer_f32(&format!("{name}.bias"), &[layer.out_dim], &layer.bias)?;
    let y = g.op("MatMul", &[x, &w], &[]);
    Ok(g.op("Add", &[&y, &b], &[]))
}

/// A per-atom MLP on [B, N, in] tensors with ReLU between layers; returns the output name.
fn per_atom_mlp(g: &mut GraphBuilder, x: &str, layers: &[Linear], name: &str) -> Result<String> {
    let mut h = x.to_string();
    for (k, layer) in layers.iter().enumerate() {
        h = per_atom_linear(g, &h, layer, &format!("{name}.{k}"))?;
        if k + 1 < layers.len() {
            h = g.op("Relu", &[&h], &[]);
        }
    }
    Ok(h)
}

/// Encoder inputs for a batch of structures, as flat row-major arrays.
#[derive(Debug, Clone, PartialEq)]
pub struct EncoderInputs {
    /// Number of structures B.
    pub batch: usize,
    /// Atoms per structure after padding, N (the largest atom count of the batch).
    pub atoms: usize,
    /// [`POSITIONS`] [B, N, 3].
    pub positions: Vec<f32>,
    /// [`SPECIES`] one-hot [B, N, V].
    pub species: Vec<f32>,
    /// [`LATTICE`] [B, 6].
    pub lattice: Vec<f32>,
}

/// Packs structures for the [`encoder`] graph: `positions[s]` (Å), `species[s]` (vocabulary
/// classes below `vocab_size`) and `lattice[s]` (a, b, c in Å, angles in radians). Structures
/// with fewer atoms than the largest are padded by repeating their first atom.
pub fn encoder_inputs(
    positions: &[Vec<[f32; 3]>],
    species: &[Vec<usize>],
    lattice: &[[f32; 6]],
    vocab_size: usize,
) -> Result<EncoderInputs> {
    let batch = positions.len();
    if species.len() != batch || lattice.len() != batch {
        return Err(Error::InvalidArgument(format!(
            "encoder inputs: {batch} position lists, {} species lists and {} lattices",
            species.len(),
            lattice.len()
        )));
    }
    for s in 0..batch {
        check_structure(&positions[s], &species[s], &lattice[s], vocab_size)
            .map_err(|m| Error::InvalidArgument(format!("structure {s}: {m}")))?;
    }
    let atoms = positions.iter().map(Vec::len).max().unwrap_or(0);
    let mut packed = EncoderInputs {
        batch,
        atoms,
        positions: Vec::with_capacity(batch * atoms * 3),
        species: vec![0.0; batch * atoms * vocab_size],
        lattice: lattice.iter().flatten().copied().collect(),
    };
    for s in 0..batch {
        for a in 0..atoms {
            // Padding repeats atom 0; check_structure guaranteed at least one atom.
            let k = if a < positions[s].len() { a } else { 0 };
            packed.positions.extend_from_slice(&positions[s][k]);
            packed.species[(s * atoms + a) * vocab_size + species[s][k]] = 1.0;
        }
    }
    Ok(packed)
}

/// One structure as the encoder sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct StructureFeatures {
    /// Cartesian positions (Å).
    pub positions: Vec<[f32; 3]>,
    /// Vocabulary class of every atom.
    pub classes: Vec<usize>,
    /// a, b, c (Å), alpha, beta, gamma (radians).
    pub lattice: [f32; 6],
}

/// The encoder's view of `structure`. Fails when an element is not in `vocabulary`.
pub fn structure_features(
    structure: &Structure,
    vocabulary: &Vocabulary,
) -> Result<StructureFeatures> {
    let classes = structure
        .numbers()
        .iter()
        .map(|&z| {
            vocabulary.class_of(z).ok_or_else(|| {
                Error::InvalidArgument(format!(
                    "structure {}: element {} is not in the model's vocabulary",
                    structure.id().unwrap_or("(no id)"),
                    crate::crystal::elements::symbol(z).unwrap_or("?")
                ))
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let positions = structure
        .positions()
        .iter()
        .map(|p| p.map(|x| x as f32))
        .collect();
    let p = structure.lattice().parameters();
    let lattice = [
        p.a,
        p.b,
        p.c,
        p.alpha.to_radians(),
        p.beta.to_radians(),
        p.gamma.to_radians(),
    ]
    .map(|x| x as f32);
    Ok(StructureFeatures {
        positions,
        classes,
        lattice,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::onnx_writer::graph_signature;

    #[test]
    fn graphs_declare_their_signatures() {
        let w = NesfWeights::random(5, 16, 2).unwrap();
        let sig = graph_signature(&encoder(&w).unwrap()).unwrap();
        let names: Vec<_> = sig.inputs.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, [POSITIONS, SPECIES, LATTICE]);
        assert_eq!(sig.input(SPECIES).unwrap().dims, vec![None, None, Some(5)]);
        assert_eq!(sig.output(LATENT).unwrap().dims, vec![None, Some(16)]);

        let sig = graph_signature(&latent_terms(&w).unwrap()).unwrap();
        let names: Vec<_> = sig.outputs.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, [POSITION_TERM, SPECIES_TERM, LENGTHS, ANGLES]);
        assert_eq!(
            sig.output(SPECIES_TERM).unwrap().dims,
            vec![None, Some(256)]
        );

        let sig = graph_signature(&position_field(&w).unwrap()).unwrap();
        assert_eq!(sig.input(INDEX).unwrap().element_type, ElementType::I64);
        assert_eq!(sig.input(TERM).unwrap().dims, vec![None, Some(256)]);
        assert_eq!(sig.output(DISPLACEMENT).unwrap().dims, vec![None, Some(3)]);
        let sig = graph_signature(&species_field(&w).unwrap()).unwrap();
        assert_eq!(sig.output(LOGITS).unwrap().dims, vec![None, Some(5)]);
    }

    #[test]
    fn malformed_weights_are_rejected() {
        let mut w = NesfWeights::random(5, 16, 2).unwrap();
        w.position_field.remove(4);
        let err = position_field(&w).unwrap_err().to_string();
        assert!(err.contains("position_field"), "{err}");
        assert!(encoder(&w).is_err());
    }

    #[test]
    fn padding_repeats_the_first_atom() {
        let p = vec![vec![[1.0, 2.0, 3.0]], vec![[0.0; 3], [4.0, 5.0, 6.0]]];
        let s = vec![vec![2], vec![0, 1]];
        let lat = [[3.0; 6], [4.0; 6]];
        let x = encoder_inputs(&p, &s, &lat, 3).unwrap();
        assert_eq!((x.batch, x.atoms), (2, 2));
        assert_eq!(&x.positions[..6], &[1.0, 2.0, 3.0, 1.0, 2.0, 3.0]);
        assert_eq!(&x.species[..6], &[0.0, 0.0, 1.0, 0.0, 0.0, 1.0]);
        assert_eq!(&x.species[6..], &[1.0, 0.0, 0.0, 0.0, 1.0, 0.0]);
        assert_eq!(x.lattice.len(), 12);
        let err = encoder_inputs(&p, &[vec![2], vec![0, 3]], &lat, 3).unwrap_err();
        assert!(err.to_string().contains("structure 1"), "{err}");
        assert!(encoder_inputs(&p, &s, &lat[..1], 3).is_err());
    }
}
