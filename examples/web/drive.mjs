// Drives the browser example's page in headless Chromium with puppeteer-core:
//
//     node drive.mjs CHROMIUM LABEL=URL...
//
// opens each URL, waits until the page has finished every call, and prints one line per
// case, `LABEL ID: TEXT`, and one per message of the page's console, `LABEL console:
// TEXT` (where Chromium reports what CORS blocked). Exits non-zero if a page does not
// finish in time.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import puppeteer from "puppeteer-core";

const [executablePath, ...pages] = process.argv.slice(2);
if (!executablePath || pages.length === 0) {
  console.error("usage: node drive.mjs CHROMIUM LABEL=URL...");
  process.exit(2);
}

// A fresh profile for every run.
const userDataDir = mkdtempSync(join(tmpdir(), "rsrpc-web-"));
const browser = await puppeteer.launch({
  executablePath,
  headless: true,
  userDataDir,
  timeout: 60_000,
  args: [
    // Root runs Chromium only without its sandbox.
    "--no-sandbox",
    "--disable-gpu",
    // Only loopback is reachable here: no background fetches, updates or sync.
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
try {
  for (const labelled of pages) {
    const split = labelled.indexOf("=");
    const [label, url] = [labelled.slice(0, split), labelled.slice(split + 1)];
    const page = await browser.newPage();
    page.on("console", (message) => console.log(`${label} console: ${message.text()}`));
    page.on("pageerror", (error) => console.log(`${label} console: page error: ${error}`));
    await page.goto(url, { waitUntil: "load", timeout: 30_000 });
    await page.waitForSelector("body[data-done]", { timeout: 60_000 });
    const cases = await page.$$eval(".case", (cells) =>
      cells.map((cell) => [cell.id, cell.textContent]),
    );
    for (const [id, text] of cases) {
      console.log(`${label} ${id}: ${text}`);
    }
    await page.close();
  }
} finally {
  await browser.close();
  rmSync(userDataDir, { recursive: true, force: true });
}
