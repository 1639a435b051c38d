// Personal data a DPO may want to silence, found in a transcript: henkilötunnus patterns,
// phone numbers (runs of six or more digits, +358…), e-mail addresses and the linked
// customer's names. These are only suggestions: the redaction panel lists them, and nothing
// becomes a span until the DPO adds it. No DOM here, so tests run it under Node.js.

/** Seconds of margin around the words found: word timestamps are estimates, and a span
 * a little too wide silences a breath, while one too narrow lets a digit through. */
export const MARGIN = 0.2;

// Words a speaker uses for digits and signs, as the model may write them out.
const SPOKEN = new Map(Object.entries({
  nolla: "0", yksi: "1", kaksi: "2", kolme: "3", neljä: "4", viisi: "5", kuusi: "6",
  seitsemän: "7", kahdeksan: "8", yhdeksän: "9",
  zero: "0", one: "1", two: "2", three: "3", four: "4", five: "5", six: "6", seven: "7",
  eight: "8", nine: "9",
  viiva: "-", väliviiva: "-", miinus: "-", plus: "+",
  ät: "@", at: "@", piste: ".", dot: ".",
}));

// A henkilötunnus: a possible date, the century sign, the individual number, the check
// character (not verified: one misheard digit should not hide the rest from the DPO).
const HETU = /(0[1-9]|[12]\d|3[01])(0[1-9]|1[0-2])\d\d[-+A-FU-Y]\d{3}[0-9A-FHJ-NPR-Y]/gi;
const PHONE = /\+?\d[\d-]*\d/g;
const EMAIL = /[\p{L}\d._%+-]+ ?@ ?[\p{L}\d-]+(?: ?\. ?[\p{L}\d-]+)+/gu;
const DIGITISH = /^\+?[\d-]*\d(?:[A-Za-z]?[\d-]*\d)?[A-Za-z]?$/; // digits, a century letter, a check letter
const JOINER = /^([-+]|[A-Za-z])$/;
const EDGE = /^[^\p{L}\d@+-]+|[^\p{L}\d+-]+$/gu;

/** A word as the patterns read it: without the punctuation around it, spoken digits and
 * signs as characters. */
export function normalised(word) {
  const bare = word.normalize("NFKC").trim().replace(EDGE, "");
  return SPOKEN.get(bare.toLowerCase()) ?? bare;
}

/** Runs of words that read as one number when written together ("040 123 4567",
 * "131052 A 308T", "kolme yksi…"): [first, last] word indices and the joined text with where
 * each word starts in it. */
function numberRuns(tokens) {
  const runs = [];
  let run = null;
  tokens.forEach((token, i) => {
    const digits = DIGITISH.test(token);
    const joins = run && (digits || JOINER.test(token));
    if (joins) {
      run.offsets.push(run.text.length);
      run.text += token;
      run.last = i;
    } else {
      if (run) runs.push(run);
      run = digits || token === "+" ? { first: i, last: i, text: token, offsets: [0] } : null;
    }
  });
  if (run) runs.push(run);
  return runs;
}

/** The word indices a match from `at` to `at + length` covers, given where words start. */
function covered(offsets, first, at, length) {
  let from = 0;
  let to = 0;
  offsets.forEach((offset, i) => {
    if (offset <= at) from = i;
    if (offset < at + length) to = i;
  });
  return [first + from, first + to];
}

function digitCount(text) {
  return text.replace(/\D/g, "").length;
}

/** Matches of the number patterns in one segment's tokens: [kind, first, last]. */
function numbers(tokens) {
  const found = [];
  for (const run of numberRuns(tokens)) {
    let rest = run.text; // what the henkilötunnus matches leave for the phone numbers
    for (const match of run.text.matchAll(HETU)) {
      found.push(["henkilotunnus", ...covered(run.offsets, run.first, match.index, match[0].length)]);
      rest = rest.slice(0, match.index) + " ".repeat(match[0].length) + rest.slice(match.index + match[0].length);
    }
    for (const match of rest.matchAll(PHONE)) {
      if (digitCount(match[0]) >= 6 || match[0].startsWith("+358")) {
        found.push(["phone", ...covered(run.offsets, run.first, match.index, match[0].length)]);
      }
    }
  }
  return found;
}

/** E-mail addresses, written ("maija@example.fi") or spoken ("maija ät example piste fi"). */
function emails(tokens) {
  const offsets = [];
  let text = "";
  tokens.forEach((token, i) => {
    if (i) text += " ";
    offsets.push(text.length);
    text += token;
  });
  return [...text.matchAll(EMAIL)].map((match) => ["email", ...covered(offsets, 0, match.index, match[0].length)]);
}

const folded = (text) => text.normalize("NFKC").toLocaleLowerCase("fi");

/** The stems a name is found by in Finnish speech: the name itself, and for the -nen
 * surnames the inflected stem (Virtanen, Virtasen, Virtaselle). */
function stems(name) {
  return folded(name).split(/[\s-]+/).filter((part) => part.length >= 2)
    .flatMap((part) => (part.endsWith("nen") ? [part, `${part.slice(0, -3)}s`] : [part]));
}

/** Words that are the name or, for stems of three letters or more, an inflection of it
 * (a case ending of up to six letters). */
function names(tokens, kind, name) {
  const wanted = stems(name ?? "");
  const found = [];
  tokens.forEach((token, i) => {
    const word = folded(token);
    if (wanted.some((stem) => word === stem
      || (stem.length >= 3 && word.startsWith(stem) && word.length - stem.length <= 6))) {
      found.push([kind, i, i]);
    }
  });
  return found;
}

/** Candidate spans in `transcript` (the API's document): `{kind, start, end, channel, text}`,
 * where `channel` is the redaction's (a mono call's spans cover both voices) and `text` the
 * words found, for the DPO to judge. `customer` is the linked customer (first_name,
 * last_name), or null. Sorted by time, each span once. */
export function suggestions(transcript, customer, duration = Infinity) {
  const seen = new Set();
  const found = [];
  for (const segment of transcript.segments ?? []) {
    const tokens = segment.words.map((word) => normalised(word.word));
    const matches = [
      ...numbers(tokens), ...emails(tokens),
      ...(customer ? [...names(tokens, "first_name", customer.first_name), ...names(tokens, "last_name", customer.last_name)] : []),
    ];
    for (const [kind, first, last] of matches) {
      const start = Math.max(0, round(segment.words[first].start - MARGIN));
      const end = Math.min(duration, round(segment.words[last].end + MARGIN));
      const channel = segment.channel === "mono" ? "both" : segment.channel;
      const key = `${kind} ${start} ${end} ${channel}`;
      if (seen.has(key) || !(end > start)) continue;
      seen.add(key);
      const text = segment.words.slice(first, last + 1).map((word) => word.word.trim()).join(" ");
      found.push({ kind, start, end, channel, text });
    }
  }
  return found.sort((a, b) => a.start - b.start || a.end - b.end);
}

const round = (value) => Math.round(value * 100) / 100;
