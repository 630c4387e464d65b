//! KZG structured reference strings: a cache on disk, one file per size, where a
//! larger SRS is downsized (never regenerated) for a smaller circuit, and loading
//! of a given parameters file (zkinfer's format or halo2's raw format, as EZKL
//! writes it).
//!
//! An SRS generated here from local randomness is for testing only: whoever ran the
//! generation could forge proofs. Production use needs a ceremony SRS (`--srs`).

use std::path::{Path, PathBuf};

use halo2_axiom::halo2curves::bn256::Bn256;
use halo2_axiom::poly::commitment::{Params, ParamsProver};
use halo2_axiom::poly::kzg::commitment::ParamsKZG;
use halo2_axiom::SerdeFormat;
use serde::{Deserialize, Serialize};
use zkinfer_verifier::artifact::{self, Kind, MAGIC};
use zkinfer_verifier::VerifierParams;

use crate::error::{ProverError, Result};
use crate::{fs, ptau};

/// Largest SRS size accepted from a file.
pub const MAX_K: u32 = 28;

/// Where an SRS came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SrsOrigin {
    /// Generated on this machine from local randomness: for testing only.
    LocalTesting,
    /// Read from a file given by the user.
    File(PathBuf),
}

impl SrsOrigin {
    /// Whether proofs under this SRS could be forged by whoever generated it.
    pub fn is_testing_only(&self) -> bool {
        matches!(self, SrsOrigin::LocalTesting)
    }
}

/// zkinfer's SRS file body.
#[derive(Serialize, Deserialize)]
struct SrsBody {
    k: u32,
    origin: SrsOrigin,
    halo2: Vec<u8>,
}

/// Encodes params in zkinfer's SRS file format.
pub fn to_bytes(params: &ParamsKZG<Bn256>, origin: &SrsOrigin) -> Vec<u8> {
    let mut halo2 = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = params.write_custom(&mut halo2, SerdeFormat::RawBytes);
    artifact::encode(Kind::Srs, &SrsBody { k: params.k(), origin: origin.clone(), halo2 })
}

/// Parses an SRS file: zkinfer's format, or halo2's raw `ParamsKZG` format.
pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<(ParamsKZG<Bn256>, Option<SrsOrigin>)> {
    let bad = |reason: String| ProverError::Srs { path: path.to_path_buf(), reason };
    let (raw, origin): (&[u8], Option<SrsOrigin>);
    let body: SrsBody;
    if bytes.starts_with(&MAGIC) {
        body = artifact::decode(Kind::Srs, bytes, &path.display().to_string())?;
        raw = &body.halo2;
        origin = Some(body.origin.clone());
    } else {
        raw = bytes;
        origin = None;
    }
    if raw.len() < 4 {
        return Err(bad("the file is too short to hold KZG parameters".into()));
    }
    let k = u32::from_le_bytes([raw[0], raw[1], raw[2], raw[3]]);
    if k == 0 || k > MAX_K {
        return Err(bad(format!("it claims k = {k}, outside 1..={MAX_K}: not a BN254 KZG parameters file")));
    }
    let mut reader = raw;
    let params = ParamsKZG::<Bn256>::read_custom(&mut reader, SerdeFormat::RawBytes)
        .map_err(|e| bad(format!("cannot parse KZG parameters for k = {k}: {e}")))?;
    if !reader.is_empty() {
        return Err(bad(format!("{} unexpected bytes after the parameters", reader.len())));
    }
    Ok((params, origin))
}

/// A directory of cached SRS files, `kzg-bn254-k{k}.srs`.
#[derive(Clone, Debug)]
pub struct SrsStore {
    dir: PathBuf,
}

/// The result of asking for an SRS.
pub struct LoadedSrs {
    /// Parameters of exactly the requested size.
    pub params: ParamsKZG<Bn256>,
    /// Where they came from.
    pub origin: SrsOrigin,
    /// Whether they were generated just now.
    pub generated: bool,
}

impl LoadedSrs {
    /// The same SRS cut down to `2^k` points (one secret for every size, as
    /// aggregation needs: its accumulator is decided with this SRS's `[τ]₂`).
    pub fn downsized(&self, k: u32) -> Result<LoadedSrs> {
        use halo2_axiom::poly::commitment::Params;
        if k > self.params.k() {
            return Err(ProverError::Mismatch(format!("an SRS for k = {} cannot serve k = {k}", self.params.k())));
        }
        let mut params = self.params.clone();
        if k < params.k() {
            params.downsize(k);
        }
        Ok(LoadedSrs { params, origin: self.origin.clone(), generated: false })
    }

    /// The verifier's part.
    pub fn verifier_params(&self) -> VerifierParams {
        VerifierParams::from_kzg(&self.params)
    }
}

impl SrsStore {
    /// Environment variable that overrides the cache directory.
    pub const ENV: &'static str = "ZKINFER_SRS_DIR";

