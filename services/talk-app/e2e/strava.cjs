// End-to-end browser check of the Strava path: home → "Connect with Strava" → the
// gateway → (fake) Strava → back to talk-app signed in → backfill progress → ask.
// Optional, like chat.cjs; it needs talk-app (with GATEWAY_PUBLIC_URL set),
// strava-gateway and its worker pointed at `strava-fake`, all running.
//
//   BASE_URL=http://127.0.0.1:8080 SHOTS=/tmp/shots node strava.cjs
"use strict";
const { chromium } = require("playwright-core");
const fs = require("fs");
const os = require("os");
const path = require("path");

const BASE = process.env.BASE_URL || "http://127.0.0.1:8080";
const SHOTS = process.env.SHOTS || path.join(os.tmpdir(), "stravatalk-shots");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";

function expect(ok, what) {
  if (!ok) throw new Error("expectation failed: " + what);
  console.log("ok  " + what);
}

(async () => {
  fs.mkdirSync(SHOTS, { recursive: true });
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "stravatalk-chromium-"));
  const context = await chromium.launchPersistentContext(dataDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 390, height: 844 },
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  const page = context.pages()[0] || (await context.newPage());
  try {
    await page.goto(BASE + "/");
    await page.click("text=Connect with Strava");
    await page.waitForURL(/\/chat$/, { timeout: 20000 });
    expect(true, "connected and signed in");
    const syncing = await page.locator(".sync progress").count();
    console.log(syncing ? "ok  backfill progress shown" : "--  backfill already finished");
    await page.screenshot({ path: path.join(SHOTS, "strava-1-connected.png"), fullPage: true });

    // Wait (by the page's own refresh) until activities have arrived.
    for (let i = 0; i < 20 && (await page.locator(".sync progress").count()); i++) {
      await page.waitForTimeout(1000);
      await page.reload();
    }
    await page.fill("#question", "how many activities this year");
    await page.click("#ask button[type=submit]");
    await page.waitForSelector("#latest .answer");
    const text = await page.locator("#latest .answer .text").innerText();
    expect(/\d/.test(text), "answer with a figure: " + text.trim());
    await page.screenshot({ path: path.join(SHOTS, "strava-2-answer.png"), fullPage: true });
  } finally {
    await context.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
