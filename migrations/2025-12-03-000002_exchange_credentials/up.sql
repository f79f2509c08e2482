-- Exchange credentials managed over HTTP: one set per (tenant, venue) on the tenant's
-- exchange account rows; the masked key prefix and the passphrase flag stored beside the
-- sealed credentials (so listing never decrypts); a rotation keeps the replaced credentials,
-- sealed, until the end of its grace period.

ALTER TABLE exchange_accounts
    ADD COLUMN testnet BOOLEAN NOT NULL DEFAULT false,
    ADD COLUMN api_key_prefix VARCHAR(16),
    ADD COLUMN has_passphrase BOOLEAN NOT NULL DEFAULT false,
    ADD COLUMN previous_credentials_encrypted TEXT,
    ADD COLUMN previous_valid_until TIMESTAMPTZ,
    ADD COLUMN rotated_at TIMESTAMPTZ,
    ADD CONSTRAINT exchange_accounts_previous_check
        CHECK ((previous_credentials_encrypted IS NULL) = (previous_valid_until IS NULL));

-- Before this migration nothing but manual edits made live accounts; an inactive live account
-- superseded by a newer one of the same venue can never be used again (activating makes a new
-- row): drop those, so each tenant has at most one set of credentials per venue.
SET LOCAL ROLE alphapulse_platform;
DELETE FROM exchange_accounts old
USING exchange_accounts newer
WHERE old.tenant_id = newer.tenant_id
  AND old.adapter = newer.adapter
  AND old.credentials_encrypted IS NOT NULL
  AND newer.credentials_encrypted IS NOT NULL
  AND NOT old.active
  AND (old.created_at, old.id) < (newer.created_at, newer.id);
RESET ROLE;

CREATE UNIQUE INDEX uq_exchange_accounts_credentials
    ON exchange_accounts (tenant_id, adapter) WHERE credentials_encrypted IS NOT NULL;
