// The trainer's workspace: notes at a moment of a call (markers on the waveform and a list
// that seeks the player), and collections of released calls shared among trainers.
// A note is about the agent who answered: the server seals it and audits every read.

import { api, query } from "./api.js";
import { attempt, field, form, h, link, pagedTable, seconds, showNotice } from "./dom.js";
import { t, when } from "./i18n.js";
import vocabulary from "./vocabulary.js";

const notesPath = (id) => `/v1/recordings/${encodeURIComponent(id)}/annotations`;

/** Every note of the call, page by page, in time order. */
async function allNotes(id) {
  const notes = [];
  let cursor = null;
  do {
    const page = await api("GET", `${notesPath(id)}${query({ cursor, limit: 200 })}`);
    notes.push(...page.items);
    cursor = page.next;
  } while (cursor);
  return notes;
}

/** The notes under the player: markers over the waveform (for the eye; the list is the
 * keyboard's and the screen reader's way), a list whose entries seek, and a form that adds
 * a note at the current play position. `player` is what recordings.js's player returns. */
export async function notesPanel(recording, player) {
  const { surfer, duration, wave } = player;
  const markers = h("div", { class: "note-markers", "aria-hidden": "true" });
  wave.after(markers);
  const list = h("ol", { id: "notes", class: "notes" });
  const empty = h("p", { class: "empty" }, t("noNotes"));
  const seek = (at) => {
    surfer.setTime(Math.min(Math.max(at, 0), duration));
    wave.focus();
  };
  async function show() {
    const notes = await allNotes(recording.id);
    markers.replaceChildren(...notes.map((note) => h("span", {
      class: "note-marker", title: note.text,
      "data-at": note.at_seconds,
    })));
    // Positions through the CSSOM: the console's CSP refuses inline style attributes.
    for (const marker of markers.children) {
      marker.style.left = `${(100 * Number(marker.dataset.at)) / (duration || 1)}%`;
    }
    list.replaceChildren(...notes.map((note) => h("li", {},
      h("button", { type: "button", class: "as-link seek", onclick: () => seek(note.at_seconds) },
        seconds(note.at_seconds)),
      " ", note.text, " ", h("span", { class: "hint" }, `(${note.author ?? "–"}, ${when(note.created_at)})`))));
    empty.hidden = notes.length > 0;
  }
  const position = h("output", { id: "note-position" }, seconds(0));
  surfer.on("timeupdate", () => { position.textContent = seconds(surfer.getCurrentTime()); });
  const add = form({ id: "add-note" }, [
    field({ name: "text", label: t("noteText"), type: "textarea", required: true, maxlength: 2000 }),
    h("p", { class: "hint" }, `${t("noteAt")} `, position),
  ], t("addNote"), async (values, node) => {
    const at = Math.round(surfer.getCurrentTime() * 1000) / 1000;
    await api("POST", notesPath(recording.id), { at_seconds: Math.min(at, duration), text: values.text });
    node.reset();
    showNotice(t("noteAdded"));
    await show();
  });
  await show();
  return h("section", { id: "notes-section", "aria-labelledby": "notes-h" },
    h("h2", { id: "notes-h" }, t("notes")), list, empty, add);
}

/** On a released call: put it into one of the collections. */
export async function addToCollection(recording) {
  const { items } = await api("GET", `/v1/training/collections${query({ limit: 200 })}`);
  const section = h("section", { id: "call-collections", "aria-labelledby": "call-collections-h" },
    h("h2", { id: "call-collections-h" }, t("collections")));
  if (!items.length) {
    section.append(h("p", {}, t("noCollections"), " ", link("#/collections", t("newCollection"))));
    return section;
  }
  section.append(form({ id: "add-to-collection", class: "filters" }, [
    field({ name: "collection", label: t("collection"), options: items.map((c) => [c.id, c.name]) }),
  ], t("addToCollection"), async (values) => {
    await api("POST", `/v1/training/collections/${values.collection}/items`, { recording_id: recording.id });
    showNotice(t("addedToCollection"));
  }));
  return section;
}

/** `#/collections`: every collection (shared among trainers), and a form to create one. */
export function collectionsPage(main) {
  const table = pagedTable("collections", [
    [t("name"), (c) => link(`#/collections/${c.id}`, c.name)],
    [t("calls"), (c) => String(c.calls)],
    [t("createdBy"), (c) => c.created_by ?? "–"],
    [t("createdAt"), (c) => when(c.created_at)],
  ], (cursor) => api("GET", `/v1/training/collections${query({ cursor })}`));
  const create = form({ id: "new-collection" }, [
    h("h2", {}, t("newCollection")),
    field({ name: "name", label: t("collectionName"), required: true, maxlength: 200 }),
  ], t("create"), async (values) => {
    const made = await api("POST", "/v1/training/collections", { name: values.name });
    showNotice(t("created"));
    location.hash = `#/collections/${made.id}`;
  });
  main.replaceChildren(h("h1", {}, t("collections")), table.node, create);
  return table.ready;
}

/** `#/collections/{id}`: its calls, each opened in the trainer's view, or taken out. */
export async function collectionPage(main, id, me) {
  const path = `/v1/training/collections/${encodeURIComponent(id)}`;
  const first = await api("GET", path);
  const base = me.permissions.includes(vocabulary.permissions.LIST_RECORDINGS) ? "recordings" : "training";
  const table = pagedTable("collection-calls", [
    [t("started"), (item) => link(`#/${base}/${item.recording_id}`, when(item.started_at))],
    [t("duration"), (item) => seconds(item.duration_seconds)],
    [t("addedAt"), (item) => when(item.added_at)],
    ["", (item) => h("button", { type: "button", class: "remove",
      "aria-label": `${t("remove")}: ${when(item.started_at)}`,
      onclick: () => attempt(async () => {
        await api("DELETE", `${path}/items/${item.recording_id}`);
        showNotice(t("removed"));
        await collectionPage(main, id, me);
      }) }, t("remove"))],
  ], (cursor) => (cursor ? api("GET", `${path}${query({ cursor })}`) : Promise.resolve(first)));
  main.replaceChildren(h("p", {}, link("#/collections", `← ${t("back")}`)),
    h("h1", {}, first.name), table.node);
  return table.ready;
}
