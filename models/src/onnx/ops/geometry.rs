//! Sliding-window geometry shared by convolution and pooling: for every output
//! position, which input position each kernel tap reads (or padding).

use tract_onnx::prelude::*;
use tract_onnx::tract_core::ops::cnn::PoolSpec;

use super::super::value::strides;

/// Spatial layout of a tensor in a given data format.
#[derive(Clone, Debug)]
pub(crate) struct Layout {
    /// Batch size (1 when the format has no batch axis).
    pub n: usize,
    /// Channels.
    pub c: usize,
    /// Spatial dimensions.
    pub hw: Vec<usize>,
    /// Row-major strides of batch, channel and each spatial axis.
    pub n_stride: usize,
    pub c_stride: usize,
    pub hw_strides: Vec<usize>,
}

impl Layout {
    /// Reads the layout of `shape` under the pool spec's data format.
    pub fn of(spec: &PoolSpec, shape: &[usize]) -> TractResult<Layout> {
        let ds = spec.data_format.shape(shape.to_vec())?;
        let st = strides(shape);
        let hw_axes: Vec<usize> = ds.hw_axes().collect();
        Ok(Layout {
            n: ds.n().copied().unwrap_or(1),
            c: *ds.c(),
            hw: ds.hw_dims().to_vec(),
            n_stride: ds.n_axis().map(|a| st[a]).unwrap_or(0),
            c_stride: st[ds.c_axis()],
            hw_strides: hw_axes.iter().map(|&a| st[a]).collect(),
        })
    }

    /// Flat index of element (batch `n`, channel `c`, spatial offset `spatial`).
    pub fn index(&self, n: usize, c: usize, spatial: usize) -> usize {
        n * self.n_stride + c * self.c_stride + spatial
    }

    /// The channel of flat element `index`.
    pub fn channel_of(&self, index: usize) -> usize {
        if self.c_stride == 0 || self.c == 0 {
            0
        } else {
            (index / self.c_stride) % self.c
        }
    }

    /// The flat spatial offset of every spatial position, in row-major order over
    /// the spatial dimensions.
    pub fn spatial_offsets(&self) -> Vec<usize> {
        let n: usize = self.hw.iter().product();
        let rm = strides(&self.hw);
        (0..n).map(|p| (0..self.hw.len()).map(|d| ((p / rm[d]) % self.hw[d]) * self.hw_strides[d]).sum()).collect()
    }
}

/// The windows of a convolution or pooling over one input.
#[derive(Clone, Debug)]
pub(crate) struct Windows {
    /// Output spatial dimensions.
    pub out_hw: Vec<usize>,
    /// Kernel spatial dimensions.
    pub kernel: Vec<usize>,
    /// For every output position (row-major over `out_hw`) and every kernel tap
    /// (row-major over `kernel`): the input's spatial offset, or `None` for padding.
    pub taps: Vec<Vec<Option<usize>>>,
    /// For every output position, how many taps fall inside the padded input (the
    /// divisor of an average that counts padding).
    pub padded_counts: Vec<usize>,
}

impl Windows {
    /// Computes windows of `spec` over an input of layout `input`.
    pub fn new(spec: &PoolSpec, input: &Layout) -> Windows {
        let padding = spec.computed_padding(&input.hw);
        let stride = spec.strides();
        let dilations = spec.dilations();
        let out_hw: Vec<usize> = padding.iter().map(|p| p.convoluted).collect();
        let kernel: Vec<usize> = spec.kernel_shape.to_vec();
        let n_out: usize = out_hw.iter().product();
        let n_k: usize = kernel.iter().product();
        let mut taps = Vec::with_capacity(n_out);
        let mut padded_counts = Vec::with_capacity(n_out);
        let out_strides = strides(&out_hw);
        let k_strides = strides(&kernel);
        for o in 0..n_out {
            let mut row = Vec::with_capacity(n_k);
            let mut counted = 0;
            for k in 0..n_k {
                let mut offset = 0usize;
                let mut inside = true;
                let mut in_padded = true;
                for d in 0..out_hw.len() {
                    let oc = (o / out_strides[d]) % out_hw[d];
                    let kc = (k / k_strides[d]) % kernel[d];
                    let padded_pos = oc * stride[d] + kc * dilations[d];
                    let pos = padded_pos as isize - padding[d].pad_before as isize;
                    if padded_pos >= padding[d].pad_before + input.hw[d] + padding[d].pad_after {
                        in_padded = false;
                    }
                    if pos < 0 || pos >= input.hw[d] as isize {
                        inside = false;
                    } else {
                        offset += pos as usize * input.hw_strides[d];
                    }
                }
                counted += in_padded as usize;
                row.push(inside.then_some(offset));
            }
            taps.push(row);
            padded_counts.push(counted);
        }
        Windows { out_hw, kernel, taps, padded_counts }
    }
}

/// Input and output layouts of a sliding-window operator and its windows, checked
/// against the output shape tract computed.
pub(crate) struct Geometry {
    /// Input layout.
    pub input: Layout,
    /// Output layout.
    pub output: Layout,
    /// The windows.
    pub windows: Windows,
    /// Flat spatial offset in the output of each window (row-major order).
    pub out_spatial: Vec<usize>,
}

impl Geometry {
    /// Geometry of `spec` from `in_shape` to `out_shape`.
    pub fn new(spec: &PoolSpec, in_shape: &[usize], out_shape: &[usize]) -> Result<Geometry, String> {
        let input = Layout::of(spec, in_shape).map_err(|e| e.to_string())?;
        let output = Layout::of(spec, out_shape).map_err(|e| e.to_string())?;
        let windows = Windows::new(spec, &input);
        if windows.out_hw != output.hw {
            return Err("window geometry does not match tract's output shape".into());
        }
        let out_spatial = output.spatial_offsets();
        Ok(Geometry { input, output, windows, out_spatial })
    }
}
