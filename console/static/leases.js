// A customer's leases on the card: every lease with its parties and household (masked by the
// server as addresses are, under turvakielto), and for customer service the form that adds a
// lease with its parties, found by customer number, and its household, and on each lease the
// forms that set or change its end date and record its termination.

import { api, ApiError, customerByNumber } from "./api.js";
import { field, form, h, link, showNotice } from "./dom.js";
import { apiField, part, rows, submitWithFieldErrors } from "./fields.js";
import { choices, day, named, t } from "./i18n.js";
import vocabulary from "./vocabulary.js";

const MASKED = "masked";
const shown = (value, show) => (value === MASKED ? t("hidden") : show(value));

/** The section; `writable` adds the form, after which `changed()` draws the card again (its
 * leases in force among it). */
export function leasesSection(customer, writable, changed) {
  const section = h("section", { "aria-labelledby": "leases-title" });
  const ready = api("GET", `/v1/customers/${customer.id}/leases`).then(({ items }) => {
    section.replaceChildren(h("h2", { id: "leases-title" }, t("leaseHistory")), leaseTable(items, writable, async () => {
      showNotice(t("saved"));
      await changed();
    }),
      writable ? leaseForm(customer, async () => {
        showNotice(t("saved"));
        await changed();
      }) : "");
  });
  return { node: section, ready };
}

/** A lease's end date, set or changed (empty: in force until further notice); the API's
 * answer (a malformed date, an end before the start) shows beside the field. A date the
 * browser cannot read (half typed) is refused here rather than sent as "no end". */
function endDate(lease, done) {
  const input = field({ name: "end_date", label: `${t("endDate")} (${lease.lease_number})`, type: "date", value: lease.end_date ?? "" });
  const hint = h("span", { class: "hint", id: `end-hint-${lease.id}` }, t("emptyNoEnd"));
  input.querySelector("input").setAttribute("aria-describedby", hint.id);
  input.append(hint);
  const node = h("form", { class: "inline end-date", "aria-label": `${t("changeEndDate")}: ${lease.lease_number}`, novalidate: true },
    apiField("end_date", input), h("p", {}, h("button", { type: "submit" }, t("changeEndDate"))));
  const control = node.elements.end_date;
  submitWithFieldErrors(node, () => ({ end_date: control.value || null }),
    () => (control.validity.badInput ? [{ field: "end_date", message: t("wholeDate") }] : []),
    async (body) => {
      await api("PATCH", `/v1/leases/${lease.id}`, body);
      await done();
    });
  return node;
}

/** A lease's termination: the day it was given notice, which the API keeps beside the end. */
function terminate(lease, done) {
  const node = form({ class: "inline terminate", "aria-label": `${t("terminate")}: ${lease.lease_number}` }, [
    field({ name: "terminated_on", label: `${t("terminatedOnDate")} (${lease.lease_number})`, type: "date", required: true }),
  ], t("terminate"), async (values) => {
    await api("PATCH", `/v1/leases/${lease.id}`, { terminated_on: values.terminated_on });
    await done();
  });
  return node;
}

function leaseTable(items, writable, changed) {
  if (!items.length) return h("p", { class: "empty" }, t("none"));
  const period = (l) => [`${day(l.start_date)}–${day(l.end_date)}`,
    l.terminated_on ? `${t("terminatedOn")} ${day(l.terminated_on)}` : ""].filter(Boolean).join(", ");
  const party = (p) => {
    const text = `${shown(p.name, (name) => name)} (${named("lease_roles", p.role)})`;
    return p.customer_id === MASKED ? text : link(`#/customers/${p.customer_id}`, text);
  };
  const household = (members) => shown(members, (list) => list
    .map((m) => (m.birth_date ? `${m.name} (${day(m.birth_date)})` : m.name)).join(", "));
  return h("table", { id: "leases" },
    h("thead", {}, h("tr", {}, [t("leaseNumber"), t("home"), t("period"), t("parties"), t("household"), ...(writable ? [t("changeLease")] : [])]
      .map((header) => h("th", { scope: "col" }, header)))),
    h("tbody", {}, items.map((l) => h("tr", {},
      h("td", {}, l.lease_number),
      h("td", {}, l.property === MASKED ? t("hidden") : `${l.property} ${l.apartment}`),
      h("td", {}, period(l)),
      h("td", {}, l.parties.flatMap((p, index) => [index ? ", " : "", party(p)])),
      h("td", {}, household(l.household)),
      writable ? h("td", {}, endDate(l, changed), l.terminated_on ? "" : terminate(l, changed)) : null))));
}

function leaseForm(customer, saved) {
  const roles = choices("lease_roles", vocabulary.lease_roles);
  const partyRow = (p, n) => [
    part(field({ name: "party-number", label: `${t("customerNumber")} ${n}`, value: p.customer_number, maxlength: 32, autocomplete: "off" }), "customer_id"),
    part(field({ name: "party-role", label: `${t("partyRole")} ${n}`, options: roles, value: p.role }), "role"),
  ];
  const memberRow = (m, n) => [
    part(field({ name: "member-name", label: `${t("memberName")} ${n}`, value: m.name, maxlength: 200, autocomplete: "off" }), "name"),
    part(field({ name: "member-birth", label: `${t("birthDate")} ${n}`, type: "date", value: m.birth_date }), "birth_date"),
  ];
  const parties = rows("parties", [{ customer_number: customer.customer_number, role: roles[0][0] }], partyRow,
    { customer_number: "", role: roles[0][0] });
  const household = rows("household", [], memberRow, { name: "", birth_date: "" });
  const node = h("form", { id: "lease-form", "aria-labelledby": "lease-form-title", novalidate: true },
    h("h3", { id: "lease-form-title" }, t("addLease")),
    apiField("lease_number", field({ name: "lease_number", label: t("leaseNumber"), required: true, maxlength: 32 })),
    apiField("property", field({ name: "property", label: t("property"), required: true, maxlength: 200 })),
    apiField("apartment", field({ name: "apartment", label: t("apartment"), required: true, maxlength: 200 })),
    apiField("start_date", field({ name: "start_date", label: t("startDate"), type: "date", required: true })),
    apiField("end_date", field({ name: "end_date", label: t("endDate"), type: "date" })),
    parties.node, household.node,
    h("p", {}, h("button", { type: "submit" }, t("save"))));
  const value = (name) => node.elements[name].value.trim() || undefined;
  submitWithFieldErrors(node, () => ({
    lease_number: value("lease_number"), property: value("property"), apartment: value("apartment"),
    start_date: value("start_date"), end_date: value("end_date"),
    parties: parties.values(),
    household: household.values().map((m) => ({ name: m.name, birth_date: m.birth_date || undefined })),
  }), () => [], async (body) => {
    await api("POST", "/v1/leases", { ...body, parties: await resolveParties(customer, body.parties) });
    await saved();
  });
  return node;
}

/** Parties as the API takes them: each customer number found in the register (exactly). */
async function resolveParties(customer, parties) {
  const errors = [];
  const resolved = await Promise.all(parties.map(async (p, index) => {
    const number = p.customer_id;
    if (number === customer.customer_number) return { customer_id: customer.id, role: p.role };
    const found = await customerByNumber(number);
    if (!found) errors.push({ field: `parties[${index}].customer_id`, message: t("noSuchCustomer") });
    return { customer_id: found?.id, role: p.role };
  }));
  if (errors.length) throw new ApiError(422, { detail: t("noSuchCustomer"), errors });
  return resolved;
}
