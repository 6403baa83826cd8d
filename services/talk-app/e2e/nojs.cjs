// Without JavaScript every form still works: the demo, a question through the plain
// form post, a clarify option, and the page lands on the answer.
"use strict";
const path = require("path");
const { BASE, SHOTS, expect } = require("./lib.cjs");

async function nojs(t) {
  const page = t.page;
  await page.goto(BASE + "/");
  await page.click("text=Try the demo");
  await page.waitForURL(/\/chat$/);
  await page.fill("#question", "show my runs last week");
  await page.click("#ask button[type=submit]");
  await page.waitForURL(/\/chat\/[0-9a-f-]{36}#latest$/);
  expect((await page.locator("#latest table").count()) === 1, "without JavaScript: a table answer by a plain form post");
  expect((await page.locator(".copy").count()) === 0, "without JavaScript: no Copy button that could not work");
  await page.fill("#question", "my 3 longest activities");
  await page.click("#ask button[type=submit]");
  await page.waitForSelector("#latest .options button");
  await page.locator("#latest .options button").first().click();
  await page.waitForFunction(() => !document.querySelector("#latest .options"));
  expect((await page.locator("#latest .answer").count()) === 1, "without JavaScript: a clarify option answers");
  await page.screenshot({ path: path.join(SHOTS, `${t.tag}-01-answered.png`), fullPage: true });
}

module.exports = { nojs };
