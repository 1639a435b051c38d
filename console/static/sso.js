// Single sign-on on the login page: when the server has an OpenID provider configured, a
// "Sign in with …" link to the provider. It is a plain link (a top-level navigation): the
// provider's page opens in place and the server's callback brings the browser back here.

import { api } from "./api.js";
import { h } from "./dom.js";
import { t } from "./i18n.js";

/** The sign-in link, or null when single sign-on is off or its settings cannot be read. */
export async function ssoLink() {
  const sso = await api("GET", "/v1/auth/oidc").catch(() => ({ enabled: false }));
  if (!sso.enabled) return null;
  return h("p", { id: "sso" },
    h("a", { class: "sso", href: sso.login_url }, `${t("signInWith")} ${sso.name}`));
}

const FAILURES = ["sso-expired", "sso-state-mismatch", "sso-provider-error", "sso-no-mapped-group", "sso-disabled"];

/** Why the last single sign-on failed, when the server sent the browser back with
 * `#/sso/<problem type>`; null otherwise. */
export function ssoFailure() {
  const failed = /^#\/sso\/([a-z-]+)$/.exec(location.hash);
  if (!failed) return null;
  const key = FAILURES.includes(failed[1]) ? failed[1] : "sso-failed";
  return h("p", { id: "sso-failure", class: "warning", role: "alert" }, t(key));
}