    /// A store in `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        SrsStore { dir: dir.into() }
    }

    /// `$ZKINFER_SRS_DIR`, else `$XDG_CACHE_HOME/zkinfer/srs`, else `~/.cache/zkinfer/srs`.
    pub fn default_dir() -> PathBuf {
        if let Some(d) = std::env::var_os(Self::ENV) {
            return PathBuf::from(d);
        }
        let cache = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
            .unwrap_or_else(std::env::temp_dir);
        cache.join("zkinfer").join("srs")
    }

    /// The store directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, k: u32) -> PathBuf {
        self.dir.join(format!("kzg-bn254-k{k}.srs"))
    }

    /// Parameters for `k`: the cached file for `k`, else the smallest larger cached
    /// one downsized (and cached), else newly generated (testing only) and cached.
    pub fn get(&self, k: u32) -> Result<LoadedSrs> {
        if !(1..=MAX_K).contains(&k) {
            return Err(ProverError::Mismatch(format!("cannot make an SRS for k = {k}")));
        }
        for size in k..=MAX_K {
            let path = self.path(size);
            if !path.exists() {
                continue;
            }
            let (mut params, origin) = from_bytes(&fs::read(&path)?, &path)?;
            if params.k() != size {
                return Err(ProverError::Srs {
                    path,
                    reason: format!("it holds k = {} but its name says k = {size}", params.k()),
                });
            }
            let origin = origin.unwrap_or(SrsOrigin::File(path.clone()));
            if size > k {
                params.downsize(k);
                fs::write_atomic(&self.path(k), &to_bytes(&params, &origin))?;
            }
            return Ok(LoadedSrs { params, origin, generated: false });
        }
        let params = ParamsKZG::<Bn256>::setup(k, rand::rngs::OsRng);
        let origin = SrsOrigin::LocalTesting;
        fs::write_atomic(&self.path(k), &to_bytes(&params, &origin))?;
        Ok(LoadedSrs { params, origin, generated: true })
    }

    /// Parameters for `k` from a user-given file — a `.ptau` ceremony file,
    /// zkinfer's SRS format or halo2's raw format — downsized when larger. Every
    /// point is checked to be on the curve and the powers to be consistent (a
    /// pairing check); halo2-format Lagrange bases are recomputed, not trusted.
    pub fn from_file(path: &Path, k: u32) -> Result<LoadedSrs> {
        let bytes = fs::read(path)?;
        let origin = SrsOrigin::File(path.to_path_buf());
        if ptau::is_ptau(&bytes) {
            let params = ptau::read_ptau(&bytes, path, k)?;
            return Ok(LoadedSrs { params, origin, generated: false });
        }
        let (params, file_origin) = from_bytes(&bytes, path)?;
        if params.k() < k {
            return Err(ProverError::Srs {
                path: path.to_path_buf(),
                reason: format!("it supports circuits up to k = {}, this one needs k = {k}", params.k()),
            });
        }
        let g = params.get_g()[..1usize << k].to_vec();
        let params = params.from_parts(k, g, None, params.g2(), params.s_g2());
        ptau::check_powers(&params).map_err(|reason| ProverError::Srs { path: path.to_path_buf(), reason })?;
        Ok(LoadedSrs { params, origin: file_origin.unwrap_or(origin), generated: false })
    }

    /// Imports a ceremony SRS (or any SRS file [`SrsStore::from_file`] reads) for
    /// circuits up to `k` into the store, so that later runs use it instead of a
    /// testing SRS. Returns the path written.
    pub fn import(&self, path: &Path, k: u32) -> Result<PathBuf> {
        let loaded = Self::from_file(path, k)?;
        let target = self.path(k);
        fs::write_atomic(&target, &to_bytes(&loaded.params, &loaded.origin))?;
        Ok(target)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_generates_once_and_downsizes_larger_files() {
        let dir = tempfile::tempdir().unwrap();
        let store = SrsStore::new(dir.path());
        let big = store.get(6).unwrap();
        assert!(big.generated && big.origin.is_testing_only());
        let again = store.get(6).unwrap();
        assert!(!again.generated);
        assert_eq!(again.verifier_params(), big.verifier_params());
        let small = store.get(4).unwrap();
        assert!(!small.generated, "a larger SRS is downsized, not regenerated");
        assert_eq!(small.params.k(), 4);
        assert_eq!(small.verifier_params().srs_digest(), big.verifier_params().srs_digest());
        assert!(dir.path().join("kzg-bn254-k4.srs").exists());
    }

    #[test]
    fn reads_halo2_raw_params_and_rejects_garbage() {
        let dir = tempfile::tempdir().unwrap();
        let params = ParamsKZG::<Bn256>::setup(3, rand::rngs::OsRng);
        let raw = dir.path().join("raw.srs");
        let mut bytes = Vec::new();
        params.write_custom(&mut bytes, SerdeFormat::RawBytes).unwrap();
        std::fs::write(&raw, &bytes).unwrap();
        let loaded = SrsStore::from_file(&raw, 2).unwrap();
        assert_eq!(loaded.params.k(), 2);
        assert!(!loaded.origin.is_testing_only());

        let junk = dir.path().join("junk.srs");
        std::fs::write(&junk, b"hello world, not params").unwrap();
        let err = SrsStore::from_file(&junk, 2).err().unwrap().to_string();
        assert!(err.contains("not a BN254 KZG parameters file") || err.contains("cannot parse"), "{err}");
        std::fs::write(&junk, &bytes[..bytes.len() / 2]).unwrap();
        assert!(SrsStore::from_file(&junk, 2).is_err());
        assert!(SrsStore::from_file(&raw, 5).err().unwrap().to_string().contains("up to k = 3"));
    }
}
