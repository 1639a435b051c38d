// The callrec console: plain ES modules, no build step, talking to the JSON API with the
// cookie session. The hash names the page (#/recordings/…); each page belongs to the
// permission its task needs, and the navigation shows only the pages of the user's roles.
// The server decides what data anyone sees; hiding a page here is only convenience.

import { accountPage, passwordChangePage, setupPage } from "./account.js";
import { api, onSessionEnd, setCsrf } from "./api.js";
import { customerPage, customersPage } from "./customers.js";
import { editCustomerPage, newCustomerPage } from "./customerform.js";
import { evidencePage } from "./evidence.js";
import { $, field, form, h, showError, showNotice } from "./dom.js";
import { auditPage, holdsPage } from "./oversight.js";
import { recordingPage, recordingsPage, trainingPage } from "./recordings.js";
import { newRequestPage, requestPage, requestsPage } from "./requests.js";
import { language, t, toggleLanguage } from "./i18n.js";
import { ssoFailure, ssoLink } from "./sso.js";
import { usersPage } from "./admin.js";
import { secondStepForm, twoFactorPage } from "./twofactor.js";
import { collectionPage, collectionsPage } from "./workspace.js";
import vocabulary from "./vocabulary.js";

const P = vocabulary.permissions; // the server's names, never copied here

const PAGES = [
  { path: "recordings", needs: P.LIST_RECORDINGS, list: recordingsPage, detail: recordingPage },
  { path: "training", needs: P.LIST_TRAINING_RECORDINGS, list: trainingPage,
    detail: (main, id, me) => recordingPage(main, id, me, { training: true }) },
  { path: "customers", needs: P.READ_REGISTER, list: customersPage, detail: customerPage },
  // Reached from the customers page and the card, so they stay out of the navigation.
  { path: "new-customer", label: "newCustomer", needs: P.WRITE_REGISTER, list: newCustomerPage, offNavWith: P.WRITE_REGISTER },
  { path: "edit-customer", label: "editCustomer", needs: P.WRITE_REGISTER, detail: editCustomerPage, offNavWith: P.WRITE_REGISTER },
  // The officer reaches this one from the queue, so it stays out of their navigation.
  { path: "new-request", label: "newRequest", needs: P.CREATE_SUBJECT_REQUESTS, list: newRequestPage,
    detail: newRequestPage, offNavWith: P.MANAGE_SUBJECT_REQUESTS },
  { path: "requests", needs: P.MANAGE_SUBJECT_REQUESTS, list: requestsPage, detail: requestPage },
  { path: "holds", needs: P.MANAGE_LEGAL_HOLDS, list: holdsPage },
  { path: "audit", needs: P.READ_AUDIT, list: auditPage },
  { path: "evidence", needs: P.READ_COMPLIANCE, list: evidencePage },
  { path: "collections", needs: P.KEEP_TRAINING_COLLECTIONS, list: collectionsPage, detail: collectionPage },
  { path: "users", needs: P.MANAGE_USERS, list: usersPage },
  { path: "account", any: true, list: accountPage }, // one's own password and sessions
];

let me = null;

// Every user's own page, reached from the header; a role that needs a second factor sees
// nothing else until it is enrolled (the API refuses the rest anyway).
const TWO_FACTOR = { path: "two-factor", label: "twoFactor", list: (main, _, who) => twoFactorPage(main, who, refreshMe) };
const mustEnrol = () => me.second_factor === "required";
const mine = () => (mustEnrol() ? [] : PAGES.filter((page) => page.any || me.permissions.includes(page.needs)));

async function refreshMe() {
  me = await api("GET", "/v1/auth/me");
}

/** A page shown without the navigation: the first-run setup, a forced password change. */
function bare(username) {
  $("nav").replaceChildren();
  $("who").textContent = username ? `${t("loggedInAs")} ${username}` : "";
  $("logout").hidden = !username;
  return $("main");
}

