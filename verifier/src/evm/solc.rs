//! Compiling Solidity with a pinned solc (the native binary or the npm package
//! `solc`'s `solcjs`), through solc's standard-JSON interface, optimizer off —
//! snark-verifier's generated verifiers need it off (with the legacy optimizer
//! they hit "stack too deep"; viaIR produced a contract that reverted on valid
//! proofs).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{json, Value};

use super::EvmError;

/// The solc version zkinfer compiles with.
pub const SOLC_VERSION: &str = "0.8.19";

/// A solc executable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Solc {
    /// The executable.
    pub path: PathBuf,
    /// Whether it is the npm package's `solcjs` (flags differ).
    pub is_js: bool,
}

/// A compiled contract.
#[derive(Clone, Debug)]
pub struct Contract {
    /// Creation bytecode (deploy with it).
    pub creation: Vec<u8>,
    /// Runtime bytecode (what EIP-170 limits).
    pub runtime: Vec<u8>,
    /// The ABI, JSON.
    pub abi: Value,
}

fn version_of(path: &Path) -> Option<String> {
    let out = Command::new(path).arg("--version").output().ok()?;
    Some(String::from_utf8_lossy(&out.stdout).to_string())
}

/// Finds solc 0.8.19: `$ZKINFER_SOLC`, the npm install of `scripts/setup-solc.sh`
/// (`$ZKINFER_TOOLS_DIR` or `~/.cache/zkinfer/tools`), then `solcjs` and `solc` on
/// the `PATH`.
pub fn find_solc() -> Result<Solc, EvmError> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(p) = std::env::var_os("ZKINFER_SOLC") {
        candidates.push(PathBuf::from(p));
    }
    let tools = std::env::var_os("ZKINFER_TOOLS_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/zkinfer/tools")));
    if let Some(t) = tools {
        candidates.push(t.join("solc/node_modules/.bin/solcjs"));
    }
    candidates.push(PathBuf::from("solcjs"));
    candidates.push(PathBuf::from("solc"));
    let mut seen = Vec::new();
    for path in candidates {
        match version_of(&path) {
            Some(v) if v.contains(SOLC_VERSION) => {
                let is_js = v.contains("Emscripten") || path.file_name().is_some_and(|n| n == "solcjs");
                return Ok(Solc { path, is_js });
            }
            Some(v) => seen.push(format!("{} is version {}", path.display(), v.lines().last().unwrap_or("?").trim())),
            None => {}
        }
    }
    Err(EvmError::SolcMissing(if seen.is_empty() { "no solc or solcjs found".into() } else { seen.join("; ") }))
}

fn hex_bytes(v: &Value) -> Result<Vec<u8>, EvmError> {
    let s = v.as_str().ok_or_else(|| EvmError::Solc("no bytecode in solc's output".into()))?;
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).map_err(|_| EvmError::Solc("bytecode is not hex".into())))
        .collect()
}

/// Compiles `sources` (file name, code) and returns the named contracts.
pub fn compile_contracts(solc: &Solc, sources: &[(&str, &str)], names: &[&str]) -> Result<Vec<Contract>, EvmError> {
    let mut srcs = serde_json::Map::new();
    for (name, code) in sources {
        srcs.insert(name.to_string(), json!({ "content": code }));
    }
    let input = json!({
        "language": "Solidity",
        "sources": srcs,
        "settings": {
            "optimizer": { "enabled": false },
            "outputSelection": { "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"] } }
        }
    });
    // Through files both ways: Node truncates large outputs written to a pipe when
    // it exits, and solcjs's synchronous read of a pipe can fail with EAGAIN.
    let stamp = format!(
        "{}-{}-{:?}",
        std::process::id(),
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos()),
        std::thread::current().id()
    )
    .replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "");
    let in_path = std::env::temp_dir().join(format!("zkinfer-solc-{stamp}-in.json"));
    let out_path = std::env::temp_dir().join(format!("zkinfer-solc-{stamp}-out.json"));
    let io = |what: &str, p: &Path, e: std::io::Error| EvmError::Solc(format!("cannot {what} {}: {e}", p.display()));
    std::fs::write(&in_path, input.to_string()).map_err(|e| io("write", &in_path, e))?;
    let in_file = std::fs::File::open(&in_path).map_err(|e| io("open", &in_path, e))?;
    let out_file = std::fs::File::create(&out_path).map_err(|e| io("create", &out_path, e))?;
    let out = Command::new(&solc.path)
        .arg("--standard-json")
        .stdin(Stdio::from(in_file))
        .stdout(Stdio::from(out_file))
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| EvmError::SolcMissing(format!("cannot run {}: {e}", solc.path.display())));
    let _ = std::fs::remove_file(&in_path);
    let out = out?;
    let stdout = std::fs::read_to_string(&out_path);
    let _ = std::fs::remove_file(&out_path);
    let stdout = stdout.map_err(|e| EvmError::Solc(format!("cannot read solc's output: {e}")))?;
    // solcjs may print a warning line before the JSON.
    let start = stdout.find('{').ok_or_else(|| EvmError::Solc(String::from_utf8_lossy(&out.stderr).to_string()))?;
    let result: Value =
        serde_json::from_str(&stdout[start..]).map_err(|e| EvmError::Solc(format!("unreadable output: {e}")))?;
    let errors: Vec<String> = result["errors"]
        .as_array()
        .map(|errs| {
            errs.iter()
                .filter(|e| e["severity"] == "error")
                .map(|e| e["formattedMessage"].as_str().unwrap_or("error").to_string())
                .collect()
        })
        .unwrap_or_default();
    if !errors.is_empty() {
        return Err(EvmError::Solc(errors.join("\n")));
    }
    let mut contracts = Vec::new();
    for name in names {
        let found = result["contracts"]
            .as_object()
            .and_then(|files| files.values().find_map(|file| file.get(*name)))
            .ok_or_else(|| EvmError::Solc(format!("contract {name} not in the output")))?;
        contracts.push(Contract {
            creation: hex_bytes(&found["evm"]["bytecode"]["object"])?,
            runtime: hex_bytes(&found["evm"]["deployedBytecode"]["object"])?,
            abi: found["abi"].clone(),
        });
    }
    Ok(contracts)
}
