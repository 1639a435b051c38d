// Recordings: the staff list with filters, the trainer's list of released calls, and one
// recording with its waveform player. Audio is fetched only after a purpose is chosen, and
// seeking asks the server for byte ranges, so nothing is downloaded that is not listened to.

import { api, present, query } from "./api.js";
import { attempt, dayStart, facts, field, form, h, link, pagedTable, seconds, showNotice, yesNo } from "./dom.js";
import { choices, named, t, term, when } from "./i18n.js";
import { redactionPanel } from "./redactions.js";
import { transcriptPane } from "./transcript.js";
import vocabulary from "./vocabulary.js";
import WaveSurfer from "./wavesurfer.esm.js";
import { addToCollection, notesPanel } from "./workspace.js";

const P = vocabulary.permissions;

/** The agent as the account the call matched, with what the telephony sent (often an
 * extension) beside it; just the latter when no account matched. */
const agentText = (r) => (r.agent_name && r.agent_name !== r.answered_by ? `${r.agent_name} (${r.answered_by})` : r.answered_by);

/** The linked customer by name (an erased one as "customer"), or "not linked". */
export const customerLink = (r) => (r.customer_id
  ? link(`#/customers/${r.customer_id}`, r.customer_name ?? t("customer")) : t("unlinked"));

/** The list's columns; with `identity` (staff) also the agent and caller beside the date, as
 * staff look for a call by them (the search's answer carries them; the GET list does not). */
export function listColumns(base, identity, { customer = true } = {}) {
  const columns = [
    [t("started"), (r) => link(`#/${base}/${r.id}`, when(r.started_at))],
    ...(identity ? [[t("agent"), agentText], [t("caller"), (r) => r.caller_number ?? "–"]] : []),
    [t("duration"), (r) => seconds(r.duration_seconds)],
    [t("status"), (r) => named("recording_statuses", r.status)],
  ];
  if (identity) {
    columns.push(
      ...(customer ? [[t("customer"), customerLink]] : []),
      [t("released"), (r) => yesNo(r.released_for_training)],
    );
  }
  return columns;
}

/** A page of the staff list through the search, whose answer names agent and caller; the
 * filters (a caller number, words said) travel in the body, never in the URL. */
export const searchRecordings = (filters) => (cursor) =>
  api("POST", "/v1/recordings/search", present({ ...filters, cursor }));

/** Where in the call the words searched for were said: each time a link that opens the call
 * there (the time travels in the address, the words never do). */
const SHOWN_MATCHES = 12;
const saidAt = (r) => {
  const matches = r.matches ?? [];
  return h("span", { class: "matches" }, matches.slice(0, SHOWN_MATCHES).map((match) => [
    link(`#/recordings/${r.id}?t=${match.start}`, `${seconds(match.start)} ${match.word.trim()}`), " "]),
  matches.length > SHOWN_MATCHES ? `(+${matches.length - SHOWN_MATCHES})` : null);
};

/** `#/recordings`: every recording, filtered by time, agent, caller number, linking or the
 * words said in it (a transcript search; inflected forms find their base form). */
export function recordingsPage(main) {
  const results = h("section", { "aria-live": "polite" });
  function show(filters) {
    const columns = listColumns("recordings", true);
    if (filters.text) columns.splice(1, 0, [t("saidAt"), saidAt]);
    const table = pagedTable("recordings", columns, searchRecordings(filters));
    results.replaceChildren(table.node);
    return table.ready;
  }
  const filters = form({ id: "recording-filters", class: "filters", role: "search" }, [
    field({ name: "text", label: t("wordsSaid"), type: "search", maxlength: 200, autocomplete: "off", "aria-describedby": "words-hint" }),
    field({ name: "from", label: t("from"), type: "date" }),
    field({ name: "to", label: t("to"), type: "date" }),
    field({ name: "answered_by", label: t("agent") }),
    field({ name: "caller_number", label: t("callerNumber"), type: "tel", placeholder: "+358…" }),
    field({ name: "unlinked", label: t("onlyUnlinked"), type: "checkbox" }),
    h("p", { id: "words-hint", class: "hint" }, t("wordsSaidHint")),
  ], t("search"), (values) => show({
    text: values.text,
    from: dayStart(values.from), to: dayStart(values.to, 1), answered_by: values.answered_by,
    caller_number: values.caller_number, unlinked: values.unlinked || null,
  }));
  main.replaceChildren(h("h1", {}, t("recordings")), filters, results);
  return show({});
}

