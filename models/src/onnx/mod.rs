//! Loading ONNX models with tract: fixing input shapes, decluttering, the float
//! reference run, and the operator table. Lowering to the float graph lives in
//! [`lower`], one operator per file under [`ops`].

mod external;
mod lower;
mod ops;
pub mod probe;
pub mod rewrite;
pub mod size;
mod value;

use std::path::{Path, PathBuf};

use tract_onnx::prelude::*;
use tract_onnx::tract_hir::infer::{Factoid, GenericFactoid, InferenceFact};
use tract_onnx::tract_hir::internal::DimLike;

use crate::error::{Error, Result};
use crate::fgraph::FGraph;
pub use lower::{OpRow, OpStatus};

/// A model loaded by tract with concrete input shapes, decluttered.
pub struct OnnxModel {
    path: PathBuf,
    typed: TypedModel,
    /// Concrete shape of each input, in model order.
    pub input_shapes: Vec<Vec<usize>>,
    /// Name of each input.
    pub input_names: Vec<String>,
    input_types: Vec<DatumType>,
}

/// tract's ONNX loader, with the loaders zkinfer adds (operators tract knows
/// under another name: [`rewrite::upsample`]).
pub(crate) fn onnx() -> tract_onnx::Onnx {
    let mut onnx = tract_onnx::onnx();
    onnx.op_register.insert(rewrite::upsample::OP, rewrite::upsample::builder);
    onnx
}

fn not_onnx(path: &Path) -> impl Fn(TractError) -> Error + '_ {
    move |e| Error::NotOnnx { path: path.to_path_buf(), message: format!("{e:#}") }
}

/// The model in the bytes of the file at `path`, as tract is given it: decoded,
/// with the weights kept beside it read in ([`external`]) and the operators
/// tract cannot load rewritten ([`rewrite`]).
fn prepared_proto(onnx: &tract_onnx::Onnx, bytes: &[u8], path: &Path) -> Result<tract_onnx::pb::ModelProto> {
    let mut proto = onnx.proto_model_for_read(&mut &bytes[..]).map_err(not_onnx(path))?;
    external::inline_external_data(&mut proto, path)?;
    rewrite::expand_unloadable(&mut proto)?;
    Ok(proto)
}

fn analyse(path: &Path) -> impl Fn(TractError) -> Error + '_ {
    move |e| Error::Analyse { path: path.to_path_buf(), message: format!("{e:#}") }
}

/// Decides the concrete shape of one input from the ONNX fact and the number of
/// values the input file gives: known dimensions stay, unknown ones (the batch) are
/// 1, except that a single unknown dimension absorbs a length that needs more.
/// An input file's shape, with the leading batch dimensions the model declares
/// and the file leaves out (EZKL's `input_shapes` omit a symbolic `batch_size`)
/// set to 1: `[4]` for a model input `[batch_size, 4]` becomes `[1, 4]`. A shape
/// of the model's own rank, or one that does not match its trailing dimensions,
/// is kept as given.
fn with_batch(model: &[Option<usize>], given: &[usize]) -> Vec<usize> {
    let Some(extra) = model.len().checked_sub(given.len()).filter(|e| *e > 0) else {
        return given.to_vec();
    };
    let leading_are_batch = model[..extra].iter().all(|d| matches!(d, None | Some(1)));
    let trailing_match = model[extra..].iter().zip(given).all(|(m, g)| m.is_none_or(|m| m == *g));
    if leading_are_batch && trailing_match {
        std::iter::repeat_n(1, extra).chain(given.iter().copied()).collect()
    } else {
        given.to_vec()
    }
}

fn concrete_shape(dims: &[Option<usize>], len: usize) -> std::result::Result<Vec<usize>, String> {
    let known: usize = dims.iter().flatten().product();
    let unknown = dims.iter().filter(|d| d.is_none()).count();
    let fill = if unknown == 1 && known > 0 && len.is_multiple_of(known) && len / known > 1 { len / known } else { 1 };
    let shape: Vec<usize> = dims.iter().map(|d| d.unwrap_or(fill)).collect();
    let n: usize = shape.iter().product();
    if n != len {
        return Err(format!("the model expects shape {shape:?} ({n} values) but {len} were given"));
    }
    Ok(shape)
}

