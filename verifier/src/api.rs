//! Verification from file bytes, for embedding: what the `wasm` feature exports to
//! JavaScript (see `wasm.rs`), as plain Rust functions that work (and are tested)
//! natively too.
//!
//! - [`verify_bytes`]: the files `zkinfer setup` / `prove` write (`proof.bin`,
//!   `vk.bin`, `verifier.params`) and the public instances the caller expects;
//! - [`proof_instances`], [`proof_outputs`]: what a proof claims, to show it;
//! - [`parse_instance`], [`format_instance`]: field elements as text (decimal,
//!   negative decimal meaning `p − |x|`, or `0x` hexadecimal).
//!
//! Every function returns an error with a message for malformed input and never
//! panics, whatever the bytes or strings.

use halo2_axiom::halo2curves::bn256::Fr;
use halo2_axiom::halo2curves::ff::PrimeField;

use crate::artifact::ArtifactError;
use crate::params::VerifierParams;
use crate::proof::{small_integer, Proof};
use crate::verify::{verify, VerifyError};
use crate::vk::VerifyingKey;

/// The modulus of the scalar field (BN254's `r`), in decimal, for messages.
pub const FIELD_MODULUS: &str = "21888242871839275222246405745257275088548364400416034343698204186575808495617";

/// Longest part of an offending instance string quoted in a message.
const QUOTE_LIMIT: usize = 80;

