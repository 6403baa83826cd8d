// The browser suite: every flow at a phone's and a desktop's size, each in a fresh
// browser. `cargo xtask e2e` starts the services and runs this; by hand:
//
//   BASE_URL=http://127.0.0.1:8080 FAKE_URL=http://127.0.0.1:8090 SHOTS=target/e2e node run.cjs
//
// Exits non-zero on the first failed expectation, serious axe-core violation, console
// error or page over 60 KB gzipped. Screenshots: SHOTS/<size>-<flow>-<step>.png.
"use strict";
const fs = require("fs");
const { SHOTS, open } = require("./lib.cjs");
const { chat } = require("./chat.cjs");
const { strava } = require("./strava.cjs");
const { nojs } = require("./nojs.cjs");
const { upload } = require("./upload.cjs");

const SIZES = [["phone", 390, 844], ["desktop", 1280, 800]];
const FLOWS = [
  ["demo", chat, {}],
  ["strava", strava, {}],
  ["nojs", nojs, { javaScript: false }],
  ["upload", upload, { timezoneId: "America/Recife" }],
  ["upload-nojs", upload, { javaScript: false, timezoneId: "America/Recife" }],
];

(async () => {
  fs.mkdirSync(SHOTS, { recursive: true });
  for (const [size, width, height] of SIZES) {
    for (const [name, flow, options] of FLOWS) {
      console.log(`== ${name} at ${width}x${height}`);
      const t = await open(width, height, `${size}-${name}`, options);
      try {
        await flow(t);
      } finally {
        await t.close();
      }
    }
  }
  console.log("screenshots in " + SHOTS);
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
