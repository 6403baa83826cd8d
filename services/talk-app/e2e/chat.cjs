// The demo path in the browser: home → "Try the demo" → text, table and chart answers →
// follow-up → clarify option → copy → Back → conversations → settings (units, API
// token) → erase. Run by run.cjs at each screen size; `t` comes from lib.open.
"use strict";
const { BASE, expect, shared } = require("./lib.cjs");

// Asks through the question box; the question shows at once, then the answer.
async function ask(t, question, { slow = false } = {}) {
  const page = t.page;
  const before = await page.locator("li.exchange .answer").count();
  if (slow) {
    // Hold the answer back so the pending state can be seen.
    await page.route("**/chat/ask", async (route) => {
      await new Promise((r) => setTimeout(r, 1200));
      await route.continue();
    });
  }
  await page.fill("#question", question);
  await page.click("#ask button[type=submit]");
  if (slow) {
    await page.waitForSelector("li.exchange.pending", { timeout: 1000 });
    const shown = await page.locator("li.exchange.pending .question").innerText();
    expect(shown.includes(question), "the question shows at once, with a pending answer");
    expect((await page.inputValue("#question")) === "", "the box is emptied for the next question");
  }
  await page.waitForFunction((n) => document.querySelectorAll("li.exchange .answer").length > n && !document.querySelector("li.exchange.pending"), before);
  if (slow) await page.unroute("**/chat/ask");
  expect((await page.locator("#latest .answer").count()) === 1, "answer shown for: " + question);
  return (await page.locator("#latest .answer .text").innerText()).trim();
}

