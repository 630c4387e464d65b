// The `--target nodejs` wasm package against files written by `zkinfer run`
// (scripts/test-wasm.sh makes them and sets ZKINFER_WASM_ARTIFACTS to a directory
// holding demo_cnn/ and other/, a second model).
//
// What the package promises: `verify` returns true for a valid proof with the
// instances it proves, false for a proof that does not prove the given instances
// (a changed instance, an edited transcript with a recomputed checksum), and throws
// an Error naming the problem for malformed input (truncated or damaged files,
// files of another kind, a key of another model, bad instance strings). It never
// traps (a WebAssembly.RuntimeError), whatever the input.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

import { artifactsRoot, loadNodePackage, readArtifacts, reseal, transcriptRange, HEADER_LEN } from './files.mjs';

const wasm = loadNodePackage();
const root = artifactsRoot();
const demo = readArtifacts(path.join(root, 'demo_cnn'));
const other = readArtifacts(path.join(root, 'other'));
const instances = wasm.proof_instances(demo.proof);
const P = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;

/** Runs `f`, which must throw an Error (not a wasm trap) whose message matches `re`. */
function throwsWith(f, re) {
  let error;
  try {
    f();
  } catch (e) {
    error = e;
  }
  assert.ok(error, `expected an error matching ${re}`);
  assert.ok(!(error instanceof WebAssembly.RuntimeError), `wasm trapped: ${error}`);
  assert.ok(error instanceof Error, `not an Error: ${error}`);
  assert.match(error.message, re);
  return error.message;
}

const verifyDemo = (inst = instances, files = {}) => {
  const f = { ...demo, ...files };
  return wasm.verify(f.proof, f.vk, f.params, inst);
};

describe('a valid proof', () => {
  it('verifies with the instances it proves', () => {
    assert.equal(verifyDemo(), true);
  });

  it('reports its instances and outputs as `zkinfer prove` wrote them in proof.json', () => {
    const json = JSON.parse(fs.readFileSync(path.join(root, 'demo_cnn/proof.json'), 'utf8'));
    assert.deepEqual(instances, json.outputs_fixed_point);
    const outputs = wasm.proof_outputs(demo.proof);
    assert.ok(outputs instanceof Float64Array);
    assert.deepEqual(Array.from(outputs), json.outputs);
  });

  it('accepts instances as negative decimals, p − x, 0x-hex, BigInts, safe integers and a JSON string', () => {
    const big = instances.map(BigInt);
    const mod = (x) => ((x % P) + P) % P;
    assert.equal(verifyDemo(big.map((x) => mod(x).toString())), true);
    assert.equal(verifyDemo(big.map((x) => '0x' + mod(x).toString(16))), true);
    assert.equal(verifyDemo(big), true);
    assert.equal(verifyDemo(big.map(Number)), true);
    assert.equal(verifyDemo(JSON.stringify(instances)), true);
  });
});

describe('a proof that does not prove the given instances', () => {
  it('is false when any instance is changed', () => {
    for (const i of [0, Math.floor(instances.length / 2), instances.length - 1]) {
      const changed = instances.slice();
      changed[i] = (BigInt(changed[i]) + 1n).toString();
      assert.equal(verifyDemo(changed), false, `instance ${i}`);
    }
  });

  it('uses the given instances, not the ones inside the proof file', () => {
    // The proof file's own instances are not used: editing them (with a valid
    // checksum) changes nothing when the caller passes the expected values.
    const edited = new Uint8Array(demo.proof);
    edited[HEADER_LEN + 32 + 8] ^= 1;
    assert.equal(verifyDemo(instances, { proof: reseal(edited) }), true);
    // ...but a caller who trusts the edited file's instances is told the truth.
    assert.equal(verifyDemo(wasm.proof_instances(reseal(edited)), { proof: reseal(edited) }), false);
  });

  it('is false when a transcript byte is flipped and the checksum recomputed', () => {
    const { start, end } = transcriptRange(demo.proof);
    for (const at of [start, start + 100, Math.floor((start + end) / 2), end - 1]) {
      const edited = new Uint8Array(demo.proof);
      edited[at] ^= 0x04;
      assert.equal(verifyDemo(instances, { proof: reseal(edited) }), false, `byte ${at}`);
    }
  });
});

