// The page's one way to the hub: the JSON API under /api/v1, with the browser's session cookie
// (sent by the browser itself), the anti-CSRF token on every mutation, and the motif of
// consultation on every consultation. No access rule lives here: what the API answers is what
// the page shows.

import { askSecondFactor } from "./stepup.js";

const meta = (name) => document.querySelector(`meta[name="${name}"]`)?.getAttribute("content") ?? "";

export const motif = () => meta("crosshub-motif");
export const csrfToken = () => meta("csrf-token");

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message || `erreur ${status}`);
    this.status = status;
    this.code = body?.code || "";
    this.details = body?.details || [];
  }
}

function here() {
  return window.location.pathname + window.location.search;
}

export function toLogin() {
  window.location.assign(`/connexion?suite=${encodeURIComponent(here())}&raison=expiree`);
}

// One renewal at a time, shared by every call that got a 401 meanwhile: the refresh token (an
// HttpOnly cookie the browser sends only to /api/v1/auth/refresh) is single use, and presenting a
// spent one closes the session. True when the session was renewed.
let renewing = null;
export function refreshSession() {
  renewing ??= fetch("/api/v1/auth/refresh", {
    method: "POST", credentials: "same-origin",
    headers: { Accept: "application/json", "X-CSRF-Token": csrfToken() },
  }).then((r) => r.ok, () => false).finally(() => { renewing = null; });
  return renewing;
}

export function toMotif() {
  window.location.assign(`/motif?suite=${encodeURIComponent(here())}`);
}

// GET/POST/PATCH an API path. `query` is an object (arrays repeat the parameter);
// `consult: true` adds the motif as `justification` (the API refuses a consultation without it).
export async function api(path, { method = "GET", query = {}, body, consult = false, raw = false } = {}) {
  const url = new URL(path, window.location.origin);
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === "") continue;
    for (const one of Array.isArray(value) ? value : [value]) url.searchParams.append(name, String(one));
  }
  if (consult) {
    const why = motif();
    if (!why) {
      toMotif();
      throw new ApiError(400, { message: "motif de consultation requis" });
    }
    url.searchParams.set("justification", why);
  }
  const headers = { Accept: "application/json" };
  if (method !== "GET" && method !== "HEAD") headers["X-CSRF-Token"] = csrfToken();
  let payload;
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  const send = () => fetch(url, { method, headers, body: payload, credentials: "same-origin" });
  let response = await send();
  // The access token expired: renew the session silently once (ADR 0021), then the same request.
  if (response.status === 401 && await refreshSession()) response = await send();
  // « second facteur requis »: ask for the code (lib/stepup.js), then send the same request again.
  if (response.status === 403) {
    let refusal = null;
    try { refusal = await response.clone().json(); } catch { /* not JSON */ }
    if (refusal?.code === "second_factor_required" && await askSecondFactor()) response = await send();
  }
  if (response.status === 401) {
    toLogin();
    throw new ApiError(401, { message: "session expirée" });
  }
  if (!response.ok) {
    let detail = null;
    try { detail = await response.json(); } catch { /* not JSON */ }
    throw new ApiError(response.status, detail);
  }
  if (raw) return response;
  if (response.status === 204) return null;
  return response.json();
}

// "8 déc. 2026 à 14:05" in Paris time, whatever the browser's zone.
const FORMAT = new Intl.DateTimeFormat("fr-FR", {
  dateStyle: "medium", timeStyle: "short", timeZone: "Europe/Paris",
});
export function when(iso) {
  if (!iso) return "—";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso) : FORMAT.format(date);
}
