-- Schema 9 (issue 21 #6): the terminal functions a user profile enables, as the seed's
-- confirmation block lists them (App A f): keys from domain::profile::FUNCTIONS, separated by
-- single spaces, in the seed's order; none for every profile made before.
ALTER TABLE users ADD COLUMN functions TEXT NOT NULL DEFAULT '';
