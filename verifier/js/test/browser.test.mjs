// Headless Chromium loads the demo page (web/index.html), which loads the
// `--target web` wasm package, fetches the demo model's proof.bin, vk.bin and
// verifier.params from a local server and verifies them. The test checks the
// page's text for a valid proof, a changed instance and a key of another model,
// and writes a screenshot of the verified page to docs/img/wasm-verify.png.
//
// The browser is the system's Chromium (Debian: apt-get install chromium;
// ZKINFER_CHROMIUM names another), driven by playwright-core, which never
// downloads a browser. ZKINFER_WASM_ARTIFACTS: as for verify.test.mjs.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { chromium } from 'playwright-core';

import { startServer } from '../web/server.mjs';
import { artifactsRoot, ROOT } from './files.mjs';

const executablePath = process.env.ZKINFER_CHROMIUM ?? '/usr/bin/chromium';
const screenshot = process.env.ZKINFER_WASM_SCREENSHOT ?? path.join(ROOT, 'docs/img/wasm-verify.png');

describe('the demo page in headless Chromium', () => {
  let server;
  let context;
  let page;
  let profile;
  const consoleErrors = [];

  before(async () => {
    assert.ok(fs.existsSync(executablePath), `no Chromium at ${executablePath} (Debian: apt-get install chromium)`);
    server = await startServer({ artifacts: artifactsRoot() });
    profile = fs.mkdtempSync(path.join(os.tmpdir(), 'zkinfer-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport: { width: 640, height: 540 },
      timeout: 60_000,
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
  });

  after(async () => {
    await context?.close();
    await server?.close();
    if (profile) fs.rmSync(profile, { recursive: true, force: true });
  });

  it('verifies the demo proof and shows its outputs', async (t) => {
    await page.goto(`${server.url}?dir=artifacts/demo_cnn/`);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });
    assert.equal(await page.textContent('#status'), 'verified ✓', await page.textContent('#detail'));
    assert.match(await page.textContent('#detail'), /^10 public outputs, 10 public instances$/);
    const rows = await page.$$eval('#outputs tbody tr', (trs) => trs.map((tr) => tr.textContent));
    assert.equal(rows.length, 10);
    const json = JSON.parse(fs.readFileSync(path.join(artifactsRoot(), 'demo_cnn/proof.json'), 'utf8'));
    const shown = await page.$$eval('#outputs tbody tr td:nth-child(2)', (tds) => tds.map((td) => Number(td.textContent)));
    shown.forEach((v, i) => assert.ok(Math.abs(v - json.outputs[i]) < 1e-6, `output ${i}: ${v} vs ${json.outputs[i]}`));
    t.diagnostic(`verify in Chromium: ${await page.getAttribute('body', 'data-verify-ms')} ms`);
    fs.mkdirSync(path.dirname(screenshot), { recursive: true });
    await page.screenshot({ path: screenshot });
    t.diagnostic(`screenshot: ${screenshot} (${fs.statSync(screenshot).size} bytes)`);
    assert.deepEqual(consoleErrors, []);
  });

  it('shows "rejected" for a changed instance', async () => {
    const ok = await page.evaluate(async () => {
      const response = await fetch('artifacts/demo_cnn/proof.bin');
      const instances = window.zkinfer.proof_instances(new Uint8Array(await response.arrayBuffer()));
      instances[0] = String(BigInt(instances[0]) + 1n);
      return window.zkinfer.verifyDir('artifacts/demo_cnn/', instances);
    });
    assert.equal(ok, false);
    assert.equal(await page.textContent('#status'), 'rejected');
    assert.equal(await page.isHidden('#outputs'), true);
  });

  it('shows the error for a key of another model', async () => {
    // A directory that mixes the demo's proof with another model's key.
    const mixed = path.join(artifactsRoot(), 'mixed');
    fs.mkdirSync(mixed, { recursive: true });
    fs.copyFileSync(path.join(artifactsRoot(), 'demo_cnn/proof.bin'), path.join(mixed, 'proof.bin'));
    fs.copyFileSync(path.join(artifactsRoot(), 'other/vk.bin'), path.join(mixed, 'vk.bin'));
    fs.copyFileSync(path.join(artifactsRoot(), 'other/verifier.params'), path.join(mixed, 'verifier.params'));
    assert.equal(await page.evaluate(() => window.zkinfer.verifyDir('artifacts/mixed/')), false);
    assert.equal(await page.textContent('#status'), 'error');
    assert.match(await page.textContent('#detail'), /the proof was made for a different circuit/);
  });

  it('verifies again after the errors', async (t) => {
    assert.equal(await page.evaluate(() => window.zkinfer.verifyDir('artifacts/demo_cnn/')), true);
    assert.equal(await page.textContent('#status'), 'verified ✓');
    t.diagnostic(`verify in Chromium, warm: ${await page.getAttribute('body', 'data-verify-ms')} ms`);
  });
});
