//! Writing (and inspecting) ONNX graphs without protoc: the few ONNX protobuf messages nesf
//! needs, as `prost` structs with the field numbers of the ONNX specification (`onnx.proto3`),
//! a small [`GraphBuilder`], and [`graph_signature`] to read back a graph's inputs and outputs.
//!
//! Models are written with IR version [`IR_VERSION`] and the default-domain opset
//! [`OPSET_VERSION`]. Fields of the specification that nesf never writes are left out; prost
//! skips them when decoding, so any ONNX file can be inspected with these messages.

use std::collections::HashSet;

use prost::Message;

use crate::error::{Error, Result};

/// ONNX IR version written into every model.
pub const IR_VERSION: i64 = 8;
/// Version of the default ("ai.onnx") operator set the graphs are written against.
pub const OPSET_VERSION: i64 = 17;
/// `producer_name` written into every model.
pub const PRODUCER_NAME: &str = "nesf";

/// `TensorProto.DataType` code of 32-bit floats.
const DATA_TYPE_FLOAT: i32 = 1;
/// `TensorProto.DataType` code of 64-bit signed integers.
const DATA_TYPE_INT64: i32 = 7;

/// `AttributeProto.AttributeType` codes.
const ATTRIBUTE_FLOAT: i32 = 1;
const ATTRIBUTE_INT: i32 = 2;
const ATTRIBUTE_FLOATS: i32 = 6;
const ATTRIBUTE_INTS: i32 = 7;

/// ONNX `ModelProto`: the top-level container of a graph.
#[derive(Clone, PartialEq, Message)]
pub struct ModelProto {
    /// IR version of the file format.
    #[prost(int64, tag = "1")]
    pub ir_version: i64,
    /// Name of the tool that wrote the model.
    #[prost(string, tag = "2")]
    pub producer_name: String,
    /// Version of the tool that wrote the model.
    #[prost(string, tag = "3")]
    pub producer_version: String,
    /// Human-readable description.
    #[prost(string, tag = "6")]
    pub doc_string: String,
    /// The computation graph.
    #[prost(message, optional, tag = "7")]
    pub graph: Option<GraphProto>,
    /// Operator sets the graph's nodes bind to.
    #[prost(message, repeated, tag = "8")]
    pub opset_import: Vec<OperatorSetIdProto>,
}

/// ONNX `OperatorSetIdProto`: an operator-set domain and version.
#[derive(Clone, PartialEq, Message)]
pub struct OperatorSetIdProto {
    /// Domain; empty for the default ONNX operator set.
    #[prost(string, tag = "1")]
    pub domain: String,
    /// Operator-set version.
    #[prost(int64, tag = "2")]
    pub version: i64,
}

/// ONNX `GraphProto`: nodes in topological order, constant tensors, inputs and outputs.
#[derive(Clone, PartialEq, Message)]
pub struct GraphProto {
    /// Nodes, sorted topologically.
    #[prost(message, repeated, tag = "1")]
    pub node: Vec<NodeProto>,
    /// Name of the graph.
    #[prost(string, tag = "2")]
    pub name: String,
    /// Constant tensors (weights).
    #[prost(message, repeated, tag = "5")]
    pub initializer: Vec<TensorProto>,
    /// Human-readable description.
    #[prost(string, tag = "10")]
    pub doc_string: String,
    /// Graph inputs.
    #[prost(message, repeated, tag = "11")]
    pub input: Vec<ValueInfoProto>,
    /// Graph outputs.
    #[prost(message, repeated, tag = "12")]
    pub output: Vec<ValueInfoProto>,
    /// Optional type information on intermediate values.
    #[prost(message, repeated, tag = "13")]
    pub value_info: Vec<ValueInfoProto>,
}

