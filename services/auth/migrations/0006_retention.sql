-- Retention removes expired refresh tokens and invitations across shops, in
-- platform scope: it may see and remove them, never write one.
CREATE POLICY platform_retention ON refresh_tokens
    USING (caravan_platform_scope()) WITH CHECK (false);
CREATE POLICY platform_retention ON invitations
    USING (caravan_platform_scope()) WITH CHECK (false);
CREATE INDEX refresh_tokens_expires ON refresh_tokens (expires_at);
CREATE INDEX invitations_expires ON invitations (expires_at) WHERE accepted_at IS NULL;
CREATE INDEX email_tokens_expires ON email_tokens (expires_at);
