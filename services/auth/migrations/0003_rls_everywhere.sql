-- Row-level security on refresh tokens, the one auth table with a tenant_id that was
-- not under it.

-- The user a transaction acts for (`app.user_id`, set by `store::lookup_tx` and
-- `store::act_for_user`), or NULL. The memberships policy reads the same setting.
CREATE FUNCTION caravan_acting_user() RETURNS uuid
LANGUAGE sql STABLE AS $$
    SELECT NULLIF(current_setting('app.user_id', true), '')::uuid
$$;

-- Who reaches a refresh token:
--  * a shop's transaction, the tokens of sessions in that shop (a suspension revokes
--    them; accepting an invitation issues one);
--  * a transaction acting for a user, that user's tokens in every shop and outside
--    any (login issues one; a password change or reset revokes them all; presenting a
--    token makes the transaction act for the token's user, to rotate it or revoke its
--    family);
--  * a transaction presenting a token (`app.refresh_token_hash`), that one token: how
--    refresh and logout find it before they know whose it is.
-- A token of no shop (a customer's or an operator's session) is reached only the last
-- two ways, never by a shop's transaction.
CREATE FUNCTION caravan_refresh_token_visible(row_tenant uuid, row_user uuid, row_hash text)
RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT coalesce(row_tenant = caravan_current_tenant(), false)
        OR coalesce(row_user = caravan_acting_user(), false)
        OR coalesce(row_hash = NULLIF(current_setting('app.refresh_token_hash', true), ''), false)
$$;

ALTER TABLE refresh_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE refresh_tokens FORCE ROW LEVEL SECURITY;
CREATE POLICY shop_user_or_bearer ON refresh_tokens
    USING (caravan_refresh_token_visible(tenant_id, user_id, token_hash))
    WITH CHECK (caravan_refresh_token_visible(tenant_id, user_id, token_hash));
