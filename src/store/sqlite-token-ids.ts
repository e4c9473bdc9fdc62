// Token ids (`jti`) for replay protection, in the hook-rate database beside the issued-card index
// (synchronous=OFF: a committed id survives the process being killed, not a power loss; see README).
// Triggers keep a count per issuer, so the limit check reads one row and processes sharing the file
// agree on it. Ids are only ever deleted once expired: at a limit, new ids are refused, never evicted.
import type Database from 'better-sqlite3';
import type { TokenIdClaim, TokenIdOutcome } from './store.js';

export const TOKEN_ID_SCHEMA = `
CREATE TABLE IF NOT EXISTS token_id (
  issuer TEXT NOT NULL,
  id TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (issuer, id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS token_id_expiry ON token_id (expires_at);
CREATE TABLE IF NOT EXISTS token_id_count (issuer TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS token_id_added AFTER INSERT ON token_id BEGIN
  INSERT INTO token_id_count (issuer, n) VALUES (NEW.issuer, 1) ON CONFLICT (issuer) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER IF NOT EXISTS token_id_removed AFTER DELETE ON token_id BEGIN
  UPDATE token_id_count SET n = n - 1 WHERE issuer = OLD.issuer;
END;
`;

/** Expired ids deleted per claim: more than one, so pruning keeps up with any claim rate, and bounded, so no claim pays for a backlog. */
const PRUNE_BATCH = 64;

/** A function that claims a token id in one immediate transaction (serialised with other processes on the file). */
export function tokenIdClaimer(db: Database.Database): (claim: TokenIdClaim) => TokenIdOutcome {
  const prune = db.prepare(`DELETE FROM token_id WHERE (issuer, id) IN (SELECT issuer, id FROM token_id WHERE expires_at <= ? LIMIT ${PRUNE_BATCH})`);
  const pruneAll = db.prepare('DELETE FROM token_id WHERE expires_at <= ?');
  const find = db.prepare('SELECT expires_at AS expiresAt FROM token_id WHERE issuer = ? AND id = ?');
  const remove = db.prepare('DELETE FROM token_id WHERE issuer = ? AND id = ?');
  const count = db.prepare('SELECT n FROM token_id_count WHERE issuer = ?').pluck();
  const insert = db.prepare('INSERT INTO token_id (issuer, id, expires_at) VALUES (?, ?, ?)');
  const atLimit = (issuer: string, limit: number): boolean => ((count.get(issuer) as number | undefined) ?? 0) >= limit;

  const claim = db.transaction(({ issuer, id, expiresAt, now, limit }: TokenIdClaim): TokenIdOutcome => {
    prune.run(now);
    const seen = find.get(issuer, id) as { expiresAt: number } | undefined;
    if (seen && seen.expiresAt > now) return 'replayed';
    if (seen) remove.run(issuer, id);
    if (atLimit(issuer, limit)) {
      // Rare: make sure it is unexpired ids, not a pruning backlog, that fill the issuer's share.
      pruneAll.run(now);
      if (atLimit(issuer, limit)) return 'full';
    }
    insert.run(issuer, id, expiresAt);
    return 'claimed';
  });
  return (c) => claim.immediate(c);
}