impl OnnxModel {
    /// Values per sample of each input of the model at `path`: the product of
    /// `shapes[i]` when given, else of the model's declared shape with symbolic
    /// (batch) dimensions taken as 1. Calibration data lists samples back to back.
    pub fn sample_lengths(path: &Path, shapes: Option<&[Vec<usize>]>) -> Result<Vec<usize>> {
        if let Some(shapes) = shapes {
            return Ok(shapes.iter().map(|s| s.iter().product()).collect());
        }
        let bytes = std::fs::read(path).map_err(|source| Error::Io { path: path.to_path_buf(), source })?;
        let onnx = onnx();
        let proto = prepared_proto(&onnx, &bytes, path)?;
        let model = onnx.model_for_proto_model(&proto).map_err(not_onnx(path))?;
        (0..model.inputs.len())
            .map(|i| {
                let fact = model.input_fact(i).map_err(analyse(path))?;
                Ok(fact
                    .shape
                    .dims()
                    .map(|d| match d {
                        GenericFactoid::Only(d) => d.to_usize().unwrap_or(1),
                        GenericFactoid::Any => 1,
                    })
                    .product())
            })
            .collect()
    }

    /// Loads `path`. Input shapes come from `shapes` when given (e.g. `input_shapes`
    /// of the input file), otherwise from the model with symbolic dimensions set from
    /// `lens` (the number of values per input).
    pub fn load(path: &Path, shapes: Option<&[Vec<usize>]>, lens: &[usize]) -> Result<OnnxModel> {
        let bytes = std::fs::read(path).map_err(|source| Error::Io { path: path.to_path_buf(), source })?;
        Self::load_bytes(&bytes, path, shapes, lens)
    }

