// Without JavaScript every form still works: the demo, a question through the plain
// form post, a clarify option, and the page lands on the answer.
"use strict";
const path = require("path");
const { BASE, SHOTS, expect, brand } = require("./lib.cjs");

async function nojs(t) {
  const page = t.page;
  await page.goto(BASE + "/");
  await page.click("text=Try the demo");
  await page.waitForURL(/\/chat$/);
  await page.fill("#question", "show my runs last week");
  await t.loads(() => page.click("#ask button[type=submit]"));
  expect(/\/chat\/[0-9a-f-]{36}#latest$/.test(page.url()), "without JavaScript: the post lands on the answer: " + page.url());
  expect((await page.locator("#latest table").count()) === 1, "without JavaScript: a table answer by a plain form post");
  expect((await page.locator(".copy").count()) === 0, "without JavaScript: no Copy button that could not work");
  // "Ask again" is a plain form too.
  const before = await page.locator("li.exchange").count();
  await t.ask("#latest .redo .retry button", (n) => document.querySelectorAll("li.exchange").length === n + 1, before);
  expect((await page.locator("#latest table").count()) === 1, "without JavaScript: 'Ask again' answers again");
  await brand(page, "without JavaScript: asked again");
  // A follow-up button is a plain form button.
  await t.ask("#latest .suggestions button >> nth=0", () => document.querySelectorAll("li.exchange").length === 3);
  expect((await page.locator("#latest .answer.unsupported").count()) === 0, "without JavaScript: a follow-up button asks");
  // The conversation list opens from a <details> on a phone, without a script.
  if (t.width < 900) {
    await page.click(".history-menu summary");
    expect(await page.isVisible(".history-menu li a"), "without JavaScript: the list opens on a phone");
  }
  await page.fill("#question", "my 3 longest activities");
  await t.ask("#ask button[type=submit]", () => document.querySelectorAll("#latest .options button").length > 0);
  await t.ask("#latest .options button >> nth=0", () => !document.querySelector("#latest .options"));
  expect((await page.locator("#latest .answer").count()) === 1, "without JavaScript: a clarify option answers");
  await page.screenshot({ path: path.join(SHOTS, `${t.tag}-01-answered.png`), fullPage: true });
}

module.exports = { nojs };
