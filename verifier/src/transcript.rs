//! The Fiat–Shamir transcript of zkinfer proofs, byte-compatible with the EVM
//! transcript of `snark-verifier` (what its generated Solidity verifiers read):
//!
//! - the proof is a stream of points (x then y, 32-byte big-endian each,
//!   uncompressed) and scalars (32-byte big-endian);
//! - every point and scalar, written or common, is appended to a buffer;
//! - a challenge is `keccak256(buffer)` (with a single `0x01` byte appended when the
//!   buffer is exactly 32 bytes), reduced modulo the scalar field; the hash then
//!   replaces the buffer.

use std::io::{self, Read, Write};

use halo2_axiom::halo2curves::bn256::{Fq, Fr, G1Affine};
use halo2_axiom::halo2curves::ff::{FromUniformBytes, PrimeField};
use halo2_axiom::halo2curves::{Coordinates, CurveAffine};
use halo2_axiom::transcript::{
    EncodedChallenge, Transcript, TranscriptRead, TranscriptReadBuffer, TranscriptWrite, TranscriptWriterBuffer,
};
use sha3::{Digest, Keccak256};

/// A challenge: the Keccak hash read as a big-endian integer, reduced mod r.
#[derive(Clone, Copy, Debug)]
pub struct ChallengeEvm(Fr);

/// A 32-byte big-endian integer reduced modulo the scalar field.
pub fn fr_from_be_mod(bytes: &[u8; 32]) -> Fr {
    let mut wide = [0u8; 64];
    for (dst, src) in wide.iter_mut().zip(bytes.iter().rev()) {
        *dst = *src;
    }
    Fr::from_uniform_bytes(&wide)
}

impl EncodedChallenge<G1Affine> for ChallengeEvm {
    type Input = [u8; 32];

    fn new(input: &[u8; 32]) -> Self {
        ChallengeEvm(fr_from_be_mod(input))
    }

    fn get_scalar(&self) -> Fr {
        self.0
    }
}

/// The EVM transcript over a stream: a reader when verifying, a writer when proving.
#[derive(Debug)]
pub struct EvmTranscript<S> {
    stream: S,
    buf: Vec<u8>,
}

impl<S> EvmTranscript<S> {
    /// Starts a transcript over `stream`.
    pub fn new(stream: S) -> Self {
        EvmTranscript { stream, buf: Vec::new() }
    }

    /// The underlying stream.
    pub fn into_inner(self) -> S {
        self.stream
    }
}

fn be(mut repr: [u8; 32]) -> [u8; 32] {
    repr.reverse();
    repr
}

fn point_bytes(point: &G1Affine) -> io::Result<[u8; 64]> {
    let coords: Coordinates<G1Affine> = Option::from(point.coordinates())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "point at infinity in the transcript"))?;
    let mut out = [0u8; 64];
    out[..32].copy_from_slice(&be(coords.x().to_repr()));
    out[32..].copy_from_slice(&be(coords.y().to_repr()));
    Ok(out)
}

impl<S> Transcript<G1Affine, ChallengeEvm> for EvmTranscript<S> {
    fn squeeze_challenge(&mut self) -> ChallengeEvm {
        let mut data = std::mem::take(&mut self.buf);
        if data.len() == 32 {
            data.push(1);
        }
        let hash: [u8; 32] = Keccak256::digest(&data).into();
        self.buf = hash.to_vec();
        ChallengeEvm::new(&hash)
    }

    fn common_point(&mut self, point: G1Affine) -> io::Result<()> {
        self.buf.extend_from_slice(&point_bytes(&point)?);
        Ok(())
    }

    fn common_scalar(&mut self, scalar: Fr) -> io::Result<()> {
        self.buf.extend_from_slice(&be(scalar.to_repr()));
        Ok(())
    }
}

