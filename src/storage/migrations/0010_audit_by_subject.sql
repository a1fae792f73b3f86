-- Schema 10 (issue 19 #5): the audit rows about one user, found without reading the trail:
-- `dms user history ID` and `report audit --subject ID` on a trail of millions of rows.
CREATE INDEX IF NOT EXISTS audit_by_subject ON audit (subject, seq) WHERE subject IS NOT NULL;
