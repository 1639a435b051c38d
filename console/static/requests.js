// Data-subject requests: registering one as it arrives, the data protection officer's queue
// by due date, and one request from identity check to the erasure report or the export.

import { api, query } from "./api.js";
import { attempt, dayStart, facts, field, form, h, link, pagedTable, render, showNotice } from "./dom.js";
import { choices, named, t, when } from "./i18n.js";
import vocabulary from "./vocabulary.js";

const P = vocabulary.permissions;
const REFRESH_MS = 1500;
/** A request's status in the reader's language; the raw value stays in `data-status`. */
const statusOf = (r, attributes = {}) => h("span", { ...attributes, "data-status": r.status }, named("request_statuses", r.status));
/** The deadline in force (the API's `due_by`), marked when the request is late. */
const dueCell = (r) => h("span", { class: r.overdue ? "overdue" : null }, when(r.due_by), r.overdue ? ` (${t("overdue")})` : "");

/** Who the request is about: a customer by name (linked to the card), a staff member by
 * username, a caller by number; "customer" for a customer since erased. */
const subjectOf = (r) => (r.customer_id
  ? link(`#/customers/${r.customer_id}`, r.customer_name ?? named("subject_types", r.subject_type))
  : r.staff_username ?? r.phone_number ?? named("subject_types", r.subject_type));

/** `#/new-request` (or `#/new-request/{customer id}` from the customer page): register a
 * request the moment it arrives, since the deadline runs from then. */
export function newRequestPage(main, customerId, me) {
  main.replaceChildren(h("h1", {}, t("newRequest")), form({ id: "new-request" }, [
    field({ name: "kind", label: t("kind"), options: choices("request_kinds", vocabulary.request_kinds) }),
    field({ name: "subject_key", label: t("subjectType"), options: choices("subject_keys", vocabulary.subject_keys), value: customerId ? "customer_id" : undefined }),
    field({ name: "subject_value", label: t("subject"), required: true, maxlength: 200, value: customerId ?? "" }),
    field({ name: "channel", label: t("channel"), options: choices("request_channels", vocabulary.request_channels) }),
  ], t("create"), async (values, node) => {
    const created = await api("POST", "/v1/subject-requests", {
      kind: values.kind, channel: values.channel, subject: { [values.subject_key]: values.subject_value },
    });
    if (me.permissions.includes(P.MANAGE_SUBJECT_REQUESTS)) {
      location.hash = `#/requests/${created.id}`; // the officer goes on with it
    } else {
      node.reset(); // customer service hands it over to the officer's queue
      showNotice(t("requestCreated"));
    }
  }));
}

/** `#/requests`: the queue, soonest due first, overdue ones marked. */
export function requestsPage(main, _id, me) {
  const columns = [
    [t("due"), dueCell],
    [t("kind"), (r) => link(`#/requests/${r.id}`, named("request_kinds", r.kind))],
    [t("subject"), subjectOf],
    [t("status"), (r) => statusOf(r)],
    [t("received"), (r) => when(r.received_at)],
  ];
  const results = h("section", { "aria-live": "polite" });
  function show(status) {
    const table = pagedTable("request-queue", columns,
      (cursor) => api("GET", `/v1/subject-requests${query({ status, cursor })}`));
    results.replaceChildren(table.node);
    return table.ready;
  }
  const filter = form({ id: "request-filter", class: "filters" }, [
    field({ name: "status", label: t("filterStatus"), options: [["", t("all")], ...choices("request_statuses", vocabulary.request_statuses)] }),
  ], t("search"), (values) => show(values.status));
  render(main, h("h1", {}, t("requests")),
    me.permissions.includes(P.CREATE_SUBJECT_REQUESTS) ? h("p", {}, link("#/new-request", `+ ${t("newRequest")}`)) : null,
    filter, results);
  return show("");
}

/** `#/requests/{id}`: what is known, and the next step the request's state allows. */
export async function requestPage(main, id) {
  const r = await api("GET", `/v1/subject-requests/${encodeURIComponent(id)}`);
  const step = (path, body) => async () => {
    await api("POST", `/v1/subject-requests/${r.id}/${path}`, body);
    showNotice(t("saved"));
    await requestPage(main, r.id);
  };
  main.replaceChildren(
    h("p", {}, link("#/requests", `← ${t("back")}`)),
    h("h1", {}, `${t("requests")}: ${named("request_kinds", r.kind)}`),
    facts([
      [t("status"), h("strong", {}, statusOf(r, { id: "request-status" }))],
      [t("subjectType"), named("subject_types", r.subject_type)],
      [t("subject"), subjectOf(r)],
      [t("channel"), named("request_channels", r.channel)],
      [t("received"), when(r.received_at)],
      [t("due"), dueCell(r)],
      [t("reason"), r.extension_reason],
      [t("method"), r.verification_method],
      [t("verifiedBy"), r.verified_by],
      [t("denialReason"), r.denial_reason],
      [t("progress"), r.progress_total ? `${r.progress_done} / ${r.progress_total}` : null],
      ["error", r.error],
    ]));
  if (r.status === "identity_unverified") {
    main.append(form({ id: "verify" }, [field({ name: "method", label: t("method"), required: true, maxlength: 500 })],
      t("verify"), (values) => step("verify", { method: values.method })()));
  }
  if (r.status === "verified") {
    main.append(h("p", {}, h("button", { type: "button", id: "fulfil", onclick: () => attempt(step("fulfil")) }, t("fulfil"))));
  }
  if (vocabulary.open_request_statuses.includes(r.status) && r.status !== "processing") { // not yet begun
    main.append(form({ id: "deny", class: "inline" }, [field({ name: "reason", label: t("denialReason"), required: true, maxlength: 1000 })],
      t("deny"), (values) => step("deny", { reason: values.reason })()));
  }
  if (vocabulary.open_request_statuses.includes(r.status)) {
    main.append(form({ id: "extend", class: "inline" }, [
      field({ name: "until", label: t("until"), type: "date", required: true }),
      field({ name: "reason", label: t("reason"), required: true, maxlength: 1000 }),
    ], t("extend"), (values) => step("extend", { until: dayStart(values.until), reason: values.reason })()));
  }
  if (r.status === "processing") {
    setTimeout(() => {
      if (location.hash === `#/requests/${r.id}`) attempt(() => requestPage(main, r.id));
    }, REFRESH_MS);
  }
  if (r.download_url) {
    main.append(h("p", {}, h("a", { id: "download-export", href: r.download_url, download: "" }, t("downloadExport"))),
      h("p", { class: "hint" }, t("downloadNote"), r.download_expires_at ? ` (${when(r.download_expires_at)})` : ""));
  }
  if (r.report) main.append(report(r.report));
}

function report(document) {
  const section = h("section", { id: "report", "aria-label": t("report") }, h("h2", {}, t("report")));
  if (document.counts) {
    section.append(facts(Object.entries(document.counts).map(([k, v]) => [k, String(v)])));
    if (document.decisions?.length) {
      section.append(h("table", {}, h("thead", {}, h("tr", {}, ["kind", "id", "action", "reason"].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, document.decisions.map((d) => h("tr", {}, [d.kind, d.id, d.action, d.reason].map((v) => h("td", {}, v)))))));
    }
  } else {
    section.append(facts(Object.entries(document).map(([k, v]) => [k, typeof v === "object" ? JSON.stringify(v) : String(v)])));
  }
  return section;
}
