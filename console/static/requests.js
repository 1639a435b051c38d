// Data-subject requests: registering one as it arrives, the data protection officer's queue
// by due date, and one request from identity check to the erasure report or the export.

import { api, query } from "./api.js";
import { attempt, dayStart, facts, field, form, h, link, pagedTable, render, showNotice } from "./dom.js";
import { t, when } from "./i18n.js";

const KINDS = ["access", "erasure", "rectification", "objection"];
const SUBJECT_KEYS = ["customer_id", "staff_username", "phone_number"];
const CHANNELS = ["phone", "email", "visit", "letter", "web", "web_form"];
const STATUSES = ["identity_unverified", "verified", "processing", "completed", "denied"];
const OPEN = ["identity_unverified", "verified", "processing"];
const REFRESH_MS = 1500;
const pairs = (values) => values.map((v) => [v, v.replaceAll("_", " ")]);
/** The deadline in force (the API's `due_by`), marked when the request is late. */
const dueCell = (r) => h("span", { class: r.overdue ? "overdue" : null }, when(r.due_by), r.overdue ? ` (${t("overdue")})` : "");

/** `#/new-request` (or `#/new-request/{customer id}` from the customer page): register a
 * request the moment it arrives, since the deadline runs from then. */
export function newRequestPage(main, customerId, me) {
  main.replaceChildren(h("h1", {}, t("newRequest")), form({ id: "new-request" }, [
    field({ name: "kind", label: t("kind"), options: pairs(KINDS) }),
    field({ name: "subject_key", label: t("subjectType"), options: pairs(SUBJECT_KEYS), value: customerId ? "customer_id" : undefined }),
    field({ name: "subject_value", label: t("subject"), required: true, maxlength: 200, value: customerId ?? "" }),
    field({ name: "channel", label: t("channel"), options: pairs(CHANNELS) }),
  ], t("create"), async (values, node) => {
    const created = await api("POST", "/v1/subject-requests", {
      kind: values.kind, channel: values.channel, subject: { [values.subject_key]: values.subject_value },
    });
    if (me.permissions.includes("subject-requests:manage")) {
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
    [t("kind"), (r) => link(`#/requests/${r.id}`, r.kind)],
    [t("subjectType"), (r) => r.subject_type],
    [t("status"), (r) => r.status],
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
    field({ name: "status", label: t("filterStatus"), options: [["", t("all")], ...pairs(STATUSES)] }),
  ], t("search"), (values) => show(values.status));
  render(main, h("h1", {}, t("requests")),
    me.permissions.includes("subject-requests:create") ? h("p", {}, link("#/new-request", `+ ${t("newRequest")}`)) : null,
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
    h("h1", {}, `${t("requests")}: ${r.kind}`),
    facts([
      [t("status"), h("strong", { id: "request-status" }, r.status)],
      [t("subjectType"), r.subject_type],
      [t("subject"), r.customer_id ? link(`#/customers/${r.customer_id}`, r.customer_id) : r.staff_username ?? r.phone_number],
      [t("channel"), r.channel],
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
  if (["identity_unverified", "verified"].includes(r.status)) {
    main.append(form({ id: "deny", class: "inline" }, [field({ name: "reason", label: t("denialReason"), required: true, maxlength: 1000 })],
      t("deny"), (values) => step("deny", { reason: values.reason })()));
  }
  if (OPEN.includes(r.status)) {
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
