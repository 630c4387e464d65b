//! Key generation and the proving-key file.

use std::panic::{catch_unwind, AssertUnwindSafe};

use halo2_axiom::halo2curves::bn256::G1Affine;
use halo2_axiom::plonk::{keygen_pk2, keygen_vk_custom, ProvingKey as Halo2Pk, VerifyingKey as Halo2Vk};
use halo2_axiom::SerdeFormat;
use serde::{Deserialize, Serialize};
use zkinfer_circuits::{CircuitShape, ModelCircuit};
use zkinfer_verifier::artifact::{self, ArtifactError, Kind};
use zkinfer_verifier::vk::{max_fixed_polys, read_halo2_vk};
use zkinfer_verifier::{ModelInfo, VerifyingKey};

use crate::compiled::CompiledModel;
use crate::error::{ProverError, Result};
use crate::srs::LoadedSrs;

#[derive(Serialize, Deserialize)]
struct PkBody {
    model_digest: [u8; 32],
    shape: CircuitShape,
    model: ModelInfo,
    srs_digest: [u8; 32],
    srs_testing_only: bool,
    halo2: Vec<u8>,
}

/// A proving key with its metadata.
pub struct ProvingKey {
    /// Digest of the compiled model it was made for.
    pub model_digest: [u8; 32],
    /// Circuit shape.
    pub shape: CircuitShape,
    /// Model metadata.
    pub model: ModelInfo,
    /// Digest of the SRS it was made with.
    pub srs_digest: [u8; 32],
    /// Whether that SRS was generated locally (testing only).
    pub srs_testing_only: bool,
    /// The key material.
    pub key: KeyMaterial,
}

/// What a proving key holds.
pub enum KeyMaterial {
    /// halo2-axiom's full proving key (fixed and permutation polynomials in both
    /// bases), for `--prover halo2`.
    Halo2(Box<Halo2Pk<G1Affine>>),
    /// Only the verifying key: the native prover recomputes fixed columns,
    /// selectors and the copy permutation from the circuit, and checks them
    /// against the key's commitments.
    Native(Box<Halo2Vk<G1Affine>>),
}

impl ProvingKey {
    /// halo2's verifying key inside.
    pub fn halo2_vk(&self) -> &Halo2Vk<G1Affine> {
        match &self.key {
            KeyMaterial::Halo2(pk) => pk.get_vk(),
            KeyMaterial::Native(vk) => vk,
        }
    }

    /// The prover this key was made for.
    pub fn prover(&self) -> crate::prove::ProverKind {
        match self.key {
            KeyMaterial::Halo2(_) => crate::prove::ProverKind::Halo2,
            KeyMaterial::Native(_) => crate::prove::ProverKind::Native,
        }
    }

    /// The verifying key that goes with it.
    pub fn verifying_key(&self) -> VerifyingKey {
        VerifyingKey {
            shape: self.shape.clone(),
            model: self.model.clone(),
            srs_digest: self.srs_digest,
            vk: self.halo2_vk().clone(),
        }
    }

    /// Encodes the file.
    pub fn to_bytes(&self) -> Vec<u8> {
        let body = PkBody {
            model_digest: self.model_digest,
            shape: self.shape.clone(),
            model: self.model.clone(),
            srs_digest: self.srs_digest,
            srs_testing_only: self.srs_testing_only,
            halo2: match &self.key {
                KeyMaterial::Halo2(pk) => pk.to_bytes(SerdeFormat::RawBytes),
                KeyMaterial::Native(vk) => vk.to_bytes(SerdeFormat::RawBytes),
            },
        };
        artifact::encode(Kind::ProvingKey, &body)
    }

    /// Decodes and checks a file named `what`.
    pub fn from_bytes(bytes: &[u8], what: &str) -> std::result::Result<Self, ArtifactError> {
        let body: PkBody = artifact::decode(Kind::ProvingKey, bytes, what)?;
        let corrupt =
            |reason: String| ArtifactError::Corrupt { what: what.to_string(), kind: Kind::ProvingKey, reason };
        body.shape.validate().map_err(&corrupt)?;
        let n = 1usize << body.shape.k;
        let (vk, vk_len) = read_halo2_vk(&body.halo2, &body.shape).map_err(&corrupt)?;
        if vk_len == body.halo2.len() {
            return Ok(ProvingKey {
                model_digest: body.model_digest,
                shape: body.shape,
                model: body.model,
                srs_digest: body.srs_digest,
                srs_testing_only: body.srs_testing_only,
                key: KeyMaterial::Native(Box::new(vk)),
            });
        }
        let max_polys = max_fixed_polys(&body.shape) + body.shape.equality_columns();
        check_pk_layout(&body.halo2[vk_len..], n, max_polys).map_err(&corrupt)?;
        // halo2 panics on some malformed keys; the layout check above keeps
        // lengths and counts sane and the checksum keeps damaged files away, this
        // guards against crafted contents.
        let shape = body.shape.clone();
        let parsed = catch_unwind(AssertUnwindSafe(|| {
            Halo2Pk::<G1Affine>::from_bytes::<ModelCircuit>(&body.halo2, SerdeFormat::RawBytes, shape)
        }))
        .map_err(|_| corrupt("malformed halo2 proving key".into()))?
        .map_err(|e| corrupt(format!("invalid halo2 proving key: {e}")))?;
        Ok(ProvingKey {
            model_digest: body.model_digest,
            shape: body.shape,
            model: body.model,
            srs_digest: body.srs_digest,
            srs_testing_only: body.srs_testing_only,
            key: KeyMaterial::Halo2(Box::new(parsed)),
        })
    }
}

