// The henkilötunnus check of register/identity.py (python-stdnum's fi.hetu under the 2023
// rules, Decree 690/2022), ported so a typo shows while it is typed, before anything is sent.
// The server checks again; tests/console compares the two on the same codes.

const CENTURIES = { "+": 1800, "-": 1900, Y: 1900, X: 1900, W: 1900, V: 1900, U: 1900,
  A: 2000, B: 2000, C: 2000, D: 2000, E: 2000, F: 2000 };
const FORM = /^([0123]\d)([01]\d)(\d\d)([-+A-FU-Y])(\d{3})([0-9A-FHJ-NPR-Y])$/;
const CHECK_CHARACTERS = "0123456789ABCDEFHJKLMNPRSTUVWXY";
export const LENGTH = 11;

/** What is wrong with `raw` as a henkilötunnus: "hetuFormat", "hetuDate" or "hetuChecksum"
 * (keys of i18n.js, in the server's order of checks), or null when it is valid. Temporary
 * numbers (individual number 900-999) are accepted, as the server accepts them. */
export function henkilotunnusProblem(raw) {
  const match = FORM.exec(raw.trim().toUpperCase());
  if (!match) return "hetuFormat";
  const [, day, month, year, century, individual, control] = match;
  const fullYear = CENTURIES[century] + Number(year);
  const born = new Date(Date.UTC(fullYear, Number(month) - 1, Number(day)));
  const real = born.getUTCFullYear() === fullYear && born.getUTCMonth() === Number(month) - 1
    && born.getUTCDate() === Number(day);
  if (!real || Number(individual) < 2) return "hetuDate";
  if (CHECK_CHARACTERS[Number(`${day}${month}${year}${individual}`) % 31] !== control) return "hetuChecksum";
  return null;
}

/** The code as shown once saved: the birth date and century sign, the rest hidden. */
export const maskedHenkilotunnus = (value) => (value ? `${value.slice(0, 7)}****` : "");
