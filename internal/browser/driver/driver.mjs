// driver.mjs drives one headless browser for pigeon's Go tests
// (package internal/browser) as a person would: it finds controls by role
// and accessible name, types into them and clicks them.
//
//   node driver.mjs chromium|firefox EXECUTABLE PROFILE_DIR
//
// It reads one command a line on stdin, as JSON:
//
//   {"id": 1, "cmd": "open", "url": "http://127.0.0.1:8080/"}
//   {"id": 2, "cmd": "fill", "role": "textbox", "name": "Message", "text": "hi"}
//   {"id": 3, "cmd": "click", "role": "button", "name": "Send"}
//   {"id": 4, "cmd": "text", "role": "status", "name": "Connection"}
//   {"id": 5, "cmd": "waitText", "role": "list", "name": "Messages", "contains": "hi", "timeoutMs": 5000}
//   {"id": 6, "cmd": "eval", "js": "document.title"}
//   {"id": 7, "cmd": "choose", "role": "button", "name": "Send files", "paths": ["/tmp/a"]}
//   {"id": 8, "cmd": "close"}
//
// and answers each, in order, with one line on stdout:
//
//   {"id": 1, "ok": true, "value": "..."}
//   {"id": 2, "ok": false, "error": "..."}
//
// The first line on stdout, before any command is read, tells that the
// browser runs, with its version and process id (the leader of its own
// process group): {"id": 0, "ok": true, "value": "Chrome/156.0...", "pid": 123}.
// Everything else (the browser's own output included) goes to stderr.
//
// Every command that finds a control waits for exactly one visible
// control of that role and name, for "timeoutMs" (default 10 s).

import { createInterface } from "node:readline";
import puppeteer from "puppeteer-core";

// chooserWait bounds the wait for a browser to report the file chooser a
// click opened.
const chooserWait = 3000;

const [kind, executablePath, profileDir] = process.argv.slice(2);
if (!["chromium", "firefox"].includes(kind) || !executablePath || !profileDir) {
  process.stderr.write("usage: node driver.mjs chromium|firefox EXECUTABLE PROFILE_DIR\n");
  process.exit(2);
}

const defaultTimeoutMs = 10000;

// Chromium: headless, no sandbox (tests run as root), nothing on the
// network. WebRTC keeps its defaults, mDNS host candidates included.
const chromiumArgs = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-default-apps",
  "--no-default-browser-check",
];

// Firefox: puppeteer's profile already turns off most of what calls
// home; these keep the rest offline and quiet. WebRTC keeps its
// defaults: media.peerconnection.ice.obfuscate_host_addresses stays on,
// so host candidates are mDNS names as users' browsers give them.
const firefoxPrefs = {
  "media.peerconnection.enabled": true,
  "app.update.enabled": false,
  "app.update.auto": false,
  "app.update.service.enabled": false,
  "app.update.staging.enabled": false,
  "browser.discovery.enabled": false,
  "browser.ping-centre.telemetry": false,
  "browser.region.network.url": "",
  "browser.region.update.enabled": false,
  "browser.safebrowsing.provider.google.updateURL": "",
  "browser.safebrowsing.provider.google4.updateURL": "",
  "browser.safebrowsing.provider.mozilla.updateURL": "",
  "captivedetect.canonicalURL": "",
  "datareporting.healthreport.uploadEnabled": false,
  "datareporting.policy.dataSubmissionEnabled": false,
  "extensions.blocklist.enabled": false,
  "network.captive-portal-service.enabled": false,
  "network.connectivity-service.enabled": false,
  "network.dns.disablePrefetch": true,
  "network.prefetch-next": false,
  "network.trr.mode": 5,
  "app.normandy.enabled": false,
  "messaging-system.rsexperimentloader.enabled": false,
  "browser.newtabpage.activity-stream.feeds.section.topstories": false,
  "browser.newtabpage.activity-stream.feeds.snippets": false,
  "services.settings.server": "",
  "toolkit.telemetry.enabled": false,
  "toolkit.telemetry.unified": false,
  "toolkit.telemetry.archive.enabled": false,
  "toolkit.telemetry.server": "",
};

let browser;
let page;

