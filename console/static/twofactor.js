// Two-factor sign-in: the enrolment page and the login's second step. The QR code comes from
// callrec as SVG (drawn on the server; no other service sees the secret) and is shown as an
// image; the secret and the recovery codes live only in this page until it is left.

import { api, setCsrf } from "./api.js";
import { field, form, h, render } from "./dom.js";
import { t } from "./i18n.js";

const grouped = (secret) => secret.match(/.{1,4}/g).join(" ");
const codeField = (label) => field({ name: "code", label, required: true, autocomplete: "one-time-code",
  inputmode: "numeric", spellcheck: "false", maxlength: 32 });

/** The login's second step: the code of the authenticator app (or a recovery code) for the
 * challenge the password step answered with. A wrong code uses the challenge up, so the
 * login form comes back (the API's 401 brings it) with the error shown. */
export function secondStepForm(challenge, done) {
  const step = form({ id: "login-code", "aria-label": t("secondStep") }, [
    h("h1", {}, t("secondStep")),
    h("p", { class: "hint" }, t("codeHint")),
    codeField(t("code")),
  ], t("login"), async (values) => {
    const answer = await api("POST", "/v1/auth/login/totp", { challenge, code: values.code });
    setCsrf(answer.csrf_token);
    await done();
  });
  return step;
}

/** `#/two-factor`: enrol (QR code, the secret for typing in, the first code), then the
 * recovery codes, shown once. `refresh` reloads who is logged in once enrolment is done. */
export function twoFactorPage(main, me, refresh) {
  const body = h("section", { "aria-live": "polite" });
  render(main, h("h1", {}, t("twoFactor")), body);
  if (me.second_factor === "enrolled") {
    render(body, h("p", { id: "two-factor-on" }, t("twoFactorOn")));
    return;
  }
  const start = h("button", { type: "button", id: "start-enrolment" }, t("startEnrolment"));
  render(body,
    me.second_factor === "required" && h("p", { class: "warning", id: "two-factor-required" }, t("twoFactorRequired")),
    h("p", {}, t("twoFactorIntro")), h("p", {}, start));
  start.addEventListener("click", async () => {
    const enrolment = await api("POST", "/v1/auth/totp");
    const confirm = form({ id: "totp-confirm", "aria-label": t("firstCode") }, [codeField(t("firstCode"))],
      t("confirm"), async (values) => {
        const { recovery_codes: codes } = await api("POST", "/v1/auth/totp/confirm", { code: values.code });
        showRecoveryCodes(body, codes, refresh);
      });
    render(body,
      h("p", {}, t("scanQr")),
      h("img", { id: "totp-qr", alt: t("qrAlt"), width: 185, height: 185,
        src: `data:image/svg+xml;charset=utf-8,${encodeURIComponent(enrolment.qr_svg)}` }),
      h("p", {}, t("manualEntry"), " ", h("code", { id: "totp-secret", "data-secret": enrolment.secret }, grouped(enrolment.secret))),
      confirm);
    confirm.querySelector("input").focus();
  });
}

function showRecoveryCodes(body, codes, refresh) {
  const next = h("button", { type: "button", id: "recovery-done" }, t("continue"));
  next.addEventListener("click", async () => {
    await refresh();
    location.hash = "#/";
  });
  render(body,
    h("h2", { tabindex: "-1", id: "recovery-heading" }, t("recoveryCodes")),
    h("p", { class: "warning" }, t("recoveryCodesOnce")),
    h("ol", { id: "recovery-codes" }, codes.map((code) => h("li", {}, h("code", {}, code)))),
    h("p", {}, next));
  body.querySelector("#recovery-heading").focus();
}
