// The one way the app talks HTTP to the hub. The login cookie authenticates every call
// (HttpOnly, so no script ever holds the token); state-changing calls carry the header the
// hub's CSRF rule asks of same-origin scripts.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

type Unauthorized = (message: string) => void;
let onUnauthorized: Unauthorized = () => {};

/** Called when the hub answers 401 to anything but the login itself: the token expired or was revoked. */
export function setUnauthorizedHandler(f: Unauthorized) {
  onUnauthorized = f;
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export type Query = Record<string, string | number | boolean | null | undefined>;

export function withQuery(path: string, q?: Query): string {
  if (!q) return path;
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== null && v !== "") p.set(k, String(v));
  const s = p.toString();
  return s ? `${path}?${s}` : path;
}

export interface ApiOptions {
  login?: boolean;
  /** The body as it is, of this type (a CSV upload), rather than `body` as JSON. */
  raw?: { type: string; text: string };
}

export async function api<T>(method: string, path: string, body?: unknown, opts: ApiOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (method !== "GET") headers["X-Tickhub-Request"] = "1";
  if (opts.raw) headers["Content-Type"] = opts.raw.type;
  else if (body !== undefined) headers["Content-Type"] = "application/json";
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: opts.raw ? opts.raw.text : body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
    });
  } catch {
    throw new ApiError(0, "network", "The hub cannot be reached. Check your connection.");
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let json: any = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    /* a proxy's HTML error page: reported below by status */
  }
  if (!res.ok) {
    const code = json?.error?.code ?? `http_${res.status}`;
    const message = json?.error?.message ?? `${res.status} ${res.statusText}`;
    if (res.status === 401 && !opts.login) onUnauthorized("Your session has expired or was signed out. Please sign in again.");
    throw new ApiError(res.status, code, message, json?.error?.field);
  }
  return json as T;
}

/** A file the hub answers (a CSV report), with the same sign-in and the same errors as `api`. */
export async function getFile(path: string): Promise<Blob> {
  let res: Response;
  try {
    res = await fetch(path, { credentials: "same-origin" });
  } catch {
    throw new ApiError(0, "network", "The hub cannot be reached. Check your connection.");
  }
  if (res.ok) return res.blob();
  let json: any = null;
  try {
    json = JSON.parse(await res.text());
  } catch {
    /* not the hub's JSON error */
  }
  if (res.status === 401) onUnauthorized("Your session has expired or was signed out. Please sign in again.");
  throw new ApiError(res.status, json?.error?.code ?? `http_${res.status}`, json?.error?.message ?? `${res.status} ${res.statusText}`, json?.error?.field);
}

export const get = <T>(path: string, q?: Query) => api<T>("GET", withQuery(path, q));
export const post = <T>(path: string, body?: unknown) => api<T>("POST", path, body ?? {});
export const patch = <T>(path: string, body: unknown) => api<T>("PATCH", path, body);
/** A `text/csv` body (contact imports). */
export const postCsv = <T>(path: string, text: string) => api<T>("POST", path, undefined, { raw: { type: "text/csv", text } });
export const del = <T = void>(path: string) => api<T>("DELETE", path);

/** Every page of a list, for the small lists (sessions, team) that are shown whole. */
export async function getAll<T>(path: string, q: Query = {}, max = 20): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < max; i++) {
    const page: Page<T> = await get<Page<T>>(path, { ...q, limit: 200, cursor });
    out.push(...page.items);
    if (!page.next_cursor) break;
    cursor = page.next_cursor;
  }
  return out;
}
