//! One lowering per tract operator, behind a registry.

mod array;
mod binary;
mod conv;
mod data_movement;
mod deconv;
pub(crate) mod dynamic_quant;
mod einsum;
mod element_wise;
mod fft;
mod gather;
mod geometry;
mod grid_sample;
mod gru_seq;
mod logic;
mod lrn;
mod math;
mod max_pool;
mod one_hot;
mod pad;
mod quant;
mod recurrent;
mod reduce;
mod remainder;
mod resize;
mod rms_norm;
mod scan;
mod scatter;
mod select;
mod softmax;
mod sum_pool;
mod topk;
mod upsample;

use super::lower::Lowering;
pub(crate) use logic::not_zero;
pub(crate) use softmax::MASK_PENALTY;

/// Every lowering, in lookup order.
pub(crate) fn registry() -> &'static [&'static dyn Lowering] {
    &[
        &einsum::EinSumLowering,
        &array::ArrayLowering,
        &conv::ConvLowering,
        &deconv::DeconvLowering,
        &logic::LogicLowering,
        &binary::BinaryLowering,
        &quant::QuantLowering,
        &dynamic_quant::DynamicQuantLowering,
        &element_wise::ElementWiseLowering,
        &sum_pool::SumPoolLowering,
        &max_pool::MaxPoolLowering,
        &pad::PadLowering,
        &reduce::ReduceLowering,
        &recurrent::RecurrentLowering,
        &gru_seq::GruSeqLowering,
        &softmax::SoftmaxLowering,
        &softmax::ScaledMaskedSoftmaxLowering,
        &select::SelectLowering,
        &scan::ScanLowering,
        &rms_norm::RmsNormLowering,
        &upsample::UpsampleLowering,
        &resize::ResizeLowering,
        &lrn::LrnLowering,
        &fft::FftLowering,
        &fft::StftLowering,
        &one_hot::OneHotLowering,
        &topk::TopkLowering,
        &gather::GatherLowering,
        &gather::GatherNdLowering,
        &grid_sample::GridSampleLowering,
        &data_movement::DataMovementLowering,
    ]
}
