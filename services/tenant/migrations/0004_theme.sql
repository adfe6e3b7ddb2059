-- A shop's storefront theme: brand and accent colours, the home page's banner and
-- the order of its sections. Only what the shop chose is stored; `{}` (every shop
-- before this migration) means every default, which the service fills in.
ALTER TABLE tenants ADD COLUMN theme jsonb NOT NULL DEFAULT '{}';
