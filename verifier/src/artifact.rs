//! The envelope of every binary file zkinfer writes: a magic, the kind of file, a
//! format version, the body length and a Keccak-256 checksum of the body. Readers
//! refuse a file of another kind or version, or a corrupt one, with a message that
//! says which and what to do, before any part of it is parsed.
//!
//! ```text
//! "ZKINFER\0" | kind u8 | version u16 LE | body length u64 LE | keccak256(body) | body
//! ```
//!
//! Bodies are bincode-encoded structs, decoded with a size limit equal to the body
//! length, so a length field can never make the reader allocate more than the file.

use std::fmt;

use bincode::Options;
use serde::de::DeserializeOwned;
use serde::Serialize;
use sha3::{Digest, Keccak256};

/// First bytes of every zkinfer binary file.
pub const MAGIC: [u8; 8] = *b"ZKINFER\0";
const HEADER_LEN: usize = 8 + 1 + 2 + 8 + 32;

/// Kinds of files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A compiled model (quantised graph and circuit plan).
    CompiledModel = 1,
    /// A proving key.
    ProvingKey = 2,
    /// A verifying key.
    VerifyingKey = 3,
    /// A proof with its public outputs.
    Proof = 4,
    /// A structured reference string (KZG parameters).
    Srs = 5,
    /// The verifier's part of the SRS.
    VerifierParams = 6,
}

impl Kind {
    /// The format version this build writes and reads.
    pub fn version(self) -> u16 {
        match self {
            // 2: circuit shapes record tensor visibility; proofs their instance layout.
            // 3: hidden weights (linear maps name their parameters; model
            // metadata counts them).
            // 4: packed commitments (visibilities record slot widths, instance
            // parts theirs).
            Kind::CompiledModel | Kind::ProvingKey | Kind::VerifyingKey | Kind::Proof => 4,
            Kind::Srs | Kind::VerifierParams => 1,
        }
    }

    fn from_byte(b: u8) -> Option<Kind> {
        Some(match b {
            1 => Kind::CompiledModel,
            2 => Kind::ProvingKey,
            3 => Kind::VerifyingKey,
            4 => Kind::Proof,
            5 => Kind::Srs,
            6 => Kind::VerifierParams,
            _ => return None,
        })
    }

    /// The command that makes this kind of file.
    pub fn made_by(self) -> &'static str {
        match self {
            Kind::CompiledModel => "zkinfer compile",
            Kind::ProvingKey | Kind::VerifyingKey | Kind::VerifierParams => "zkinfer setup",
            Kind::Proof => "zkinfer prove",
            Kind::Srs => "zkinfer setup (or --srs with a params file)",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::CompiledModel => "compiled model",
            Kind::ProvingKey => "proving key",
            Kind::VerifyingKey => "verifying key",
            Kind::Proof => "proof",
            Kind::Srs => "SRS (KZG parameters)",
            Kind::VerifierParams => "verifier parameters",
        })
    }
}

/// Why a file cannot be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ArtifactError {
    /// Not a zkinfer file at all.
    #[error("{what} is not a zkinfer {expected} file (it does not start with the zkinfer header)\n  hint: pass the file written by `{}`", expected.made_by())]
    NotZkinfer {
        /// The file.
        what: String,
        /// What was expected.
        expected: Kind,
    },
    /// A zkinfer file of another kind.
    #[error("{what} is a zkinfer {found}, but a {expected} is needed here\n  hint: check the order of the arguments")]
    WrongKind {
        /// The file.
        what: String,
        /// What was expected.
        expected: Kind,
        /// What it is.
        found: String,
    },
    /// Written by another format version.
    #[error("{what} is a {kind} in format version {found}, but this zkinfer reads version {supported}\n  hint: regenerate it with `{}` from this version", kind.made_by())]
    Version {
        /// The file.
        what: String,
        /// Its kind.
        kind: Kind,
        /// Version found.
        found: u16,
        /// Version supported.
        supported: u16,
    },
    /// Truncated, modified or otherwise damaged.
    #[error("{what} is corrupt: {reason}\n  hint: regenerate it with `{}`", kind.made_by())]
    Corrupt {
        /// The file.
        what: String,
        /// Its kind.
        kind: Kind,
        /// What is wrong.
        reason: String,
    },
}

fn options() -> impl Options {
    bincode::DefaultOptions::new().with_fixint_encoding().allow_trailing_bytes()
}

/// Wraps `body` (bincode-encoded) in the envelope of `kind`.
pub fn encode<T: Serialize>(kind: Kind, body: &T) -> Vec<u8> {
    // Serialising plain data structs into a Vec cannot fail.
    let body = options().serialize(body).unwrap_or_default();
    let mut out = Vec::with_capacity(HEADER_LEN + body.len());
    out.extend_from_slice(&MAGIC);
    out.push(kind as u8);
    out.extend_from_slice(&kind.version().to_le_bytes());
    out.extend_from_slice(&(body.len() as u64).to_le_bytes());
    out.extend_from_slice(&Keccak256::digest(&body));
    out.extend_from_slice(&body);
    out
}

