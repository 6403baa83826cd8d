// The export path in the browser, for someone without a Strava connection: the home
// page's form (the zone picker, then the file) → signed in as a new athlete → the
// import's progress, then its summary → a question on what was imported. Each run
// uploads an export of its own: the five real rows of the English export in
// strava-gateway/tests/data/export-languages.txt, their ids shifted per run, since an
// activity belongs to one athlete here. Three rows have their GPS files (ours, one
// point each): a run recorded in Tokyo, and two activities in Paris whose dates are
// moved to either side of the minute Europe went to summer time (29 March 2020,
// 01:00 UTC). The other two take the zone chosen in the form.
"use strict";
const fs = require("fs");
const path = require("path");
const zlib = require("zlib");
const { BASE, expect } = require("./lib.cjs");

const ZONE = "America/Recife";
const LANGUAGES = path.join(__dirname, "../../strava-gateway/tests/data/export-languages.txt");

// The English real-export block: its header and rows, as written.
function realRows() {
  const lines = fs.readFileSync(LANGUAGES, "utf8").split("\n");
  const start = lines.findIndex((l) => l.startsWith("## en english-real-export"));
  const block = [];
  for (const line of lines.slice(start + 1)) {
    if (line.startsWith("## ")) break;
    if (line && !line.startsWith("#")) block.push(line);
  }
  return block;
}

// A ZIP archive of stored (uncompressed) files, as the format's specification lays it
// out: local headers and data, then the central directory and its end record.
function zip(files) {
  const locals = [], centrals = [];
  let offset = 0;
  for (const [name, data] of files) {
    const n = Buffer.from(name);
    const crc = zlib.crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0); local.writeUInt16LE(20, 4);
    local.writeUInt32LE(crc, 14); local.writeUInt32LE(data.length, 18); local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(n.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0); central.writeUInt16LE(20, 4); central.writeUInt16LE(20, 6);
    central.writeUInt32LE(crc, 16); central.writeUInt32LE(data.length, 20); central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(n.length, 28); central.writeUInt32LE(offset, 42);
    locals.push(local, n, data);
    centrals.push(central, n);
    offset += 30 + n.length + data.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0); end.writeUInt16LE(files.length, 8); end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(directory.length, 12); end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

async function upload(t) {
  const page = t.page;
  const [header, ...rows] = realRows();
  expect(rows.length === 5, "five real export rows to upload");
  const shift = (Date.now() % 1000000) * 1000 + (t.width % 997);
  const dated = { "3787254231": "Mar 29, 2020, 12:59:00 AM", "3787572592": "Mar 29, 2020, 1:00:00 AM" };
  const csv = [header, ...rows.map((r) => {
    const id = r.split(",", 1)[0];
    const row = dated[id] ? r.replace(/^(\d+),"[^"]*"/, `$1,"${dated[id]}"`) : r;
    return row.replace(/^\d+/, String(Number(id) + shift));
  })].join("\n") + "\n";
  const name = `export_${shift}.zip`;
  const gpx = ([lat, lon]) => Buffer.from('<?xml version="1.0" encoding="UTF-8"?>\n<gpx version="1.1" creator="e2e">' +
    `<trk><trkseg><trkpt lat="${lat}" lon="${lon}"></trkpt></trkseg></trk></gpx>\n`);
  const tcx = ([lat, lon]) => Buffer.from("<TrainingCenterDatabase><Activities><Activity Sport=\"Running\"><Lap><Track>" +
    `<Trackpoint><Position><LatitudeDegrees>${lat}</LatitudeDegrees><LongitudeDegrees>${lon}</LongitudeDegrees></Position>` +
    "</Trackpoint></Track></Lap></Activity></Activities></TrainingCenterDatabase>");
  const [TOKYO, PARIS] = [[35.6812, 139.7671], [48.8566, 2.3522]];
  // Each under the name its row's "Filename" gives.
  const file = zip([
    ["activities.csv", Buffer.from(csv)],
    ["activities/4021635014.gpx.gz", zlib.gzipSync(gpx(TOKYO))],
    ["activities/4047748524.gpx.gz", zlib.gzipSync(gpx(PARIS))],
    ["activities/4048107193.tcx.gz", zlib.gzipSync(tcx(PARIS))],
    ["profile.csv", Buffer.from("Athlete ID\n1\n")],
  ]);

  await page.goto(BASE + "/");
  if (t.javaScript) {
    expect((await page.inputValue("#upload-timezone")) === ZONE, "the zone picker starts at the browser's zone");
  } else {
    expect((await page.inputValue("#upload-timezone")) === "", "without JavaScript the zone is asked for");
    await page.selectOption("#upload-timezone", ZONE);
  }
  await page.setInputFiles("#export-home", { name, mimeType: "application/zip", buffer: file });
  await t.check("upload-form");
  await page.click(".upload-form button[type=submit]");
  await page.waitForURL(/\/chat$/);
  expect(true, "signed in as a new athlete after the upload");

  // The box is there from the first page: the upload counts as under way from the
  // moment it is stored. app.js turns it into the summary; without JavaScript the page
  // refreshes itself while the import runs, and the wait follows those reloads.
  expect(await page.isVisible(".sync"), "the import's box shows at once");
  await page.waitForSelector(".sync.done", { timeout: 60000 });
  const done = (await page.locator(".sync.done").innerText()).trim();
  expect(done === `Imported 5 activities from ${name}.`, "the import's summary: " + done);
  await t.check("imported");

  // Hand-computed from the rows' UTC times: the run of 14 July 22:36 UTC was in
  // Tokyo, so 07:36 on 15 July; the run of 11 July 22:10 UTC is 19:10 in Recife.
  const asked = async (question) => {
    const before = await page.locator("li.exchange").count();
    await page.fill("#question", question);
    await t.ask("#ask button[type=submit]", (n) => document.querySelectorAll("li.exchange:not(.pending)").length > n, before);
    return (await page.locator("#latest .answer .text").innerText()).trim();
  };
  let text = await asked("how many runs in July 2020");
  expect(/^2 runs/.test(text), "the imported runs are counted: " + text);
  text = await asked("how many runs before 8am in July 2020");
  expect(/^1 run\b/.test(text), "the run recorded in Tokyo is a morning run in its own time: " + text);
  text = await asked("runs on 15 July 2020");
  expect(/^1 run on 15 Jul 2020/.test(text), "and falls on 15 July: " + text);
  // In Paris, 00:59 UTC is 01:59 (winter time) and 01:00 UTC one minute later is
  // 03:00 (summer time): one activity started after 2:30 that night, not none.
  text = await asked("how many activities on 29 March 2020");
  expect(/^2 activities/.test(text), "both Paris activities fall on 29 March: " + text);
  text = await asked("how many activities after 2:30am on 29 March 2020");
  expect(/^1 activit/.test(text), "summer time applies from its first minute: " + text);
  await t.check("answer");

  // Nothing can sign into this account again, so signing out asks first.
  await t.loads(() => page.click("nav >> text=Sign out"));
  expect(await page.isVisible("text=Sign out and delete this account?"), "signing out asks first");
  await t.check("sign-out");
  await page.click("main button:has-text(\"Sign out and delete\")");
  await page.waitForURL(/notice=signed-out/);
  expect(await page.isVisible("text=You are signed out."), "signed out after confirming");
}

module.exports = { upload };
