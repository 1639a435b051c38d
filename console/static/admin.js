// The administrator's page: accounts and their roles, and the agent names the telephony
// system sent that match no account.

import { api, query } from "./api.js";
import { attempt, field, form, h, pagedTable, showNotice } from "./dom.js";
import { named, t, when } from "./i18n.js";
import vocabulary from "./vocabulary.js";

const roleFields = (chosen = []) => h("fieldset", {}, h("legend", {}, t("roles")),
  vocabulary.roles.map((role) => field({ name: `role:${role}`, label: named("roles", role), type: "checkbox", value: chosen.includes(role) })));
const chosenRoles = (values) => vocabulary.roles.filter((role) => values[`role:${role}`]);

/** `#/users`: every account, a form for a new one, and the unmatched agents. */
export function usersPage(main) {
  const list = h("section", { "aria-live": "polite" });
  const editor = h("section", { id: "edit-user", "aria-live": "polite" });
  function edit(user) {
    editor.replaceChildren(form({ id: "change-user", "aria-label": user.username }, [
      h("h2", {}, `${t("changeUser")}: ${user.username}`),
      roleFields(user.roles),
      field({ name: "disabled", label: t("disabled"), type: "checkbox", value: user.disabled }),
    ], t("save"), async (values) => {
      await api("PATCH", `/v1/users/${user.id}`, { roles: chosenRoles(values), disabled: values.disabled });
      editor.replaceChildren();
      showNotice(t("saved"));
      await show();
    }), credentials(user));
    editor.querySelector("input").focus();
  }
  // A reset shows the one-time password once, for the administrator to hand over. A lost
  // second factor is switched off only after a confirmation: the person then signs in with
  // the password alone (or must enrol again, if their role requires it).
  function credentials(user) {
    const shown = h("p", { id: "one-time-password", "aria-live": "polite" });
    const act = (label, run, id) => h("button", { type: "button", id, onclick: () => attempt(run) }, label);
    const switchOff = user.second_factor && act(t("switchOffTwoFactor"), async () => {
      if (!window.confirm(`${t("switchOffTwoFactorConfirm")} ${user.username}?`)) return;
      await api("DELETE", `/v1/users/${user.id}/totp`);
      switchOff.remove();
      showNotice(`${t("twoFactorSwitchedOff")}: ${user.username}`);
      await show();
    }, "switch-off-two-factor");
    return h("section", { "aria-label": t("credentials") }, h("h3", {}, t("credentials")), h("p", {},
      act(t("resetPassword"), async () => {
        const answer = await api("POST", `/v1/users/${user.id}/password-reset`);
        shown.replaceChildren(`${t("oneTimePassword")}: `, h("code", {}, answer.one_time_password));
      }), " ",
      act(t("endAllSessions"), async () => {
        const answer = await api("DELETE", `/v1/users/${user.id}/sessions`);
        showNotice(`${t("sessionsEnded")}: ${answer.sessions_ended}`);
      }), switchOff && " ", switchOff), shown);
  }
  function show() {
    const table = pagedTable("users", [
      [t("username"), (u) => h("button", { type: "button", class: "as-link", onclick: () => edit(u) }, u.username)],
      [t("displayName"), (u) => u.display_name],
      [t("extension"), (u) => u.extension], [t("roles"), (u) => u.roles.map((role) => named("roles", role)).join(", ")],
      [t("disabled"), (u) => (u.disabled || u.locked ? t("yes") : "")],
      [t("twoFactor"), (u) => (u.second_factor ? t("yes") : t("no"))],
    ], (after) => api("GET", `/v1/users${query({ after })}`));
    list.replaceChildren(table.node);
    return table.ready;
  }
  const add = form({ id: "add-user" }, [
    h("h2", {}, t("addUser")),
    field({ name: "username", label: t("username"), required: true, autocomplete: "off" }),
    field({ name: "display_name", label: t("displayName") }),
    field({ name: "extension", label: t("extension") }),
    field({ name: "password", label: t("password"), type: "password", required: true, autocomplete: "new-password" }),
    roleFields(),
  ], t("create"), async (values, node) => {
    await api("POST", "/v1/users", {
      username: values.username, password: values.password, roles: chosenRoles(values),
      display_name: values.display_name || null, extension: values.extension || null,
    });
    node.reset();
    showNotice(t("created"));
    await show();
  });
  const unmatched = pagedTable("unmatched-agents", [
    [t("agent"), (a) => a.answered_by], ["#", (a) => String(a.calls)], [t("lastCall"), (a) => when(a.last_call)],
  ], async () => ({ ...(await api("GET", "/v1/recordings/unmatched-agents")), next: null }));
  main.replaceChildren(h("h1", {}, t("users")), list, editor, add,
    h("h2", {}, t("unmatchedAgents")), unmatched.node);
  return show();
}