/// ONNX `NodeProto`: one operator application.
#[derive(Clone, PartialEq, Message)]
pub struct NodeProto {
    /// Names of the input values.
    #[prost(string, repeated, tag = "1")]
    pub input: Vec<String>,
    /// Names of the output values.
    #[prost(string, repeated, tag = "2")]
    pub output: Vec<String>,
    /// Node name (optional, unique when present).
    #[prost(string, tag = "3")]
    pub name: String,
    /// Operator, e.g. "Gemm".
    #[prost(string, tag = "4")]
    pub op_type: String,
    /// Operator attributes.
    #[prost(message, repeated, tag = "5")]
    pub attribute: Vec<AttributeProto>,
    /// Human-readable description.
    #[prost(string, tag = "6")]
    pub doc_string: String,
    /// Operator-set domain; empty for the default ONNX domain.
    #[prost(string, tag = "7")]
    pub domain: String,
}

/// ONNX `AttributeProto`: a named operator attribute; `type` says which value field is used.
#[derive(Clone, PartialEq, Message)]
pub struct AttributeProto {
    /// Attribute name.
    #[prost(string, tag = "1")]
    pub name: String,
    /// Float value (type FLOAT).
    #[prost(float, tag = "2")]
    pub f: f32,
    /// Integer value (type INT).
    #[prost(int64, tag = "3")]
    pub i: i64,
    /// Byte-string value (type STRING).
    #[prost(bytes = "vec", tag = "4")]
    pub s: Vec<u8>,
    /// Tensor value (type TENSOR).
    #[prost(message, optional, tag = "5")]
    pub t: Option<TensorProto>,
    /// Float list (type FLOATS).
    #[prost(float, repeated, tag = "7")]
    pub floats: Vec<f32>,
    /// Integer list (type INTS).
    #[prost(int64, repeated, tag = "8")]
    pub ints: Vec<i64>,
    /// `AttributeProto.AttributeType` code of the value.
    #[prost(int32, tag = "20")]
    pub r#type: i32,
}

/// ONNX `TensorProto`: a constant tensor. nesf stores values little-endian in `raw_data`.
#[derive(Clone, PartialEq, Message)]
pub struct TensorProto {
    /// Shape.
    #[prost(int64, repeated, tag = "1")]
    pub dims: Vec<i64>,
    /// `TensorProto.DataType` code of the elements.
    #[prost(int32, tag = "2")]
    pub data_type: i32,
    /// Values of a float tensor, when not in `raw_data`.
    #[prost(float, repeated, tag = "4")]
    pub float_data: Vec<f32>,
    /// Values of an int64 tensor, when not in `raw_data`.
    #[prost(int64, repeated, tag = "7")]
    pub int64_data: Vec<i64>,
    /// Name (the value name when used as an initializer).
    #[prost(string, tag = "8")]
    pub name: String,
    /// Values as fixed-width little-endian bytes, row-major.
    #[prost(bytes = "vec", tag = "9")]
    pub raw_data: Vec<u8>,
}

/// ONNX `ValueInfoProto`: the name and type of a graph input, output or intermediate value.
#[derive(Clone, PartialEq, Message)]
pub struct ValueInfoProto {
    /// Value name.
    #[prost(string, tag = "1")]
    pub name: String,
    /// Value type.
    #[prost(message, optional, tag = "2")]
    pub r#type: Option<TypeProto>,
    /// Human-readable description.
    #[prost(string, tag = "3")]
    pub doc_string: String,
}

/// ONNX `TypeProto`, restricted to its tensor case (the `tensor_type` member of its oneof).
#[derive(Clone, PartialEq, Message)]
pub struct TypeProto {
    /// The tensor type; `None` for sequences, maps and the other kinds nesf does not use.
    #[prost(message, optional, tag = "1")]
    pub tensor_type: Option<TensorTypeProto>,
}

/// ONNX `TypeProto.Tensor`: element type and (possibly symbolic) shape.
#[derive(Clone, PartialEq, Message)]
pub struct TensorTypeProto {
    /// `TensorProto.DataType` code of the elements.
    #[prost(int32, tag = "1")]
    pub elem_type: i32,
    /// Shape; `None` when the rank is unknown.
    #[prost(message, optional, tag = "2")]
    pub shape: Option<TensorShapeProto>,
}

