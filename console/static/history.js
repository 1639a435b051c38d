// A customer's change history (every rectification: field, old and new value, who, when),
// loaded only when asked for, since reading it is audited; customer service can undo a
// change, which puts the field's earlier value back and is itself kept in the history.

import { api } from "./api.js";
import { attempt, h, showNotice, yesNo } from "./dom.js";
import { maskedHenkilotunnus } from "./henkilotunnus.js";
import { day, named, t, when } from "./i18n.js";

/** The interface text of each field a change can name (the API's names as keys). */
const LABELS = {
  customer_number: "customerNumber", first_name: "firstName", last_name: "lastName",
  henkilotunnus: "henkilotunnus", travel_document: "travelDocument", roles: "roles",
  language: "customerLanguage", status: "status", relationship_start: "relationshipStart",
  turvakielto: "turvakielto", turvakielto_start: "turvakieltoStart", turvakielto_end: "turvakieltoEnd",
  phones: "phones", emails: "emails", addresses: "addresses", assigned_advisor: "assignedAdvisor",
};
/** How a value of each field reads; the rest are shown as they are. */
const SHOWN = {
  henkilotunnus: maskedHenkilotunnus,
  roles: (roles) => roles.map((role) => named("customer_roles", role)).join(", "),
  language: (value) => named("customer_languages", value),
  status: (value) => named("customer_statuses", value),
  turvakielto: yesNo,
  relationship_start: day, turvakielto_start: day, turvakielto_end: day,
  phones: (phones) => phones.map((p) => (typeof p === "object" ? `${p.number} (${named("phone_types", p.type)})` : p)).join(", "),
  addresses: (list) => list.map((a) => (typeof a === "object" ? `${a.street}, ${a.postal_code} ${a.city}` : a)).join("; "),
  emails: (list) => list.join(", "),
};
const MASKED = "masked";

function valueText(field, value) {
  if (value === null || value === undefined || (Array.isArray(value) && !value.length)) return "–";
  if (value === MASKED) return t("hidden");
  const text = (SHOWN[field] ?? String)(value);
  return text.replaceAll(MASKED, t("hidden"));
}

/** The section: a button that loads the history into a table with an undo per change. */
export function historySection(customer, writable, changed) {
  const section = h("section", { "aria-labelledby": "history-title" }, h("h2", { id: "history-title" }, t("history")));
  const load = h("button", { type: "button", id: "show-history", onclick: () => attempt(async () => {
    const { items } = await api("GET", `/v1/customers/${customer.id}/history`);
    load.replaceWith(items.length ? historyTable(customer, items, writable, changed) : h("p", { class: "empty" }, t("none")));
  }) }, t("showHistory"));
  section.append(load);
  return section;
}

function historyTable(customer, items, writable, changed) {
  const undo = (change) => h("button", { type: "button", class: "undo", onclick: () => attempt(async () => {
    await api("POST", `/v1/customers/${customer.id}/history/${change.id}/undo`);
    showNotice(t("undone"));
    await changed();
  }) }, h("span", {}, t("undo")), h("span", { class: "visually-hidden" }, `: ${t(LABELS[change.field] ?? change.field)} ${when(change.at)}`));
  const headers = [t("at"), t("field"), t("oldValue"), t("newValue"), t("changedBy"), ...(writable ? [t("undo")] : [])];
  return h("table", { id: "history" },
    h("thead", {}, h("tr", {}, headers.map((header) => h("th", { scope: "col" }, header)))),
    h("tbody", {}, items.map((change) => h("tr", {},
      h("td", {}, when(change.at)), h("td", {}, t(LABELS[change.field] ?? change.field)),
      h("td", {}, valueText(change.field, change.old)), h("td", {}, valueText(change.field, change.new)),
      h("td", {}, change.changed_by ?? ""), writable ? h("td", {}, undo(change)) : null))));
}