/** `#/training`: released calls only, with nothing that tells who called or answered. */
export function trainingPage(main) {
  const table = pagedTable("recordings", listColumns("training", false),
    (cursor) => api("GET", `/v1/recordings${query({ cursor })}`));
  main.replaceChildren(h("h1", {}, t("training")), table.node);
  return table.ready;
}

/** `#/recordings/{id}` (staff) and `#/training/{id}` (trainer): details and the player. */
export async function recordingPage(main, id, me, { training = false } = {}) {
  const recording = await api("GET", `/v1/recordings/${encodeURIComponent(id)}`);
  const identity = "caller_number" in recording;
  const details = facts([
    [t("started"), when(recording.started_at)],
    [t("duration"), seconds(recording.duration_seconds)],
    [t("status"), named("recording_statuses", recording.status)],
    [t("direction"), named("directions", recording.direction)],
    ...(identity ? [
      [t("caller"), recording.caller_number ?? "–"],
      [t("agent"), agentText(recording)],
      [t("serviceLine"), recording.service_line],
      [t("customer"), customerLink(recording)],
      [t("noticePlayed"), yesNo(recording.notice_played)],
      [t("durationMismatch"), recording.duration_mismatch ? t("yes") : null],
      [t("released"), yesNo(recording.released_for_training)],
    ] : []),
  ]);
  // The server says which purposes the user's roles may claim; the staff view never offers
  // training, which only the trainer's view of released calls can satisfy.
  const purposes = training ? ["training"] : me.purposes.filter((p) => p !== "training");
  main.replaceChildren(
    h("p", {}, link(training ? "#/training" : "#/recordings", `← ${t("back")}`)),
    h("h1", {}, `${t("recording")} ${when(recording.started_at)}`), details);
  if (!recording.playable) {
    main.append(h("p", {}, t("notPlayable")));
    return;
  }
  const played = await player(recording, purposes, training, startAt());
  const pane = transcriptPane(recording, played);
  main.append(h("div", { class: "listening" }, played.node, pane.node));
  if (me.permissions.includes(P.ANNOTATE_TRAINING)) main.append(await notesPanel(recording, played));
  if (me.permissions.includes(P.REDACT_RECORDINGS)) {
    main.append(await redactionPanel(recording, played.surfer, played.roles, played.purpose, pane.transcript));
  }
  if (recording.released_for_training && me.permissions.includes(P.KEEP_TRAINING_COLLECTIONS)) {
    main.append(await addToCollection(recording));
  }
  if (me.permissions.includes(P.RELEASE_FOR_TRAINING)) main.append(releaseForm(recording, me));
  if (me.permissions.includes(P.DOWNLOAD_RECORDINGS)) main.append(downloadLinks(recording, purposes));
}

/** The moment a link asked to open the call at (`#/recordings/{id}?t=12.5`), or null. */
function startAt() {
  const at = Number(new URLSearchParams(location.hash.split("?")[1] ?? "").get("t"));
  return Number.isFinite(at) && at > 0 ? at : null;
}