/// Walks halo2's proving-key polynomials (after its verifying key) and checks every
/// length field before halo2 allocates from it: three polynomials, then four
/// vectors of polynomials, each polynomial `n` field elements (32 bytes each).
fn check_pk_layout(bytes: &[u8], n: usize, max_polys: usize) -> std::result::Result<(), String> {
    const ELEM: usize = 32;
    fn read_u32(bytes: &[u8], at: &mut usize) -> std::result::Result<usize, String> {
        let b = bytes.get(*at..*at + 4).ok_or("the proving key is truncated")?;
        *at += 4;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
    }
    let poly = |at: &mut usize| -> std::result::Result<(), String> {
        let len = read_u32(bytes, at)?;
        if len != n {
            return Err(format!("a polynomial has {len} coefficients, the circuit needs {n}"));
        }
        *at = at.checked_add(len * ELEM).filter(|e| *e <= bytes.len()).ok_or("the proving key is truncated")?;
        Ok(())
    };
    let mut at = 0usize;
    for _ in 0..3 {
        poly(&mut at)?;
    }
    for _ in 0..4 {
        let count = read_u32(bytes, &mut at)?;
        if count > max_polys {
            return Err(format!("implausible polynomial count {count}"));
        }
        for _ in 0..count {
            poly(&mut at)?;
        }
    }
    if at != bytes.len() {
        return Err(format!("{} unexpected bytes after the proving key", bytes.len() - at));
    }
    Ok(())
}

/// Generates the key for `prover`: halo2's full proving key, or for the native
/// prover only the verifying key (no polynomials are stored).
pub fn keygen_for(compiled: &CompiledModel, srs: &LoadedSrs, prover: crate::prove::ProverKind) -> Result<ProvingKey> {
    match prover {
        crate::prove::ProverKind::Halo2 => keygen(compiled, srs),
        crate::prove::ProverKind::Native => keygen_native(compiled, srs),
    }
}

/// Generates a native proving key: halo2's verifying key alone.
pub fn keygen_native(compiled: &CompiledModel, srs: &LoadedSrs) -> Result<ProvingKey> {
    make_key(compiled, srs, |circuit| {
        keygen_vk_custom(&srs.params, circuit, true).map(|vk| KeyMaterial::Native(Box::new(vk)))
    })
}

/// Generates the proving (and with it the verifying) key of a compiled model.
pub fn keygen(compiled: &CompiledModel, srs: &LoadedSrs) -> Result<ProvingKey> {
    make_key(compiled, srs, |circuit| keygen_pk2(&srs.params, circuit, true).map(|pk| KeyMaterial::Halo2(Box::new(pk))))
}

fn make_key(
    compiled: &CompiledModel,
    srs: &LoadedSrs,
    generate: impl FnOnce(&ModelCircuit) -> std::result::Result<KeyMaterial, halo2_axiom::plonk::Error>,
) -> Result<ProvingKey> {
    use halo2_axiom::poly::commitment::Params;
    if srs.params.k() != compiled.shape.k {
        return Err(ProverError::Mismatch(format!(
            "the SRS is for k = {} but the circuit needs k = {}",
            srs.params.k(),
            compiled.shape.k
        )));
    }
    let circuit = ModelCircuit::new(compiled.shape.clone(), compiled.program());
    let key =
        generate(&circuit).map_err(|e| ProverError::Halo2 { stage: "key generation", message: format!("{e:?}") })?;
    Ok(ProvingKey {
        model_digest: compiled.digest(),
        shape: compiled.shape.clone(),
        model: compiled.model.clone(),
        srs_digest: srs.verifier_params().srs_digest(),
        srs_testing_only: srs.origin.is_testing_only(),
        key,
    })
}
