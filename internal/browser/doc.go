// Package browser lets Go tests drive a web page in headless Chromium or
// Firefox ESR as a person would: by the role and visible name of its
// controls ("the button Create offer", "the textbox Remote
// description"), never by CSS selectors or the page's own functions.
//
// [Start] runs driver/driver.mjs under node, which drives the browser
// with puppeteer-core (the DevTools protocol for Chromium, WebDriver BiDi
// for Firefox) and answers one JSON line per command. [TutorialURL]
// serves tutorial.html, the copy-and-paste data channel page that WebRTC
// tutorials write, on 127.0.0.1.
//
// The browsers keep their WebRTC defaults, so a test sees what users'
// browsers do: host candidates hidden behind mDNS names, announced data
// channels. Nothing leaves the machine: the page has no ICE servers and
// the browsers' background networking is off.
//
// Tests skip when node, the browser or driver/node_modules (npm ci in
// driver/) is missing, and fail instead when CI=true.
package browser