impl<R: Read> TranscriptRead<G1Affine, ChallengeEvm> for EvmTranscript<R> {
    fn read_point(&mut self) -> io::Result<G1Affine> {
        let mut coords = [[0u8; 32]; 2];
        for c in coords.iter_mut() {
            self.stream.read_exact(c)?;
        }
        let x = Option::<Fq>::from(Fq::from_repr(be(coords[0])));
        let y = Option::<Fq>::from(Fq::from_repr(be(coords[1])));
        let point = x
            .zip(y)
            .and_then(|(x, y)| Option::from(G1Affine::from_xy(x, y)))
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "invalid curve point in proof"))?;
        self.common_point(point)?;
        Ok(point)
    }

    fn read_scalar(&mut self) -> io::Result<Fr> {
        let mut bytes = [0u8; 32];
        self.stream.read_exact(&mut bytes)?;
        let scalar = Option::<Fr>::from(Fr::from_repr(be(bytes)))
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "non-canonical scalar in proof"))?;
        self.common_scalar(scalar)?;
        Ok(scalar)
    }
}

impl<R: Read> TranscriptReadBuffer<R, G1Affine, ChallengeEvm> for EvmTranscript<R> {
    fn init(reader: R) -> Self {
        EvmTranscript::new(reader)
    }
}

impl<W: Write> TranscriptWrite<G1Affine, ChallengeEvm> for EvmTranscript<W> {
    fn write_point(&mut self, point: G1Affine) -> io::Result<()> {
        let bytes = point_bytes(&point)?;
        self.common_point(point)?;
        self.stream.write_all(&bytes)
    }

    fn write_scalar(&mut self, scalar: Fr) -> io::Result<()> {
        self.common_scalar(scalar)?;
        self.stream.write_all(&be(scalar.to_repr()))
    }
}

impl<W: Write> TranscriptWriterBuffer<W, G1Affine, ChallengeEvm> for EvmTranscript<W> {
    fn init(writer: W) -> Self {
        EvmTranscript::new(writer)
    }

    fn finalize(self) -> W {
        self.stream
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writer_and_reader_agree_on_stream_and_challenges() {
        let g = <G1Affine as halo2_axiom::halo2curves::group::prime::PrimeCurveAffine>::generator();
        let s = Fr::from(123456789u64);
        let mut w = EvmTranscript::new(Vec::<u8>::new());
        w.common_scalar(Fr::from(7u64)).unwrap();
        let c0 = w.squeeze_challenge().get_scalar();
        w.write_point(g).unwrap();
        w.write_scalar(s).unwrap();
        let c1 = w.squeeze_challenge().get_scalar();
        let proof = w.finalize();
        assert_eq!(proof.len(), 64 + 32);
        // x = 1, y = 2 for the BN254 generator, big-endian
        assert_eq!(proof[31], 1);
        assert_eq!(proof[63], 2);
        let mut r = EvmTranscript::new(proof.as_slice());
        r.common_scalar(Fr::from(7u64)).unwrap();
        assert_eq!(r.squeeze_challenge().get_scalar(), c0);
        assert_eq!(r.read_point().unwrap(), g);
        assert_eq!(r.read_scalar().unwrap(), s);
        assert_eq!(r.squeeze_challenge().get_scalar(), c1);
    }

    #[test]
    fn first_challenge_over_one_word_appends_a_one_byte() {
        let mut t = EvmTranscript::new(Vec::<u8>::new());
        t.common_scalar(Fr::from(5u64)).unwrap();
        let got = t.squeeze_challenge().get_scalar();
        let mut data = [0u8; 33];
        data[31] = 5;
        data[32] = 1;
        let want: [u8; 32] = Keccak256::digest(data).into();
        assert_eq!(got, fr_from_be_mod(&want));
    }

    #[test]
    fn invalid_encodings_are_errors_not_panics() {
        let mut r = EvmTranscript::new([0xffu8; 64].as_slice());
        assert!(r.read_point().is_err());
        let mut r = EvmTranscript::new([0xffu8; 32].as_slice());
        assert!(r.read_scalar().is_err());
        let mut r = EvmTranscript::new([0u8; 10].as_slice());
        assert!(r.read_scalar().is_err());
    }
}
