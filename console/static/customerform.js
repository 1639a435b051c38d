// Creating and changing a customer: every field of the register's record, the henkilötunnus
// checked as it is typed and never shown back in full, and the API's 422 (or 409) answer
// shown beside the field each error names. Only customer service reaches these pages; the
// others read the card, masked by the server.

import { api } from "./api.js";
import { field, h, link, showNotice } from "./dom.js";
import { apiField, markField, part, rows, submitWithFieldErrors } from "./fields.js";
import { henkilotunnusProblem, LENGTH, maskedHenkilotunnus } from "./henkilotunnus.js";
import { choices, t } from "./i18n.js";
import vocabulary from "./vocabulary.js";

const DATES = ["relationship_start", "turvakielto_start", "turvakielto_end"];
const OPTIONAL = ["travel_document", "assigned_advisor", ...DATES];

/** `#/new-customer`: an empty form; once created, the customer's card. */
export function newCustomerPage(main) {
  main.replaceChildren(h("p", {}, link("#/customers", `← ${t("back")}`)), h("h1", {}, t("newCustomer")),
    customerForm(null, async (body) => {
      const created = await api("POST", "/v1/customers", body);
      savedThen(`#/customers/${created.id}`);
    }));
  main.querySelector("input").focus();
}

/** `#/edit-customer/{id}`: the record as it is; only the fields changed are sent. */
export async function editCustomerPage(main, id) {
  const customer = await api("GET", `/v1/customers/${encodeURIComponent(id)}`);
  main.replaceChildren(h("p", {}, link(`#/customers/${customer.id}`, `← ${t("back")}`)),
    h("h1", {}, `${t("editCustomer")}: ${customer.last_name}, ${customer.first_name}`),
    customerForm(customer, async (body) => {
      const changes = changed(customer, body);
      if (Object.keys(changes).length) await api("PATCH", `/v1/customers/${customer.id}`, changes);
      savedThen(`#/customers/${customer.id}`);
    }));
}

/** Go to `hash` and say "saved" there (the route change clears notices first). */
function savedThen(hash) {
  window.addEventListener("hashchange", () => showNotice(t("saved")), { once: true });
  location.hash = hash;
}

/** The fields of `body` that differ from `customer`; a cleared optional field becomes null. */
function changed(customer, body) {
  const changes = {};
  for (const [name, value] of Object.entries(body)) {
    if (JSON.stringify(value) !== JSON.stringify(customer[name] ?? null)) changes[name] = value;
  }
  return changes;
}

/** The form; `save(body)` gets the API's body and may throw the API's error. */
function customerForm(customer, save) {
  const c = customer ?? { roles: [], phones: [], emails: [], addresses: [], language: "fi", status: "active" };
  const phones = rows("phones", c.phones, phoneRow, { number: "", type: vocabulary.phone_types[0] });
  const emails = rows("emails", c.emails, emailRow, "");
  const addresses = rows("addresses", c.addresses, addressRow, { street: "", postal_code: "", city: "", country: "FI" });
  const node = h("form", { id: "customer-form", novalidate: true },
    apiField("customer_number", field({ name: "customer_number", label: t("customerNumber"), value: c.customer_number, required: true, maxlength: 32 })),
    apiField("first_name", field({ name: "first_name", label: t("firstName"), value: c.first_name, required: true, maxlength: 100, autocomplete: "off" })),
    apiField("last_name", field({ name: "last_name", label: t("lastName"), value: c.last_name, required: true, maxlength: 100, autocomplete: "off" })),
    henkilotunnusField(c.henkilotunnus),
    apiField("travel_document", field({ name: "travel_document", label: t("travelDocument"), value: c.travel_document, maxlength: 32, autocomplete: "off" })),
    checkboxes("roles", t("roles"), choices("customer_roles", vocabulary.customer_roles), c.roles),
    apiField("language", field({ name: "language", label: t("customerLanguage"), options: choices("customer_languages", vocabulary.customer_languages), value: c.language })),
    apiField("status", field({ name: "status", label: t("status"), options: choices("customer_statuses", vocabulary.customer_statuses), value: c.status })),
    apiField("relationship_start", field({ name: "relationship_start", label: t("relationshipStart"), type: "date", value: c.relationship_start })),
    h("fieldset", { "data-field": "turvakielto" }, h("legend", {}, t("turvakielto")),
      field({ name: "turvakielto", label: t("turvakieltoInForce"), type: "checkbox", value: c.turvakielto }),
      apiField("turvakielto_start", field({ name: "turvakielto_start", label: t("turvakieltoStart"), type: "date", value: c.turvakielto_start })),
      apiField("turvakielto_end", field({ name: "turvakielto_end", label: t("turvakieltoEnd"), type: "date", value: c.turvakielto_end }))),
    phones.node, emails.node, addresses.node,
    apiField("assigned_advisor", field({ name: "assigned_advisor", label: t("assignedAdvisor"), value: c.assigned_advisor, maxlength: 100, autocomplete: "off" })),
    h("p", {}, h("button", { type: "submit" }, t("save"))));
  submitWithFieldErrors(node, () => ({
    ...scalars(node, customer),
    roles: [...node.querySelectorAll("input[name=roles]:checked")].map((box) => box.value).sort(), // as the API keeps them
    turvakielto: node.elements.turvakielto.checked,
    phones: phones.values(), emails: emails.values(), addresses: addresses.values(),
  }), localErrors, save);
  return node;
}

