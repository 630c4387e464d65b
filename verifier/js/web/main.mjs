// Loads the `--target web` wasm package, fetches proof.bin, vk.bin and
// verifier.params from the directory in ?dir= (default: artifacts/), verifies
// the proof in the browser and shows the result with the proven outputs.
//
// A real application passes the public instances it expects (e.g. the outputs
// it shows the user); this demo shows what the proof claims (proof_instances)
// and checks the proof against exactly those.

import init, { proof_instances, proof_outputs, verify } from './pkg/zkinfer_verifier.js';

const status = document.getElementById('status');
const detail = document.getElementById('detail');
const table = document.getElementById('outputs');

function show(state, text, more = '') {
  status.className = state;
  status.textContent = text;
  detail.textContent = more;
}

/** Verifies the three files' bytes with `instances` (default: the proof's own) and shows the outcome. */
function verifyBytes(files, instances) {
  table.hidden = true;
  try {
    const claimed = proof_instances(files.proof);
    const expected = instances ?? claimed;
    const started = performance.now();
    const ok = verify(files.proof, files.vk, files.params, expected);
    const ms = performance.now() - started;
    // The time stays out of the visible text (the screenshot is compared).
    document.body.dataset.verifyMs = ms.toFixed(1);
    console.log(`verify: ${ok} in ${ms.toFixed(1)} ms`);
    if (!ok) {
      show('rejected', 'rejected', 'The proof does not prove these public values.');
      return false;
    }
    const outputs = proof_outputs(files.proof);
    show('verified', 'verified ✓', `${outputs.length} public outputs, ${claimed.length} public instances`);
    const top = outputs.reduce((best, v, i) => (v > outputs[best] ? i : best), 0);
    const body = table.tBodies[0];
    body.replaceChildren(
      ...Array.from(outputs, (v, i) => {
        const row = document.createElement('tr');
        if (i === top) row.className = 'top';
        for (const text of [String(i), v.toFixed(6)]) {
          const cell = document.createElement('td');
          cell.textContent = text;
          row.append(cell);
        }
        return row;
      }),
    );
    table.hidden = outputs.length === 0;
    return true;
  } catch (e) {
    show('error', 'error', e.message);
    return false;
  }
}

async function fetchBytes(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

/** Fetches the files from `dir` and verifies them (the tests call it too). */
async function verifyDir(dir, instances) {
  show('', 'verifying…');
  try {
    const [proof, vk, params] = await Promise.all(
      ['proof.bin', 'vk.bin', 'verifier.params'].map((f) => fetchBytes(new URL(f, new URL(dir, location.href)))),
    );
    return verifyBytes({ proof, vk, params }, instances);
  } catch (e) {
    show('error', 'error', e.message);
    return false;
  }
}

document.getElementById('files').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const files = {};
  for (const name of ['proof', 'vk', 'params']) {
    const file = form.get(name);
    if (!file || !file.size) return show('error', 'error', `choose the ${name} file`);
    files[name] = new Uint8Array(await file.arrayBuffer());
  }
  verifyBytes(files);
});

window.zkinfer = { verifyDir, proof_instances, verify };
try {
  await init();
  const dir = new URLSearchParams(location.search).get('dir') ?? 'artifacts/';
  await verifyDir(dir.endsWith('/') ? dir : `${dir}/`);
} catch (e) {
  show('error', 'error', e.message);
}
document.body.dataset.ready = 'true';
