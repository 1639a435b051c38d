// Customers: search, the register card (masked under turvakielto for those whose task does
// not need the address), the contact log with its form, and the customer's calls, with the
// unlinked calls one click away from being linked.

import { api, present, query } from "./api.js";
import { attempt, facts, field, form, h, link, pagedTable, render, showNotice, yesNo } from "./dom.js";
import { choices, day, named, t, when } from "./i18n.js";
import { guardianshipSection } from "./guardianship.js";
import { maskedHenkilotunnus } from "./henkilotunnus.js";
import { historySection } from "./history.js";
import { leasesSection } from "./leases.js";
import { listColumns, searchRecordings } from "./recordings.js";
import { registerLogs } from "./registerlogs.js";
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

/** The henkilötunnus masked on the card, shown in full only on a deliberate click: a screen
 * seen over a shoulder or in a screenshot should not carry it. */
function identityCode(value) {
  if (!value) return null;
  const shown = h("span", {}, maskedHenkilotunnus(value));
  const button = h("button", { type: "button" }, t("showIdentityCode"));
  button.addEventListener("click", () => {
    shown.textContent = value;
    button.remove();
  });
  return h("span", {}, shown, " ", button);
}

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
      [t("henkilotunnus"), identityCode(c.henkilotunnus)],
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
  const leases = leasesSection(c, may(P.WRITE_REGISTER), () => customerPage(main, id, me));
  const guardians = guardianshipSection(c, may(P.WRITE_REGISTER), () => customerPage(main, id, me));
  const logs = registerLogs(c, may(P.WRITE_REGISTER), () => customerPage(main, id, me));
  const activity = h("div", { id: "activity" });
  // The day's work (the contact log and the calls) first, then the rest of the register.
  main.append(activity, leases.node, guardians.node, ...logs.map((log) => log.node),
    historySection(c, may(P.WRITE_REGISTER), () => customerPage(main, id, me)));
  await Promise.all([showActivity(activity, c, me), leases.ready, guardians.ready, ...logs.map((log) => log.ready)]);
}

/** The contact log and the customer's calls, each pointing at the other: an entry names the
 * call it is about, a call lists the entries about it. Drawn again after any change. */
async function showActivity(node, customer, me) {
  const may = (permission) => me.permissions.includes(permission);
  const calls = may(P.LIST_RECORDINGS)
    ? (await searchRecordings({ customer_id: customer.id, limit: CALL_CHOICES })(null)).items : [];
  const logged = new Map(); // recording id → the log's entries about that call
  const refresh = () => attempt(() => showActivity(node, customer, me));
  const log = contactLog(customer, may(P.WRITE_REGISTER), calls, logged, refresh);
  node.replaceChildren(log.node);
  await log.ready;
  if (may(P.LIST_RECORDINGS)) node.append(customerCalls(customer, may(P.LINK_RECORDINGS), logged, refresh));
}

const CALL_CHOICES = 50;
/** A call as one line: when, from which number, answered by whom. */
const callText = (r) => [when(r.started_at), r.caller_number, r.agent_name ?? r.answered_by].filter(Boolean).join(" · ");

function contactLog(customer, writable, calls, logged, refresh) {
  const byId = new Map(calls.map((r) => [r.id, r]));
  const callCell = (e) => {
    if (!e.recording_id) return "";
    const call = byId.get(e.recording_id);
    return call || calls.length ? link(`#/recordings/${e.recording_id}`, call ? when(call.started_at) : t("open")) : t("yes");
  };
  const log = pagedTable("contact-log", [
    [t("at"), (e) => when(e.at)], [t("channel"), (e) => named("contact_channels", e.channel)],
    [t("direction"), (e) => named("directions", e.direction)],
    [t("topic"), (e) => named("topics", e.topic)], [t("note"), (e) => e.note], [t("staff"), (e) => e.staff],
    [t("recording"), callCell],
  ], async (cursor) => {
    const page = await api("GET", `/v1/customers/${customer.id}/contacts${query({ cursor })}`);
    for (const entry of page.items.filter((e) => e.recording_id)) {
      logged.set(entry.recording_id, [...(logged.get(entry.recording_id) ?? []), entry]);
    }
    return page;
  });
  const section = h("section", { "aria-labelledby": "contact-log-title" },
    h("h2", { id: "contact-log-title" }, t("contactLog")), log.node);
  if (writable) {
    section.append(form({ id: "contact-form", "aria-labelledby": "contact-form-title" }, [
      h("h3", { id: "contact-form-title" }, t("addContact")),
      field({ name: "channel", label: t("channel"), options: choices("contact_channels", vocabulary.contact_channels) }),
      field({ name: "direction", label: t("direction"), options: choices("directions", vocabulary.directions) }),
      field({ name: "topic", label: t("topic"), options: choices("topics", vocabulary.topics) }),
      field({ name: "recording_id", label: t("aboutCall"), options: [["", t("noCall")], ...calls.map((r) => [r.id, callText(r)])] }),
      field({ name: "note", label: t("note"), type: "textarea", required: true, maxlength: 4000 }),
    ], t("save"), async (values) => {
      await api("POST", `/v1/customers/${customer.id}/contacts`, present(values));
      showNotice(t("saved"));
      await refresh();
    }));
  }
  return { node: section, ready: log.ready };
}

function customerCalls(customer, canLink, logged, refresh) {
  const columns = listColumns("recordings", true, { customer: false }); // this customer's page
  const entries = (r) => (logged.get(r.id) ?? []).map((e) => `${named("topics", e.topic)} (${when(e.at)})`).join("; ");
  const linked = pagedTable("customer-recordings", [...columns, [t("loggedContacts"), entries]],
    searchRecordings({ customer_id: customer.id }));
  const section = h("section", { "aria-labelledby": "calls-title" },
    h("h2", { id: "calls-title" }, t("linkedRecordings")), linked.node);
  if (canLink) {
    const linkButton = (r) => h("button", {
      type: "button", class: "link-call", "data-recording": r.id,
      onclick: () => attempt(async () => {
        await api("POST", `/v1/recordings/${r.id}/customer`, { customer_id: customer.id });
        showNotice(t("linked"));
        await refresh();
      }),
    }, t("linkHere"));
    const unlinked = pagedTable("unlinked-recordings", [...columns.slice(0, -1), ["", linkButton]],
      searchRecordings({ unlinked: true, limit: 10 }));
    section.append(h("h2", {}, t("unlinkedCalls")), unlinked.node);
  }
  return section;
}
