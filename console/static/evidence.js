// `#/evidence`: the compliance evidence for the data protection officer, as the API reads it
// live (GET /v1/compliance/evidence). A figure that needs action says so in words as well as
// in colour.

import { api } from "./api.js";
import { facts, h, yesNo } from "./dom.js";
import { t, term, when } from "./i18n.js";

const number = (value, digits = 0) => (value === null || value === undefined ? "–"
  : Number(value).toLocaleString(undefined, { maximumFractionDigits: digits }));

/** A count that should be zero: shown with "needs action" when it is not. */
const alarm = (value) => (value ? h("span", { class: "overdue" }, `${number(value)} (${t("needsAction")})`) : number(value));

function table(id, headers, rows) {
  return h("table", { id },
    h("thead", {}, h("tr", {}, headers.map((text) => h("th", { scope: "col" }, text)))),
    h("tbody", {}, rows.map((cells) => h("tr", {}, cells.map((cell) => h("td", {}, cell))))));
}

function requests(r) {
  return [h("h2", {}, t("evRequests")), facts([
    [t("evReceived"), number(r.received)],
    [t("evCompleted"), number(r.completed)],
    [t("evDenied"), number(r.denied)],
    [`${t("evWithinTarget")} (${r.internal_target_days} ${t("days")})`, number(r.completed_within_internal_target)],
    [t("evWithinLegal"), number(r.completed_within_legal_deadline)],
    [t("evMedianDays"), number(r.median_days_to_complete, 1)],
    [t("evOverdueNow"), alarm(r.overdue_now)],
    [t("evPastLegalNow"), alarm(r.past_legal_deadline_now)],
  ])];
}

function retention(r) {
  const rows = Object.entries(r.categories).map(([name, c]) => [term("retentionCategories", name),
    number(c.due), number(c.held), number(c.kept_by_duty)]);
  return [h("h2", {}, t("evRetention")), h("p", { class: "hint" }, t("evRetentionHint")), facts([
    [t("evDueWithoutHold"), alarm(r.past_retention_without_hold)],
    [t("evUnderHold"), number(r.past_retention_under_hold)],
    [t("evKeptByDuty"), number(r.past_retention_kept_by_duty)],
  ]), table("evidence-retention", [t("evCategory"), t("evDueWithoutHold"), t("evUnderHold"), t("evKeptByDuty")], rows)];
}

function chain(c) {
  const intact = c.intact === null ? t("evNeverVerified")
    : (c.intact ? yesNo(true) : h("span", { class: "overdue" }, `${yesNo(false)} (${t("needsAction")})`));
  return [h("h2", {}, t("evAuditChain")), facts([
    [t("evLastVerified"), c.last_verified_at ? when(c.last_verified_at) : t("evNeverVerified")],
    [t("evIntact"), intact],
    [t("evEntries"), number(c.entries)],
  ])];
}

function keys(k) {
  return [h("h2", {}, t("evKeys")), facts([
    [t("evKeyVersions"), k.versions.join(", ")],
    [t("evCurrentKey"), String(k.current_version)],
    [t("evOldKeyHeaders"), alarm(k.headers_on_old_keys)],
  ])];
}

function calls(c) {
  return [h("h2", {}, t("evCalls")), facts([
    [t("evRecordingsHeld"), number(c.recordings)],
    [t("evWithoutNotice"), alarm(c.without_notice)],
    [t("evUnmatchedCalls"), alarm(c.unmatched_agent_calls)],
    [t("evUnmatchedAgents"), number(c.unmatched_agents)],
  ])];
}

function transcripts(c) {
  if (!c) return [];
  return [h("h2", {}, t("evTranscripts")), facts([
    [t("evTranscriptsReady"), number(c.ready)],
    [t("evTranscriptsPending"), number(c.pending)],
    [t("evTranscriptsFailed"), alarm(c.failed)],
  ])];
}

function jobs(list) {
  const rows = list.map((job) => [term("jobNames", job.job),
    job.last_success ? when(job.last_success) : t("evNever"),
    job.last_outcome ?? "–",
    job.late ? h("span", { class: "overdue" }, t("evLate")) : t("evOnTime")]);
  return [h("h2", {}, t("evJobs")),
    table("evidence-jobs", [t("evJob"), t("evLastSuccess"), t("evLastOutcome"), t("status")], rows)];
}

/** The page: every figure of the evidence, read once when the page opens. */
export async function evidencePage(main) {
  const figures = await api("GET", "/v1/compliance/evidence");
  main.replaceChildren(h("h1", {}, t("evidence")),
    h("p", { class: "hint" }, `${t("evGenerated")} ${when(figures.generated_at)}`),
    ...requests(figures.subject_requests), ...retention(figures.retention),
    ...chain(figures.audit_chain), ...keys(figures.keys), ...calls(figures.calls),
    ...transcripts(figures.transcripts), ...jobs(figures.scheduled_jobs));
}
