// Redaction spans on the recording page (DPO): a span is marked by dragging across the
// waveform (wavesurfer's regions plugin) or by typing its start and end, for both voices or
// one channel of a stereo call, with a reason. Saved spans are listed with a remove button
// and drawn on the waveform; the redacted rendition the worker makes from them can be
// previewed once it is ready, under the purpose chosen for the player. Once the transcript
// is read, the DPO may ask for suggestions (pii.js): personal data found in it, each with a
// button that adds it as a span; nothing is added without that click.

import { api, query } from "./api.js";
import { attempt, field, h, seconds, showNotice } from "./dom.js";
import { t, term } from "./i18n.js";
import { suggestions } from "./pii.js";
import RegionsPlugin from "./wavesurfer.regions.esm.js";

const PENDING = "rgba(179, 38, 30, 0.25)";
const SAVED = "rgba(31, 78, 140, 0.22)";
const POLL_MS = 2000;

/** Seconds with one decimal, as the fields show them. */
const tenths = (value) => Math.round(value * 10) / 10;

/** A span's time range as people read it. */
const range = (span) => `${seconds(span.start_seconds)}–${seconds(span.end_seconds)}`;

/** The redaction panel for `recording`, drawing on the player's wavesurfer `surfer`;
 * `roles` are the waveform's channel roles (agent/customer only when the layout says so);
 * `transcript` resolves with the transcript read under the chosen purpose (null: none). */
export async function redactionPanel(recording, surfer, roles, purposeSelect, transcript) {
  const base = `/v1/recordings/${recording.id}/redactions`;
  const duration = surfer.getDuration() || Number(recording.duration_seconds);
  const regions = surfer.registerPlugin(RegionsPlugin.create());
  const perChannel = roles.includes("agent") && roles.includes("customer");
  const channels = perChannel ? ["both", "agent", "customer"] : ["both"];
  let pending = null; // the span being marked, not saved yet

  const number = (name, label) => field({
    name, label, type: "number", min: 0, max: tenths(duration), step: 0.1, required: true, inputmode: "decimal",
  });
  const startField = number("start_seconds", t("spanStart"));
  const endField = number("end_seconds", t("spanEnd"));
  const start = startField.querySelector("input");
  const end = endField.querySelector("input");
  const channel = field({
    name: "channel", label: t("spanChannel"), value: "both",
    options: channels.map((c) => [c, term("redactChannels", c)]),
  });
  const reason = field({ name: "reason", label: t("spanReason"), type: "textarea", required: true, maxlength: 2000 });
  const list = h("ul", { id: "redaction-list", class: "spans" });
  const state = h("p", { id: "redaction-state", role: "status" });
  const previewAudio = h("audio", { id: "redacted-audio", controls: true, preload: "none", hidden: true });
  const previewButton = h("button", { type: "button", id: "redacted-preview", disabled: true }, t("previewRedacted"));

  /** Mark the span being drawn from the fields (keyboard) or the drag (mouse). */
  function showPending() {
    const from = Number(start.value);
    const to = Number(end.value);
    if (start.value === "" || end.value === "" || !(to > from)) return;
    if (pending) pending.setOptions({ start: from, end: to });
    else pending = regions.addRegion({ start: from, end: to, color: PENDING, drag: true, resize: true });
  }
  start.addEventListener("input", showPending);
  end.addEventListener("input", showPending);

  regions.enableDragSelection({ color: PENDING });
  regions.on("region-created", (region) => {
    if (region.color !== PENDING || region === pending) return;
    if (pending) pending.remove(); // one span is marked at a time
    pending = region;
    fill(region);
  });
  regions.on("region-updated", (region) => { if (region === pending) fill(region); });
  function fill(region) {
    start.value = tenths(region.start);
    end.value = tenths(region.end);
  }

  let saved = [];
  async function load() {
    const answer = await api("GET", base);
    for (const region of saved) region.remove();
    saved = answer.items.map((span) => regions.addRegion({
      start: span.start_seconds, end: span.end_seconds, color: SAVED, drag: false, resize: false,
      channelIdx: span.channel === "both" ? -1 : roles.indexOf(span.channel),
    }));
    list.replaceChildren(...(answer.items.length ? answer.items.map(item) : [h("li", { class: "empty" }, t("noSpans"))]));
    showState(answer.rendition);
    return answer.rendition;
  }
  function item(span) {
    const remove = h("button", { type: "button", class: "remove", "aria-label": `${t("removeSpan")} ${range(span)}` },
      t("removeSpan"));
    remove.addEventListener("click", () => attempt(async () => {
      await api("DELETE", `${base}/${encodeURIComponent(span.id)}`);
      showNotice(t("spanRemoved"));
      await refresh();
    }));
    return h("li", {}, h("span", { class: "when" }, range(span)), " · ",
      term("redactChannels", span.channel), " · ", h("span", { class: "why" }, span.reason), " ", remove);
  }
  function showState(rendition) {
    state.textContent = term("renditionStates", rendition);
    previewButton.disabled = rendition !== "ready";
    if (rendition !== "ready") {
      previewAudio.pause();
      previewAudio.removeAttribute("src");
      previewAudio.hidden = true;
    }
  }
  let polling = null;
  async function refresh() {
    const rendition = await load();
    clearTimeout(polling);
    if (rendition === "pending") {
      polling = setTimeout(() => { if (panel.isConnected) attempt(refresh); }, POLL_MS);
    }
  }

  previewButton.addEventListener("click", () => {
    if (!purposeSelect.value) {
      showNotice(t("previewNeedsPurpose"));
      purposeSelect.focus();
      return;
    }
    previewAudio.src = `/v1/recordings/${recording.id}/audio${query({ purpose: purposeSelect.value, rendition: "redacted" })}`;
    previewAudio.hidden = false;
    attempt(() => previewAudio.play());
  });

  const editor = h("form", { id: "redaction-form", class: "redaction-form" },
    h("p", { class: "hint", id: "redaction-hint" }, t("redactionHelp")),
    h("div", { class: "span-times" }, startField, endField), channel, reason,
    h("p", {}, h("button", { type: "submit" }, t("addSpan"))));
  editor.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = editor.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      await attempt(async () => {
        const answer = await api("POST", base, {
          start_seconds: Number(start.value), end_seconds: Number(end.value),
          channel: editor.elements.channel.value, reason: editor.elements.reason.value.trim(),
        });
        if (pending) pending.remove();
        pending = null;
        editor.reset();
        showNotice(t(answer.merged ? "spanMerged" : "spanAdded"));
        await refresh();
      });
    } finally {
      button.disabled = false;
    }
  });

  /** Add a suggested span as it stands, with its kind as the reason; the list shows it. */
  async function addSuggested(candidate) {
    const answer = await api("POST", base, {
      start_seconds: candidate.start, end_seconds: candidate.end,
      channel: channels.includes(candidate.channel) ? candidate.channel : "both",
      reason: `${t("piiReason")}: ${term("piiKinds", candidate.kind)}`,
    });
    showNotice(t(answer.merged ? "spanMerged" : "spanAdded"));
    await refresh();
  }

  const panel = h("section", { id: "redactions", class: "redactions", "aria-labelledby": "redactions-title" },
    h("h2", { id: "redactions-title" }, t("redactions")), editor, list, state,
    h("p", { class: "controls" }, previewButton), previewAudio,
    suggestionPanel(recording, transcript, duration, addSuggested, (at) => surfer.setTime(at)));
  await attempt(refresh);
  return panel;
}

