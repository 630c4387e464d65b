// Helpers for the tests and the benchmark: where the wasm packages and the proof
// artifacts are, and zkinfer's file envelope (so tests can edit a file's body and
// recompute its Keccak-256 checksum, as an attacker could).
//
//   "ZKINFER\0" | kind u8 | version u16 LE | body length u64 LE | keccak256(body) | body

import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** The wasm-bindgen packages scripts/build-wasm.sh writes. */
export const PKG = process.env.ZKINFER_WASM_PKG ?? path.join(ROOT, 'target/wasm-pkg');

/** The `--target nodejs` package (CommonJS). */
export function loadNodePackage() {
  return createRequire(import.meta.url)(path.join(PKG, 'node/zkinfer_verifier.js'));
}

/**
 * The directory holding one subdirectory of `zkinfer run` output per model
 * (scripts/test-wasm.sh sets ZKINFER_WASM_ARTIFACTS).
 */
export function artifactsRoot() {
  const dir = process.env.ZKINFER_WASM_ARTIFACTS;
  if (!dir) {
    throw new Error('set ZKINFER_WASM_ARTIFACTS to a directory of `zkinfer run` outputs (scripts/test-wasm.sh does)');
  }
  return dir;
}

/** proof.bin, vk.bin and verifier.params of one `zkinfer run` output directory. */
export function readArtifacts(dir) {
  const read = (f) => new Uint8Array(fs.readFileSync(path.join(dir, f)));
  return { proof: read('proof.bin'), vk: read('vk.bin'), params: read('verifier.params') };
}

export const HEADER_LEN = 51;

// Keccak-256 (the original padding, as Ethereum and zkinfer use; node's sha3-256
// is NIST SHA-3, which pads differently).
const MASK = (1n << 64n) - 1n;
const RC = [
  0x0000000000000001n, 0x0000000000008082n, 0x800000000000808an, 0x8000000080008000n, 0x000000000000808bn,
  0x0000000080000001n, 0x8000000080008081n, 0x8000000000008009n, 0x000000000000008an, 0x0000000000000088n,
  0x0000000080008009n, 0x000000008000000an, 0x000000008000808bn, 0x800000000000008bn, 0x8000000000008089n,
  0x8000000000008003n, 0x8000000000008002n, 0x8000000000000080n, 0x000000000000800an, 0x800000008000000an,
  0x8000000080008081n, 0x8000000000008080n, 0x0000000080000001n, 0x8000000080008008n,
];
const ROT = [0, 1, 62, 28, 27, 36, 44, 6, 55, 20, 3, 10, 43, 25, 39, 41, 45, 15, 21, 8, 18, 2, 61, 56, 14];
const rotl = (x, n) => (n === 0 ? x : ((x << BigInt(n)) | (x >> BigInt(64 - n))) & MASK);

function keccakF(s) {
  for (const rc of RC) {
    const c = [0, 1, 2, 3, 4].map((x) => s[x] ^ s[x + 5] ^ s[x + 10] ^ s[x + 15] ^ s[x + 20]);
    for (let x = 0; x < 5; x++) {
      const d = c[(x + 4) % 5] ^ rotl(c[(x + 1) % 5], 1);
      for (let y = 0; y < 25; y += 5) s[x + y] ^= d;
    }
    const b = new Array(25);
    for (let x = 0; x < 5; x++) {
      for (let y = 0; y < 5; y++) b[y + 5 * ((2 * x + 3 * y) % 5)] = rotl(s[x + 5 * y], ROT[x + 5 * y]);
    }
    for (let i = 0; i < 25; i++) s[i] = b[i] ^ (~b[(i % 5 + 1) % 5 + i - (i % 5)] & MASK & b[(i % 5 + 2) % 5 + i - (i % 5)]);
    s[0] ^= rc;
  }
}

/** Keccak-256 of `data` (a Uint8Array). */
export function keccak256(data) {
  const rate = 136;
  const padded = new Uint8Array(Math.floor(data.length / rate + 1) * rate);
  padded.set(data);
  padded[data.length] ^= 0x01;
  padded[padded.length - 1] ^= 0x80;
  const s = new Array(25).fill(0n);
  const view = new DataView(padded.buffer);
  for (let off = 0; off < padded.length; off += rate) {
    for (let i = 0; i < rate / 8; i++) s[i] ^= view.getBigUint64(off + 8 * i, true);
    keccakF(s);
  }
  const out = new Uint8Array(32);
  const outView = new DataView(out.buffer);
  for (let i = 0; i < 4; i++) outView.setBigUint64(8 * i, s[i], true);
  return out;
}

/** Recomputes the body length and checksum of an edited zkinfer file. */
export function reseal(bytes) {
  const out = new Uint8Array(bytes);
  const body = out.subarray(HEADER_LEN);
  new DataView(out.buffer).setBigUint64(11, BigInt(body.length), true);
  out.set(keccak256(body), 19);
  return out;
}

/**
 * Where the SHPLONK transcript starts in a proof file: the bincode body is the
 * circuit digest (32 bytes), the instances (u64 count, 32 bytes each), then the
 * transcript (u64 length, bytes).
 */
export function transcriptRange(proof) {
  const view = new DataView(proof.buffer, proof.byteOffset, proof.byteLength);
  const count = Number(view.getBigUint64(HEADER_LEN + 32, true));
  const lenAt = HEADER_LEN + 32 + 8 + 32 * count;
  const len = Number(view.getBigUint64(lenAt, true));
  return { start: lenAt + 8, end: lenAt + 8 + len };
}
