-- Every change of a shop's replica row is announced on `caravan_shops` at commit, so
-- each process's directory of shops drops what it holds of that shop. The payload
-- names the shop by id and slug (the old row's and the new row's, since a slug can
-- change); `*` after a TRUNCATE means every shop.
CREATE FUNCTION caravan_announce_shop_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        PERFORM pg_notify('caravan_shops', '*');
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM pg_notify('caravan_shops',
            json_build_object('tenant', OLD.tenant_id, 'slug', OLD.slug)::text);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM pg_notify('caravan_shops',
            json_build_object('tenant', NEW.tenant_id, 'slug', NEW.slug)::text);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER tenant_status_announced
    AFTER INSERT OR UPDATE OR DELETE ON tenant_status
    FOR EACH ROW EXECUTE FUNCTION caravan_announce_shop_change();
CREATE TRIGGER tenant_status_truncation_announced
    AFTER TRUNCATE ON tenant_status
    FOR EACH STATEMENT EXECUTE FUNCTION caravan_announce_shop_change();
