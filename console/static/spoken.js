// Which word of a transcript is being spoken at a moment of the call. No DOM here, so the
// console's tests run it under Node.js on the same transcripts the browser gets.

/** The words of `segments` (the API's transcript segments) in time order, each with its
 * segment's channel and its place (segment index, word index) for finding its element. */
export function timeline(segments) {
  const words = [];
  segments.forEach((segment, s) => {
    segment.words.forEach((word, w) => {
      words.push({ start: word.start, end: word.end, channel: segment.channel, segment: s, word: w,
        segmentEnd: segment.end });
    });
  });
  return words.sort((a, b) => a.start - b.start || a.segment - b.segment || a.word - b.word);
}

/** The words being spoken at `time`: per channel, the last word begun in a segment still
 * going on (so a pause between two words of a sentence keeps the earlier one lit, and the
 * agent and the customer talking over each other both show). */
export function spokenAt(words, time) {
  const current = new Map();
  for (const word of words) {
    if (word.start > time) break;
    if (time < Math.max(word.end, word.segmentEnd)) current.set(word.channel, word);
  }
  return [...current.values()];
}
