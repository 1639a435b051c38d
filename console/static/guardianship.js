// Guardianships on the customer card: the links where the customer is a guardian or a ward
// (edunvalvonta, or a minor's guardian), and for customer service adding a guardian, found by
// customer number, and ending a link.

import { api, ApiError, customerByNumber } from "./api.js";
import { attempt, field, h, link, showNotice } from "./dom.js";
import { apiField, submitWithFieldErrors } from "./fields.js";
import { choices, day, named, t } from "./i18n.js";
import vocabulary from "./vocabulary.js";

/** Today in the browser's zone as the API's date (YYYY-MM-DD). */
const today = () => new Date().toLocaleDateString("sv-SE");

export function guardianshipSection(customer, writable, changed) {
  const section = h("section", { "aria-labelledby": "guardianships-title" });
  const after = (notice) => async () => {
    showNotice(t(notice));
    await changed();
  };
  const ready = api("GET", `/v1/customers/${customer.id}/guardianships`).then(({ items }) => {
    section.replaceChildren(h("h2", { id: "guardianships-title" }, t("guardianships")),
      items.length ? linksTable(customer, items, writable, after("saved")) : h("p", { class: "empty" }, t("none")),
      writable ? guardianForm(customer, after("saved")) : "");
  });
  return { node: section, ready };
}

function linksTable(customer, items, writable, ended) {
  const person = (p) => (p.id === customer.id ? p.name : link(`#/customers/${p.id}`, p.name));
  const end = (g) => (writable && !g.end_date ? h("button", { type: "button", class: "end-guardianship",
    "aria-label": `${t("endToday")}: ${named("guardianship_kinds", g.kind)}, ${g.guardian.name} – ${g.ward.name}`,
    onclick: () => attempt(async () => {
      await api("PATCH", `/v1/customers/${customer.id}/guardianships/${g.id}`, { end_date: today() });
      await ended();
    }) }, t("endToday")) : "");
  const headers = [t("guardianshipKind"), t("guardian"), t("ward"), t("period"), ...(writable ? [t("endToday")] : [])];
  return h("table", { id: "guardianships" },
    h("thead", {}, h("tr", {}, headers.map((header) => h("th", { scope: "col" }, header)))),
    h("tbody", {}, items.map((g) => h("tr", {},
      h("td", {}, named("guardianship_kinds", g.kind)), h("td", {}, person(g.guardian)), h("td", {}, person(g.ward)),
      h("td", {}, `${day(g.start_date)}–${day(g.end_date)}`), writable ? h("td", {}, end(g)) : null))));
}

function guardianForm(customer, saved) {
  const node = h("form", { id: "guardianship-form", "aria-labelledby": "guardianship-form-title", novalidate: true },
    h("h3", { id: "guardianship-form-title" }, t("addGuardian")),
    apiField("guardian_id", field({ name: "guardian_number", label: t("guardianNumber"), required: true, maxlength: 32, autocomplete: "off" })),
    apiField("kind", field({ name: "kind", label: t("guardianshipKind"), options: choices("guardianship_kinds", vocabulary.guardianship_kinds) })),
    apiField("start_date", field({ name: "start_date", label: t("startDate"), type: "date" })),
    apiField("end_date", field({ name: "end_date", label: t("endDate"), type: "date" })),
    h("p", {}, h("button", { type: "submit" }, t("save"))));
  const value = (name) => node.elements[name].value.trim() || undefined;
  submitWithFieldErrors(node, () => ({
    guardian_number: value("guardian_number"), kind: value("kind"), start_date: value("start_date"), end_date: value("end_date"),
  }), () => [], async ({ guardian_number: number, ...body }) => {
    const guardian = await customerByNumber(number);
    if (!guardian) {
      throw new ApiError(422, { detail: t("noSuchCustomer"), errors: [{ field: "guardian_id", message: t("noSuchCustomer") }] });
    }
    await api("POST", `/v1/customers/${customer.id}/guardianships`, { ...body, guardian_id: guardian.id });
    await saved();
  });
  return node;
}
