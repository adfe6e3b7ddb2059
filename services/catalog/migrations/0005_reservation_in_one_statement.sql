-- A reservation is one statement: `caravan_reserve` enters the shop's scope, takes
-- the order's turn, locks the variants in a fixed order, and either holds every line
-- or changes nothing. The caller needs no transaction of its own, so a hot variant's
-- row is locked only while the statement runs, never across round trips.
--
-- It answers one row per line:
--   ('held',    variant, quantity, NULL,      'held')   every line is held now;
--   ('earlier', variant, quantity, NULL,      status)   an earlier call for the same
--                                                       order reserved these lines;
--   ('short',   variant, requested, available, NULL)    this line is short, and
--                                                       nothing was changed.
-- Repeated variants are merged. Quantities are the caller's to bound.
CREATE FUNCTION caravan_reserve(
    shop uuid,
    reserving uuid,
    wanted_variants uuid[],
    wanted_quantities integer[]
) RETURNS TABLE (outcome text, variant_id uuid, quantity integer, available integer, status text)
LANGUAGE plpgsql AS $$
DECLARE
    ids uuid[];
    quantities integer[];
    tracked boolean;
    free integer;
    short boolean := false;
    inserted integer;
BEGIN
    -- Row-level security sees this shop only, until the statement ends.
    PERFORM set_config('app.tenant_id', shop::text, true), set_config('app.scope', '', true);
    -- Calls for the same order take turns: a repeat answers what the first reserved.
    PERFORM pg_advisory_xact_lock(hashtext('reservation:' || shop || ':' || reserving));
    RETURN QUERY
        SELECT 'earlier', r.variant_id, r.quantity, NULL::integer, r.status
        FROM reservations r
        WHERE r.tenant_id = shop AND r.order_id = reserving
        ORDER BY r.variant_id;
    IF FOUND THEN
        RETURN;
    END IF;

    SELECT array_agg(w.v ORDER BY w.v), array_agg(w.q ORDER BY w.v)
    INTO ids, quantities
    FROM (
        SELECT u.v, sum(u.q)::integer AS q
        FROM unnest(wanted_variants, wanted_quantities) AS u(v, q)
        GROUP BY u.v
    ) w;
    -- One variant at a time, by its key, in one order for every reservation (no
    -- deadlocks between orders sharing variants); the lock is the one the UPDATE
    -- below takes anyway.
    FOR i IN 1 .. cardinality(ids) LOOP
        SELECT v.track_stock, v.on_hand - v.reserved INTO tracked, free
        FROM variants v
        WHERE v.tenant_id = shop AND v.id = ids[i]
        FOR NO KEY UPDATE;
        IF NOT FOUND OR (tracked AND free < quantities[i]) THEN
            short := true;
            outcome := 'short';
            variant_id := ids[i];
            quantity := quantities[i];
            available := CASE WHEN free IS NULL THEN 0 ELSE greatest(free, 0) END;
            status := NULL;
            RETURN NEXT;
        END IF;
    END LOOP;
    IF short THEN
        RETURN;
    END IF;

    FOR i IN 1 .. cardinality(ids) LOOP
        UPDATE variants v
        SET reserved = v.reserved + quantities[i], updated_at = now()
        WHERE v.tenant_id = shop AND v.id = ids[i];
    END LOOP;
    INSERT INTO reservations (tenant_id, order_id, variant_id, quantity, status)
    SELECT shop, reserving, w.v, w.q, 'held'
    FROM unnest(ids, quantities) AS w(v, q)
    ON CONFLICT DO NOTHING;
    GET DIAGNOSTICS inserted = ROW_COUNT;
    IF inserted < cardinality(ids) THEN
        -- Another writer of this order's reservation that did not take its turn:
        -- undo everything this statement did and let the caller retry.
        RAISE EXCEPTION 'the reservation of order % was written concurrently', reserving
            USING ERRCODE = 'serialization_failure';
    END IF;
    RETURN QUERY
        SELECT 'held', w.v, w.q, NULL::integer, 'held'::text
        FROM unnest(ids, quantities) AS w(v, q)
        ORDER BY w.v;
END
$$;

-- The storefront shows whether a variant is in stock, not how many are left: a
-- change of stock alone (a reservation, a sale, a count) is announced only when it
-- takes a variant in or out of stock. Every other change is announced as before.
DROP TRIGGER variants_storefront_announced ON variants;
CREATE TRIGGER variants_storefront_announced AFTER INSERT OR DELETE ON variants
    FOR EACH ROW EXECUTE FUNCTION caravan_announce_storefront_change();
CREATE TRIGGER variants_storefront_change_announced AFTER UPDATE ON variants
    FOR EACH ROW
    WHEN (
        (to_jsonb(OLD) - ARRAY['on_hand', 'reserved', 'updated_at'])
            IS DISTINCT FROM (to_jsonb(NEW) - ARRAY['on_hand', 'reserved', 'updated_at'])
        OR (NOT OLD.track_stock OR OLD.on_hand > OLD.reserved)
            IS DISTINCT FROM (NOT NEW.track_stock OR NEW.on_hand > NEW.reserved)
    )
    EXECUTE FUNCTION caravan_announce_storefront_change();