async function chat(t) {
  const page = t.page;
  await page.goto(BASE + "/");
  expect((await page.title()) === "StravaTalk", "home page title");
  const head = await fetch(BASE + "/", { method: "HEAD" });
  expect(head.status === 200 && (head.headers.get("content-type") || "").startsWith("text/html"), "HEAD / answers like GET /");
  await t.check("home");

  await page.click("text=Try the demo");
  await page.waitForURL(/\/chat$/);
  expect(await page.isVisible("text=Try one of these"), "examples on a new conversation");
  expect(await page.isVisible(".demo-banner"), "the demo banner says this is the demo");
  // Each run gets its own copy of the demo: no conversation of an earlier run shows.
  expect((await page.locator(".history li").count()) === 0, "a demo of this visitor's own");
  expect(await page.evaluate(() => document.activeElement && document.activeElement.id === "question"), "question input has focus");
  await t.check("new-chat");

  const count = await ask(t, "how many runs this year", { slow: true });
  expect(/\d/.test(count), "a count answer with a figure: " + count);
  const readAs = (await page.locator("#latest .read-as").innerText()).trim();
  expect(readAs.includes("Runs") && readAs.includes("count"), "the answer says how it read the question: " + readAs);
  await ask(t, "show my runs last week");
  expect((await page.locator("#latest table").count()) === 1, "table answer");
  const cells = await page.locator("#latest td.num").count();
  expect(cells > 0, "numbers in their own right-aligned cells");
  const tableText = await page.locator("#latest table").innerText();
  expect(!/\d{4}-\d{2}-\d{2}/.test(tableText), "dates as '6 Sep 2026', never ISO: " + tableText.slice(0, 200));
  expect(/\d{1,2} [A-Z][a-z]{2} \d{4}/.test(tableText), "dates in the table read '6 Sep 2026'");
  expect(!/(^|\s)0:\d{2}:\d{2}/.test(tableText), "times under an hour read '22:38', not '0:22:38'");
  const offered = await page.locator("#latest .suggestions button").allInnerTexts();
  expect(offered.length >= 2 && offered.length <= 3, "two or three follow-ups under the answer: " + JSON.stringify(offered));
  await t.check("table");

  await ask(t, "weekly running distance this year as a chart");
  expect((await page.locator("#latest svg.chart").count()) === 1, "chart answer");
  const chartLabel = await page.locator("#latest svg.chart").getAttribute("aria-label");
  expect(/\d/.test(chartLabel || ""), "the chart's label summarises its values: " + chartLabel);
  const axis = await page.locator("#latest svg.chart text.tick").allTextContents();
  expect(!axis.some((x) => /\d{4}-\d{2}/.test(x)) && axis.some((x) => /^\d{1,2} [A-Z][a-z]{2}$/.test(x)),
    "weekly axis labelled '6 Sep', not ISO: " + JSON.stringify(axis.slice(0, 4)));
  // The chart's type is about the same size on a desktop as on a phone.
  const tick = await page.evaluate(() => document.querySelector("#latest svg.chart text.tick").getBoundingClientRect().height);
  shared["chart-tick-" + t.width] = tick;
  const phoneTick = shared["chart-tick-390"];
  if (phoneTick && t.width > 390) {
    expect(tick / phoneTick <= 1.3, `chart text ${tick.toFixed(1)} px high on the desktop, ${phoneTick.toFixed(1)} px on a phone`);
  }
  // A follow-up button asks its question in this conversation; only the newest answer offers any.
  const follow = page.locator("#latest .suggestions button").first();
  const followText = (await follow.innerText()).trim();
  const answersBefore = await page.locator("li.exchange .answer").count();
  await follow.click();
  await page.waitForFunction((n) => document.querySelectorAll("li.exchange .answer").length > n && !document.querySelector("li.exchange.pending"), answersBefore);
  expect((await page.locator("#latest .answer.unsupported, #latest .answer.clarify").count()) === 0, "the follow-up '" + followText + "' is answered");
  expect((await page.locator(".suggestions").count()) <= 1, "follow-ups only under the newest answer");
  await t.check("follow-up");
  await ask(t, "and last year?");
  expect(/\/chat\/[0-9a-f-]{36}/.test(page.url()), "follow-up stays in the conversation");

  // The latest question can be asked again, in the context it had, or edited.
  const readAsBefore = (await page.locator("#latest .read-as").innerText()).trim();
  expect((await page.locator(".redo").count()) === 1, "'Ask again' and 'Edit question' under the latest exchange only");
  let exchanges = await page.locator("li.exchange .answer").count();
  await page.click("#latest .redo .retry button");
  await page.waitForFunction((n) => document.querySelectorAll("li.exchange .answer").length > n && !document.querySelector("li.exchange.pending"), exchanges);
  expect((await page.locator("#latest .read-as").innerText()).trim() === readAsBefore, "asked again, the question reads as it did: " + readAsBefore);
  expect((await page.locator(".redo").count()) === 1, "after asking again, the controls follow the newest exchange");
  await t.check("asked-again");
  exchanges = await page.locator("li.exchange .answer").count();
  await page.click("#latest .redo summary");
  await page.fill("#edit-question", "how many rides this year");
  await page.click("#latest .redo .edit-form button[type=submit]");
  await page.waitForFunction((n) => document.querySelectorAll("li.exchange .answer").length > n && !document.querySelector("li.exchange.pending"), exchanges);
  expect((await page.locator("#latest .question").innerText()).includes("how many rides this year"), "an edited question is asked");
  expect(/Rides/.test(await page.locator("#latest .read-as").innerText()), "the edited question's answer");

  const labels = await page.evaluate(() => Array.from(document.querySelectorAll(".table-wrap")).map((w) => w.getAttribute("aria-label")));
  expect(labels.length >= 1 && new Set(labels).size === labels.length && !labels.includes("Answer table"),
    "every table has its own label: " + JSON.stringify(labels));
  const small = await page.evaluate(() => Array.from(document.querySelectorAll("button, a.button, summary"))
    .filter((el) => el.offsetParent !== null)
    .map((el) => el.getBoundingClientRect())
    .filter((r) => r.height < 24).length);
  expect(small === 0, "every button is at least 24 px tall");
  await t.check("conversation");

  await page.evaluate(() => { window.liveRegion = document.querySelector("ol.exchanges[aria-live]"); });
  await ask(t, "my 3 longest activities");
  const option = page.locator("#latest .options button").first();
  expect((await option.count()) === 1, "clarify options as buttons");
  await option.click();
  await page.waitForFunction(() => document.querySelector("#latest .answer") && !document.querySelector("#latest .options") && !document.querySelector("li.exchange.pending"));
  expect(await page.evaluate(() => window.liveRegion === document.querySelector("ol.exchanges[aria-live]") && document.body.contains(window.liveRegion)),
    "the live region stays in place while answers arrive");

  const answerText = (await page.locator("#latest .answer .text").innerText()).trim();
  // Cells a spreadsheet would run as formulas are copied as text; numbers stay numbers.
  const hasTable = await page.evaluate(() => {
    const row = document.querySelector("#latest table tbody tr");
    if (!row || row.cells.length < 3) return false;
    row.cells[0].textContent = "=HYPERLINK(\"http://evil.example\")";
    row.cells[1].textContent = "-5";
    row.cells[2].textContent = "@SUM(A1)";
    return true;
  });
  await page.click("#latest .copy");
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  expect(copied.includes(answerText.slice(0, 20)), "copy puts the answer on the clipboard");
  if (hasTable) {
    expect(copied.includes("'=HYPERLINK(\"http://evil.example\")\t-5\t'@SUM(A1)"),
      "copied cells cannot run as formulas, -5 stays a number: " + JSON.stringify(copied.split("\n").slice(2, 4)));
  }
  await t.check("clarified");

  // Answers replace the history entry, so one Back leaves the conversation.
  await page.goBack({ waitUntil: "load" });
  expect(!/\/chat\//.test(page.url()), "one Back leaves the conversation: " + page.url());
  await page.goto(BASE + "/chat");
  expect((await page.locator(".history li").count()) >= 1, "past conversation listed");

  // On a phone the list opens from a button above the chat; on a desktop it sits beside it.
  const phone = t.width < 900;
  expect((await page.isVisible(".history-menu summary")) === phone, "the list's button only on a phone");
  expect((await page.isVisible(".history")) === !phone, "the side list only on a wide screen");
  if (phone) {
    const menuTop = (await page.locator(".history-menu").boundingBox()).y;
    const askTop = (await page.locator("#question").boundingBox()).y;
    expect(menuTop < askTop, "the list's button is above the chat, not below it");
    await page.click(".history-menu summary");
    await t.check("conversation-list");
  }
  // Rename a conversation, then delete it.
  await page.click(phone ? ".history-menu li a" : ".history li a");
  await page.waitForURL(/\/chat\/[0-9a-f-]{36}$/);
  await page.click("text=Rename or delete this conversation");
  await page.fill("#title", "Runs " + t.tag);
  await t.loads(() => page.click(".rename button[type=submit]"));
  expect((await page.locator("h1").innerText()) === "Runs " + t.tag, "a conversation can be renamed");
  await t.check("renamed");
  await page.click("text=Rename or delete this conversation");
  await page.click(".manage button.danger");
  await page.waitForURL(/\/chat$/);
  expect(!(await page.isVisible("text=Runs " + t.tag)), "a deleted conversation leaves the list");

  await page.click("footer >> text=Privacy");
  await page.waitForURL(/\/privacy$/);
  expect(await page.isVisible("text=never sent to a language model"), "the privacy page says activity data never reaches a model");
  await t.check("privacy");

  await page.click("nav >> text=Settings");
  await page.waitForURL(/\/settings$/);
  expect(await page.isVisible("text=Europe/Paris"), "time zone shown");
  expect(await page.isVisible("text=This demo account is yours alone"), "the demo copy's expiry shown");
  await t.check("settings");

  // Time zone: picked from the list, saved, and shown.
  await page.selectOption("#timezone", "America/New_York");
  await page.click("text=Save time zone");
  await page.waitForURL(/\/settings\?done=timezone/);
  expect(await page.isVisible("text=Time zone saved."), "the time zone is saved");
  expect((await page.inputValue("#timezone")) === "America/New_York", "the chosen zone is selected");
  await page.selectOption("#timezone", "Europe/Paris");
  await page.click("text=Save time zone");
  await page.waitForURL(/\/settings\?done=timezone/);

  // Units: the same question in miles after choosing imperial.
  await page.check("#units-feet");
  await page.click("text=Save units");
  await page.waitForURL(/\/settings\?done=units/);
  await page.goto(BASE + "/chat");
  const miles = await ask(t, "how far did I run last month?");
  expect(/mi\b|miles/.test(miles), "distances in miles after choosing imperial: " + miles);
  await page.goto(BASE + "/settings");
  await page.check("#units-meters");
  await page.click("text=Save units");
  await page.waitForURL(/\/settings\?done=units/);
  await page.goto(BASE + "/chat");
  const km = await ask(t, "how far did I run last month?");
  expect(/km\b|kilomet/.test(km), "distances in km after choosing metric: " + km);

  // API token: create, ask with it, revoke, refused.
  await page.goto(BASE + "/settings");
  await page.fill("#token-name", "e2e " + t.tag);
  await page.click("text=Create token");
  await page.waitForSelector("#new-token");
  const token = await page.inputValue("#new-token");
  expect(token.length > 20, "a new token is shown once");
  await page.click("button.copy-token");
  expect((await page.evaluate(() => navigator.clipboard.readText())) === token, "'Copy token' puts the new token on the clipboard");
  const created = await page.locator("ul.tokens li").first().innerText();
  expect(!created.includes("UTC") && /created \d{1,2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}/.test(created),
    "token times on the athlete's clock, dated like the rest: " + created);
  await t.check("token");
  const apiAsk = () => fetch(BASE + "/api/ask", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Bearer " + token },
    body: JSON.stringify({ question: "how many runs this year" }),
  });
  const answered = await apiAsk();
  const body = await answered.json();
  expect(answered.status === 200 && typeof body.text === "string", "the token asks through the API");
  await t.loads(() => page.click(`button[aria-label="Revoke token e2e ${t.tag}"]`));
  expect((await apiAsk()).status === 401, "a revoked token is refused");

  // Dark mode: the same page, still readable by axe-core's measure.
  await page.emulateMedia({ colorScheme: "dark" });
  await page.goto(BASE + "/chat");
  const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  expect(bg !== "rgb(255, 255, 255)", "dark mode darkens the page: " + bg);
  await ask(t, "show my runs last week");
  await ask(t, "weekly running distance this year as a chart");
  await t.check("dark");
  await page.emulateMedia({ colorScheme: "light" });

  // Erase: everything goes, the visitor is signed out.
  await page.goto(BASE + "/settings/delete");
  await t.check("erase-confirm");
  await page.check("#confirm");
  await page.click("text=Delete my data and sign out");
  await page.waitForURL(/notice=erased/);
  await t.check("erased");
  await page.goto(BASE + "/chat");
  expect(page.url().startsWith(BASE + "/?notice="), "chat needs a session after erasing");
}

module.exports = { chat, ask };
