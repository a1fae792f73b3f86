-- Schema 6 (the service, SPEC §10 "Who acted"): every audit row records who called beside the
-- dms user — the operating-system account over the Unix socket or of an embedded command, the
-- peer address over TLS — as JSON text. Rows written before it have none (NULL). The keyed link
-- (alg 2) covers it when present: as a seventh length-prefixed field after `detail`, so an old
-- row's link is unchanged and a new row's `via` cannot be removed, added or edited unseen.
ALTER TABLE audit ADD COLUMN via TEXT;