/// Why bytes or instances cannot be verified or read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ApiError {
    /// A file argument has no bytes.
    #[error("the `{0}` argument is empty (0 bytes)\n  hint: pass the file's bytes as a Uint8Array (from JavaScript: `new Uint8Array(await response.arrayBuffer())`)")]
    Empty(&'static str),
    /// A file is malformed: not a zkinfer file, another kind, another version,
    /// truncated or damaged.
    #[error("{0}")]
    File(#[from] ArtifactError),
    /// An instance string is not a field element.
    #[error("public instance {index} ({value}) is not a field element: {reason}")]
    Instance {
        /// Position in the list.
        index: usize,
        /// The string, quoted (and shortened when long).
        value: String,
        /// What is wrong.
        reason: String,
    },
    /// The caller gave a different number of instances than the proof has.
    #[error("{given} public instances were given, but the proof has {proof}\n  hint: pass the model's public values in the order `proof_instances` lists them")]
    InstanceCount {
        /// Instances given.
        given: usize,
        /// Instances in the proof.
        proof: usize,
    },
    /// The proof, key and parameters do not belong together (another model,
    /// another setup, an edited proof file).
    #[error("{0}")]
    Mismatch(VerifyError),
    /// The proof's public outputs cannot be read as fixed-point numbers.
    #[error("the proof's public outputs cannot be read: its public-value layout does not match its instances, or an output is not a fixed-point integer (the proof file was edited)")]
    Outputs,
    /// A value to hash is not a field element.
    #[error("value {index} to hash ({value}) is not a field element: {reason}")]
    HashValue {
        /// Position in the list.
        index: usize,
        /// The string, quoted (and shortened when long).
        value: String,
        /// What is wrong.
        reason: String,
    },
    /// An input to commit to does not fit the model.
    #[error("{0}")]
    Input(String),
}

/// A 256-bit unsigned integer as four little-endian 64-bit limbs.
type U256 = [u64; 4];

/// `x · m + a`, or `None` on overflow.
fn mul_add(x: &U256, m: u64, a: u64) -> Option<U256> {
    let mut out = [0u64; 4];
    let mut carry = u128::from(a);
    for (o, limb) in out.iter_mut().zip(x) {
        let t = u128::from(*limb) * u128::from(m) + carry;
        *o = t as u64;
        carry = t >> 64;
    }
    (carry == 0).then_some(out)
}

/// `x / d` and `x % d` for a non-zero `d`.
fn div_rem(x: &U256, d: u64) -> (U256, u64) {
    let mut out = [0u64; 4];
    let mut rem = 0u128;
    for i in (0..4).rev() {
        let t = (rem << 64) | u128::from(x[i]);
        out[i] = (t / u128::from(d)) as u64;
        rem = t % u128::from(d);
    }
    (out, rem as u64)
}

fn to_repr(x: &U256) -> [u8; 32] {
    let mut repr = [0u8; 32];
    for (chunk, limb) in repr.chunks_exact_mut(8).zip(x) {
        chunk.copy_from_slice(&limb.to_le_bytes());
    }
    repr
}

fn from_repr(repr: &[u8; 32]) -> U256 {
    let mut x = [0u64; 4];
    for (limb, chunk) in x.iter_mut().zip(repr.chunks_exact(8)) {
        let mut b = [0u8; 8];
        b.copy_from_slice(chunk);
        *limb = u64::from_le_bytes(b);
    }
    x
}

/// Parses a field element written as a decimal integer (`123`, `-5` meaning
/// `p − 5`) or a hexadecimal one (`0x1f`, also with a sign); surrounding
/// whitespace is ignored. The magnitude must be less than the field modulus `p`.
pub fn parse_instance(text: &str) -> Result<Fr, String> {
    let s = text.trim();
    let (negative, s) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let (radix, digits) = match s.get(..2) {
        Some("0x" | "0X") => (16u64, &s[2..]),
        _ => (10u64, s),
    };
    if digits.is_empty() {
        return Err(if radix == 16 {
            "no hexadecimal digits after 0x".into()
        } else {
            "expected a decimal integer (optionally negative) or a 0x-prefixed hexadecimal one".into()
        });
    }
    let mut value: U256 = [0; 4];
    for c in digits.chars() {
        let digit = c.to_digit(radix as u32).ok_or_else(|| {
            let kind = if radix == 16 { "hexadecimal" } else { "decimal" };
            format!("{c:?} is not a {kind} digit")
        })?;
        value = mul_add(&value, radix, u64::from(digit))
            .ok_or_else(|| format!("it is larger than the field modulus p = {FIELD_MODULUS}"))?;
    }
    let magnitude: Fr = Option::from(Fr::from_repr(to_repr(&value)))
        .ok_or_else(|| format!("it is not less than the field modulus p = {FIELD_MODULUS}"))?;
    Ok(if negative { -magnitude } else { magnitude })
}

/// A field element as text: a signed decimal integer when it is within `±2^126`
/// (so `p − 5` is `-5`), its plain decimal value otherwise. [`parse_instance`]
/// reads it back.
pub fn format_instance(f: &Fr) -> String {
    match small_integer(f) {
        Some(v) => v.to_string(),
        None => field_decimal(f),
    }
}

/// A field element's canonical value in `[0, p)` as a decimal string.
pub fn field_decimal(f: &Fr) -> String {
    let mut x = from_repr(&f.to_repr());
    // Groups of 19 decimal digits, least significant first.
    let mut groups = Vec::new();
    while x != [0; 4] {
        let (q, r) = div_rem(&x, 10_000_000_000_000_000_000);
        groups.push(r);
        x = q;
    }
    let mut out = String::new();
    for (i, g) in groups.iter().rev().enumerate() {
        if i == 0 {
            out.push_str(&g.to_string());
        } else {
            out.push_str(&format!("{g:019}"));
        }
    }
    if out.is_empty() {
        out.push('0');
    }
    out
}

/// Parses a list of instance strings ([`parse_instance`]); the error names the
/// first bad one.
pub fn parse_instances<S: AsRef<str>>(instances: &[S]) -> Result<Vec<Fr>, ApiError> {
    instances
        .iter()
        .enumerate()
        .map(|(index, s)| {
            parse_instance(s.as_ref()).map_err(|reason| ApiError::Instance { index, value: quote(s.as_ref()), reason })
        })
        .collect()
}

fn quote(s: &str) -> String {
    if s.chars().count() <= QUOTE_LIMIT {
        format!("{s:?}")
    } else {
        let head: String = s.chars().take(QUOTE_LIMIT).collect();
        format!("{head:?}… ({} characters)", s.chars().count())
    }
}

/// An empty argument is most often a JavaScript `ArrayBuffer` passed where a
/// `Uint8Array` is needed (wasm-bindgen reads it as no bytes): say so.
fn non_empty(bytes: &[u8], name: &'static str) -> Result<(), ApiError> {
    if bytes.is_empty() {
        Err(ApiError::Empty(name))
    } else {
        Ok(())
    }
}

/// Reads a proof file (`proof.bin`).
pub fn read_proof(bytes: &[u8]) -> Result<Proof, ApiError> {
    non_empty(bytes, "proof")?;
    Ok(Proof::from_bytes(bytes, "the `proof` argument")?)
}

/// Reads a verifying-key file (`vk.bin`).
pub fn read_vk(bytes: &[u8]) -> Result<VerifyingKey, ApiError> {
    non_empty(bytes, "vk")?;
    Ok(VerifyingKey::from_bytes(bytes, "the `vk` argument")?)
}

/// Reads a verifier-parameters file (`verifier.params`).
pub fn read_params(bytes: &[u8]) -> Result<VerifierParams, ApiError> {
    non_empty(bytes, "params")?;
    Ok(VerifierParams::from_bytes(bytes, "the `params` argument")?)
}

/// Verifies the proof file `proof` against the verifying-key file `vk` and the
/// verifier-parameters file `params`, with `instances` — the public values the
/// caller expects, as [`parse_instance`] reads them — in place of the ones the
/// proof file carries.
///
/// `Ok(true)`: the proof proves these instances. `Ok(false)`: it does not (a
/// tampered proof, or instances other than the proven ones). `Err`: malformed
/// input — an unreadable file, an unparsable instance, an instance count other
/// than the proof's, or files that do not belong together (a key of another
/// model, parameters of another setup).
pub fn verify_bytes<S: AsRef<str>>(proof: &[u8], vk: &[u8], params: &[u8], instances: &[S]) -> Result<bool, ApiError> {
    let mut proof = read_proof(proof)?;
    let vk = read_vk(vk)?;
    let params = read_params(params)?;
    let instances = parse_instances(instances)?;
    if instances.len() != proof.instances.len() {
        return Err(ApiError::InstanceCount { given: instances.len(), proof: proof.instances.len() });
    }
    proof.instances = instances.iter().map(|f| f.to_repr()).collect();
    match verify(&vk, &params, &proof) {
        Ok(()) => Ok(true),
        Err(VerifyError::Rejected(_)) => Ok(false),
        Err(e) => Err(ApiError::Mismatch(e)),
    }
}

/// The public instances of a proof file, as [`format_instance`] writes them (in
/// the order [`verify_bytes`] expects them).
pub fn proof_instances(proof: &[u8]) -> Result<Vec<String>, ApiError> {
    let proof = read_proof(proof)?;
    let instances = proof.instances_fr().ok_or(ApiError::Mismatch(VerifyError::BadInstance))?;
    Ok(instances.iter().map(format_instance).collect())
}

/// The public outputs of a proof file, dequantised (fixed-point integers divided
/// by `2^scale`), flattened in order; empty when the outputs are private or hashed.
pub fn proof_outputs(proof: &[u8]) -> Result<Vec<f64>, ApiError> {
    read_proof(proof)?.outputs_f64().ok_or(ApiError::Outputs)
}

/// zkinfer's Poseidon commitment ([`zkinfer_circuits::poseidon::hash`]) of field
/// elements given as [`parse_instance`] reads them, as [`format_instance`] writes
/// it: equal, as a string, to the commitment [`proof_instances`] lists for a
/// `hashed` tensor with these (quantised) values.
pub fn poseidon_hash<S: AsRef<str>>(values: &[S]) -> Result<String, ApiError> {
    let elements = values
        .iter()
        .enumerate()
        .map(|(index, v)| {
            parse_instance(v.as_ref()).map_err(|reason| ApiError::HashValue { index, value: quote(v.as_ref()), reason })
        })
        .collect::<Result<Vec<Fr>, _>>()?;
    Ok(format_instance(&zkinfer_circuits::poseidon::hash(&elements)))
}

/// The commitment a proof exposes for model input `input` when it is `hashed`:
/// `values` (the input as floats, flattened, as in the input file) quantised at
/// the scale of the model whose verifying key is `vk`, then hashed. Enrolment
/// stores it; verification passes it as that input's expected instance.
pub fn hash_input(values: &[f64], vk: &[u8], input: usize) -> Result<String, ApiError> {
    let vk = read_vk(vk)?;
    let shapes = &vk.model.input_shapes;
    let shape = shapes.get(input).ok_or_else(|| {
        ApiError::Input(format!("the model has {} input(s); there is no input {input}", shapes.len()))
    })?;
    let want: usize = shape.iter().product();
    if values.len() != want {
        return Err(ApiError::Input(format!(
            "input {input} of the model has shape {shape:?} ({want} values), but {} values were given",
            values.len()
        )));
    }
    let quantised = zkinfer_models::quantize_inputs(&[values.to_vec()], vk.model.scale)
        .map_err(|e| ApiError::Input(e.to_string()))?;
    let wide: Vec<i128> = quantised.first().map(|q| q.iter().map(|v| i128::from(*v)).collect()).unwrap_or_default();
    Ok(format_instance(&zkinfer_circuits::poseidon::hash_integers(&wide)))
}

#[cfg(test)]
mod tests {
    use halo2_axiom::halo2curves::ff::Field;
    use zkinfer_circuits::chips::fe;

    use super::*;

    #[test]
    fn poseidon_hash_matches_the_reference_and_names_bad_values() {
        // circomlibjs-chained value of zkinfer's sponge over [1, 2, 3].
        let want = "8547220289439290647933241253678236840064971940792050864684531266629897099424";
        assert_eq!(poseidon_hash(&["1", "2", "0x3"]).unwrap(), want);
        let signed = poseidon_hash(&["-1", "5", "-300", "7", "0", "0", "0", "0", "1"]).unwrap();
        assert_eq!(signed, "15436694245702951239133289190695427894716953785591341681800622199955258833942");
        let err = poseidon_hash(&["1", "x"]).unwrap_err().to_string();
        assert!(err.contains("value 1") && err.contains("\"x\""), "{err}");
        assert!(hash_input(&[0.5], b"not a key", 0).is_err());
    }

    #[test]
    fn parses_decimal_negative_and_hex() {
        assert_eq!(parse_instance("0").unwrap(), Fr::ZERO);
        assert_eq!(parse_instance("-0").unwrap(), Fr::ZERO);
        assert_eq!(parse_instance(" 42 ").unwrap(), Fr::from(42));
        assert_eq!(parse_instance("+42").unwrap(), Fr::from(42));
        assert_eq!(parse_instance("-5").unwrap(), -Fr::from(5));
        assert_eq!(parse_instance("0x1f").unwrap(), Fr::from(31));
        assert_eq!(parse_instance("0X1F").unwrap(), Fr::from(31));
        assert_eq!(parse_instance("-0x10").unwrap(), -Fr::from(16));
        assert_eq!(parse_instance(&format!("0x{}1", "0".repeat(100))).unwrap(), Fr::ONE);
        // p − 1, in decimal and as -1.
        let p_minus_1 = "21888242871839275222246405745257275088548364400416034343698204186575808495616";
        assert_eq!(parse_instance(p_minus_1).unwrap(), -Fr::ONE);
    }

    #[test]
    fn refuses_non_elements_with_a_reason() {
        for (s, why) in [
            ("", "expected a decimal"),
            ("-", "expected a decimal"),
            ("0x", "no hexadecimal digits"),
            ("12a", "not a decimal digit"),
            ("0xg", "not a hexadecimal digit"),
            ("1.5", "not a decimal digit"),
            ("1e3", "not a decimal digit"),
            ("--1", "not a decimal digit"),
            (FIELD_MODULUS, "not less than the field modulus"),
            (&format!("1{}", "0".repeat(80)), "larger than the field modulus"),
            (&format!("0x1{}", "0".repeat(64)), "larger than the field modulus"),
        ] {
            let err = parse_instance(s).unwrap_err();
            assert!(err.contains(why), "{s:?}: {err}");
        }
        let err = parse_instances(&["1", "x"]).unwrap_err();
        assert_eq!(err.to_string(), "public instance 1 (\"x\") is not a field element: 'x' is not a decimal digit");
    }

    #[test]
    fn formats_round_trip() {
        for v in [0i128, 1, -1, 5, -5, 1 << 100, -(1 << 125), i128::MAX, i128::MIN + 1] {
            let f: Fr = fe(v);
            let text = format_instance(&f);
            assert_eq!(parse_instance(&text).unwrap(), f, "{v}: {text}");
        }
        assert_eq!(format_instance(&fe(-5)), "-5");
        assert_eq!(format_instance(&Fr::from(1u64 << 40)), "1099511627776");
        // Beyond ±2^126: the plain decimal value.
        let big = Fr::from_u128(1 << 127) * Fr::from(3);
        let text = format_instance(&big);
        assert_eq!(text, "510423550381407695195061911147652317184");
        assert_eq!(parse_instance(&text).unwrap(), big);
        let half = -Fr::from_u128(1 << 127) * Fr::from_u128(1 << 127);
        assert_eq!(parse_instance(&format_instance(&half)).unwrap(), half);
    }

    #[test]
    fn long_strings_are_quoted_short() {
        let long = "9".repeat(5000);
        let msg = parse_instances(&[long]).unwrap_err().to_string();
        assert!(msg.len() < 300, "{msg}");
        assert!(msg.contains("(5000 characters)"), "{msg}");
    }

    #[test]
    fn garbage_files_are_errors_naming_the_argument() {
        let err = verify_bytes(b"", b"", b"", &["1"]).unwrap_err().to_string();
        assert!(err.starts_with("the `proof` argument is empty (0 bytes)"), "{err}");
        let err = verify_bytes(b"x", b"", b"", &["1"]).unwrap_err().to_string();
        assert!(err.contains("the `proof` argument is not a zkinfer proof file"), "{err}");
        assert!(proof_instances(b"garbage").unwrap_err().to_string().contains("not a zkinfer proof"));
        assert!(proof_outputs(b"ZKINFER\0").unwrap_err().to_string().contains("header is truncated"));
    }
}
