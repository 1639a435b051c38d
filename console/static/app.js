// The callrec console: plain ES modules, no build step, talks to the JSON API with the
// cookie session. Every state-changing call sends the CSRF token from the login answer.

const TEXT = {
  fi: {
    language: "In English", logout: "Kirjaudu ulos", login: "Kirjaudu sisään",
    username: "Käyttäjätunnus", password: "Salasana", recordings: "Tallenteet",
    started: "Alkoi", duration: "Kesto (s)", caller: "Soittaja", agent: "Vastaaja",
    status: "Tila", more: "Näytä lisää", none: "Ei tallenteita.", hidden: "piilotettu",
  },
  en: {
    language: "Suomeksi", logout: "Log out", login: "Log in",
    username: "Username", password: "Password", recordings: "Recordings",
    started: "Started", duration: "Duration (s)", caller: "Caller", agent: "Answered by",
    status: "Status", more: "Show more", none: "No recordings.", hidden: "hidden",
  },
};

let language = localStorage.getItem("callrec.language") === "en" ? "en" : "fi";
let csrf = null;
const t = (key) => TEXT[language][key];
const $ = (id) => document.getElementById(id);

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

function showError(message) {
  $("error").textContent = message || "";
  $("error").hidden = !message;
}

async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && csrf) headers["X-CSRF-Token"] = csrf;
  const response = await fetch(path, {
    method, headers, credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const fields = (data.errors || []).map((e) => `${e.field}: ${e.message}`).join("; ");
    throw Object.assign(new Error(fields || data.detail || response.statusText), { status: response.status });
  }
  return data;
}

function renderLogin() {
  $("nav").replaceChildren();
  $("logout").hidden = true;
  const form = element("form", { id: "login", "aria-label": t("login") },
    element("label", { for: "username" }, t("username")),
    element("input", { id: "username", name: "username", autocomplete: "username", required: "" }),
    element("label", { for: "password" }, t("password")),
    element("input", { id: "password", name: "password", type: "password", autocomplete: "current-password", required: "" }),
    element("p", {}, element("button", { type: "submit" }, t("login"))));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const answer = await api("POST", "/v1/auth/session", {
        username: form.username.value, password: form.password.value,
      });
      csrf = answer.csrf_token;
      showError("");
      await start();
    } catch (error) {
      showError(error.message);
    }
  });
  $("main").replaceChildren(form);
  form.username.focus();
}

function cell(value) {
  return element("td", {}, value === null || value === undefined ? t("hidden") : String(value));
}

async function renderRecordings(cursor = null, table = null) {
  const query = new URLSearchParams({ limit: "50" });
  if (cursor) query.set("cursor", cursor);
  const page = await api("GET", `/v1/recordings?${query}`);
  if (!table) {
    table = element("table", { id: "recordings" },
      element("thead", {}, element("tr", {},
        ...["started", "duration", "caller", "agent", "status"].map((k) => element("th", { scope: "col" }, t(k))))),
      element("tbody"));
    $("main").replaceChildren(element("h1", {}, t("recordings")), table);
  }
  for (const item of page.items) {
    table.tBodies[0].append(element("tr", { "data-id": item.id },
      cell(new Date(item.started_at).toLocaleString(language)), cell(item.duration_seconds),
      cell(item.caller_number), cell(item.answered_by), cell(item.status)));
  }
  if (!page.items.length && !cursor) $("main").append(element("p", {}, t("none")));
  $("more")?.remove();
  if (page.next) {
    const more = element("button", { id: "more", type: "button" }, t("more"));
    more.addEventListener("click", () => renderRecordings(page.next, table));
    $("main").append(more);
  }
}

async function start() {
  $("language").textContent = t("language");
  $("logout").textContent = t("logout");
  document.documentElement.lang = language;
  let me;
  try {
    me = await api("GET", "/v1/auth/me");
  } catch (error) {
    if (error.status === 401) return renderLogin();
    return showError(error.message);
  }
  csrf = me.csrf_token;
  $("logout").hidden = false;
  $("nav").replaceChildren(element("a", { href: "#recordings" }, t("recordings")));
  try {
    await renderRecordings();
  } catch (error) {
    showError(error.message);
  }
}

$("language").addEventListener("click", () => {
  language = language === "fi" ? "en" : "fi";
  localStorage.setItem("callrec.language", language);
  start();
});
$("logout").addEventListener("click", async () => {
  try {
    await api("DELETE", "/v1/auth/session");
  } finally {
    csrf = null;
    renderLogin();
  }
});
start();
