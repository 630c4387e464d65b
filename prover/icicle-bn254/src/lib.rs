//! BN254 for ICICLE v1's Rust API.
//!
//! `icicle-core` 1.3.0 (ICICLE's Rust API: the [`MSM`](icicle_core::msm::MSM) and
//! [`NTT`](icicle_core::ntt::NTT) traits, their configs, `HostOrDeviceSlice`)
//! defines curves through macros that link against C symbols such as
//! `bn254MSMCuda` and `bn254NTTCuda`. ICICLE's own BN254 crate, which compiles
//! those symbols from ICICLE's CUDA sources, is not published on crates.io, so
//! this crate declares the curve with icicle-core's macros exactly as that crate
//! does (modules `curve`, `msm`, `ntt`) and provides the symbols from
//! `cuda/bn254.cu`: sppark's Pippenger MSM and a radix-2 NTT over the twiddles of
//! the root the caller initialises.
//!
//! To use ICICLE's own BN254 build instead, replace this crate (same module
//! layout, same symbol names) with `[patch]` in the workspace manifest; the
//! prover's engine only speaks icicle-core's API, and its start-up self-check
//! compares the backend against the CPU before trusting it.
//!
//! [`halo2`] maps halo2curves' BN254 types onto ICICLE's without copying: both
//! keep field elements as four little-endian 64-bit limbs in Montgomery form.

//!
//! Everything is behind the `cuda` feature (nvcc and CUDA headers needed);
//! without it the crate is empty.

#![allow(unexpected_cfgs)] // icicle-core's macros test an `arkworks` feature in the calling crate
#![deny(missing_docs)]

#[cfg(feature = "cuda")]
extern crate blst; // host-side field arithmetic of the CUDA file
#[cfg(feature = "cuda")]
extern crate sppark; // the MSM's CUDA sources and their runtime helpers

/// The curve and its fields, declared through icicle-core's macros.
#[cfg(feature = "cuda")]
pub mod curve {
    // icicle-core's macros: their items are undocumented, and its `Curve` trait
    // takes raw pointers in safe functions.
    #![allow(missing_docs, clippy::not_unsafe_ptr_arg_deref)]
    use icicle_core::curve::{Affine, Curve, Projective};
    use icicle_core::field::{Field, MontgomeryConvertibleField};
    use icicle_core::traits::{FieldConfig, FieldImpl, GenerateRandom};
    use icicle_core::{impl_curve, impl_field, impl_scalar_field};
    use icicle_cuda_runtime::device_context::{get_default_device_context, DeviceContext};
    use icicle_cuda_runtime::error::CudaError;
    use icicle_cuda_runtime::memory::HostOrDeviceSlice;

    pub(crate) const SCALAR_LIMBS: usize = 4;
    pub(crate) const BASE_LIMBS: usize = 4;

    impl_scalar_field!("bn254", bn254_sf, SCALAR_LIMBS, ScalarField, ScalarCfg, Fr);
    impl_field!(BASE_LIMBS, BaseField, BaseCfg, Fq);
    impl_curve!("bn254", bn254, CurveCfg, ScalarField, BaseField, G1Config, G1Affine, G1Projective);
}

/// Multi-scalar multiplication (`bn254MSMCuda`).
#[cfg(feature = "cuda")]
pub mod msm {
    use crate::curve::CurveCfg;
    use icicle_core::curve::{Affine, Curve, Projective};
    use icicle_core::error::IcicleResult;
    use icicle_core::impl_msm;
    use icicle_core::msm::{MSMConfig, MSM};
    use icicle_core::traits::IcicleResultWrap;
    use icicle_cuda_runtime::error::CudaError;
    use icicle_cuda_runtime::memory::HostOrDeviceSlice;

    impl_msm!("bn254", bn254, CurveCfg);
}

/// Number-theoretic transforms (`bn254NTTCuda`, `bn254InitializeDomain`).
#[cfg(feature = "cuda")]
pub mod ntt {
    use crate::curve::{ScalarCfg, ScalarField};
    use icicle_core::error::IcicleResult;
    use icicle_core::impl_ntt;
    use icicle_core::ntt::{NTTConfig, NTTDir, NTT};
    use icicle_core::traits::IcicleResultWrap;
    use icicle_cuda_runtime::device_context::DeviceContext;
    use icicle_cuda_runtime::error::CudaError;
    use icicle_cuda_runtime::memory::HostOrDeviceSlice;

    impl_ntt!("bn254", bn254, ScalarField, ScalarCfg);
}

