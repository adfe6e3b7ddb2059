//! sea-orm entities of the catalog database, one per table, with typed columns
//! (statuses, prices and the rendition format: see `columns.rs`).

/// A shop's categories.
pub mod categories {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "categories")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub tenant_id: Uuid,
        pub handle: String,
        pub name: Json,
        pub parent_id: Option<Uuid>,
        pub position: i32,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Products.
pub mod products {
    use crate::domain::ProductStatus;
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "products")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub tenant_id: Uuid,
        pub handle: String,
        pub title: Json,
        pub description: Json,
        pub status: ProductStatus,
        pub category_ids: Vec<Uuid>,
        pub tags: Vec<String>,
        pub images: Json,
        pub origin: Json,
        pub producer: Option<String>,
        pub harvest_months: Vec<i32>,
        pub shelf_life_days: Option<i32>,
        pub storage: Option<String>,
        pub certifications: Vec<String>,
        /// Every title, description and tag, lowercased: what search matches.
        pub search_text: String,
        /// The lowest base price of its variants.
        pub min_price: i64,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Variants of products, with their prices and stock.
pub mod variants {
    use crate::store::{Price, Prices};
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "variants")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub tenant_id: Uuid,
        pub product_id: Uuid,
        pub sku: String,
        pub title: Json,
        pub options: Json,
        pub unit: String,
        pub weight_grams: i32,
        /// Money in every currency the variant is priced in; the first is the base.
        pub prices: Prices,
        pub base_price: i64,
        /// Price before a discount, in the base currency.
        pub compare_at_price: Option<Price>,
        pub track_stock: bool,
        pub on_hand: i32,
        pub reserved: i32,
        pub low_stock_threshold: i32,
        pub position: i32,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "super::products::Entity",
            from = "Column::ProductId",
            to = "super::products::Column::Id"
        )]
        Product,
    }

    impl Related<super::products::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Product.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// The stock ledger: every change of stock on hand, with its reason.
pub mod stock_movements {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "stock_movements")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub tenant_id: Uuid,
        pub variant_id: Uuid,
        pub delta: i32,
        pub on_hand: i32,
        pub reason: String,
        pub note: Option<String>,
        pub actor: String,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Stock held for orders: one row per order and variant.
pub mod reservations {
    use crate::domain::ReservationStatus;
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "reservations")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub order_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub variant_id: Uuid,
        pub quantity: i32,
        pub status: ReservationStatus,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "super::variants::Entity",
            from = "Column::VariantId",
            to = "super::variants::Column::Id"
        )]
        Variant,
    }

    impl Related<super::variants::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Variant.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// Uploaded photos.
pub mod media {
    use crate::domain::media::RenditionFormat;
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "media")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub tenant_id: Uuid,
        /// The encoding of the stored renditions.
        pub content_type: RenditionFormat,
        pub width: i32,
        pub height: i32,
        /// `[{width, height, bytes}]`, smallest first.
        pub renditions: Json,
        pub bytes: i64,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
