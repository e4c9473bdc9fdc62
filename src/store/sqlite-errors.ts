// Which SQLite failures are the host's condition rather than a bug: another writer holding the lock past
// the busy timeout, a full disk, a read-only or vanished file, an I/O error. They become
// StoreUnavailableError (answered 503, shown by /readyz); anything else stays what it was (a 500).
import { StoreUnavailableError } from './store.js';

const CONDITIONS: readonly [RegExp, string][] = [
  [/^SQLITE_(BUSY|LOCKED)/, 'store busy: another writer holds the lock'],
  [/^SQLITE_FULL/, 'store disk full'],
  [/^SQLITE_READONLY/, 'store is read-only'],
  [/^SQLITE_CANTOPEN/, 'store files cannot be opened'],
  [/^SQLITE_(IOERR|PROTOCOL|NOMEM)/, 'store I/O error'],
];

/** The error as the store reports it: StoreUnavailableError for a host condition, else the error itself. */
export function storeError(error: unknown): Error {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string') {
    const condition = CONDITIONS.find(([pattern]) => pattern.test(code));
    if (condition) return new StoreUnavailableError(condition[1], code, { cause: error });
  }
  return error instanceof Error ? error : new Error(String(error));
}
