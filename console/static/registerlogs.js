// The register's logs kept beside the card: marketing consents and bans (the newest per kind
// is in force) and disclosures to third parties. Each is a table newest first and, for
// customer service, a form whose errors from the API show beside the field they name.

import { api, present, query } from "./api.js";
import { field, h, pagedTable, showNotice, yesNo } from "./dom.js";
import { apiField, submitWithFieldErrors } from "./fields.js";
import { choices, named, t, when } from "./i18n.js";
import vocabulary from "./vocabulary.js";

/** A log of `customer`: `columns` of its entries; with `writable`, the form of `fields`
 * whose values `toBody` turns into the API's body; `changed()` after an entry is added. */
function logSection(customer, { id, path, columns, fields, toBody }, writable, changed) {
  const table = pagedTable(id, columns, (cursor) => api("GET", `/v1/customers/${customer.id}/${path}${query({ cursor })}`));
  const section = h("section", { "aria-labelledby": `${id}-title` }, h("h2", { id: `${id}-title` }, t(id)), table.node);
  if (writable) {
    const node = h("form", { id: `${id}-form`, "aria-labelledby": `${id}-form-title`, novalidate: true },
      h("h3", { id: `${id}-form-title` }, t(`add_${id}`)),
      fields.map((spec) => apiField(spec.name, field(spec))),
      h("p", {}, h("button", { type: "submit" }, t("save"))));
    submitWithFieldErrors(node, () => toBody(Object.fromEntries(fields.map(({ name }) => [name, node.elements[name].value.trim()]))),
      () => [], async (body) => {
        await api("POST", `/v1/customers/${customer.id}/${path}`, body);
        showNotice(t("saved"));
        await changed();
      });
    section.append(node);
  }
  return { node: section, ready: table.ready };
}

const marketing = () => ({
  id: "marketingLog",
  path: "marketing",
  columns: [
    [t("at"), (m) => when(m.at)], [t("marketingKind"), (m) => named("marketing_kinds", m.kind)],
    [t("choice"), (m) => t(m.allowed ? "consent" : "ban")], [t("givenVia"), (m) => named("contact_channels", m.given_via)],
    [t("staff"), (m) => m.recorded_by], [t("inForce"), (m) => yesNo(m.current)],
  ],
  fields: [
    { name: "kind", label: t("marketingKind"), options: choices("marketing_kinds", vocabulary.marketing_kinds) },
    { name: "allowed", label: t("choice"), options: [["true", t("consent")], ["false", t("ban")]] },
    { name: "given_via", label: t("givenVia"), options: choices("contact_channels", vocabulary.contact_channels) },
  ],
  toBody: (values) => ({ ...values, allowed: values.allowed === "true" }),
});

const disclosures = () => ({
  id: "disclosureLog",
  path: "disclosures",
  columns: [
    [t("at"), (d) => when(d.at)], [t("recipient"), (d) => d.recipient],
    [t("recipientKind"), (d) => named("disclosure_recipients", d.recipient_kind)],
    [t("legalBasis"), (d) => d.legal_basis], [t("dataDisclosed"), (d) => d.data_disclosed], [t("staff"), (d) => d.disclosed_by],
  ],
  fields: [
    { name: "recipient", label: t("recipient"), required: true, maxlength: 1000 },
    { name: "recipient_kind", label: t("recipientKind"), options: choices("disclosure_recipients", vocabulary.disclosure_recipients) },
    { name: "legal_basis", label: t("legalBasis"), required: true, maxlength: 1000 },
    { name: "data_disclosed", label: t("dataDisclosed"), type: "textarea", required: true, maxlength: 1000 },
  ],
  toBody: present,
});

/** Marketing choices and disclosures of `customer`, as sections of the card. */
export const registerLogs = (customer, writable, changed) =>
  [marketing(), disclosures()].map((log) => logSection(customer, log, writable, changed));
