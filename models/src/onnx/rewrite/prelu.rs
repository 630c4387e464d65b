//! `PRelu` before opset 7, whose slope of one value per channel (shape `[C]`,
//! PyTorch's `nn.PReLU(num_parameters=C)` exported at opset 6) applies along
//! axis 1; from opset 7 on a slope broadcasts from the last axis, as tract
//! reads every PRelu. The slope is reshaped to `[C, 1, …, 1]` (the input's
//! rank less two ones, computed in the graph and folded by tract), which
//! broadcasting applies along axis 1.

use tract_onnx::pb::NodeProto;

use super::emit::{Attr, Emit};
use super::Refusal;

pub(super) fn expand(emit: &mut Emit<'_>, node: &NodeProto) -> Result<(), Refusal> {
    let x = Emit::input(node, 0)?;
    let slope = Emit::input(node, 1)?;
    let y = Emit::output(node, 0).ok_or("its output is missing")?;
    let shape = emit.op("Shape", &[x], vec![]);
    let ones = emit.trailing_ones(&shape);
    let channels = emit.int64s("channels", &[1], vec![-1]);
    let target = emit.op("Concat", &[&channels, &ones], vec![("axis", Attr::Int(0))]);
    let per_channel = emit.binary("Reshape", slope, &target);
    emit.op_into("PRelu", &[x, &per_channel], vec![], y);
    Ok(())
}
