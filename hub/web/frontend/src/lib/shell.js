// What every page of the application shares: the notification counter in the header.
import { api } from "./api.js";

export async function refreshNotifications() {
  const counter = document.getElementById("notifications-count");
  if (!counter) return;
  try {
    const unread = await api("/api/v1/notifications", { query: { unread: true } });
    counter.textContent = String(unread.length);
    counter.closest("a")?.setAttribute("aria-label", `Notifications : ${unread.length} non lue(s)`);
  } catch { /* the counter is a convenience: the page itself reports errors */ }
}

export function boot() {
  refreshNotifications();
  return document.getElementById("app");
}
