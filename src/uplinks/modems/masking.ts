/**
 * IMEI and ICCID identify a device and a subscriber: wherever one is shown
 * or logged only its last digits remain. The reading itself keeps the full
 * values (the data ledger is keyed by ICCID); formatters mask them.
 */

/** How many trailing characters stay readable: enough to tell two SIMs in one box apart. */
export const VISIBLE_DIGITS = 4;

/** `356938035643809` → `***********3809`. Short values are masked entirely. */
export function maskIdentifier(value: string, visible = VISIBLE_DIGITS): string {
  if (value.length <= visible) return '*'.repeat(value.length);
  return '*'.repeat(value.length - visible) + value.slice(-visible);
}

/** IMEIs are 15 digits, ICCIDs 18–20 (ITU-T E.118): any run of 10 or more digits in free text is masked. */
const LONG_DIGIT_RUN = /\d{10,}/g;

/** Masks identifier-like digit runs in a line before it is logged. */
export function maskDigitRuns(text: string): string {
  return text.replace(LONG_DIGIT_RUN, (run) => maskIdentifier(run));
}