/// ONNX `TensorShapeProto`: one entry per axis.
#[derive(Clone, PartialEq, Message)]
pub struct TensorShapeProto {
    /// The axes.
    #[prost(message, repeated, tag = "1")]
    pub dim: Vec<Dimension>,
}

/// ONNX `TensorShapeProto.Dimension`: a fixed size, a named symbolic size, or unknown.
#[derive(Clone, PartialEq, Message)]
pub struct Dimension {
    /// The size; `None` when unknown.
    #[prost(oneof = "DimensionValue", tags = "1, 2")]
    pub value: Option<DimensionValue>,
    /// Optional standard denotation of the axis.
    #[prost(string, tag = "3")]
    pub denotation: String,
}

/// The two cases of a [`Dimension`].
#[derive(Clone, PartialEq, prost::Oneof)]
pub enum DimensionValue {
    /// A fixed size (`dim_value`).
    #[prost(int64, tag = "1")]
    DimValue(i64),
    /// A symbolic, dynamic size (`dim_param`), e.g. "batch".
    #[prost(string, tag = "2")]
    DimParam(String),
}

/// Element type of a tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ElementType {
    /// 32-bit float.
    F32,
    /// 64-bit signed integer.
    I64,
    /// Any other `TensorProto.DataType` code.
    Other(i32),
}

impl ElementType {
    /// The `TensorProto.DataType` code.
    pub fn code(self) -> i32 {
        match self {
            ElementType::F32 => DATA_TYPE_FLOAT,
            ElementType::I64 => DATA_TYPE_INT64,
            ElementType::Other(code) => code,
        }
    }

    /// The element type of a `TensorProto.DataType` code.
    pub fn from_code(code: i32) -> ElementType {
        match code {
            DATA_TYPE_FLOAT => ElementType::F32,
            DATA_TYPE_INT64 => ElementType::I64,
            other => ElementType::Other(other),
        }
    }
}

/// One axis of a graph input or output as declared by [`GraphBuilder`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dim {
    /// A fixed size.
    Fixed(usize),
    /// A dynamic size, named (`dim_param`); axes sharing a name must agree at run time.
    Dynamic(String),
}

impl Dim {
    /// A dynamic axis called `name`.
    pub fn dynamic(name: &str) -> Dim {
        Dim::Dynamic(name.to_string())
    }
}

/// The value of a node attribute.
#[derive(Debug, Clone, PartialEq)]
pub enum Attribute {
    /// A single integer (INT).
    Int(i64),
    /// A single float (FLOAT).
    Float(f32),
    /// A list of integers (INTS).
    Ints(Vec<i64>),
    /// A list of floats (FLOATS).
    Floats(Vec<f32>),
}

impl Attribute {
    /// The attribute as an `AttributeProto` called `name`.
    pub fn to_proto(&self, name: &str) -> AttributeProto {
        let mut proto = AttributeProto {
            name: name.to_string(),
            ..Default::default()
        };
        match self {
            Attribute::Int(i) => {
                proto.i = *i;
                proto.r#type = ATTRIBUTE_INT;
            }
            Attribute::Float(f) => {
                proto.f = *f;
                proto.r#type = ATTRIBUTE_FLOAT;
            }
            Attribute::Ints(ints) => {
                proto.ints = ints.clone();
                proto.r#type = ATTRIBUTE_INTS;
            }
            Attribute::Floats(floats) => {
                proto.floats = floats.clone();
                proto.r#type = ATTRIBUTE_FLOATS;
            }
        }
        proto
    }
}

/// Builds an ONNX graph step by step and serialises it as a model.
///
/// Every value must be defined (as an input, an initializer or a node output) before a node
/// uses it; [`GraphBuilder::to_bytes`] checks this and the uniqueness of names.
#[derive(Debug, Clone)]
pub struct GraphBuilder {
    graph: GraphProto,
    doc_string: String,
    next_id: usize,
}