async function launch() {
  const common = {
    executablePath,
    headless: true,
    userDataDir: profileDir,
    protocolTimeout: 60000,
  };
  if (kind === "chromium") {
    // PIGEON_DRIVER_CHROMIUM_ARGS adds flags, a fake camera's say.
    const extra = (process.env.PIGEON_DRIVER_CHROMIUM_ARGS || "").split(" ").filter(Boolean);
    browser = await puppeteer.launch({ ...common, browser: "chrome", args: [...chromiumArgs, ...extra] });
  } else {
    browser = await puppeteer.launch({
      ...common,
      browser: "firefox",
      protocol: "webDriverBiDi",
      extraPrefsFirefox: firefoxPrefs,
    });
  }
  // The browser's output goes to stderr, never to stdout, which carries
  // only answers (puppeteer's dumpio would send its stdout to ours).
  const proc = browser.process();
  proc.stdout.pipe(process.stderr);
  proc.stderr.pipe(process.stderr);
  const pages = await browser.pages();
  page = pages.length > 0 ? pages[0] : await browser.newPage();
  page.on("console", (m) => process.stderr.write(`driver: console.${m.type()}: ${m.text()}\n`));
  page.on("pageerror", (e) => process.stderr.write(`driver: page error: ${e}\n`));
  return { version: await browser.version(), pid: proc.pid };
}

