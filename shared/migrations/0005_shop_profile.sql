-- What every service may need to know of a shop beyond its status and plan: its
-- name, whom to write to, what it sells in and which languages it speaks. Kept from
-- the tenant service's events, which carry all of it; one replica per service
-- instead of one per purpose.
ALTER TABLE tenant_status
    ADD COLUMN name           text   NOT NULL DEFAULT '',
    ADD COLUMN owner_email    text,
    ADD COLUMN contact_email  text,
    ADD COLUMN base_currency  text   NOT NULL DEFAULT 'CNY',
    ADD COLUMN currencies     text[] NOT NULL DEFAULT '{CNY}',
    ADD COLUMN default_locale text   NOT NULL DEFAULT 'zh-CN',
    ADD COLUMN locales        text[] NOT NULL DEFAULT '{zh-CN}';
