-- Every change of what the storefront shows (products, their variants with prices
-- and stock, categories, photos) is announced at commit on `caravan_storefront` with
-- the shop's id, so each instance drops the storefront answers it holds for that
-- shop. Identical announcements of one transaction are delivered once. `*` after a
-- TRUNCATE means every shop.
CREATE FUNCTION caravan_announce_storefront_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        PERFORM pg_notify('caravan_storefront', '*');
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('caravan_storefront', OLD.tenant_id::text);
    ELSE
        PERFORM pg_notify('caravan_storefront', NEW.tenant_id::text);
        IF TG_OP = 'UPDATE' AND OLD.tenant_id IS DISTINCT FROM NEW.tenant_id THEN
            PERFORM pg_notify('caravan_storefront', OLD.tenant_id::text);
        END IF;
    END IF;
    RETURN NULL;
END
$$;

DO $$
DECLARE
    shown text;
BEGIN
    FOREACH shown IN ARRAY ARRAY['products', 'variants', 'categories', 'media'] LOOP
        EXECUTE format(
            'CREATE TRIGGER %1$s_storefront_announced AFTER INSERT OR UPDATE OR DELETE ON %1$I
                 FOR EACH ROW EXECUTE FUNCTION caravan_announce_storefront_change()', shown);
        EXECUTE format(
            'CREATE TRIGGER %1$s_storefront_truncation_announced AFTER TRUNCATE ON %1$I
                 FOR EACH STATEMENT EXECUTE FUNCTION caravan_announce_storefront_change()', shown);
    END LOOP;
END
$$;
