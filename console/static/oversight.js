// The data protection officer's oversight: legal holds and the audit log.

import { api, query } from "./api.js";
import { attempt, dayStart, field, form, h, link, pagedTable, showNotice } from "./dom.js";
import { choices, named, t, when } from "./i18n.js";
import vocabulary from "./vocabulary.js";

/** `#/holds`: holds in force (or all), placing one on calls or a customer, releasing one. */
export function holdsPage(main) {
  const results = h("section", { "aria-live": "polite" });
  const columns = [
    [t("placedAt"), (hold) => when(hold.placed_at)],
    [t("placedBy"), (hold) => hold.placed_by],
    [t("target"), (hold) => (hold.customer_id ? link(`#/customers/${hold.customer_id}`, hold.customer_name ?? t("customer"))
      : hold.recording_ids.map((id) => link(`#/recordings/${id}`, id.slice(0, 8))))],
    [t("reason"), (hold) => hold.reason],
    [t("status"), (hold) => (hold.released_at ? `${t("release")}: ${when(hold.released_at)}`
      : h("button", { type: "button", class: "release", onclick: () => attempt(async () => {
        await api("DELETE", `/v1/legal-holds/${hold.id}`);
        showNotice(t("saved"));
        await show(false);
      }) }, t("release")))],
  ];
  function show(includeReleased) {
    const table = pagedTable("holds", columns, (cursor) =>
      api("GET", `/v1/legal-holds${query({ include_released: includeReleased ? "true" : "", cursor })}`));
    results.replaceChildren(form({ class: "filters" },
      [field({ name: "include_released", label: t("includeReleased"), type: "checkbox", value: includeReleased })],
      t("search"), (values) => show(values.include_released)), table.node);
    return table.ready;
  }
  const place = form({ id: "place-hold" }, [
    h("h2", {}, t("placeHold")),
    field({ name: "customer_id", label: t("customerId") }),
    field({ name: "recording_ids", label: t("recordingIds") }),
    field({ name: "reason", label: t("reason"), required: true, maxlength: 2000 }),
  ], t("placeHold"), async (values, node) => {
    const body = { reason: values.reason };
    if (values.customer_id) body.customer_id = values.customer_id;
    if (values.recording_ids) body.recording_ids = values.recording_ids.split(",").map((s) => s.trim()).filter(Boolean);
    await api("POST", "/v1/legal-holds", body);
    node.reset();
    showNotice(t("saved"));
    await show(false);
  });
  main.replaceChildren(h("h1", {}, t("holds")), results, place);
  return show(false);
}

/** `#/audit`: the log searched by who, what, which object and when; newest first. */
export function auditPage(main) {
  const results = h("section", { "aria-live": "polite" });
  const columns = [
    ["#", (e) => String(e.seq)], [t("at"), (e) => when(e.at)], [t("actor"), (e) => e.actor],
    [t("action"), (e) => e.action], [t("objectType"), (e) => e.object_type], [t("objectId"), (e) => e.object_id],
    [t("purpose"), (e) => (e.purpose ? named("purposes", e.purpose) : "")],
    [t("outcome"), (e) => named("audit_outcomes", e.outcome)],
  ];
  function show(filters) {
    const table = pagedTable("audit-log", columns, (cursor) => api("GET", `/v1/audit${query({ ...filters, cursor })}`));
    results.replaceChildren(table.node);
    return table.ready;
  }
  const filters = form({ id: "audit-filters", class: "filters", role: "search" }, [
    field({ name: "actor", label: t("actor") }), field({ name: "action", label: t("action"), placeholder: "recording.play" }),
    field({ name: "object_type", label: t("objectType") }), field({ name: "object_id", label: t("objectId") }),
    field({ name: "outcome", label: t("outcome"), options: [["", t("all")], ...choices("audit_outcomes", vocabulary.audit_outcomes)] }),
    field({ name: "from", label: t("from"), type: "date" }), field({ name: "to", label: t("to"), type: "date" }),
  ], t("search"), (values) => show({ ...values, from: dayStart(values.from), to: dayStart(values.to, 1) }));
  const unnoticed = pagedTable("notice-missing", [
    [t("started"), (r) => link(`#/recordings/${r.id}`, when(r.started_at))],
  ], (cursor) => api("GET", `/v1/recordings/notice-missing${query({ cursor })}`));
  main.replaceChildren(h("h1", {}, t("audit")), filters, results,
    h("h2", {}, t("noticeMissing")), h("p", { class: "hint" }, t("noticeMissingHint")), unnoticed.node);
  return Promise.all([show({}), unnoticed.ready]);
}
