-- Product photos uploaded to the shop: each row is one upload, stored as a few
-- re-encoded renditions in the media store (never the original bytes).

CREATE TABLE media (
    id           uuid        PRIMARY KEY,
    tenant_id    uuid        NOT NULL,
    -- The encoding of the stored renditions.
    content_type text        NOT NULL CHECK (content_type IN ('image/jpeg', 'image/webp')),
    -- The upright photo's size.
    width        integer     NOT NULL CHECK (width > 0),
    height       integer     NOT NULL CHECK (height > 0),
    -- [{width, height, bytes}], smallest first.
    renditions   jsonb       NOT NULL,
    -- What the renditions take in the store, together.
    bytes        bigint      NOT NULL CHECK (bytes >= 0),
    created_at   timestamptz NOT NULL DEFAULT now()
);
SELECT caravan_enable_tenant_rls('media');

