// The JSON API over the cookie session. Every state-changing call carries the CSRF token
// that the login (or /v1/auth/me after a reload) handed out; the server refuses it without.

let csrf = null;
let sessionEnded = () => {};

export function setCsrf(token) {
  csrf = token;
}

/** What to do when any call finds the session gone (expired, revoked, logged out elsewhere). */
export function onSessionEnd(handler) {
  sessionEnded = handler;
}

/** An answer of the API that was not 2xx: its problem+json, readable as one sentence. */
export class ApiError extends Error {
  constructor(status, problem) {
    const fields = (problem.errors || []).map((e) => `${e.field}: ${e.message}`).join("; ");
    super(fields ? `${problem.detail || problem.title || status} (${fields})` : problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

const LOGIN = "/v1/auth/session";

export async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && csrf) headers["X-CSRF-Token"] = csrf;
  const response = await fetch(path, {
    method, headers, credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  if (response.status === 401 && !(method === "POST" && path === LOGIN)) sessionEnded(); // a failed login stays
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

/** The values that are set (empty strings and nulls are left out), for a query or a body. */
export const present = (values) =>
  Object.fromEntries(Object.entries(values).filter(([, v]) => v !== null && v !== undefined && v !== ""));

/** A query string of the values that are set. */
export function query(values) {
  const entries = Object.entries(present(values));
  return entries.length ? `?${new URLSearchParams(entries)}` : "";
}

/** The customer whose customer number is exactly `number` (through the search, so the number
 * travels in a body), or undefined. */
export async function customerByNumber(number) {
  if (!number) return undefined;
  const { items } = await api("POST", "/v1/customers/search", { q: number });
  return items.find((c) => c.customer_number === number);
}
