-- Signing keys are kept encrypted (AES-256-GCM under SIGNING_KEY_ENCRYPTION_KEY, the
-- key id as associated data) in `sealed`. Rows from before hold the plain PKCS#8 key
-- in `pkcs8` until the service, at its next start, encrypts them and clears it. Each
-- row holds exactly one of the two.
ALTER TABLE signing_keys ADD COLUMN sealed bytea;
ALTER TABLE signing_keys ALTER COLUMN pkcs8 DROP NOT NULL;
ALTER TABLE signing_keys ADD CONSTRAINT signing_keys_one_form
    CHECK (num_nonnulls(pkcs8, sealed) = 1);
