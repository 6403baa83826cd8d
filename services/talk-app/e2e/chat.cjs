// End-to-end browser check of talk-app in Debian's headless Chromium, driven by
// playwright-core (no bundled browsers). Optional: it needs Node, `npm install` in this
// folder and a running talk-app with the demo athlete loaded.
//
//   BASE_URL=http://127.0.0.1:8080 SHOTS=/tmp/shots node chat.cjs
//
// Flow: home → "Try the demo" (a fresh copy per run) → ask a text, a table and a chart question → follow-up
// → clarify option → new conversation → settings → sign out. It saves a screenshot of
// every step at phone (390 px) and desktop (1280 px) widths and exits non-zero on the
// first failed expectation.
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

async function ask(page, question) {
  const before = await page.locator("li.exchange").count();
  await page.fill("#question", question);
  await page.click("#ask button[type=submit]");
  await page.waitForFunction((n) => document.querySelectorAll("li.exchange").length > n, before);
  expect((await page.locator("#latest .answer").count()) === 1, "answer shown for: " + question);
}

async function run(width, height, tag) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "stravatalk-chromium-"));
  const context = await chromium.launchPersistentContext(dataDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width, height },
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  const page = context.pages()[0] || (await context.newPage());
  const shot = (name) => page.screenshot({ path: path.join(SHOTS, `${tag}-${name}.png`), fullPage: true });
  try {
    await page.goto(BASE + "/");
    expect((await page.title()) === "StravaTalk", "home page title");
    await shot("1-home");

    await page.click("text=Try the demo");
    await page.waitForURL(/\/chat$/);
    expect(await page.isVisible("text=Try one of these"), "examples on a new conversation");
    // Each run gets its own copy of the demo: no conversation of an earlier run shows.
    expect((await page.locator(".history li").count()) === 0, "a demo of this visitor's own");
    expect(await page.evaluate(() => document.activeElement && document.activeElement.id === "question"), "question input has focus");
    await shot("2-new-chat");

    await ask(page, "how many runs this year");
    await ask(page, "show my runs last week");
    expect((await page.locator("#latest table").count()) === 1, "table answer");
    await ask(page, "weekly running distance this year as a chart");
    expect((await page.locator("#latest svg.chart").count()) === 1, "chart answer");
    await ask(page, "and last year?");
    expect(/\/chat\/[0-9a-f-]{36}/.test(page.url()), "follow-up stays in the conversation");
    await shot("3-conversation");

    await ask(page, "what was my longest run?");
    const option = page.locator("#latest .options button").first();
    expect((await option.count()) === 1, "clarify options as buttons");
    await option.click();
    await page.waitForFunction(() => document.querySelector("#latest") && !document.querySelector("#latest .options"));
    await shot("4-clarified");

    await page.click("text=New conversation");
    await page.waitForURL(/\/chat$/);
    expect((await page.locator(".history li").count()) >= 1, "past conversation listed");

    await page.click("nav >> text=Settings");
    await page.waitForURL(/\/settings$/);
    expect(await page.isVisible("text=Europe/Paris"), "time zone shown");
    expect(await page.isVisible("text=This demo account is yours alone"), "the demo copy's expiry shown");
    await shot("5-settings");

    await page.click("nav >> text=Sign out");
    await page.waitForURL(/notice=signed-out/);
    expect(await page.isVisible("text=You are signed out."), "signed out");
    await page.goto(BASE + "/chat");
    expect(page.url().startsWith(BASE + "/?notice="), "chat needs a session after sign-out");
  } finally {
    await context.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

(async () => {
  fs.mkdirSync(SHOTS, { recursive: true });
  await run(390, 844, "phone");
  await run(1280, 900, "desktop");
  console.log("screenshots in " + SHOTS);
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
