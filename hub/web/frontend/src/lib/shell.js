// What every page of the application shares: the notification counter in the header, kept up
// to date live. One fetch of the unread notifications when the page opens, then the hub's
// event stream (GET /api/v1/notifications/stream, server-sent events, the session cookie): each
// notification it brings refreshes the count from the API and is handed to the page's own
// listeners (onNotification). The browser reconnects the stream by itself, resuming after the
// last event it received; if the stream fails for good, the count is polled every 30 s instead.
import { api } from "./api.js";

const STREAM = "/api/v1/notifications/stream";
const POLL_MS = 30_000;

const listeners = new Set();
let source = null;
let pollTimer = null;

// A page's listener receives each live notification (the API's Notification object).
export function onNotification(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export async function refreshNotifications() {
  const counter = document.getElementById("notifications-count");
  if (!counter) return;
  try {
    const unread = await api("/api/v1/notifications", { query: { unread: true } });
    const text = String(unread.length);
    if (counter.textContent !== text) counter.textContent = text; // read out once (aria-live)
    counter.closest("a")?.setAttribute("aria-label", `Notifications : ${unread.length} non lue(s)`);
  } catch { /* the counter is a convenience: the page itself reports errors */ }
}

// Whether the counter is fed live (data-live on the counter: for tests and styling).
function live(on) {
  const counter = document.getElementById("notifications-count");
  if (counter) counter.dataset.live = on ? "oui" : "non";
}

function startPolling() {
  if (pollTimer !== null) return;
  pollTimer = window.setInterval(() => {
    refreshNotifications();
    listen(); // and try the stream again
  }, POLL_MS);
}

function stopPolling() {
  if (pollTimer === null) return;
  window.clearInterval(pollTimer);
  pollTimer = null;
}

function listen() {
  if (source !== null || typeof window.EventSource !== "function") {
    if (source === null) startPolling();
    return;
  }
  source = new EventSource(STREAM, { withCredentials: false });
  source.addEventListener("open", () => {
    stopPolling();
    live(true);
  });
  source.addEventListener("notification", (event) => {
    let note = null;
    try { note = JSON.parse(event.data); } catch { return; }
    refreshNotifications();
    for (const listener of listeners) {
      try { listener(note); } catch { /* one page listener's fault stays its own */ }
    }
  });
  source.addEventListener("error", () => {
    // CONNECTING: the stream ended (its time was up) and the browser comes back by itself,
    // with the last event id. CLOSED: refused (session ended, hub away): poll instead.
    live(false);
    if (source && source.readyState === EventSource.CLOSED) {
      source.close();
      source = null;
      refreshNotifications(); // an expired session goes back to sign-in from here
      startPolling();
    }
  });
}

function close() {
  stopPolling();
  live(false);
  if (source !== null) {
    source.close();
    source = null;
  }
}

export function boot() {
  if (document.getElementById("notifications-count")) {
    refreshNotifications();
    listen();
    // Leaving the page frees its connection at once (a page kept in the back-forward cache
    // would otherwise hold it, and the browser allows few per host); coming back reopens it.
    window.addEventListener("pagehide", close);
    window.addEventListener("pageshow", (event) => {
      if (event.persisted) {
        refreshNotifications();
        listen();
      }
    });
  }
  return document.getElementById("app");
}

// `busy(work)`: runs work with #app marked data-state=loading, and ready once no work is pending
// (tests and bench/ui.py wait on it).
export function busyTracker(root) {
  let pending = 0;
  return async (work) => {
    pending += 1;
    root.dataset.state = "loading";
    try {
      return await work();
    } finally {
      pending -= 1;
      if (!pending) root.dataset.state = "ready";
    }
  };
}
