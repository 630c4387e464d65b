//! Verifying a chain of segment proofs: each proof against its key, then the
//! links — segment `i + 1` must start from the boundary tensor segment `i`
//! ended with, which both expose as the same Poseidon commitment.

use halo2_axiom::halo2curves::bn256::Fr;
use zkinfer_circuits::visibility::TensorKind;

use crate::params::VerifierParams;
use crate::proof::Proof;
use crate::verify::{verify, VerifyError};
use crate::vk::VerifyingKey;

/// Why a chain is not accepted.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ChainError {
    /// No segments.
    #[error("the chain has no segments")]
    Empty,
    /// One segment's proof does not verify.
    #[error("segment {index}: {source}")]
    Segment {
        /// Position in the chain.
        index: usize,
        /// Why.
        source: VerifyError,
    },
    /// A segment lacks the boundary commitment a link needs.
    #[error(
        "segment {index} exposes no {what} commitment, so it cannot be linked (was it compiled by `zkinfer split`?)"
    )]
    Unlinkable {
        /// Position in the chain.
        index: usize,
        /// `input` or `output`.
        what: &'static str,
    },
    /// Consecutive segments are not of one inference.
    #[error("segment {index} starts from another tensor than segment {} ended with (their boundary commitments differ): the proofs are not of one inference", index - 1)]
    Broken {
        /// The later segment.
        index: usize,
    },
}

/// One segment: its key, parameters and proof.
pub type Link<'a> = (&'a VerifyingKey, &'a VerifierParams, &'a Proof);

fn boundary(proof: &Proof, kind: TensorKind) -> Option<Fr> {
    proof.commitments()?.into_iter().find(|(k, i, _)| *k == kind && *i == 0).map(|(_, _, f)| f)
}

/// Verifies every segment and every link, in order.
pub fn verify_chain(links: &[Link<'_>]) -> Result<(), ChainError> {
    if links.is_empty() {
        return Err(ChainError::Empty);
    }
    for (index, (vk, params, proof)) in links.iter().enumerate() {
        verify(vk, params, proof).map_err(|source| ChainError::Segment { index, source })?;
    }
    for index in 1..links.len() {
        let ended = boundary(links[index - 1].2, TensorKind::Output)
            .ok_or(ChainError::Unlinkable { index: index - 1, what: "output" })?;
        let starts =
            boundary(links[index].2, TensorKind::Input).ok_or(ChainError::Unlinkable { index, what: "input" })?;
        if ended != starts {
            return Err(ChainError::Broken { index });
        }
    }
    Ok(())
}