impl GraphBuilder {
    /// An empty graph called `name`.
    pub fn new(name: &str) -> GraphBuilder {
        GraphBuilder {
            graph: GraphProto {
                name: name.to_string(),
                ..Default::default()
            },
            doc_string: String::new(),
            next_id: 0,
        }
    }

    /// Sets the model's human-readable description.
    pub fn doc_string(&mut self, text: &str) -> &mut Self {
        self.doc_string = text.to_string();
        self
    }

    /// A value name not used before, starting with `prefix`.
    pub fn fresh_name(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}_{}", self.next_id)
    }

    /// Declares a graph input.
    pub fn input(&mut self, name: &str, element_type: ElementType, dims: &[Dim]) -> &mut Self {
        self.graph.input.push(value_info(name, element_type, dims));
        self
    }

    /// Declares a graph output; some node must produce a value of that name.
    pub fn output(&mut self, name: &str, element_type: ElementType, dims: &[Dim]) -> &mut Self {
        self.graph.output.push(value_info(name, element_type, dims));
        self
    }

    /// Adds a constant f32 tensor of shape `dims` (row-major `values`); returns its name.
    pub fn initializer_f32(
        &mut self,
        name: &str,
        dims: &[usize],
        values: &[f32],
    ) -> Result<String> {
        check_count(name, dims, values.len())?;
        let raw_data = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.push_initializer(name, dims, ElementType::F32, raw_data)
    }

    /// Adds a constant i64 tensor of shape `dims` (row-major `values`); returns its name.
    pub fn initializer_i64(
        &mut self,
        name: &str,
        dims: &[usize],
        values: &[i64],
    ) -> Result<String> {
        check_count(name, dims, values.len())?;
        let raw_data = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.push_initializer(name, dims, ElementType::I64, raw_data)
    }

    fn push_initializer(
        &mut self,
        name: &str,
        dims: &[usize],
        element_type: ElementType,
        raw_data: Vec<u8>,
    ) -> Result<String> {
        self.graph.initializer.push(TensorProto {
            dims: dims_i64(name, dims)?,
            data_type: element_type.code(),
            name: name.to_string(),
            raw_data,
            ..Default::default()
        });
        Ok(name.to_string())
    }

    /// Appends a node of the default ONNX domain computing `outputs` from `inputs`.
    pub fn node(
        &mut self,
        op_type: &str,
        inputs: &[&str],
        outputs: &[&str],
        attributes: &[(&str, Attribute)],
    ) -> &mut Self {
        self.next_id += 1;
        self.graph.node.push(NodeProto {
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: outputs.iter().map(|s| s.to_string()).collect(),
            name: format!("{op_type}_{}", self.next_id),
            op_type: op_type.to_string(),
            attribute: attributes.iter().map(|(n, a)| a.to_proto(n)).collect(),
            ..Default::default()
        });
        self
    }

    /// Appends a node with one output, named freshly after the operator; returns that name.
    pub fn op(
        &mut self,
        op_type: &str,
        inputs: &[&str],
        attributes: &[(&str, Attribute)],
    ) -> String {
        let output = self.fresh_name(&op_type.to_ascii_lowercase());
        self.node(op_type, inputs, &[&output], attributes);
        output
    }

    /// The model: the graph with IR version, opset import and producer filled in.
    pub fn to_model(&self) -> ModelProto {
        ModelProto {
            ir_version: IR_VERSION,
            producer_name: PRODUCER_NAME.to_string(),
            producer_version: env!("CARGO_PKG_VERSION").to_string(),
            doc_string: self.doc_string.clone(),
            graph: Some(self.graph.clone()),
            opset_import: vec![OperatorSetIdProto {
                domain: String::new(),
                version: OPSET_VERSION,
            }],
        }
    }

    /// Checks the graph's wiring: unique value names, every node input defined earlier, every
    /// graph output produced.
    pub fn check(&self) -> Result<()> {
        let graph = &self.graph;
        let what =
            |message: String| Error::Model(format!("ONNX graph '{}': {message}", graph.name));
        let mut defined = HashSet::new();
        for name in graph
            .input
            .iter()
            .map(|v| &v.name)
            .chain(graph.initializer.iter().map(|t| &t.name))
        {
            if name.is_empty() {
                return Err(what("an input or initializer has an empty name".into()));
            }
            if !defined.insert(name.as_str()) {
                return Err(what(format!("value '{name}' is defined twice")));
            }
        }
        for node in &graph.node {
            for input in node.input.iter().filter(|i| !i.is_empty()) {
                if !defined.contains(input.as_str()) {
                    return Err(what(format!(
                        "node '{}' ({}) uses '{input}' before it is defined",
                        node.name, node.op_type
                    )));
                }
            }
            for output in &node.output {
                if output.is_empty() || !defined.insert(output.as_str()) {
                    return Err(what(format!(
                        "node '{}' ({}) redefines or leaves unnamed output '{output}'",
                        node.name, node.op_type
                    )));
                }
            }
        }
        if graph.output.is_empty() {
            return Err(what("the graph has no output".into()));
        }
        for output in &graph.output {
            if !defined.contains(output.name.as_str()) {
                return Err(what(format!("output '{}' is never computed", output.name)));
            }
        }
        Ok(())
    }

    /// The serialised model (protobuf bytes of the [`ModelProto`]), after [`GraphBuilder::check`].
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        self.check()?;
        Ok(self.to_model().encode_to_vec())
    }
}