// The purpose is a deliberate choice, even where the role has only one: it goes into the
// audit entry of every byte range played. The trainer's view is itself the purpose.
async function player(recording, purposes, training, at) {
  const waveform = await api("GET", `/v1/recordings/${recording.id}/waveform`);
  const peaks = waveform.channels.map((c) => c.peaks.map((v) => v / waveform.scale));
  const duration = peaks[0].length / waveform.peaks_per_second || recording.duration_seconds;
  const audio = h("audio", { id: "audio", preload: "none" });
  const wave = h("div", { id: "waveform", class: "waveform", role: "slider", tabindex: 0,
    "aria-label": t("position"), "aria-valuemin": 0, "aria-valuemax": Math.round(duration), "aria-valuenow": 0 });
  const legend = h("p", { class: "legend" },
    waveform.channels.map((c) => h("span", { class: `channel channel-${c.role}` }, term("channelNames", c.role))));
  const clock = h("output", { id: "clock" }, `0:00 / ${seconds(duration)}`);
  const play = h("button", { type: "button", id: "play", disabled: true }, t("play"));
  const choose = field({
    name: "purpose", label: t("purpose"), value: training ? "training" : "",
    options: [["", t("choosePurpose")], ...choices("purposes", purposes)],
  });
  const select = choose.querySelector("select");

  const surfer = WaveSurfer.create({
    container: wave, media: audio, peaks, duration, height: 56, normalize: true, interact: false,
    splitChannels: peaks.length > 1 ? peaks.map(() => ({ waveColor: "#6b7f99", progressColor: "#1f4e8c" })) : undefined,
    waveColor: "#6b7f99", progressColor: "#1f4e8c", cursorColor: "#b3261e",
    cspNonce: document.querySelector("meta[name=style-nonce]")?.content,
  });
  const tick = () => {
    const now = surfer.getCurrentTime();
    clock.textContent = `${seconds(now)} / ${seconds(duration)}`;
    wave.setAttribute("aria-valuenow", Math.round(now));
  };
  surfer.on("timeupdate", tick);
  surfer.on("play", () => { play.textContent = t("pause"); });
  surfer.on("pause", () => { play.textContent = t("play"); });

  let chose;
  const chosen = new Promise((resolve) => { chose = resolve; });
  function choosePurpose() {
    if (!select.value || select.disabled) return;
    const url = `/v1/recordings/${recording.id}/audio${query({ purpose: select.value })}`;
    const loaded = surfer.load(url, peaks, duration);
    if (at !== null) loaded.then(() => surfer.setTime(Math.min(at, duration))); // opened from a search hit
    surfer.toggleInteraction(true);
    select.disabled = true; // the audit entries name this purpose; a new one needs a reload
    play.disabled = false;
    chose(select.value);
  }
  select.addEventListener("change", choosePurpose);
  play.addEventListener("click", () => attempt(() => surfer.playPause()));
  wave.addEventListener("keydown", (event) => {
    const step = { ArrowLeft: -5, ArrowRight: 5 }[event.key];
    if (step && !play.disabled) {
      event.preventDefault();
      surfer.setTime(Math.min(Math.max(surfer.getCurrentTime() + step, 0), duration));
    }
  });
  surfer.once("ready", choosePurpose); // after wavesurfer's own first load of the peaks
  const node = h("section", { class: "player", "aria-label": t("recording") }, choose,
    h("div", { class: "wave-area" }, wave), legend, h("p", { class: "controls" }, play, " ", clock), audio);
  // for the parts that draw on the player (notes, redaction spans, the transcript); `chosen`
  // resolves with the purpose once one is chosen
  return { node, surfer, duration, wave, roles: waveform.channels.map((c) => c.role), purpose: select, chosen };
}

function releaseForm(recording, me) {
  const releasing = !recording.released_for_training;
  return form({ id: "training-release", class: "inline" }, [
    field({ name: "reason", label: t("reason"), required: true, maxlength: 2000 }),
    // a call with redaction spans is released only with the review confirmed (recorded with it)
    releasing && field({ name: "redaction_reviewed", label: t("redactionReviewed"), type: "checkbox" }),
  ], t(releasing ? "releaseForTraining" : "withdrawTraining"), async (values) => {
    await api("POST", `/v1/recordings/${recording.id}/training-release`, {
      released: releasing, reason: values.reason, ...(releasing ? { redaction_reviewed: values.redaction_reviewed } : {}),
    });
    showNotice(t("saved"));
    await recordingPage(document.getElementById("main"), recording.id, me);
  });
}

/** One download link per purpose the user's roles may claim (the server's `me.purposes`). */
function downloadLinks(recording, purposes) {
  return h("p", {}, purposes.map((purpose) => [
    h("a", { href: `/v1/recordings/${recording.id}/download${query({ purpose })}`, download: "" },
      `${t("download")} (${named("purposes", purpose)})`), " "]));
}