    /// Like [`OnnxModel::load`], from the bytes of a model file at `path` (named in
    /// messages; weights the model keeps in files beside it are read from its
    /// folder). A panic inside tract on a malformed file becomes an error.
    pub fn load_bytes(bytes: &[u8], path: &Path, shapes: Option<&[Vec<usize>]>, lens: &[usize]) -> Result<OnnxModel> {
        if let Some(s) = shapes {
            if s.len() != lens.len() {
                return Err(Error::InputCount { expected: s.len(), got: lens.len() });
            }
        }
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| Self::parse(bytes, path, shapes, lens)))
            .unwrap_or_else(|_| {
                Err(Error::NotOnnx {
                    path: path.to_path_buf(),
                    message: "the ONNX parser failed on malformed data".into(),
                })
            })
    }

    fn parse(bytes: &[u8], path: &Path, shapes: Option<&[Vec<usize>]>, lens: &[usize]) -> Result<OnnxModel> {
        let onnx = onnx();
        let mut proto = prepared_proto(&onnx, bytes, path)?;
        let model = onnx.model_for_proto_model(&proto).map_err(not_onnx(path))?;
        let first = Self::from_inference(model, path, shapes, lens);
        // Shape annotations of intermediate tensors (`value_info`, which
        // exporters and onnxruntime's quantiser leave behind) may name a
        // symbolic batch size that the concrete input shape contradicts. tract
        // infers every shape itself, so the model is analysed again without them.
        match (&first, proto.graph.as_mut()) {
            (Err(Error::Analyse { .. }), Some(graph)) if !graph.value_info.is_empty() => {
                graph.value_info.clear();
                let model = onnx.model_for_proto_model(&proto).map_err(not_onnx(path))?;
                Self::from_inference(model, path, shapes, lens)
            }
            _ => first,
        }
    }

    /// Like [`OnnxModel::load`], from an ONNX model built in memory (the
    /// operator probes of [`crate::onnx::probe`]).
    pub fn from_proto(
        proto: &tract_onnx::pb::ModelProto,
        label: &str,
        shapes: Option<&[Vec<usize>]>,
        lens: &[usize],
    ) -> Result<OnnxModel> {
        let path = PathBuf::from(label);
        let mut proto = proto.clone();
        rewrite::expand_unloadable(&mut proto)?;
        let model = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| onnx().model_for_proto_model(&proto)))
            .map_err(|_| Error::NotOnnx { path: path.clone(), message: "the ONNX importer panicked".into() })?
            .map_err(|e| Error::NotOnnx { path: path.clone(), message: format!("{e:#}") })?;
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| Self::from_inference(model, &path, shapes, lens)))
            .unwrap_or_else(|_| Err(Error::Analyse { path: path.clone(), message: "tract panicked".into() }))
    }

    fn from_inference(
        mut model: InferenceModel,
        path: &Path,
        shapes: Option<&[Vec<usize>]>,
        lens: &[usize],
    ) -> Result<OnnxModel> {
        let n_inputs = model.inputs.len();
        if lens.len() != n_inputs {
            return Err(Error::InputCount { expected: n_inputs, got: lens.len() });
        }
        let mut input_shapes = Vec::with_capacity(n_inputs);
        let mut input_types = Vec::with_capacity(n_inputs);
        let mut input_names = Vec::with_capacity(n_inputs);
        for i in 0..n_inputs {
            let fact = model.input_fact(i).map_err(analyse(path))?.clone();
            let name = model.node(model.inputs[i].node).name.clone();
            let dt = fact.datum_type.concretize().unwrap_or(DatumType::F32);
            let dims: Vec<Option<usize>> = if fact.shape.is_open() && fact.shape.dims().count() == 0 {
                vec![None]
            } else {
                fact.shape
                    .dims()
                    .map(|d| match d {
                        GenericFactoid::Only(d) => d.to_usize().ok(),
                        GenericFactoid::Any => None,
                    })
                    .collect()
            };
            let shape = match shapes {
                Some(s) => with_batch(&dims, &s[i]),
                None => concrete_shape(&dims, lens[i]).map_err(|message| Error::InputShape {
                    input: i,
                    name: name.clone(),
                    message,
                })?,
            };
            model.set_input_fact(i, InferenceFact::dt_shape(dt, shape.clone())).map_err(analyse(path))?;
            input_shapes.push(shape);
            input_types.push(dt);
            input_names.push(name);
        }
        let typed =
            model.into_typed().and_then(|m| m.into_decluttered()).and_then(explode_attention).map_err(analyse(path))?;
        Ok(OnnxModel { path: path.to_path_buf(), typed, input_shapes, input_names, input_types })
    }

    /// Wraps a typed model built in code (tests, generated cases). Input shapes
    /// must be concrete; the model is decluttered as a loaded one would be.
    pub fn from_typed(label: &str, model: TypedModel) -> Result<OnnxModel> {
        let path = PathBuf::from(label);
        let typed = model.into_decluttered().and_then(explode_attention).map_err(analyse(&path))?;
        let mut input_shapes = Vec::new();
        let mut input_types = Vec::new();
        let mut input_names = Vec::new();
        for outlet in typed.input_outlets().map_err(analyse(&path))? {
            let fact = typed.outlet_fact(*outlet).map_err(analyse(&path))?;
            let shape = fact.shape.as_concrete().ok_or_else(|| Error::Analyse {
                path: path.clone(),
                message: "input shapes must be concrete".into(),
            })?;
            input_shapes.push(shape.to_vec());
            input_types.push(fact.datum_type);
            input_names.push(typed.node(outlet.node).name.clone());
        }
        Ok(OnnxModel { path, typed, input_shapes, input_names, input_types })
    }

    /// The model file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every operator of the decluttered model with whether zkinfer can prove it.
    pub fn op_table(&self) -> Vec<OpRow> {
        lower::op_table(&self.typed)
    }

    /// The estimated size of the lowering: terms per computed node and in all
    /// ([`size`]). Lowering refuses a model whose compilation would not fit in
    /// the memory available ([`crate::memory::available_bytes`]).
    pub fn workload(&self) -> Result<size::Workload> {
        lower::workload(&self.typed)
    }

    /// Lowers to the float graph. Every unsupported operator is reported at once.
    pub fn lower(&self) -> Result<FGraph> {
        self.lower_weights(false)
    }

    /// Lowers to the float graph, with the weights of parametrised layers
    /// registered as hidden parameters when `hidden` ([`crate::params`]).
    pub fn lower_weights(&self, hidden: bool) -> Result<FGraph> {
        self.guarded(|| lower::lower_model(&self.typed, &self.input_names, hidden))
    }

    /// Runs `f`, turning a panic inside tract (malformed models reach code paths
    /// tract does not guard) into an error.
    fn guarded<T>(&self, f: impl FnOnce() -> Result<T>) -> Result<T> {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|_| {
            Err(Error::Analyse {
                path: self.path.clone(),
                message: "tract failed on this model (internal panic)".into(),
            })
        })
    }

    /// Runs tract in floating point: the reference the circuit's accuracy is measured
    /// against. Returns each output flattened.
    pub fn run_float(&self, inputs: &[Vec<f64>]) -> Result<Vec<Vec<f64>>> {
        self.guarded(|| self.run_float_unguarded(inputs))
    }

    fn run_float_unguarded(&self, inputs: &[Vec<f64>]) -> Result<Vec<Vec<f64>>> {
        let err = analyse(&self.path);
        if inputs.len() != self.input_shapes.len() {
            return Err(Error::InputCount { expected: self.input_shapes.len(), got: inputs.len() });
        }
        let mut tensors: TVec<TValue> = tvec![];
        for (i, data) in inputs.iter().enumerate() {
            let shape = &self.input_shapes[i];
            if data.len() != shape.iter().product::<usize>() {
                return Err(Error::InputLength {
                    input: i,
                    name: self.input_names[i].clone(),
                    shape: shape.clone(),
                    expected: shape.iter().product(),
                    got: data.len(),
                });
            }
            let t = tract_ndarray::ArrayD::from_shape_vec(shape.as_slice(), data.clone())
                .map_err(|e| Error::Analyse { path: self.path.clone(), message: e.to_string() })?;
            let t: Tensor = t.into();
            let t = t.cast_to_dt(self.input_types[i]).map_err(&err)?.into_owned();
            tensors.push(t.into_tvalue());
        }
        let plan = self.typed.clone().into_runnable().map_err(&err)?;
        let outputs = plan.run(tensors).map_err(&err)?;
        outputs
            .iter()
            .map(|t| {
                let t = t.cast_to::<f64>().map_err(&err)?;
                let view = t.to_plain_array_view::<f64>().map_err(&err)?;
                Ok(view.iter().copied().collect())
            })
            .collect()
    }
}

