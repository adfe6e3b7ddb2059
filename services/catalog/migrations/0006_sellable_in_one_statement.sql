-- Carts and checkouts read the variants they hold, with their product, prices and
-- stock, in one statement: `caravan_sellable` enters the shop's scope for that
-- statement only, so the read needs no transaction of its own (one round trip
-- where BEGIN, the scope, the query and COMMIT took four). Row-level security
-- applies as in any other read of the shop; unknown ids are left out.
CREATE FUNCTION caravan_sellable(shop uuid, wanted uuid[])
RETURNS TABLE (
    id uuid,
    product_id uuid,
    handle text,
    product_title jsonb,
    product_status text,
    images jsonb,
    sku text,
    title jsonb,
    weight_grams integer,
    prices jsonb,
    track_stock boolean,
    on_hand integer,
    reserved integer
)
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('app.tenant_id', shop::text, true), set_config('app.scope', '', true);
    RETURN QUERY
        SELECT v.id, v.product_id, p.handle, p.title, p.status, p.images, v.sku, v.title,
               v.weight_grams, v.prices, v.track_stock, v.on_hand, v.reserved
        FROM variants v
        JOIN products p ON p.id = v.product_id AND p.tenant_id = shop
        WHERE v.tenant_id = shop AND v.id = ANY (wanted)
        ORDER BY v.id;
END
$$;