/** Suggestions from the transcript: a button finds them (reading the linked customer's names
 * only then, as that read is audited), and each found span has its own Add button. */
function suggestionPanel(recording, transcript, duration, add, seek) {
  const state = h("p", { id: "pii-state", role: "status" }, t("piiNeedsTranscript"));
  const list = h("ul", { id: "pii-list", class: "spans" });
  const find = h("button", { type: "button", id: "pii-find", disabled: true }, t("piiFind"));
  Promise.resolve(transcript).then((document) => {
    find.disabled = !document;
    state.textContent = document ? "" : t("piiNoTranscript");
  });
  find.addEventListener("click", () => attempt(async () => {
    find.disabled = true;
    try {
      const document = await transcript;
      const customer = recording.customer_id
        ? await api("GET", `/v1/customers/${encodeURIComponent(recording.customer_id)}`) : null;
      const found = suggestions(document, customer, duration);
      state.textContent = found.length ? `${t("piiFound")} ${found.length}` : t("piiNone");
      list.replaceChildren(...found.map((candidate) => suggestionItem(candidate, add, seek)));
    } finally {
      find.disabled = false;
    }
  }));
  return h("section", { id: "pii", "aria-labelledby": "pii-title" },
    h("h3", { id: "pii-title" }, t("piiTitle")), h("p", { class: "hint" }, t("piiHelp")),
    h("p", { class: "controls" }, find), state, list);
}

/** One suggestion: its time seeks the player (to hear it first), its button adds it. */
function suggestionItem(candidate, add, seek) {
  const when = `${seconds(candidate.start)}–${seconds(candidate.end)}`;
  const listen = h("button", { type: "button", class: "as-link seek", "aria-label": `${t("piiListen")} ${when}`,
    onclick: () => seek(candidate.start) }, when);
  const button = h("button", { type: "button", class: "add",
    "aria-label": `${t("piiAdd")}: ${term("piiKinds", candidate.kind)} ${when}` }, t("piiAdd"));
  const item = h("li", { "data-kind": candidate.kind }, listen, " · ",
    term("redactChannels", candidate.channel), " · ", h("strong", {}, term("piiKinds", candidate.kind)), " · ",
    h("q", {}, candidate.text), " ", button);
  button.addEventListener("click", () => attempt(async () => {
    button.disabled = true;
    try {
      await add(candidate);
      item.classList.add("added");
      button.textContent = t("piiAdded");
    } catch (error) {
      button.disabled = false;
      throw error;
    }
  }));
  return item;
}
