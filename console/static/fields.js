// Forms whose fields carry the API's names, so the API's 422 (or 409) answer shows beside
// the field each error names; and editable lists of items (phones, parties, household…).

import { attempt, h, showError } from "./dom.js";
import { t } from "./i18n.js";

/** Mark `paragraph`'s control (a `field()`) as the one the API's errors call `name`. */
export function apiField(name, paragraph) {
  paragraph.querySelector("input, select, textarea").setAttribute("data-field", name);
  return paragraph;
}

/** Mark a row's control as the item's `name` part (`phones[0].number`: "number"). */
export const part = (paragraph, name) => {
  paragraph.querySelector("input, select").setAttribute("data-part", name);
  return paragraph;
};

/** On submit: clear earlier errors, `collect()` the body, put `check(body)`'s errors (what the
 * browser can tell) or else the API's answer to `save(body)` beside the fields they name. */
export function submitWithFieldErrors(node, collect, check, save) {
  node.addEventListener("submit", async (event) => {
    event.preventDefault();
    fieldErrors(node, []);
    const body = collect();
    const local = check(body);
    if (local.length) {
      fieldErrors(node, local);
      showError(new Error(t("fixFields")));
      return;
    }
    const button = node.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      await attempt(async () => {
        try {
          await save(body);
        } catch (error) {
          const errors = error.problem?.errors ?? [];
          fieldErrors(node, errors);
          throw errors.length ? new Error(`${error.problem.detail || error.message} ${t("fixFields")}`) : error;
        }
      });
    } finally {
      button.disabled = false;
    }
  });
}

/** An editable list (phones, e-mails, addresses): one row per item, add and remove buttons.
 * Row `i`'s controls carry the API's names (`phones[0].number`) for its errors. */
export function rows(name, items, row, empty) {
  const list = h("div", { class: "rows" });
  const legend = h("legend", {}, t(name));
  const add = h("button", { type: "button", class: "add-row", onclick: () => append(empty, true) }, `+ ${t(`add_${name}`)}`);
  const node = h("fieldset", { "data-field": name, id: `${name}-rows` }, legend, list, h("p", {}, add));
  function renumber() {
    [...list.children].forEach((item, index) => {
      if (item.querySelectorAll("[data-part]").length > 1) item.setAttribute("data-field", `${name}[${index}]`);
      for (const control of item.querySelectorAll("[data-part]")) {
        control.setAttribute("data-field", `${name}[${index}]${control.dataset.part ? `.${control.dataset.part}` : ""}`);
      }
    });
  }
  function append(item, focus) {
    const remove = h("button", { type: "button", class: "remove-row" }, t("remove"));
    const entry = h("div", { class: "row" }, row(item, list.children.length + 1), h("p", {}, remove));
    remove.setAttribute("aria-label", `${t("remove")}: ${t(name)} ${list.children.length + 1}`);
    remove.addEventListener("click", () => {
      entry.remove();
      renumber();
      add.focus();
    });
    list.append(entry);
    renumber();
    if (focus) entry.querySelector("input, select").focus();
  }
  items.forEach((item) => append(item, false));
  const values = () => [...list.children].map((entry) => {
    const controls = [...entry.querySelectorAll("[data-part]")];
    if (controls.length === 1 && !controls[0].dataset.part) return controls[0].value.trim();
    return Object.fromEntries(controls.map((control) => [control.dataset.part, control.value.trim()]));
  });
  return { node, values };
}


const CONTROLS = ["INPUT", "SELECT", "TEXTAREA"];

/** Show `message` beside `control` (a field, a row or a fieldset), or clear it with null. */
export function markField(control, message) {
  const id = `${control.id || control.dataset.field}-error`;
  control.parentElement.querySelector(`[id="${CSS.escape(id)}"]`)?.remove();
  if (!CONTROLS.includes(control.tagName)) {
    if (!message) return;
    const note = h("span", { class: "field-error", id }, message);
    const legend = control.querySelector("legend");
    if (legend) legend.after(note);
    else control.prepend(note);
    return;
  }
  const described = (control.getAttribute("aria-describedby") || "").split(" ").filter((d) => d && d !== id);
  if (message) {
    control.after(h("span", { class: "field-error", id }, message));
    described.push(id);
  }
  control.setAttribute("aria-invalid", message ? "true" : "false");
  if (described.length) control.setAttribute("aria-describedby", described.join(" "));
  else control.removeAttribute("aria-describedby");
}

/** `phones[2].number` → `phones[2]` → `phones` → "". */
const enclosing = (name) => {
  const up = name.replace(/(\.[^.[\]]+|\[\d+\])$/, "");
  return up === name ? "" : up;
};

/** Put each `{field, message}` beside the control it names (or the nearest enclosing one:
 * `phones[2].number`, then `phones[2]`, then `phones`), clearing earlier ones; focus the first. */
function fieldErrors(node, errors) {
  for (const control of node.querySelectorAll("[aria-invalid=true]")) markField(control, null);
  for (const note of node.querySelectorAll(".field-error")) note.remove();
  const messages = new Map();
  for (const { field: name, message } of errors) {
    let control = null;
    for (let key = name; key && !control; key = enclosing(key)) {
      control = node.querySelector(`[data-field="${CSS.escape(key)}"]`);
    }
    if (control) messages.set(control, messages.has(control) ? `${messages.get(control)}; ${message}` : message);
  }
  for (const [control, message] of messages) markField(control, message);
  const first = [...messages.keys()][0];
  (first && (CONTROLS.includes(first.tagName) ? first : first.querySelector("input, select")))?.focus();
}
