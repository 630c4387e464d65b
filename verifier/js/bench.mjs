// Verification time of the wasm package in node, per model, and the module's
// size. scripts/bench-wasm.sh makes the proofs (`zkinfer run` per model) and
// calls it:
//
//   node bench.mjs --artifacts DIR [--runs 15] [--out ../../docs/benchmarks-wasm.json]
//
// DIR holds one `zkinfer run` output directory per model (proof.bin, vk.bin,
// verifier.params, report.json). Per model: one warm-up verification, then
// --runs timed ones; the median is the figure. The package is the one
// scripts/build-wasm.sh wrote (target/wasm-pkg/node, after wasm-opt -Oz).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import zlib from 'node:zlib';

import { PKG, ROOT, loadNodePackage, readArtifacts } from './test/files.mjs';

const { values: args } = parseArgs({
  options: {
    artifacts: { type: 'string' },
    runs: { type: 'string', default: '15' },
    out: { type: 'string', default: path.join(ROOT, 'docs/benchmarks-wasm.json') },
  },
});
if (!args.artifacts) {
  console.error('usage: node bench.mjs --artifacts DIR [--runs N] [--out FILE]');
  process.exit(2);
}
const runs = Number(args.runs);

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const round = (x, digits = 2) => Number(x.toFixed(digits));

const loadStart = performance.now();
const wasm = loadNodePackage();
const loadMs = performance.now() - loadStart;

const wasmFile = path.join(PKG, 'node/zkinfer_verifier_bg.wasm');
const wasmBytes = fs.readFileSync(wasmFile);
const rawFile = path.join(ROOT, 'target/wasm32-unknown-unknown/release/zkinfer_verifier.wasm');

const models = [];
let firstCallMs;
for (const name of fs.readdirSync(args.artifacts).sort()) {
  const dir = path.join(args.artifacts, name);
  if (!fs.existsSync(path.join(dir, 'proof.bin')) || !fs.existsSync(path.join(dir, 'report.json'))) continue;
  const files = readArtifacts(dir);
  const report = JSON.parse(fs.readFileSync(path.join(dir, 'report.json'), 'utf8'));
  const instances = wasm.proof_instances(files.proof);
  const verify = () => {
    const t = performance.now();
    const ok = wasm.verify(files.proof, files.vk, files.params, instances);
    const ms = performance.now() - t;
    if (ok !== true) throw new Error(`${name}: the proof did not verify`);
    return ms;
  };
  const warmUp = verify();
  firstCallMs ??= warmUp;
  const times = Array.from({ length: runs }, verify);
  models.push({
    model: name,
    k: report.k,
    advice_columns: report.advice_columns,
    instances: instances.length,
    proof_bytes: files.proof.length,
    vk_bytes: files.vk.length,
    node_verify_ms_median: round(median(times)),
    node_verify_ms_min: round(Math.min(...times)),
    node_verify_ms_max: round(Math.max(...times)),
    native_verify_ms: report.verify_s == null ? null : round(report.verify_s * 1000),
  });
  console.error(`${name}: median ${median(times).toFixed(1)} ms over ${runs} runs`);
}
if (models.length === 0) {
  console.error(`no zkinfer run outputs (proof.bin and report.json) under ${args.artifacts}`);
  process.exit(1);
}

const cpus = os.cpus();
const result = {
  what: 'zkinfer wasm verifier (wasm-bindgen --target nodejs, wasm-opt -Oz): verify(proof, vk, params, instances) in node',
  method: `per model: 1 warm-up verification, then ${runs} timed; median (also min, max). native_verify_ms: the CLI's single native verification in zkinfer run (report.json verify_s)`,
  date: new Date().toISOString().slice(0, 10),
  machine: {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memory_gib: round(os.totalmem() / 2 ** 30, 1),
    load_average_1m_at_end: round(os.loadavg()[0]),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    v8: process.versions.v8,
  },
  wasm: {
    cargo_bytes: fs.existsSync(rawFile) ? fs.statSync(rawFile).size : null,
    wasm_opt_bytes: wasmBytes.length,
    gzip_bytes: zlib.gzipSync(wasmBytes, { level: 9 }).length,
    load_ms: round(loadMs),
    first_verify_ms: round(firstCallMs),
  },
  models,
};
fs.mkdirSync(path.dirname(args.out), { recursive: true });
fs.writeFileSync(args.out, JSON.stringify(result, null, 2) + '\n');

const mb = (b) => (b / 1e6).toFixed(2);
console.log(`wasm: ${mb(result.wasm.wasm_opt_bytes)} MB after wasm-opt -Oz (${mb(result.wasm.gzip_bytes)} MB gzipped; ${mb(result.wasm.cargo_bytes ?? 0)} MB from cargo); load ${result.wasm.load_ms} ms, first verification ${result.wasm.first_verify_ms} ms`);
console.log(`${result.machine.cpu}, ${result.machine.cores} cores, node ${result.machine.node}, load average ${result.machine.load_average_1m_at_end}\n`);
console.log('| model | k | advice columns | public instances | proof B | vk B | node wasm verify ms (median) | min–max | native verify ms |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const m of models) {
  console.log(
    `| ${m.model} | ${m.k} | ${m.advice_columns} | ${m.instances} | ${m.proof_bytes} | ${m.vk_bytes} | ${m.node_verify_ms_median} | ${m.node_verify_ms_min}–${m.node_verify_ms_max} | ${m.native_verify_ms ?? '–'} |`,
  );
}
console.log(`\nwrote ${args.out}`);
