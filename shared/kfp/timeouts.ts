// Every KFP call has its own timeout, so a hung server cannot hang the step.

/** Ordinary calls: lookups and creates. */
export const CALL_TIMEOUT_MS = 30_000;
/** Uploads carry up to 32 MB. */
export const UPLOAD_TIMEOUT_MS = 120_000;
/** A status poll: short, since the next poll comes in seconds anyway. */
export const POLL_TIMEOUT_MS = 10_000;
/** Terminating after a cancel: the runner kills the step about 10 s after it asks it to stop. */
export const TERMINATE_TIMEOUT_MS = 4_000;