/// Checks the envelope of a `kind` file named `what` and decodes its body.
pub fn decode<T: DeserializeOwned>(kind: Kind, bytes: &[u8], what: &str) -> Result<T, ArtifactError> {
    let corrupt = |reason: String| ArtifactError::Corrupt { what: what.to_string(), kind, reason };
    if bytes.len() < MAGIC.len() || bytes[..MAGIC.len()] != MAGIC {
        return Err(ArtifactError::NotZkinfer { what: what.to_string(), expected: kind });
    }
    if bytes.len() < HEADER_LEN {
        return Err(corrupt(format!("the header is truncated ({} bytes)", bytes.len())));
    }
    let found = bytes[8];
    if found != kind as u8 {
        return Err(ArtifactError::WrongKind {
            what: what.to_string(),
            expected: kind,
            found: Kind::from_byte(found).map_or_else(|| format!("unknown file kind {found}"), |k| k.to_string()),
        });
    }
    let version = u16::from_le_bytes([bytes[9], bytes[10]]);
    if version != kind.version() {
        return Err(ArtifactError::Version { what: what.to_string(), kind, found: version, supported: kind.version() });
    }
    let mut len = [0u8; 8];
    len.copy_from_slice(&bytes[11..19]);
    let len = u64::from_le_bytes(len);
    let body = &bytes[HEADER_LEN..];
    if body.len() as u64 != len {
        return Err(corrupt(format!(
            "the body should be {len} bytes but {} are present (truncated or appended to)",
            body.len()
        )));
    }
    let digest: [u8; 32] = Keccak256::digest(body).into();
    if digest[..] != bytes[19..51] {
        return Err(corrupt("the checksum does not match (the file was modified or damaged)".into()));
    }
    options().with_limit(len).deserialize(body).map_err(|e| corrupt(format!("cannot decode: {e}")))
}

/// Lower-case hexadecimal of a digest, for messages and reports.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Recomputes the length and checksum of an envelope whose body was changed, so
/// that the body's own decoder sees it (fuzzing the decoders behind the checksum).
/// Returns `None` when `bytes` is too short to hold a header.
pub fn reseal(bytes: &[u8]) -> Option<Vec<u8>> {
    if bytes.len() < HEADER_LEN {
        return None;
    }
    let body = &bytes[HEADER_LEN..];
    let mut out = bytes[..11].to_vec();
    out.extend_from_slice(&(body.len() as u64).to_le_bytes());
    out.extend_from_slice(&Keccak256::digest(body));
    out.extend_from_slice(body);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_every_kind_of_damage() {
        let body = (7u32, vec![1u8, 2, 3], "x".to_string());
        let bytes = encode(Kind::Proof, &body);
        let back: (u32, Vec<u8>, String) = decode(Kind::Proof, &bytes, "p").unwrap();
        assert_eq!(back, body);

        let err = decode::<(u32, Vec<u8>, String)>(Kind::VerifyingKey, &bytes, "p").unwrap_err();
        assert!(matches!(err, ArtifactError::WrongKind { .. }), "{err}");
        assert!(err.to_string().contains("is a zkinfer proof, but a verifying key is needed"));

        let mut flipped = bytes.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert!(matches!(
            decode::<(u32, Vec<u8>, String)>(Kind::Proof, &flipped, "p"),
            Err(ArtifactError::Corrupt { .. })
        ));

        let truncated = &bytes[..bytes.len() - 1];
        assert!(matches!(
            decode::<(u32, Vec<u8>, String)>(Kind::Proof, truncated, "p"),
            Err(ArtifactError::Corrupt { .. })
        ));

        let mut old = bytes.clone();
        old[9] = 0;
        assert!(matches!(
            decode::<(u32, Vec<u8>, String)>(Kind::Proof, &old, "p"),
            Err(ArtifactError::Version { found: 0, .. })
        ));

        let err = decode::<(u32, Vec<u8>, String)>(Kind::Proof, b"{\"json\": true}", "p.json").unwrap_err();
        assert!(matches!(err, ArtifactError::NotZkinfer { .. }));
    }

    #[test]
    fn length_fields_cannot_force_large_allocations() {
        // A body claiming a 2^60-element vector inside a small file fails cleanly.
        let mut body = Vec::new();
        body.extend_from_slice(&(1u64 << 60).to_le_bytes());
        let bytes = {
            let mut out = Vec::new();
            out.extend_from_slice(&MAGIC);
            out.push(Kind::Proof as u8);
            out.extend_from_slice(&Kind::Proof.version().to_le_bytes());
            out.extend_from_slice(&(body.len() as u64).to_le_bytes());
            out.extend_from_slice(&Keccak256::digest(&body));
            out.extend_from_slice(&body);
            out
        };
        assert!(matches!(decode::<Vec<u8>>(Kind::Proof, &bytes, "p"), Err(ArtifactError::Corrupt { .. })));
    }
}