// ariaSelector is puppeteer's role-and-name query.
function ariaSelector(role, name) {
  if (!role || typeof name !== "string") {
    throw new Error("a control needs a role and a name");
  }
  const quote = (s) => JSON.stringify(String(s));
  return `::-p-aria([name=${quote(name)}][role=${quote(role)}])`;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// find waits for exactly one visible control of that role and name.
async function find(role, name, timeoutMs) {
  const selector = ariaSelector(role, name);
  const deadline = Date.now() + timeoutMs;
  let last = "none";
  for (;;) {
    const handles = await page.$$(selector);
    const visible = [];
    for (const h of handles) {
      if (await h.isVisible()) visible.push(h);
      else await h.dispose();
    }
    if (visible.length === 1) return visible[0];
    for (const h of visible) await h.dispose();
    last = visible.length === 0 ? "none" : `${visible.length}`;
    if (Date.now() >= deadline) {
      throw new Error(`no single visible ${role} named ${JSON.stringify(name)} after ${timeoutMs} ms (found ${last})`);
    }
    await sleep(100);
  }
}

// controlText is what a person reads in a control: the value of a
// field, the text of anything else.
function controlText(handle) {
  return handle.evaluate((el) => {
    if (el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement || el instanceof HTMLOutputElement) {
      return el.value;
    }
    return el.innerText;
  });
}

const commands = {
  async open({ url }) {
    await page.goto(url, { waitUntil: "load" });
    return page.url();
  },

  // fill puts text into a field as a paste would: it clicks the field,
  // selects what is there and inserts the text in one input event. A
  // read-only or disabled field refuses, as it does a person.
  async fill({ role, name, text, timeoutMs }) {
    const h = await find(role, name, timeoutMs);
    try {
      const why = await h.evaluate((el) => {
        if (el.disabled) return "it is disabled";
        if (el.readOnly) return "it is read-only";
        return "";
      });
      if (why) throw new Error(`cannot fill the ${role} named ${JSON.stringify(name)}: ${why}`);
      await h.click();
      const got = await h.evaluate((el, text) => {
        el.focus();
        el.select();
        if (!document.execCommand("insertText", false, text) || el.value !== text) {
          // A browser without insertText in fields: set the value and
          // tell the page, as an input event would.
          el.value = text;
          el.dispatchEvent(new InputEvent("input", { bubbles: true, inputType: "insertFromPaste" }));
        }
        el.dispatchEvent(new Event("change", { bubbles: true }));
        return el.value;
      }, String(text));
      if (got !== String(text)) throw new Error(`the ${role} named ${JSON.stringify(name)} holds ${JSON.stringify(got)} after filling`);
      return "";
    } finally {
      await h.dispose();
    }
  },

  async click({ role, name, timeoutMs }) {
    const h = await find(role, name, timeoutMs);
    try {
      if (await h.evaluate((el) => el.disabled === true)) {
        throw new Error(`cannot click the ${role} named ${JSON.stringify(name)}: it is disabled`);
      }
      await h.click();
      return "";
    } finally {
      await h.dispose();
    }
  },

  // choose clicks the control of that role and name, which opens a file
  // chooser, and picks paths in it, as a person picks files. Firefox ESR
  // 140 opens the chooser without telling WebDriver BiDi (puppeteer's
  // waitForFileChooser times out): there the paths go to the file input
  // the click opened, as the chooser would give them to it.
  async choose({ role, name, paths, timeoutMs }) {
    const h = await find(role, name, timeoutMs);
    try {
      await page.evaluate(() => {
        window.__pigeonChooser = null;
        document.addEventListener("click", (e) => {
          if (e.target instanceof HTMLInputElement && e.target.type === "file") window.__pigeonChooser = e.target;
        }, { capture: true });
      });
      let chooser = null;
      try {
        [chooser] = await Promise.all([page.waitForFileChooser({ timeout: Math.min(timeoutMs, chooserWait) }), h.click()]);
      } catch (e) {
        if (e.name !== "TimeoutError") throw e;
      }
      if (chooser) {
        await chooser.accept(paths);
        return "";
      }
      const opened = (await page.evaluateHandle(() => window.__pigeonChooser)).asElement();
      if (!opened) throw new Error(`clicking the ${role} named ${JSON.stringify(name)} opened no file chooser`);
      try {
        await opened.uploadFile(...paths);
      } finally {
        await opened.dispose();
      }
      return "";
    } finally {
      await h.dispose();
    }
  },

  // screenshot sets the viewport to width x height CSS pixels and saves
  // the whole page as a PNG at path.
  async screenshot({ path, width, height }) {
    await page.setViewport({ width, height, deviceScaleFactor: 1 });
    await page.screenshot({ path, fullPage: true });
    return "";
  },

  async text({ role, name, timeoutMs }) {
    const h = await find(role, name, timeoutMs);
    try {
      return await controlText(h);
    } finally {
      await h.dispose();
    }
  },

  async waitText({ role, name, contains, timeoutMs }) {
    const deadline = Date.now() + timeoutMs;
    let last = "";
    for (;;) {
      const left = Math.max(deadline - Date.now(), 0);
      const h = await find(role, name, left);
      try {
        last = await controlText(h);
      } finally {
        await h.dispose();
      }
      if (last.includes(contains)) return last;
      if (Date.now() >= deadline) {
        throw new Error(`the ${role} named ${JSON.stringify(name)} did not show ${JSON.stringify(contains)} in ${timeoutMs} ms; it shows ${JSON.stringify(last)}`);
      }
      await sleep(100);
    }
  },

  // eval is for diagnostics: it evaluates an expression in the page and
  // returns a string as it is, anything else as JSON.
  async eval({ js }) {
    const v = await page.evaluate(js);
    return typeof v === "string" ? v : JSON.stringify(v) ?? "undefined";
  },

  async close() {
    await shutdown();
    return "";
  },
};

function answer(msg) {
  process.stdout.write(JSON.stringify(msg) + "\n");
}

let closed = false;
async function shutdown() {
  if (closed) return;
  closed = true;
  if (browser) {
    await Promise.race([browser.close(), sleep(10000)]).catch((e) => {
      process.stderr.write(`driver: closing the browser: ${e}\n`);
    });
    // browser.close waits for the process; kill it if it would not go.
    const proc = browser.process();
    if (proc && proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
  }
}

async function main() {
  try {
    const { version, pid } = await launch();
    answer({ id: 0, ok: true, value: version, pid });
  } catch (e) {
    answer({ id: 0, ok: false, error: `starting ${kind}: ${e && e.message ? e.message : e}` });
    await shutdown();
    process.exit(1);
  }
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.trim() === "") continue;
    let req;
    try {
      req = JSON.parse(line);
    } catch (e) {
      answer({ id: null, ok: false, error: `not a JSON command: ${e.message}` });
      continue;
    }
    const fn = Object.hasOwn(commands, req.cmd) ? commands[req.cmd] : null;
    if (!fn) {
      answer({ id: req.id, ok: false, error: `unknown command ${JSON.stringify(req.cmd)}` });
      continue;
    }
    try {
      const value = await fn({ ...req, timeoutMs: req.timeoutMs ?? defaultTimeoutMs });
      answer({ id: req.id, ok: true, value });
    } catch (e) {
      answer({ id: req.id, ok: false, error: e && e.message ? e.message : String(e) });
    }
    if (req.cmd === "close") break;
  }
  // stdin ended (the test is gone) or close: end the browser, then us.
  await shutdown();
  process.exit(0);
}

main();