fn check_count(name: &str, dims: &[usize], count: usize) -> Result<()> {
    let expected = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| Error::Model(format!("initializer '{name}': shape {dims:?} overflows")))?;
    if expected != count {
        return Err(Error::Model(format!(
            "initializer '{name}': shape {dims:?} holds {expected} values, got {count}"
        )));
    }
    Ok(())
}

fn dims_i64(name: &str, dims: &[usize]) -> Result<Vec<i64>> {
    dims.iter()
        .map(|&d| {
            i64::try_from(d)
                .map_err(|_| Error::Model(format!("tensor '{name}': dimension {d} is too large")))
        })
        .collect()
}

fn value_info(name: &str, element_type: ElementType, dims: &[Dim]) -> ValueInfoProto {
    let dim = dims
        .iter()
        .map(|d| Dimension {
            value: Some(match d {
                // usize -> i64 saturates; sizes beyond i64::MAX cannot exist in memory anyway.
                Dim::Fixed(n) => DimensionValue::DimValue(i64::try_from(*n).unwrap_or(i64::MAX)),
                Dim::Dynamic(param) => DimensionValue::DimParam(param.clone()),
            }),
            denotation: String::new(),
        })
        .collect();
    ValueInfoProto {
        name: name.to_string(),
        r#type: Some(TypeProto {
            tensor_type: Some(TensorTypeProto {
                elem_type: element_type.code(),
                shape: Some(TensorShapeProto { dim }),
            }),
        }),
        doc_string: String::new(),
    }
}

/// Name, element type and shape of a graph input or output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorInfo {
    /// Value name.
    pub name: String,
    /// Element type.
    pub element_type: ElementType,
    /// Shape, one entry per axis: `Some(size)` for fixed axes, `None` for dynamic ones.
    pub dims: Vec<Option<usize>>,
}

/// The inputs and outputs of an ONNX graph, in declaration order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// Name of the graph.
    pub graph_name: String,
    /// Inputs the caller must feed (initializers also listed as inputs are left out).
    pub inputs: Vec<TensorInfo>,
    /// Outputs.
    pub outputs: Vec<TensorInfo>,
}

impl Signature {
    /// The input called `name`.
    pub fn input(&self, name: &str) -> Option<&TensorInfo> {
        self.inputs.iter().find(|t| t.name == name)
    }

    /// The output called `name`.
    pub fn output(&self, name: &str) -> Option<&TensorInfo> {
        self.outputs.iter().find(|t| t.name == name)
    }
}