function renderLogin(username = "") {
  me = null;
  setCsrf(null);
  $("nav").replaceChildren();
  $("who").textContent = "";
  $("logout").hidden = true;
  $("two-factor-link").hidden = true;
  const login = form({ id: "login", "aria-label": t("login") }, [
    h("h1", {}, t("login")),
    field({ name: "username", label: t("username"), autocomplete: "username", required: true, value: username }),
    field({ name: "password", label: t("password"), type: "password", autocomplete: "current-password", required: true }),
  ], t("login"), async (values) => {
    const answer = await api("POST", "/v1/auth/session", values);
    if (answer.second_factor) {
      const step = secondStepForm(answer.challenge, start);
      $("main").replaceChildren(step);
      step.querySelector("input").focus();
      return;
    }
    setCsrf(answer.csrf_token);
    if (location.hash.startsWith("#/sso/")) history.replaceState(null, "", "/"); // said already
    await start();
  });
  $("main").replaceChildren(...[ssoFailure(), login].filter(Boolean));
  login.querySelector(username ? "input[name=password]" : "input").focus();
  ssoLink().then((link) => link && login.after(link));
}

function renderNav() {
  const here = location.hash.split("/")[1];
  $("nav").replaceChildren(...mine().filter((page) => !me.permissions.includes(page.offNavWith))
    .map((page) => h("a", { href: `#/${page.path}`, "data-page": page.path,
      "aria-current": page.path === here ? "page" : null }, t(page.label ?? page.path))));
  $("who").textContent = `${t("loggedInAs")} ${me.username}`;
}

async function route() {
  if (!me || (location.hash && !location.hash.startsWith("#/"))) return; // #main: the skip link
  showError(null);
  // `?…` after the route carries what a page opens at (a moment of a call), not its id
  const [, path, id] = location.hash.split("?")[0].split("/").map(decodeURIComponent);
  const allowed = [...mine(), TWO_FACTOR];
  if (!path || (mustEnrol() && path !== TWO_FACTOR.path)) {
    location.replace(`#/${allowed[0].path}`);
    return;
  }
  renderNav();
  const main = $("main");
  const page = allowed.find((p) => p.path === path) ?? PAGES.find((p) => p.path === path);
  if (!page || !allowed.includes(page) || (id && !page.detail)) {
    main.replaceChildren(h("h1", {}, "callrec"), h("p", { id: "refused" }, t(page ? "notYours" : "notFound")));
    return;
  }
  main.replaceChildren();
  try {
    await (id ? page.detail(main, id, me) : page.list(main, null, me));
    main.querySelector("h1")?.setAttribute("tabindex", "-1");
  } catch (error) {
    if (me) showError(error); // else the session ended and the login form is up
  }
}

async function start() {
  $("language").textContent = t("language");
  $("logout").textContent = t("logout");
  $("privacy").textContent = t("privacyNotice");
  $("privacy").href = `/privacy?lang=${language}`;
  $("two-factor-link").textContent = t("twoFactor");
  document.documentElement.lang = language;
  const setupToken = new URLSearchParams(location.hash.split("?")[1] ?? "").get("token");
  if (location.hash.startsWith("#/setup?") && setupToken) {
    setupPage(bare(null), setupToken, (username) => {
      renderLogin(username);
      showNotice(t("adminCreated"));
    });
    return;
  }
  try {
    me = await api("GET", "/v1/auth/me");
  } catch (error) {
    if (error.status !== 401) showError(error); // 401: not logged in, the form is up
    return;
  }
  setCsrf(me.csrf_token);
  $("logout").hidden = false;
  $("two-factor-link").hidden = false;
  showError(null);
  if (me.password_change_required) {
    passwordChangePage(bare(me.username), start);
    return;
  }
  await route();
}

$("language").addEventListener("click", () => {
  toggleLanguage();
  showNotice(null);
  start();
});
$("logout").addEventListener("click", async () => {
  try {
    await api("DELETE", "/v1/auth/session");
  } finally {
    location.hash = "";
    renderLogin();
  }
});
onSessionEnd(renderLogin);
window.addEventListener("hashchange", () => {
  showNotice(null);
  if (location.hash.startsWith("#/setup?")) start(); // a setup link pasted into an open tab
  else route();
});
start();
