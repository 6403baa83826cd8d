// What every browser check shares: launching Debian's Chromium through playwright-core,
// and the checks run on every page the suite visits (axe-core, console errors, weight,
// and Strava's brand guidelines and agreement: its own button wherever OAuth starts,
// its logo and our support contact in every footer, "View on Strava" wording, and no
// Strava orange outside Strava's own files).
"use strict";
const { chromium } = require("playwright-core");
const axe = require("axe-core");
const fs = require("fs");
const os = require("os");
const path = require("path");
const zlib = require("zlib");

const BASE = process.env.BASE_URL || "http://127.0.0.1:8080";
const SHOTS = process.env.SHOTS || path.join(os.tmpdir(), "stravatalk-shots");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
/// The most one page may weigh, gzipped: its HTML plus the stylesheet and the script.
const MAX_PAGE_BYTES = 60 * 1024;

function expect(ok, what) {
  if (!ok) throw new Error("expectation failed: " + what);
  console.log("ok  " + what);
}

const gzipped = (buf) => zlib.gzipSync(buf).length;

/// Strava's oranges (its current one and its earlier one), as hex and as computed.
const STRAVA_ORANGES = ["fc5200", "fc4c02"];
const STRAVA_ORANGES_RGB = ["rgb(252, 82, 0)", "rgb(252, 76, 2)"];
/// Figures one flow leaves for another (the phone's run comes before the desktop's).
const shared = {};
/// Stylesheets already searched for Strava's orange.
const cssChecked = new Set();

// The brand and agreement checks on the page as it stands.
async function brand(page, name) {
  const b = await page.evaluate((rgb) => {
    const foot = document.querySelector("footer.foot");
    const logo = foot && foot.querySelector('img.powered[alt="Powered by Strava"]');
    const ours = document.querySelector("header .brand");
    const starts = Array.from(document.querySelectorAll('a[href*="/auth/connect"], a[href*="/oauth/authorize"]'));
    const toStrava = Array.from(document.querySelectorAll('a[href^="https://www.strava.com/activities/"]'));
    const orange = Array.from(document.querySelectorAll("body, body *"))
      .filter((el) => el.tagName !== "IMG")
      .filter((el) => {
        const s = getComputedStyle(el);
        return [s.color, s.backgroundColor, s.borderTopColor, s.borderBottomColor, s.fill, s.stroke].some((c) => rgb.includes(c));
      })
      .map((el) => el.tagName.toLowerCase() + "." + el.getAttribute("class"));
    return {
      support: !!(foot && foot.querySelector('a.support[href^="mailto:"], a.support[href^="https://"], a.support[href^="http://"]')),
      privacy: !!(foot && foot.querySelector('a[href="/privacy"]')),
      logo: !!(logo && logo.complete && logo.naturalWidth > 0 && logo.getBoundingClientRect().height > 0),
      logoSmaller: !!(logo && ours && logo.getBoundingClientRect().height < ours.getBoundingClientRect().height && !logo.closest("header")),
      starts: starts.length,
      startsWithButton: starts.every((a) => {
        const img = a.querySelector('img[alt="Connect with Strava"]');
        return img && /\/static\/strava\/btn_strava_connect/.test(img.src) && img.complete && img.naturalWidth > 0
          && a.textContent.trim() === "";
      }),
      toStrava: toStrava.length,
      viewWording: toStrava.every((a) => a.textContent.trim() === "View on Strava"),
      orange,
      css: Array.from(document.querySelectorAll('link[rel="stylesheet"]')).map((l) => l.href),
    };
  }, STRAVA_ORANGES_RGB);
  expect(b.support, `${name}: the support contact in the footer`);
  expect(b.privacy, `${name}: the privacy page linked in the footer`);
  expect(b.logo, `${name}: Strava's "Powered by Strava" logo shown`);
  expect(b.logoSmaller, `${name}: the logo smaller than our own name and apart from it`);
  expect(b.startsWithButton, `${name}: every start of OAuth (${b.starts}) is Strava's own button`);
  expect(b.viewWording, `${name}: every link to a Strava activity (${b.toStrava}) reads "View on Strava"`);
  expect(b.orange.length === 0, `${name}: no Strava orange outside Strava's files` + (b.orange.length ? ": " + b.orange.slice(0, 3).join(", ") : ""));
  for (const href of b.css) {
    if (cssChecked.has(href)) continue;
    const css = (await (await fetch(href)).text()).toLowerCase();
    const found = STRAVA_ORANGES.filter((o) => css.includes(o));
    expect(found.length === 0, `${name}: no Strava orange in ${href.split("?")[0]}` + (found.length ? ": " + found.join(", ") : ""));
    cssChecked.add(href);
  }
  return b;
}

