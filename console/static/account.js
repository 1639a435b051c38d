// One's own account: the first-run setup page, changing one's password (also the forced
// change after an administrator's reset), and one's open sessions.

import { api } from "./api.js";
import { attempt, field, form, h, pagedTable, showNotice } from "./dom.js";
import { t, when } from "./i18n.js";

const passwordHint = () => h("p", { class: "hint", id: "password-hint" }, t("passwordAdvice"));

/** `#/setup?token=…`: the first administrator, from the link `callrec serve` printed. */
export function setupPage(main, token, onDone) {
  const setup = form({ id: "setup", "aria-label": t("setupTitle") }, [
    h("h1", {}, t("setupTitle")),
    h("p", {}, t("setupIntro")),
    field({ name: "username", label: t("username"), autocomplete: "username", required: true }),
    field({ name: "password", label: t("newPassword"), type: "password", autocomplete: "new-password",
      required: true, "aria-describedby": "password-hint" }),
    passwordHint(),
  ], t("createAdmin"), async (values) => {
    await api("POST", "/v1/setup", { token, username: values.username, password: values.password });
    history.replaceState(null, "", location.pathname); // the token is spent: off the address bar
    onDone(values.username);
  });
  main.replaceChildren(setup);
  setup.querySelector("input").focus();
}

/** The form that changes one's own password; `onDone` runs after the change. */
function passwordForm(onDone) {
  return form({ id: "change-password", "aria-label": t("changePassword") }, [
    h("h2", {}, t("changePassword")),
    field({ name: "current", label: t("currentPassword"), type: "password", autocomplete: "current-password", required: true }),
    field({ name: "new", label: t("newPassword"), type: "password", autocomplete: "new-password",
      required: true, "aria-describedby": "password-hint" }),
    passwordHint(),
  ], t("changePassword"), async (values, node) => {
    const answer = await api("POST", "/v1/auth/password", { current: values.current, new: values.new });
    node.reset();
    showNotice(`${t("passwordChanged")} ${t("otherSessionsEnded")}: ${answer.other_sessions_ended}`);
    await onDone();
  });
}

/** After an administrator's reset: nothing but the change, then the console as usual. */
export function passwordChangePage(main, onDone) {
  const page = passwordForm(onDone);
  main.replaceChildren(h("h1", {}, t("passwordChangeRequired")), h("p", {}, t("oneTimeExplained")), page);
  page.querySelector("input").focus();
}

/** `#/account`: change one's password; see and end one's open sessions. */
export function accountPage(main) {
  const sessions = h("section", { id: "sessions", "aria-live": "polite" });
  function show() {
    const table = pagedTable("session-list", [
      [t("device"), (s) => s.device || t("unknownDevice")],
      [t("sessionStarted"), (s) => when(s.started_at)],
      [t("lastSeen"), (s) => when(s.last_seen_at)],
      [t("endSession"), (s) => (s.current ? t("thisSession")
        : h("button", { type: "button", "aria-label": `${t("endSession")}: ${s.device || t("unknownDevice")}, ${when(s.started_at)}`,
          onclick: () => attempt(async () => {
            await api("DELETE", `/v1/auth/sessions/${s.id}`);
            showNotice(t("sessionEnded"));
            await show();
          }) }, t("endSession")))],
    ], async () => ({ ...(await api("GET", "/v1/auth/sessions")), next: null }));
    sessions.replaceChildren(h("h2", {}, t("openSessions")), table.node);
    return table.ready;
  }
  main.replaceChildren(h("h1", {}, t("account")), passwordForm(show), sessions);
  return show();
}