/// Expands tract's fused attention (`Sdpa`: what ONNX `Attention` loads as)
/// into the matrix products, scaling, masking and softmax it stands for, which
/// the lowering proves one by one; the model is decluttered again after.
fn explode_attention(mut model: TypedModel) -> TractResult<TypedModel> {
    use tract_transformers::ops::sdpa::Sdpa;
    let fused: Vec<usize> = model.nodes().iter().filter(|n| n.op_is::<Sdpa>()).map(|n| n.id).collect();
    if fused.is_empty() {
        return Ok(model);
    }
    for id in fused {
        let node = model.node(id);
        let Some(op) = node.op_as::<Sdpa>() else { continue };
        // A boolean mask the rewrite did not recognise (`Emit::is_bool`): tract
        // would add it as a 0/1 bias, which is not what ONNX means.
        if let Some(mask) = node.inputs.get(3) {
            if model.outlet_fact(*mask)?.datum_type == DatumType::Bool {
                return Err(TractError::msg(format!(
                    "Attention node `{}` has a boolean mask whose type zkinfer could not tell before loading \
                     (tract would add it as a 0/1 bias)\n  hint: cast the mask to a float bias (0 and −inf) in \
                     the model, or report the operator that produced it",
                    node.name
                )));
            }
        }
        if let Some(patch) = op.clone().patch_sdpa(&model, node)? {
            patch.apply(&mut model)?;
        }
    }
    model.into_decluttered()
}

#[cfg(test)]
mod tests {
    use super::{concrete_shape, with_batch};

    #[test]
    fn an_input_file_shape_without_the_batch_gets_it() {
        assert_eq!(with_batch(&[None, Some(4)], &[4]), vec![1, 4]);
        assert_eq!(with_batch(&[Some(1), None, Some(8)], &[3, 8]), vec![1, 3, 8]);
        // Same rank, a mismatch, or a non-batch leading dimension: kept as given.
        assert_eq!(with_batch(&[None, Some(4)], &[2, 4]), vec![2, 4]);
        assert_eq!(with_batch(&[None, Some(4)], &[5]), vec![5]);
        assert_eq!(with_batch(&[Some(3), Some(4)], &[4]), vec![4]);
    }

    #[test]
    fn symbolic_batch_becomes_one_or_absorbs_the_length() {
        assert_eq!(concrete_shape(&[None, Some(3)], 3).unwrap(), vec![1, 3]);
        assert_eq!(concrete_shape(&[None, Some(3)], 6).unwrap(), vec![2, 3]);
        assert_eq!(concrete_shape(&[Some(2), Some(3)], 6).unwrap(), vec![2, 3]);
        assert!(concrete_shape(&[Some(2), Some(3)], 5).is_err());
        assert!(concrete_shape(&[None, Some(4)], 6).is_err());
    }
}