// One browser at one screen size, with the checks attached to its page.
async function open(width, height, tag, { javaScript = true, timezoneId } = {}) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "stravatalk-chromium-"));
  const context = await chromium.launchPersistentContext(dataDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width, height },
    // axe-core is injected as a script tag; the app's own policy must not block it.
    bypassCSP: true,
    javaScriptEnabled: javaScript,
    timezoneId,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: BASE });
  const page = context.pages()[0] || (await context.newPage());
  const problems = [];
  page.on("console", (msg) => {
    if (msg.type() === "error") problems.push(`console error on ${page.url()}: ${msg.text()}`);
  });
  page.on("pageerror", (err) => problems.push(`script error on ${page.url()}: ${err.message}`));
  // The last HTML the page received (a navigation or app.js's fetch) and the assets.
  const weights = { html: 0, htmlUrl: "", assets: new Map() };
  page.on("response", async (res) => {
    if (!res.url().startsWith(BASE)) return;
    const type = res.headers()["content-type"] || "";
    try {
      if (type.startsWith("text/html")) {
        weights.html = gzipped(await res.body());
        weights.htmlUrl = res.url();
      } else if (/\/static\//.test(res.url())) {
        weights.assets.set(res.url().split("?")[0], gzipped(await res.body()));
      }
    } catch (_) { /* a redirect has no body */ }
  });
  let step = 0;
  const t = {
    page, tag, width, javaScript,
    // Every page view ends here: a screenshot, axe-core, the weight, console errors,
    // Strava's brand and agreement.
    async check(name) {
      step += 1;
      await brand(page, name);
      await page.screenshot({ path: path.join(SHOTS, `${tag}-${String(step).padStart(2, "0")}-${name}.png`), fullPage: true });
      // axe-core is a script: a page without JavaScript gets the other checks only
      // (the same pages are checked with it in the other flows).
      if (javaScript) {
        await page.addScriptTag({ content: axe.source });
        const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
        const bad = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
        for (const v of bad) {
          console.error(`axe ${v.impact}: ${v.id} (${v.help}) at ${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(", ")}`);
        }
        expect(bad.length === 0, `${name}: no serious or critical axe-core violation`);
      }
      let total = weights.html;
      for (const size of weights.assets.values()) total += size;
      expect(total <= MAX_PAGE_BYTES, `${name}: ${(total / 1024).toFixed(1)} KB gzipped (limit 60 KB)`);
      expect(problems.length === 0, `${name}: no console errors` + (problems.length ? "\n  " + problems.join("\n  ") : ""));
    },
    // Runs `action` (a click on a link or a plain form's button) and waits until the
    // document it leads to has loaded. A URL alone cannot say that: a question posted
    // from /chat/{id}#latest lands on the same URL, and a count read before the new
    // document has arrived reads the old one.
    async loads(action) {
      const committed = page.waitForEvent("framenavigated", { predicate: (f) => f === page.mainFrame() });
      await action();
      await committed;
      await page.waitForLoadState("load");
    },
    // Clicks `selector`, which asks a question, and waits until `answered(arg)` holds
    // in the page: with JavaScript app.js adds the answer in place, so wait for it;
    // without, the form post loads a new document, which must hold it once loaded.
    async ask(selector, answered, arg) {
      if (javaScript) {
        await page.click(selector);
        await page.waitForFunction(answered, arg);
      } else {
        await t.loads(() => page.click(selector));
        if (!(await page.evaluate(answered, arg))) throw new Error(`no answer on ${page.url()} after clicking ${selector}`);
      }
    },
    async close() {
      await context.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return t;
}

// Sends JSON to the fake Strava's control API.
async function fake(method, url, body) {
  const res = await fetch((process.env.FAKE_URL || "http://127.0.0.1:8090") + url, {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`fake Strava ${method} ${url}: ${res.status} ${await res.text()}`);
  return res.status === 204 ? null : res.json();
}

module.exports = { BASE, SHOTS, expect, open, fake, brand, shared };
