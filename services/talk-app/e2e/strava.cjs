// The Strava path in the browser: home → "Connect with Strava" → the gateway → the fake
// Strava → back to talk-app signed in → import progress updating in place (what the
// athlete types survives) → ask → sign out. Each run signs in a new fake athlete whose
// history arrives slowly enough to watch.
"use strict";
const { BASE, expect, fake } = require("./lib.cjs");
const { ask } = require("./chat.cjs");

async function strava(t) {
  const page = t.page;
  const athlete = await fake("POST", "/_fake/athletes", { firstname: "Eve", lastname: "Browser " + t.tag });
  await fake("POST", `/_fake/athletes/${athlete.id}/generate`, { count: 300 });
  await fake("PUT", "/_fake/login", { athlete_id: athlete.id });
  // Small pages, each held back, so the import takes several seconds.
  await fake("PUT", "/_fake/short_pages", { max: 50 });
  await fake("POST", "/_fake/faults", { kind: "delay", millis: 1500, count: 4, path_prefix: "/api/v3/athlete/activities" });

  await page.goto(BASE + "/");
  await t.check("home-connect");
  await page.click('a.connect-strava img[alt="Connect with Strava"]');
  await page.waitForURL(/\/chat$/, { timeout: 20000 });
  expect(true, "connected through the fake Strava and signed in");
  // The box is there on arrival, before the gateway's worker has picked up the job.
  expect(await page.isVisible(".sync"), "the import's progress box shows at once");
  const label = await page.locator(".sync label").innerText();
  expect(/imported/.test(label) && !/%/.test(label), "import progress shown: " + label);
  await t.check("importing");

  // The page follows the import by itself; what is typed meanwhile stays.
  const navigations = [];
  page.on("framenavigated", (f) => { if (f === page.mainFrame()) navigations.push(f.url()); });
  await page.fill("#question", "how many activities this year");
  const first = await page.locator(".sync label").innerText();
  await page.waitForFunction((l) => { const s = document.querySelector(".sync label"); return !s || s.textContent !== l; }, first, { timeout: 20000 });
  expect(true, "the progress moved without a reload");
  await page.waitForSelector(".sync.done", { timeout: 60000 });
  const done = await page.locator(".sync.done").innerText();
  expect(done === "All 300 activities imported.", "the box says when the import is done: " + done);
  expect(navigations.length === 0, "the page never reloaded during the import");
  expect((await page.inputValue("#question")) === "how many activities this year", "the typed question survived the import");
  await fake("PUT", "/_fake/short_pages", { max: null });

  const text = await ask(t, "how many activities this year");
  expect(/\d/.test(text), "answer with a figure: " + text);
  expect(!(await page.isVisible(".demo-banner")), "no demo banner for a Strava athlete");
  await t.check("strava-answer");
  // Every activity from Strava links back to it, in the guidelines' words.
  await ask(t, "show my 5 longest runs");
  const rows = await page.locator("#latest table tbody tr").count();
  const links = await page.locator('#latest a.view-on-strava[href^="https://www.strava.com/activities/"]').count();
  expect(rows > 0 && links === rows, `"View on Strava" on each of the ${rows} activities`);
  await t.check("view-on-strava");

  await page.click("nav >> text=Sign out");
  await page.waitForURL(/notice=signed-out/);
  expect(await page.isVisible("text=You are signed out."), "signed out");
  await page.goto(BASE + "/chat");
  expect(page.url().startsWith(BASE + "/?notice="), "chat needs a session after sign-out");
}

module.exports = { strava };