/// Reads the input and output signature of a serialised ONNX model.
///
/// Fails with [`Error::Model`] when the bytes are not an ONNX model, hold no graph, or declare
/// an input or output that is not a tensor of known rank.
pub fn graph_signature(bytes: &[u8]) -> Result<Signature> {
    let model = ModelProto::decode(bytes)
        .map_err(|e| Error::Model(format!("not a decodable ONNX model: {e}")))?;
    let graph = model
        .graph
        .ok_or_else(|| Error::Model("the ONNX model holds no graph".to_string()))?;
    let initializers: HashSet<&str> = graph.initializer.iter().map(|t| t.name.as_str()).collect();
    let describe = |value: &ValueInfoProto, kind: &str| -> Result<TensorInfo> {
        let what = |m: &str| {
            Error::Model(format!(
                "ONNX graph '{}': {kind} '{}' {m}",
                graph.name, value.name
            ))
        };
        let tensor = value
            .r#type
            .as_ref()
            .and_then(|t| t.tensor_type.as_ref())
            .ok_or_else(|| what("is not a tensor"))?;
        let shape = tensor
            .shape
            .as_ref()
            .ok_or_else(|| what("has no declared shape"))?;
        let dims = shape
            .dim
            .iter()
            .map(|d| match &d.value {
                Some(DimensionValue::DimValue(n)) => usize::try_from(*n)
                    .map(Some)
                    .map_err(|_| what(&format!("has a negative dimension {n}"))),
                Some(DimensionValue::DimParam(_)) | None => Ok(None),
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(TensorInfo {
            name: value.name.clone(),
            element_type: ElementType::from_code(tensor.elem_type),
            dims,
        })
    };
    let inputs = graph
        .input
        .iter()
        .filter(|v| !initializers.contains(v.name.as_str()))
        .map(|v| describe(v, "input"))
        .collect::<Result<Vec<_>>>()?;
    let outputs = graph
        .output
        .iter()
        .map(|v| describe(v, "output"))
        .collect::<Result<Vec<_>>>()?;
    Ok(Signature {
        graph_name: graph.name.clone(),
        inputs,
        outputs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small_graph() -> GraphBuilder {
        let mut b = GraphBuilder::new("small");
        b.input(
            "x",
            ElementType::F32,
            &[Dim::dynamic("batch"), Dim::Fixed(3)],
        );
        b.input("index", ElementType::I64, &[Dim::dynamic("points")]);
        let w = b
            .initializer_f32("w", &[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
            .unwrap();
        b.initializer_i64("axes", &[1], &[1]).unwrap();
        let y = b.op("Gemm", &["x", &w], &[("transB", Attribute::Int(1))]);
        b.node("Relu", &[&y], &["y"], &[]);
        b.output(
            "y",
            ElementType::F32,
            &[Dim::dynamic("batch"), Dim::Fixed(2)],
        );
        b
    }

    #[test]
    fn model_round_trips_through_prost() {
        let b = small_graph();
        let bytes = b.to_bytes().unwrap();
        let decoded = ModelProto::decode(bytes.as_slice()).unwrap();
        assert_eq!(decoded, b.to_model());
        assert_eq!(decoded.ir_version, IR_VERSION);
        assert_eq!(decoded.opset_import[0].version, OPSET_VERSION);
        let graph = decoded.graph.unwrap();
        assert_eq!(graph.node.len(), 2);
        assert_eq!(graph.node[0].op_type, "Gemm");
        assert_eq!(graph.node[0].attribute[0].name, "transB");
        assert_eq!(graph.node[0].attribute[0].i, 1);
        assert_eq!(graph.node[0].attribute[0].r#type, ATTRIBUTE_INT);
        let w = &graph.initializer[0];
        assert_eq!(w.dims, vec![2, 3]);
        assert_eq!(w.data_type, DATA_TYPE_FLOAT);
        assert_eq!(&w.raw_data[4..8], &2.0f32.to_le_bytes());
        let axes = &graph.initializer[1];
        assert_eq!(axes.data_type, DATA_TYPE_INT64);
        assert_eq!(axes.raw_data, 1i64.to_le_bytes());
    }

    #[test]
    fn attributes_carry_their_type() {
        let a = Attribute::Ints(vec![1, -2]).to_proto("axes");
        assert_eq!(
            (a.r#type, a.ints.as_slice()),
            (ATTRIBUTE_INTS, &[1, -2][..])
        );
        let f = Attribute::Float(0.5).to_proto("alpha");
        assert_eq!((f.r#type, f.f), (ATTRIBUTE_FLOAT, 0.5));
        let fs = Attribute::Floats(vec![0.25]).to_proto("scales");
        assert_eq!(
            (fs.r#type, fs.floats.as_slice()),
            (ATTRIBUTE_FLOATS, &[0.25][..])
        );
    }

    #[test]
    fn signature_lists_inputs_and_outputs() {
        let sig = graph_signature(&small_graph().to_bytes().unwrap()).unwrap();
        assert_eq!(sig.graph_name, "small");
        assert_eq!(sig.inputs.len(), 2);
        let x = sig.input("x").unwrap();
        assert_eq!(x.element_type, ElementType::F32);
        assert_eq!(x.dims, vec![None, Some(3)]);
        let index = sig.input("index").unwrap();
        assert_eq!(index.element_type, ElementType::I64);
        assert_eq!(index.dims, vec![None]);
        assert_eq!(sig.outputs.len(), 1);
        assert_eq!(sig.output("y").unwrap().dims, vec![None, Some(2)]);
        assert!(sig.output("x").is_none());
    }

    #[test]
    fn signature_skips_initializers_listed_as_inputs() {
        let mut model = small_graph().to_model();
        let graph = model.graph.as_mut().unwrap();
        graph.input.push(value_info(
            "w",
            ElementType::F32,
            &[Dim::Fixed(2), Dim::Fixed(3)],
        ));
        let sig = graph_signature(&model.encode_to_vec()).unwrap();
        assert_eq!(sig.inputs.len(), 2);
        assert!(sig.input("w").is_none());
    }

    #[test]
    fn bad_bytes_and_bad_graphs_are_errors() {
        let err = graph_signature(&[0xff, 0xff, 0xff]).unwrap_err();
        assert!(matches!(err, Error::Model(_)), "{err}");
        let no_graph = ModelProto::default().encode_to_vec();
        assert!(graph_signature(&no_graph)
            .unwrap_err()
            .to_string()
            .contains("no graph"));

        let mut model = small_graph().to_model();
        model.graph.as_mut().unwrap().output[0].r#type = None;
        let err = graph_signature(&model.encode_to_vec())
            .unwrap_err()
            .to_string();
        assert!(err.contains("output 'y' is not a tensor"), "{err}");
    }

    #[test]
    fn builder_rejects_bad_wiring_and_shapes() {
        let mut b = small_graph();
        b.node("Relu", &["missing"], &["z"], &[]);
        let err = b.to_bytes().unwrap_err().to_string();
        assert!(err.contains("'missing'") && err.contains("small"), "{err}");

        let mut b = small_graph();
        b.output("nowhere", ElementType::F32, &[]);
        assert!(b.to_bytes().unwrap_err().to_string().contains("'nowhere'"));

        let mut b = small_graph();
        b.node("Relu", &["x"], &["y"], &[]);
        assert!(b.to_bytes().unwrap_err().to_string().contains("'y'"));

        let mut b = GraphBuilder::new("g");
        let err = b
            .initializer_f32("w", &[2, 2], &[1.0])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("'w'") && err.contains("4 values, got 1"),
            "{err}"
        );
        assert!(b.initializer_i64("big", &[usize::MAX, 2], &[]).is_err());
        assert!(b.to_bytes().is_err(), "a graph without outputs is rejected");
    }
}