/// CUDA devices.
#[cfg(feature = "cuda")]
pub mod device {
    extern "C" {
        fn zkinfer_cuda_device_count() -> i32;
    }

    /// How many CUDA devices the runtime sees (0 without a driver or a GPU).
    pub fn count() -> usize {
        // SAFETY: a plain C function without arguments; it clears CUDA's error
        // state when the runtime reports no device.
        let count = unsafe { zkinfer_cuda_device_count() };
        count.max(0) as usize
    }
}

/// halo2curves' BN254 types viewed as ICICLE's.
#[cfg(feature = "cuda")]
pub mod halo2 {
    use halo2_axiom::halo2curves::bn256::{Fq, Fr, G1Affine as H2Affine, G1 as H2Projective};
    use halo2_axiom::halo2curves::ff::Field;
    use halo2_axiom::halo2curves::group::prime::PrimeCurveAffine;
    use halo2_axiom::halo2curves::CurveAffine;
    use icicle_core::traits::FieldImpl;

    use crate::curve::{BaseField, G1Affine, G1Projective, ScalarField};

    const _: () = {
        assert!(std::mem::size_of::<Fr>() == std::mem::size_of::<ScalarField>());
        assert!(std::mem::align_of::<Fr>() == std::mem::align_of::<ScalarField>());
        assert!(std::mem::size_of::<Fr>() == 32);
        assert!(std::mem::size_of::<H2Affine>() == std::mem::size_of::<G1Affine>());
        assert!(std::mem::align_of::<H2Affine>() == std::mem::align_of::<G1Affine>());
        assert!(std::mem::size_of::<H2Affine>() == 64);
    };

    /// halo2's scalars as ICICLE's (same Montgomery limbs).
    pub fn scalars(values: &[Fr]) -> &[ScalarField] {
        // SAFETY: `Fr` is one `[u64; 4]` of Montgomery limbs and `ScalarField` a
        // `#[repr(C)]` `[u64; 4]` plus a zero-sized marker: same size and alignment
        // (checked above); every bit pattern is a valid `ScalarField`.
        unsafe { std::slice::from_raw_parts(values.as_ptr().cast::<ScalarField>(), values.len()) }
    }

    /// halo2's scalars as ICICLE's, mutably.
    pub fn scalars_mut(values: &mut [Fr]) -> &mut [ScalarField] {
        // SAFETY: as in `scalars`; ICICLE writes only reduced Montgomery values.
        unsafe { std::slice::from_raw_parts_mut(values.as_mut_ptr().cast::<ScalarField>(), values.len()) }
    }

    /// halo2's affine points as ICICLE's (x and y in Montgomery form; (0, 0) is the
    /// point at infinity in both).
    pub fn points(values: &[H2Affine]) -> &[G1Affine] {
        // SAFETY: `G1Affine` of halo2curves is `{ x: Fq, y: Fq }` and ICICLE's a
        // `#[repr(C)]` `{ x, y }` of four-limb fields: same size and alignment
        // (checked above).
        unsafe { std::slice::from_raw_parts(values.as_ptr().cast::<G1Affine>(), values.len()) }
    }

    /// One halo2 scalar as ICICLE's.
    pub fn scalar(value: &Fr) -> ScalarField {
        scalars(std::slice::from_ref(value))[0]
    }

    fn base(value: &BaseField) -> Fq {
        let limbs: [u64; 4] = (*value).into();
        // SAFETY: `Fq` is one `[u64; 4]` of Montgomery limbs, the layout ICICLE's
        // backend writes.
        unsafe { std::mem::transmute::<[u64; 4], Fq>(limbs) }
    }

    /// A homogeneous ICICLE point (x = X/Z, Montgomery limbs) as a halo2 point, or
    /// `None` when it is not on the curve (a backend with other conventions).
    pub fn projective(point: &G1Projective) -> Option<H2Projective> {
        let (x, y, z) = (base(&point.x), base(&point.y), base(&point.z));
        if bool::from(z.is_zero()) {
            return Some(H2Affine::identity().into());
        }
        let z_inv = Option::<Fq>::from(z.invert())?;
        Option::<H2Affine>::from(H2Affine::from_xy(x * z_inv, y * z_inv)).map(Into::into)
    }

    /// Whether ICICLE's zero scalar is halo2's zero (a sanity check of the view).
    pub fn zero_matches() -> bool {
        scalar(&Fr::ZERO) == ScalarField::zero()
    }
}
