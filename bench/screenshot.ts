/**
 * `npm run screenshot`: the status page of a small demo — four real sshd hosts, a real manifest
 * repository, three deploys, hosts changed by hand (test/fixtures/status-demo.ts) — served by the embedded
 * mode and photographed by headless Debian Chromium into examples/status-page.png for the README.
 */
import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../test/fixtures/chromium.js';
import { startStatusDemo } from '../test/fixtures/status-demo.js';

const out = fileURLToPath(new URL('../examples/status-page.png', import.meta.url));
const demo = await startStatusDemo();
try {
  const fjord = await demo.startFjord();
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1180, height: 600 }, deviceScaleFactor: 1 });
    const res = await page.goto(`${fjord.url}/`);
    if (res?.status() !== 200) throw new Error(`GET / answered ${res?.status()}`);
    await page.screenshot({ path: out, fullPage: true });
  } finally {
    await browser.close();
  }
} finally {
  await demo.stop();
}
console.log(`wrote ${out} (${Math.round(statSync(out).size / 1024)} KB)`);