describe('malformed input throws an Error naming the problem', () => {
  it('a flipped proof byte (the file checksum catches every change): an error, not false', () => {
    const { start } = transcriptRange(demo.proof);
    const edited = new Uint8Array(demo.proof);
    edited[start + 10] ^= 0x01;
    throwsWith(() => verifyDemo(instances, { proof: edited }), /the `proof` argument is corrupt: the checksum does not match/);
  });

  it('a truncated proof', () => {
    throwsWith(() => verifyDemo(instances, { proof: demo.proof.subarray(0, demo.proof.length - 100) }), /`proof` argument is corrupt: .*truncated/);
    throwsWith(() => verifyDemo(instances, { proof: demo.proof.subarray(0, 20) }), /header is truncated/);
    throwsWith(() => wasm.proof_instances(demo.proof.subarray(0, 30)), /header is truncated/);
  });

  it('garbage and empty bytes', () => {
    const garbage = new Uint8Array(5000).map((_, i) => (i * 7919) % 251);
    throwsWith(() => verifyDemo(instances, { proof: garbage }), /the `proof` argument is not a zkinfer proof file/);
    throwsWith(() => verifyDemo(instances, { vk: garbage }), /the `vk` argument is not a zkinfer verifying key file/);
    throwsWith(() => verifyDemo(instances, { params: new Uint8Array() }), /the `params` argument is empty \(0 bytes\)/);
    // An ArrayBuffer instead of a Uint8Array reaches the module as no bytes: the message says what to pass.
    throwsWith(() => verifyDemo(instances, { proof: demo.proof.buffer }), /the `proof` argument is empty.*\n.*new Uint8Array/);
    throwsWith(() => wasm.proof_outputs(garbage), /not a zkinfer proof file/);
  });

  it('files in the wrong order', () => {
    throwsWith(() => wasm.verify(demo.vk, demo.proof, demo.params, instances), /the `proof` argument is a zkinfer verifying key, but a proof is needed/);
  });

  it('the verifying key of another model', () => {
    throwsWith(() => verifyDemo(instances, { vk: other.vk }), /different circuit/);
  });

  it('the verifying key and parameters of another model', () => {
    throwsWith(() => verifyDemo(instances, { vk: other.vk, params: other.params }), /different circuit/);
  });

  it('a proof of another model', () => {
    const otherInstances = wasm.proof_instances(other.proof);
    throwsWith(() => wasm.verify(other.proof, demo.vk, demo.params, otherInstances), /different circuit/);
  });

  it('the wrong number of instances, naming both counts', () => {
    const n = instances.length;
    throwsWith(() => verifyDemo(instances.slice(1)), new RegExp(`${n - 1} public instances were given, but the proof has ${n}`));
    throwsWith(() => verifyDemo([...instances, '0']), new RegExp(`${n + 1} public instances were given, but the proof has ${n}`));
    throwsWith(() => verifyDemo([]), new RegExp(`0 public instances were given, but the proof has ${n}`));
  });

  it('instances that are not field elements', () => {
    const bad = (i, v) => instances.map((x, j) => (j === i ? v : x));
    throwsWith(() => verifyDemo(bad(0, '1.5')), /public instance 0 \("1.5"\) is not a field element/);
    throwsWith(() => verifyDemo(bad(2, 'abc')), /public instance 2 \("abc"\) is not a field element/);
    throwsWith(() => verifyDemo(bad(1, P.toString())), /not less than the field modulus/);
    throwsWith(() => verifyDemo(bad(1, '0x' + 'f'.repeat(65))), /larger than the field modulus/);
    throwsWith(() => verifyDemo(bad(0, 0.5)), /public instance 0 \(0.5\) is not a safe integer/);
    throwsWith(() => verifyDemo(bad(0, 2 ** 60)), /is not a safe integer/);
    throwsWith(() => verifyDemo(bad(3, null)), /public instance 3 is null/);
    throwsWith(() => verifyDemo(bad(3, { x: 1 })), /public instance 3 is an object/);
    throwsWith(() => verifyDemo(42), /`instances` is a number, but an array/);
    throwsWith(() => wasm.verify(demo.proof, demo.vk, demo.params, undefined), /`instances` is undefined, but an array/);
    throwsWith(() => verifyDemo('not json'), /the `instances` string is not JSON/);
    throwsWith(() => verifyDemo('{"a": 1}'), /`instances` is an object, but an array/);
  });
});

describe('robustness', () => {
  it('never traps on damaged files (checksums recomputed, so the decoders see the damage), and recovers', (t) => {
    let seed = 20261125;
    const rand = (n) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const counts = { errors: 0, rejected: 0, verified: 0 };
    for (let i = 0; i < 150; i++) {
      const which = ['proof', 'vk', 'params'][i % 3];
      const edited = new Uint8Array(demo[which]);
      const body = edited.length - HEADER_LEN;
      const at = [];
      for (let k = 0, n = 1 + rand(4); k < n; k++) {
        at.push(HEADER_LEN + rand(body));
        edited[at[at.length - 1]] ^= 1 << rand(8);
      }
      const files = { [which]: reseal(edited) };
      try {
        const ok = verifyDemo(instances, files);
        if (ok) {
          // Only an edit that leaves what matters unchanged may verify: of the
          // proof, only its embedded instances (the given ones are used); of the
          // parameters, nothing; of the key, what does not define the circuit
          // (halo2's selector bitmaps, the model name, a private input's shape;
          // tests/api_fuzz.rs checks that the circuit digest is unchanged).
          const { start } = transcriptRange(demo.proof);
          if (which === 'proof') assert.ok(at.every((a) => a >= HEADER_LEN + 40 && a < start - 8), `proof edit at ${at} verified`);
          assert.notEqual(which, 'params', `parameter edit at ${at} verified`);
          counts.verified++;
        } else {
          counts.rejected++;
        }
      } catch (e) {
        assert.ok(!(e instanceof WebAssembly.RuntimeError), `trap on ${which} edit ${i}: ${e}`);
        assert.ok(e.message.length > 20, e.message);
        counts.errors++;
      }
    }
    t.diagnostic(`150 edits: ${JSON.stringify(counts)}`);
    assert.ok(counts.errors + counts.rejected > 100, JSON.stringify(counts));
    // The module is still usable after all those errors.
    assert.equal(verifyDemo(), true);
  });
});
