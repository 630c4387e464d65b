//! JavaScript bindings (feature `wasm`, built for `wasm32-unknown-unknown` and
//! packaged by wasm-bindgen: `scripts/build-wasm.sh`). Glue only: the logic is in
//! [`crate::api`].
//!
//! ```js
//! const ok = verify(proofBytes, vkBytes, paramsBytes, ["-3", "17", "0x2a"]); // true / false, throws on malformed input
//! const instances = proof_instances(proofBytes); // ["-3", "17", "42"]
//! const outputs = proof_outputs(proofBytes);     // Float64Array, dequantised
//! ```

use js_sys::{Array, BigInt, JSON};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::api;

fn js_error(e: impl std::fmt::Display) -> JsError {
    JsError::new(&e.to_string())
}

/// What a JavaScript value is, for messages: `null`, `undefined`, `an array`,
/// `a number`, `an object`, ...
fn type_name(v: &JsValue) -> String {
    if v.is_null() {
        return "null".into();
    }
    if v.is_undefined() {
        return "undefined".into();
    }
    if Array::is_array(v) {
        return "an array".into();
    }
    let name = v.js_typeof().as_string().unwrap_or_else(|| "unknown".into());
    let article = if name.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
    format!("{article} {name}")
}

/// One instance from JavaScript: a string, a safe integer or a BigInt.
fn instance_text(index: usize, v: &JsValue) -> Result<String, JsError> {
    if let Some(s) = v.as_string() {
        return Ok(s);
    }
    if let Some(x) = v.as_f64() {
        // Beyond 2^53 a number is no longer exact: ask for a string instead.
        if x.fract() == 0.0 && x.abs() <= 9_007_199_254_740_991.0 {
            return Ok(format!("{}", x as i64));
        }
        return Err(JsError::new(&format!(
            "public instance {index} ({x}) is not a safe integer: pass field elements as decimal or 0x-hex strings"
        )));
    }
    if let Some(Ok(s)) = v.dyn_ref::<BigInt>().map(|b| b.to_string(10)) {
        return Ok(String::from(s));
    }
    Err(JsError::new(&format!(
        "public instance {index} is {}, not a string: pass field elements as decimal or 0x-hex strings",
        type_name(v)
    )))
}

/// The instances argument: an array (of strings, safe integers or BigInts), or a
/// string holding a JSON array of them.
fn instance_list(instances: &JsValue) -> Result<Vec<String>, JsError> {
    let parsed;
    let value = match instances.as_string() {
        Some(text) => {
            parsed = JSON::parse(&text).map_err(|_| {
                JsError::new("the `instances` string is not JSON: pass an array of decimal or 0x-hex strings")
            })?;
            &parsed
        }
        None => instances,
    };
    if !Array::is_array(value) {
        return Err(JsError::new(&format!(
            "`instances` is {}, but an array of field elements (decimal or 0x-hex strings) is needed",
            type_name(value)
        )));
    }
    let array: &Array = value.unchecked_ref();
    array.iter().enumerate().map(|(i, v)| instance_text(i, &v)).collect()
}

/// Verifies a zkinfer proof.
///
/// `proof`, `vk` and `params` are the bytes of the files `zkinfer prove` and
/// `zkinfer setup` write (`proof.bin`, `vk.bin`, `verifier.params`), as
/// `Uint8Array`s (wrap an `ArrayBuffer`: `new Uint8Array(buffer)`). `instances`
/// are the public values the application expects, in the proof's order (see
/// [`proof_instances`]): an array of field elements as decimal strings (a
/// negative one means `p − |x|`), `0x` hexadecimal strings, safe integers or
/// BigInts, or a JSON string of such an array. The proof is checked against
/// these instances, not against the ones in the proof file.
///
/// Returns `true` when the proof proves these instances, `false` when it does
/// not; throws an `Error` naming the problem for malformed input: an unreadable
/// or damaged file, a file of another kind, an unparsable instance, an instance
/// count other than the proof's, or files of different models or setups.
#[wasm_bindgen]
pub fn verify(proof: &[u8], vk: &[u8], params: &[u8], instances: JsValue) -> Result<bool, JsError> {
    let instances = instance_list(&instances)?;
    api::verify_bytes(proof, vk, params, &instances).map_err(js_error)
}

/// The public instances of a proof file, as decimal strings (signed when small:
/// `p − 5` is `"-5"`), in the order [`verify`] expects them. Throws for a
/// malformed file.
#[wasm_bindgen]
pub fn proof_instances(proof: &[u8]) -> Result<Vec<String>, JsError> {
    api::proof_instances(proof).map_err(js_error)
}

/// The public outputs a proof file claims, dequantised to numbers (a
/// `Float64Array`, outputs flattened in order; empty when they are private or
/// hashed). Only [`verify`] says whether they are proven. Throws for a
/// malformed file.
#[wasm_bindgen]
pub fn proof_outputs(proof: &[u8]) -> Result<Vec<f64>, JsError> {
    api::proof_outputs(proof).map_err(js_error)
}

/// zkinfer's Poseidon commitment of field elements (an array of decimal
/// strings, `0x` hex strings, safe integers or BigInts, like [`verify`]'s
/// instances), as a decimal string: for a `hashed` tensor, equal to the
/// commitment [`proof_instances`] lists. Throws for a value that is not a field
/// element.
#[wasm_bindgen]
pub fn poseidon_hash(values: JsValue) -> Result<String, JsError> {
    let values = instance_list(&values)?;
    api::poseidon_hash(&values).map_err(js_error)
}

/// The commitment a proof exposes for model input `input` (default 0) when it
/// is `hashed`: `values` (the input as numbers, flattened as in the input file)
/// quantised at the scale of the model whose verifying key is `vk`, then hashed.
/// An app stores it at enrolment and passes it as the expected instance when
/// verifying. Throws when the values do not fit the input's shape.
#[wasm_bindgen]
pub fn hash_input(values: &[f64], vk: &[u8], input: Option<u32>) -> Result<String, JsError> {
    api::hash_input(values, vk, input.unwrap_or(0) as usize).map_err(js_error)
}
