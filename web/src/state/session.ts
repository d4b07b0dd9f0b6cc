// Who is signed in, their own presence, and the one live socket of this tab.

import { signal } from "@preact/signals";
import { api, ApiError, get, post, setUnauthorizedHandler, type Page } from "../api/http";
import type { Presence, PresenceUpdate, User } from "../api/types";
import { Live } from "../live/socket";
import { navigate } from "../lib/router";

export const me = signal<User | null>(null);
/** Known once /api/auth/me answered (or failed): until then the app shows nothing. */
export const ready = signal(false);
/** Why the login page is shown (an expired token, a sign-out). */
export const loginNotice = signal<string | null>(null);
export const myPresence = signal<Presence>("offline");

export const live = new Live({
  checkAuth: async () => {
    try {
      await get<User>("/api/auth/me");
      return true;
    } catch (e) {
      return !(e instanceof ApiError && e.status === 401);
    }
  },
});

live.on("presence.updated", (f) => {
  const p = f.data as PresenceUpdate;
  if (me.value && p.user_id === me.value.id) myPresence.value = p.status;
});

function signedOut(notice: string | null) {
  live.stop();
  me.value = null;
  myPresence.value = "offline";
  loginNotice.value = notice;
  navigate("/login", { replace: true });
}

setUnauthorizedHandler((message) => {
  if (me.value) signedOut(message);
});

async function loadPresence(u: User) {
  try {
    const log = await get<Page<PresenceUpdate>>(`/api/team-members/${u.id}/presence`, { limit: 1 });
    if (log.items[0] && me.value?.id === u.id && myPresence.value === "offline") myPresence.value = log.items[0].status;
  } catch {
    /* the first presence.updated will tell */
  }
}

function signedIn(u: User) {
  me.value = u;
  loginNotice.value = null;
  live.seq = null;
  live.start();
  void loadPresence(u);
}

/** At start: is the cookie still good? */
export async function restore() {
  try {
    signedIn(await get<User>("/api/auth/me"));
  } catch {
    me.value = null;
  } finally {
    ready.value = true;
  }
}

export async function login(email: string, password: string) {
  const res = await api<{ token: string; user: User }>("POST", "/api/auth/login", { email, password }, { login: true });
  signedIn(res.user);
}

export async function logout() {
  try {
    await post("/api/auth/logout");
  } finally {
    signedOut("You are signed out.");
  }
}

export function setPresence(status: Presence) {
  return live.command("presence.set", { status });
}

// The hub makes an idle member away; any key or click here is activity (at most every 20 s).
let lastActivity = 0;
export function noteActivity() {
  const now = Date.now();
  if (now - lastActivity < 20_000 || !me.value) return;
  lastActivity = now;
  live.send("activity", {});
}
