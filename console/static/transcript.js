// The transcript pane beside the player: what each side said, segment by segment, the word
// being spoken lit as the call plays, and a click (or Enter) on a word seeks there. It is
// read under the purpose chosen for listening, as the server audits it like playback; until
// one is chosen, nothing is fetched. Trainers get the spans the DPO silenced as [redacted].

import { api, query } from "./api.js";
import { h, seconds } from "./dom.js";
import { t, term } from "./i18n.js";
import { spokenAt, timeline } from "./spoken.js";

const KEYS = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1, Home: -Infinity, End: Infinity };

/** The pane for `recording`, following `played` (what recordings.js's player returns).
 * `transcript` resolves with the ready document (null otherwise), for the DPO's suggestions. */
export function transcriptPane(recording, played) {
  const state = h("p", { id: "transcript-state", class: "hint", role: "status" }, t("transcriptNeedsPurpose"));
  const list = h("ol", { id: "transcript-segments", class: "segments" });
  const body = h("div", { class: "transcript-body" }, state, list);
  const node = h("section", { id: "transcript", class: "transcript", "aria-labelledby": "transcript-title" },
    h("h2", { id: "transcript-title" }, t("transcript")),
    h("p", { class: "hint machine-made" }, t("transcriptMachineMade")), body);
  let buttons = []; // per segment, its words' buttons
  let lit = [];

  function seek(at) {
    played.surfer.setTime(Math.min(Math.max(at, 0), played.duration));
  }

  /** Roving focus: one word is in the tab order (the last one used), the arrows, Home and
   * End move among the words. */
  function rove(to) {
    for (const button of buttons.flat()) button.tabIndex = button === to ? 0 : -1;
  }
  function moveFocus(from, step) {
    const all = buttons.flat();
    const next = all[Math.min(Math.max(all.indexOf(from) + step, 0), all.length - 1)];
    if (!next) return;
    rove(next);
    next.focus();
  }

  function show(document) {
    const segments = document.segments ?? [];
    state.textContent = segments.length ? "" : t("transcriptEmpty");
    state.hidden = segments.length > 0;
    buttons = segments.map((segment) => segment.words.map((word) => {
      const button = h("button", { type: "button", class: "word", tabindex: -1, "data-start": word.start }, word.word.trim());
      if (word.word.trim() === "[redacted]") button.classList.add("redacted");
      button.addEventListener("click", () => {
        rove(button);
        seek(word.start);
      });
      button.addEventListener("keydown", (event) => {
        const step = KEYS[event.key];
        if (!step) return;
        event.preventDefault();
        moveFocus(button, step);
      });
      return button;
    }));
    rove(buttons.flat()[0]);
    list.replaceChildren(...segments.map((segment, s) => h("li", { class: `segment channel-${segment.channel}` },
      h("span", { class: "speaker" }, term("speakers", segment.channel)), " ",
      h("span", { class: "when" }, seconds(segment.start)), " ",
      // a segment without word times is shown as its text, with nothing to seek to
      buttons[s].length ? buttons[s].flatMap((button) => [button, " "]) : segment.text)));
    const words = timeline(segments);
    const follow = () => light(spokenAt(words, played.surfer.getCurrentTime()));
    played.surfer.on("timeupdate", follow);
    played.surfer.on("seeking", follow);
    follow();
  }

  function light(spoken) {
    const now = spoken.map((word) => buttons[word.segment][word.word]);
    if (now.length === lit.length && now.every((button, i) => button === lit[i])) return; // as it was
    for (const button of lit) {
      button.classList.remove("spoken");
      button.removeAttribute("aria-current");
    }
    lit = now;
    for (const button of lit) {
      button.classList.add("spoken");
      button.setAttribute("aria-current", "time");
    }
    const newest = lit.at(-1);
    if (newest) keepInView(newest);
  }

  /** Scroll the pane (only the pane, never the page) so the lit word shows. */
  function keepInView(button) {
    const top = button.offsetTop; // the pane is the offset parent (position: relative)
    if (top < body.scrollTop || top + button.offsetHeight > body.scrollTop + body.clientHeight) {
      body.scrollTop = Math.max(0, top - body.clientHeight / 3);
    }
  }

  // the recording's detail says when there is nothing to read; no audited read is made then
  if (["off", "none", "failed"].includes(recording.transcript)) {
    state.textContent = term("transcriptStates", recording.transcript);
    return { node, transcript: Promise.resolve(null) };
  }
  // A pending transcript is asked for again only when the reader says so (each read is
  // audited), so `transcript` resolves once it is ready, or with null when there is none.
  let settle;
  const transcript = new Promise((resolve) => { settle = resolve; });
  const again = h("button", { type: "button", id: "transcript-again", hidden: true }, t("transcriptAgain"));
  state.after(again);
  async function read(purpose) {
    again.hidden = true;
    state.textContent = t("transcriptLoading");
    let document;
    try {
      document = await api("GET", `/v1/recordings/${recording.id}/transcript${query({ purpose })}`);
    } catch (error) {
      state.textContent = `${t("transcriptUnavailable")} ${error.message}`;
      again.hidden = false; // a training read waits for the redacted rendition (409)
      return;
    }
    if (document.status === "ready") {
      show(document);
      settle(document);
      return;
    }
    state.textContent = term("transcriptStates", document.status);
    if (document.status === "pending") again.hidden = false;
    else settle(null);
  }
  played.chosen.then((purpose) => {
    again.addEventListener("click", () => read(purpose));
    return read(purpose);
  });
  return { node, transcript };
}
