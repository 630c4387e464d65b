//! Errors of the model layer. Each names the problem and, where there is one, the fix.

use std::fmt;
use std::path::PathBuf;

/// One operator the lowering cannot handle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnsupportedOp {
    /// Node name in the model.
    pub node: String,
    /// Operator name as tract reports it.
    pub op: String,
    /// Why it is not supported (e.g. "variable divisor").
    pub reason: String,
}

impl fmt::Display for UnsupportedOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "  - node `{}`: {} ({})", self.node, self.op, self.reason)
    }
}

/// Errors of loading, lowering, quantising and evaluating models.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not an ONNX model tract can parse.
    #[error("{path} is not a readable ONNX model: {message}\n  hint: pass the .onnx file exported by your framework (e.g. torch.onnx.export)")]
    NotOnnx {
        /// The file.
        path: PathBuf,
        /// What the parser said.
        message: String,
    },
    /// A weight the model keeps in a file beside it (ONNX external data, as
    /// PyTorch's exporter writes) could not be read.
    #[error("{model}: cannot read the external data of tensor `{tensor}`: {detail}\n  hint: keep the weights file(s) that `torch.onnx.export` or `onnx.save_model(..., save_as_external_data=True)` wrote next to the .onnx file, under the names they had when exported")]
    ExternalData {
        /// The model file.
        model: PathBuf,
        /// The tensor whose data is missing.
        tensor: String,
        /// What went wrong.
        detail: String,
    },
    /// tract could not analyse or simplify the model.
    #[error("cannot analyse model {path}: {message}")]
    Analyse {
        /// The file.
        path: PathBuf,
        /// What tract said.
        message: String,
    },
    /// Operators the circuit cannot express, all of them at once.
    #[error("the model uses {} unsupported operator(s):\n{}\n  hint: replace these operators in the model (or export it without them); `zkinfer ops` lists the ONNX operators zkinfer proves (docs/operators.md), `zkinfer inspect MODEL` the verdict for each node of this model", .0.len(), list(.0))]
    Unsupported(Vec<UnsupportedOp>),
    /// The input file is malformed.
    #[error("input file {path}: {message}\n  hint: inputs use EZKL's layout: {{\"input_data\": [[...flattened input 0...], ...]}}")]
    InputFile {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Wrong number of inputs.
    #[error("the model takes {expected} input tensor(s) but {got} were given")]
    InputCount {
        /// What the model takes.
        expected: usize,
        /// What was given.
        got: usize,
    },
    /// An input has the wrong number of elements.
    #[error("input {input} (`{name}`, shape {shape:?}) expects {expected} values but {got} were given")]
    InputLength {
        /// Position of the input.
        input: usize,
        /// Its name.
        name: String,
        /// Its shape.
        shape: Vec<usize>,
        /// Element count the shape implies.
        expected: usize,
        /// Element count given.
        got: usize,
    },
    /// An input's values do not fit the model's input shape.
    #[error("input {input} (`{name}`): {message}\n  hint: give one flattened list per model input; add \"input_shapes\" to the input file when the model's shape is not fixed")]
    InputShape {
        /// Position of the input.
        input: usize,
        /// Its name.
        name: String,
        /// What does not fit.
        message: String,
    },
    /// A value is not a finite number or too large for fixed point.
    #[error("{what} cannot be represented in fixed point at scale {scale} (value {})\n  hint: lower --scale or check the model/input for NaN or huge values", number(*.value))]
    Quantize {
        /// What was being quantised.
        what: String,
        /// The offending value.
        value: f64,
        /// The scale used.
        scale: u32,
    },
    /// A range-checked value needs more bits than the circuit provides.
    #[error("node `{node}` ({op}) produces values needing {needed} bits but the circuit checks {available}\n  hint: this input leaves the range the circuit was compiled for; recompile with this input (or a larger --value-bits) or use a smaller --scale")]
    OutOfRange {
        /// Node name.
        node: String,
        /// Operator.
        op: String,
        /// Bits needed.
        needed: u32,
        /// Bits available.
        available: u32,
    },
    /// A computed index outside its table (or not an integer).
    #[error("node `{node}` ({op}) reads entry {index} of a table of {len}\n  hint: indices (e.g. token ids) must be integers within the table")]
    BadIndex {
        /// Node name.
        node: String,
        /// Operator.
        op: String,
        /// The index.
        index: f64,
        /// Table length.
        len: usize,
    },
    /// A square root of a negative value.
    #[error("node `{node}` ({op}) takes the square root of {value}, which is negative")]
    NegativeSqrt {
        /// Node name.
        node: String,
        /// Operator.
        op: String,
        /// The value.
        value: i128,
    },
    /// A division by a variable met a divisor that is not positive.
    #[error("node `{node}` ({op}) divides by {value}, which is not positive\n  hint: zkinfer proves divisions by positive values (softmax sums); check the model and input")]
    NonPositiveDivisor {
        /// Node name.
        node: String,
        /// Operator.
        op: String,
        /// The divisor.
        value: i128,
    },
    /// Integer arithmetic overflowed.
    #[error("arithmetic overflow at node `{node}` ({op})\n  hint: use a smaller --scale")]
    Overflow {
        /// Node name.
        node: String,
        /// Operator.
        op: String,
    },
    /// The model is too large to compile on this machine.
    #[error("{0}\n  hint: prove the model at a smaller input size (a 64×64 image instead of 224×224, a shorter sequence) or with fewer channels; set ZKINFER_MEMORY_LIMIT_MIB if the available memory is misread")]
    TooLarge(String),
    /// An operator's attributes or shapes are inconsistent.
    #[error("cannot lower node `{node}` ({op}): {message}")]
    Lowering {
        /// Node name.
        node: String,
        /// Operator.
        op: String,
        /// What is wrong.
        message: String,
    },
}

/// A value for a message: plain when it is of a readable size, in scientific
/// notation when huge or tiny (an uninitialised input can hold 1e198).
fn number(v: f64) -> String {
    if v == 0.0 || !v.is_finite() || (1e-4..1e9).contains(&v.abs()) {
        format!("{v}")
    } else {
        format!("{v:e}")
    }
}

fn list(ops: &[UnsupportedOp]) -> String {
    ops.iter().map(|o| o.to_string()).collect::<Vec<_>>().join("\n")
}

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, Error>;
