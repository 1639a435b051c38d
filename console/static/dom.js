// Building the page: elements from data, never from HTML strings, so text from the API
// can never become markup.

import { t } from "./i18n.js";

/** Children flattened, with the absent ones (null, undefined, false: conditional parts) left out. */
const present = (children) => children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false);

/** An element; `on…` attributes take listeners, booleans set properties, the rest attributes. */
export function h(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (value === true) node.setAttribute(name, "");
    else node.setAttribute(name, String(value));
  }
  node.append(...present(children));
  return node;
}

export const $ = (id) => document.getElementById(id);

/** Replace what `parent` shows; null and false children (conditional parts) are left out. */
export function render(parent, ...children) {
  parent.replaceChildren(...present(children));
}

/** Show an error (or clear it with nothing); the box is a live region for screen readers. */
export function showError(error) {
  const message = error ? error.message || String(error) : "";
  $("error").textContent = message;
  $("error").hidden = !message;
}

export function showNotice(message) {
  $("notice").textContent = message || "";
  $("notice").hidden = !message;
}

/** Run an action that may fail, and show its failure instead of losing it. */
export async function attempt(action) {
  showError(null);
  try {
    return await action();
  } catch (error) {
    showError(error);
    return undefined;
  }
}

let fieldCount = 0;

/** A labelled input, select or textarea: `{name, label, type?, options?, value?, required?}`. */
export function field({ name, label, type = "text", options, value, required, ...rest }) {
  const id = `f-${name}-${++fieldCount}`;
  let control;
  if (options) {
    control = h("select", { id, name, required, ...rest },
      options.map(([optionValue, text]) => h("option", { value: optionValue, selected: optionValue === value }, text)));
  } else if (type === "textarea") {
    control = h("textarea", { id, name, required, rows: 3, ...rest }, value ?? "");
  } else if (type === "checkbox") {
    control = h("input", { id, name, type, checked: Boolean(value), ...rest });
    return h("p", { class: "check" }, control, h("label", { for: id }, label));
  } else {
    control = h("input", { id, name, type, value: value ?? "", required, ...rest });
  }
  return h("p", {}, h("label", { for: id }, label), control);
}

/** A form whose submit runs `onSubmit(values)` with errors shown, not thrown. */
export function form(attributes, fields, submitText, onSubmit) {
  const node = h("form", attributes, fields, h("p", {}, h("button", { type: "submit" }, submitText)));
  node.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = {};
    for (const element of node.elements) {
      if (!element.name) continue;
      values[element.name] = element.type === "checkbox" ? element.checked : element.value.trim();
    }
    const button = node.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      await attempt(() => onSubmit(values, node));
    } finally {
      button.disabled = false;
    }
  });
  return node;
}

/** A table of `columns` ([header, (item) => cell]) that grows page by page through `load`. */
export function pagedTable(id, columns, load) {
  const body = h("tbody");
  const table = h("table", { id },
    h("thead", {}, h("tr", {}, columns.map(([header]) => h("th", { scope: "col" }, header)))), body);
  const more = h("button", { type: "button", class: "more", hidden: true }, t("more"));
  const empty = h("p", { class: "empty", hidden: true }, t("none"));
  let cursor = null;
  async function next() {
    const page = await load(cursor);
    for (const item of page.items) {
      body.append(h("tr", {}, columns.map(([, cell]) => h("td", {}, cell(item) ?? ""))));
    }
    cursor = page.next;
    more.hidden = !cursor;
    empty.hidden = body.rows.length > 0;
  }
  more.addEventListener("click", () => attempt(next));
  const node = h("div", { class: "paged" }, table, empty, more);
  return { node, ready: attempt(next) };
}

/** Label and value pairs as a description list; null values are left out. */
export function facts(pairs) {
  return h("dl", {}, pairs.filter(([, value]) => value !== null && value !== undefined)
    .map(([label, value]) => [h("dt", {}, label), h("dd", {}, value)]));
}

export const link = (href, text) => h("a", { href }, text);
export const yesNo = (value) => t(value ? "yes" : "no");
export const seconds = (value) => {
  const total = Math.round(Number(value) || 0);
  return `${Math.floor(total / 60)}:${String(total % 60).padStart(2, "0")}`;
};

/** The start of a date input's day in local time, as the API's timestamp; "" stays "". */
export const dayStart = (value, plusDays = 0) => {
  if (!value) return "";
  const day = new Date(`${value}T00:00:00`);
  day.setDate(day.getDate() + plusDays);
  return day.toISOString();
};
