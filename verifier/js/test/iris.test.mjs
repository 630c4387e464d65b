// The iris user story in node, on proofs the CLI made (scripts/test-wasm.sh):
// examples/iris compiled with --input-visibility hashed, proven for the enrolled
// eye (proof.bin) and for another eye with the same keys (other.bin). The app
// computes the enrolled commitment with hash_input at enrolment and expects it
// as the first public value when verifying.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { ROOT, artifactsRoot, loadNodePackage, readArtifacts } from './files.mjs';

const wasm = loadNodePackage();
const dir = path.join(artifactsRoot(), 'iris');
const { proof, vk, params } = readArtifacts(dir);
const other = new Uint8Array(fs.readFileSync(path.join(dir, 'other.bin')));
const image = (file) =>
  Float64Array.from(JSON.parse(fs.readFileSync(path.join(ROOT, 'examples/iris', file), 'utf8')).input_data[0]);
const enrolled = wasm.hash_input(image('input.json'), vk);

test('the proof exposes the enrolled commitment and a 512-bit code', () => {
  const instances = wasm.proof_instances(proof);
  assert.equal(instances.length, 1 + 512);
  assert.equal(instances[0], enrolled, 'commitment computed at enrolment = commitment in the proof');
  const code = wasm.proof_outputs(proof);
  assert.equal(code.length, 512);
  assert.ok(code.every((b) => b === 0 || b === 1), 'the code is bits');
  assert.equal(wasm.verify(proof, vk, params, instances), true);
});

test("another eye's proof is rejected against the enrolled commitment", () => {
  const theirs = wasm.proof_instances(other);
  assert.notEqual(theirs[0], enrolled);
  assert.equal(wasm.verify(other, vk, params, theirs), true, 'valid for its own commitment');
  assert.equal(wasm.verify(other, vk, params, [enrolled, ...theirs.slice(1)]), false);
  const mine = wasm.proof_outputs(proof);
  const differing = wasm.proof_outputs(other).filter((b, i) => b !== mine[i]).length / 512;
  assert.ok(differing > 0.4 && differing < 0.6, `codes of different eyes differ in about half the bits: ${differing}`);
});

test('a flipped code bit is rejected', () => {
  const instances = wasm.proof_instances(proof);
  const one = instances.slice(1).find((v) => v !== '0');
  const at = 1 + 100;
  instances[at] = instances[at] === '0' ? one : '0';
  assert.equal(wasm.verify(proof, vk, params, instances), false);
});

test('commitments: known answer, and bad input throws', () => {
  assert.equal(
    wasm.poseidon_hash(['1', '2', '3']),
    '8547220289439290647933241253678236840064971940792050864684531266629897099424',
  );
  assert.throws(() => wasm.hash_input(new Float64Array(5), vk), /shape \[1, 1, 16, 128\] \(2048 values\), but 5/);
  assert.throws(() => wasm.hash_input(image('input.json'), vk, 3), /no input 3/);
  assert.throws(() => wasm.poseidon_hash(['1', 'zz']), /value 1 to hash/);
});