/** The single-valued fields; an empty optional one is left out on create, null on change. */
function scalars(node, customer) {
  const body = {};
  for (const name of ["customer_number", "first_name", "last_name", "language", "status", ...OPTIONAL]) {
    const value = node.elements[name].value.trim();
    if (value) body[name] = value;
    else if (customer && OPTIONAL.includes(name)) body[name] = null;
  }
  const hetu = node.elements.henkilotunnus.value.trim().toUpperCase();
  if (hetu) body.henkilotunnus = hetu; // empty on a change: the saved one stays
  return body;
}

/** What the browser can tell before sending: required fields and the henkilötunnus. */
function localErrors(body) {
  const errors = ["customer_number", "first_name", "last_name"].filter((name) => !body[name])
    .map((name) => ({ field: name, message: t("required") }));
  if (!body.roles.length) errors.push({ field: "roles", message: t("chooseRole") });
  const problem = body.henkilotunnus && henkilotunnusProblem(body.henkilotunnus);
  if (problem) errors.push({ field: "henkilotunnus", message: t(problem) });
  return errors;
}

/** The henkilötunnus, checked on every keystroke once it is long enough; a saved one is
 * shown masked and never put back into the page in full. */
function henkilotunnusField(saved) {
  const paragraph = apiField("henkilotunnus", field({
    name: "henkilotunnus", label: t("henkilotunnus"), maxlength: LENGTH, autocomplete: "off", spellcheck: "false",
    placeholder: saved ? maskedHenkilotunnus(saved) : "131052-308T",
  }));
  const input = paragraph.querySelector("input");
  if (saved) {
    const hint = h("span", { class: "hint", id: `${input.id}-saved` }, `${t("savedHetu")} ${maskedHenkilotunnus(saved)}`);
    paragraph.append(hint);
    input.setAttribute("aria-describedby", hint.id);
  }
  const check = (final) => {
    const value = input.value.trim();
    const problem = value && (final || value.length >= LENGTH) ? henkilotunnusProblem(value) : null;
    markField(input, problem ? t(problem) : null);
  };
  input.addEventListener("input", () => check(false));
  input.addEventListener("change", () => check(true));
  return paragraph;
}

/** A group of checkboxes for a list field such as the roles. */
function checkboxes(name, legend, options, chosen) {
  return h("fieldset", { "data-field": name }, h("legend", {}, legend),
    options.map(([value, text]) => {
      const paragraph = field({ name, label: text, type: "checkbox", value: chosen.includes(value) });
      paragraph.querySelector("input").value = value;
      return paragraph;
    }));
}

const phoneRow = (phone, n) => [
  part(field({ name: "phone-number", label: `${t("phoneNumber")} ${n}`, type: "tel", value: phone.number, placeholder: "+358401234567", autocomplete: "off" }), "number"),
  part(field({ name: "phone-type", label: `${t("phoneType")} ${n}`, options: choices("phone_types", vocabulary.phone_types), value: phone.type }), "type"),
];
const emailRow = (email, n) => [part(field({ name: "email", label: `${t("email")} ${n}`, type: "email", value: email, autocomplete: "off" }), "")];
const addressRow = (address, n) => [
  part(field({ name: "street", label: `${t("street")} ${n}`, value: address.street, maxlength: 200, autocomplete: "off" }), "street"),
  part(field({ name: "postal_code", label: `${t("postalCode")} ${n}`, value: address.postal_code, maxlength: 12, autocomplete: "off" }), "postal_code"),
  part(field({ name: "city", label: `${t("city")} ${n}`, value: address.city, maxlength: 100, autocomplete: "off" }), "city"),
  part(field({ name: "country", label: `${t("country")} ${n}`, value: address.country, maxlength: 2, autocomplete: "off" }), "country"),
];
