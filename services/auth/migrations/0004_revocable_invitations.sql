-- An owner may take back an invitation before it is accepted: a revoked invitation is
-- no longer pending, holds no staff seat, and its emailed token works no more.
ALTER TABLE invitations ADD COLUMN revoked_at timestamptz;
