// Customers: search, the register card (masked under turvakielto for those whose task does
// not need the address), the contact log with its form, and the customer's calls, with the
// unlinked calls one click away from being linked.

import { api, query } from "./api.js";
import { facts, field, form, h, link, pagedTable, render, showNotice, yesNo } from "./dom.js";
import { choices, day, named, t, when } from "./i18n.js";
import { listColumns, searchRecordings } from "./recordings.js";
import vocabulary from "./vocabulary.js";

const P = vocabulary.permissions;
const roleNames = (roles) => (roles || []).map((role) => named("customer_roles", role)).join(", ");
const fullName = (c) => `${c.last_name}, ${c.first_name}`;
// Under turvakielto a whole list is "masked"; an item shared with a protected person (a
// shared home or landline) is masked on its own.
const MASKED = "masked";
const isMasked = (item) => item === MASKED || (item !== null && typeof item === "object" && Object.values(item).includes(MASKED));
const masked = (value, show, separator = ", ") => (Array.isArray(value)
  ? value.map((item) => (isMasked(item) ? t("hidden") : show(item))).join(separator)
  : t("hidden"));
const period = (start, end) => (start || end ? `(${day(start)}–${day(end)})` : "");
const leaseText = (l) => `${l.lease_number}: ${l.property === MASKED ? t("hidden") : `${l.property} ${l.apartment}`} (${named("customer_roles", l.role)})`;

/** `#/customers`: search, or every customer page by page. */
export function customersPage(main, _id, me) {
  const columns = [
    [t("name"), (c) => link(`#/customers/${c.id}`, fullName(c))],
    [t("customerNumber"), (c) => c.customer_number],
    [t("roles"), (c) => roleNames(c.roles)],
    [t("turvakielto"), (c) => (c.turvakielto ? t("yes") : "")],
  ];
  const results = h("section", { "aria-live": "polite" });
  function show(q) {
    const table = pagedTable("customers", columns, (cursor) =>
      q ? api("POST", "/v1/customers/search", { q }) : api("GET", `/v1/customers${query({ cursor })}`));
    results.replaceChildren(table.node);
    return table.ready;
  }
  const search = form({ id: "customer-search", role: "search", class: "filters" },
    [field({ name: "q", label: t("searchCustomers"), type: "search", maxlength: 200 })],
    t("search"), (values) => show(values.q));
  main.replaceChildren(h("h1", {}, t("customers")),
    me.permissions.includes(P.WRITE_REGISTER) ? h("p", {}, link("#/new-customer", `+ ${t("newCustomer")}`)) : "",
    search, results);
  return show("");
}

/** `#/customers/{id}`: the card, the log and the calls. */
export async function customerPage(main, id, me) {
  const c = await api("GET", `/v1/customers/${encodeURIComponent(id)}`);
  const may = (permission) => me.permissions.includes(permission);
  render(main,
    h("p", {}, link("#/customers", `← ${t("back")}`)),
    h("h1", {}, fullName(c)),
    c.turvakielto ? h("p", { class: "warning", role: "note" }, t("turvakieltoNotice")) : null,
    facts([
      [t("customerNumber"), c.customer_number],
      [t("roles"), roleNames(c.roles)],
      [t("status"), named("customer_statuses", c.status)],
      [t("henkilotunnus"), c.henkilotunnus],
      [t("travelDocument"), c.travel_document],
      [t("birthDate"), day(c.birth_date) || null],
      [t("customerLanguage"), named("customer_languages", c.language)],
      [t("relationshipStart"), day(c.relationship_start) || null],
      [t("turvakielto"), c.turvakielto ? `${t("yes")} ${period(c.turvakielto_start, c.turvakielto_end)}`.trim() : t("no")],
      [t("assignedAdvisor"), c.assigned_advisor],
      [t("phones"), masked(c.phones, (p) => `${p.number} (${named("phone_types", p.type)})`)],
      [t("emails"), masked(c.emails, (e) => e)],
      [t("addresses"), masked(c.addresses, (a) => `${a.street}, ${a.postal_code} ${a.city}`, "; ")],
      [t("leases"), (c.current_leases || []).map(leaseText).join("; ") || "–"],
      [t("marketing"), Object.entries(c.marketing || {}).map(([kind, v]) => `${named("marketing_kinds", kind)}: ${v ? yesNo(v.allowed) : "–"}`).join(", ") || "–"],
    ]));
  if (may(P.WRITE_REGISTER)) main.append(h("p", {}, link(`#/edit-customer/${c.id}`, t("edit"))));
  if (may(P.CREATE_SUBJECT_REQUESTS)) {
    main.append(h("p", {}, link(`#/new-request/${c.id}`, `+ ${t("newRequestFor")}`)));
  }
  main.append(contactLog(c, may(P.WRITE_REGISTER)));
  if (may(P.LIST_RECORDINGS)) main.append(customerCalls(c, may(P.LINK_RECORDINGS), me));
}

function contactLog(customer, writable) {
  const log = pagedTable("contact-log", [
    [t("at"), (e) => when(e.at)], [t("channel"), (e) => named("contact_channels", e.channel)],
    [t("direction"), (e) => named("directions", e.direction)],
    [t("topic"), (e) => named("topics", e.topic)], [t("note"), (e) => e.note], [t("staff"), (e) => e.staff],
    [t("recording"), (e) => (e.recording_id ? link(`#/recordings/${e.recording_id}`, t("open")) : "")],
  ], (cursor) => api("GET", `/v1/customers/${customer.id}/contacts${query({ cursor })}`));
  const section = h("section", { "aria-labelledby": "contact-log-title" },
    h("h2", { id: "contact-log-title" }, t("contactLog")), log.node);
  if (writable) {
    section.append(form({ id: "contact-form", "aria-label": t("addContact") }, [
      h("h3", {}, t("addContact")),
      field({ name: "channel", label: t("channel"), options: choices("contact_channels", vocabulary.contact_channels) }),
      field({ name: "direction", label: t("direction"), options: choices("directions", vocabulary.directions) }),
      field({ name: "topic", label: t("topic"), options: choices("topics", vocabulary.topics) }),
      field({ name: "note", label: t("note"), type: "textarea", required: true, maxlength: 4000 }),
    ], t("save"), async (values, node) => {
      await api("POST", `/v1/customers/${customer.id}/contacts`, values);
      node.reset();
      showNotice(t("saved"));
      section.replaceWith(contactLog(customer, writable));
    }));
  }
  return section;
}

function customerCalls(customer, canLink, me) {
  const columns = listColumns("recordings", true, { customer: false }); // this customer's page
  const linked = pagedTable("customer-recordings", columns, searchRecordings({ customer_id: customer.id }));
  const section = h("section", { "aria-labelledby": "calls-title" },
    h("h2", { id: "calls-title" }, t("linkedRecordings")), linked.node);
  if (canLink) {
    const linkButton = (r) => h("button", {
      type: "button", class: "link-call", "data-recording": r.id,
      onclick: async () => {
        await api("POST", `/v1/recordings/${r.id}/customer`, { customer_id: customer.id });
        showNotice(t("linked"));
        section.replaceWith(customerCalls(customer, canLink, me));
      },
    }, t("linkHere"));
    const unlinked = pagedTable("unlinked-recordings", [...columns.slice(0, -1), ["", linkButton]],
      searchRecordings({ unlinked: true, limit: 10 }));
    section.append(h("h2", {}, t("unlinkedCalls")), unlinked.node);
  }
  return section;
}
