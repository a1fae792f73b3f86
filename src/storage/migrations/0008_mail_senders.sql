-- Schema 8 (issue 21 #8): one sender setting per kind of mail, as the seed shows them: the
-- system's (OTPs, security notices: setting mail-from) and Client Connect's (eService notices:
-- setting mail-from-eservice). A kept mail remembers whose it is, so a retry sends it as that.
ALTER TABLE outbox ADD COLUMN sender TEXT NOT NULL DEFAULT 'system' CHECK (sender IN ('system', 'eservice'));
