//! sea-orm entities of the order database's ordinary tables, one module per table
//! (see `migrations/*.sql`). Statuses, payment kinds and currencies are typed columns (their
//! sea-orm traits are in `store/mod.rs`): a row holding a value Caravan does not know
//! fails to read. The order counters (`orders.rs`) and the deadlines
//! (`deadlines.rs`) are reached by named SQL only: there the statement is the point.

/// A shop's checkout settings.
pub mod order_settings {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "order_settings")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        pub payment_window_minutes: i32,
        pub bank_transfer_details: Option<String>,
        pub notify_email: Option<String>,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Shipping zones: where a shop ships, in which currency.
pub mod shipping_zones {
    use crate::store::StoredCurrency;
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "shipping_zones")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub tenant_id: Uuid,
        pub name: String,
        pub countries: Vec<String>,
        pub provinces: Vec<String>,
        pub currency: StoredCurrency,
        pub free_shipping_threshold: Option<i64>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(has_many = "super::shipping_rates::Entity")]
        Rates,
    }

    impl Related<super::shipping_rates::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Rates.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// A zone's rates, by weight.
pub mod shipping_rates {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "shipping_rates")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub tenant_id: Uuid,
        pub zone_id: Uuid,
        pub name: String,
        pub min_weight_grams: i32,
        pub max_weight_grams: Option<i32>,
        pub price: i64,
        pub position: i32,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "super::shipping_zones::Entity",
            from = "Column::ZoneId",
            to = "super::shipping_zones::Column::Id"
        )]
        Zone,
    }

    impl Related<super::shipping_zones::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Zone.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// Carts.
pub mod carts {
    use crate::store::StoredCurrency;
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "carts")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub tenant_id: Uuid,
        /// SHA-256 of the guest's cart token.
        pub token_hash: String,
        pub customer_id: Option<String>,
        pub currency: StoredCurrency,
        pub locale: String,
        pub order_id: Option<Uuid>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A cart's lines.
pub mod cart_lines {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "cart_lines")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub cart_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub variant_id: Uuid,
        pub tenant_id: Uuid,
        pub quantity: i32,
        pub added_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Orders.
pub mod orders {
    use crate::domain::OrderStatus;
    use crate::store::StoredCurrency;
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "orders")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub tenant_id: Uuid,
        pub number: i64,
        pub status: OrderStatus,
        pub currency: StoredCurrency,
        pub locale: String,
        pub email: String,
        pub phone: String,
        pub customer_id: Option<String>,
        pub cart_id: Uuid,
        pub shipping_address: Json,
        pub shipping_rate: Json,
        pub note: Option<String>,
        pub subtotal: i64,
        pub shipping: i64,
        pub total: i64,
        pub paid: i64,
        pub refunded: i64,
        pub access_token_hash: String,
        pub payment_provider: Option<String>,
        pub expires_at: DateTimeUtc,
        pub paid_at: Option<DateTimeUtc>,
        pub cancelled_at: Option<DateTimeUtc>,
        pub cancel_reason: Option<String>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
        /// The group a group-deal order belongs to.
        pub group_id: Option<Uuid>,
        /// The harvest campaign a pre-order belongs to.
        pub preorder_campaign_id: Option<Uuid>,
        /// What a pre-order's first payment takes, when it is a deposit.
        pub deposit: Option<i64>,
        /// When a pre-order's balance is due, once its harvest is announced.
        pub balance_due_at: Option<DateTimeUtc>,
        /// The hash of the token in a pre-order's balance-payment link.
        pub balance_token_hash: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// An order's lines: the price snapshot taken at checkout.
pub mod order_lines {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "order_lines")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub tenant_id: Uuid,
        pub order_id: Uuid,
        pub position: i32,
        pub variant_id: Uuid,
        pub product_id: Uuid,
        pub sku: String,
        pub product_title: Json,
        pub variant_title: Json,
        pub unit_price: i64,
        pub quantity: i32,
        pub line_total: i64,
        pub weight_grams: i32,
        pub fulfilled_quantity: i32,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Every movement of money: payments in, refunds out.
pub mod payments {
    use crate::domain::{PaymentKind, PaymentStatus};
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "payments")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub tenant_id: Uuid,
        pub order_id: Uuid,
        pub provider: String,
        pub kind: PaymentKind,
        pub status: PaymentStatus,
        pub amount: i64,
        pub reference: Option<String>,
        pub detail: Option<String>,
        pub actor: String,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Every authorisation a card gateway was asked for (a payment attempt).
pub mod payment_authorisations {
    use crate::domain::AuthorisationStatus;
    use crate::store::StoredCurrency;
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "payment_authorisations")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub tenant_id: Uuid,
        pub order_id: Uuid,
        pub provider: String,
        /// Made by Caravan before the gateway is asked; the gateway echoes it.
        pub reference: String,
        pub amount: i64,
        pub currency: StoredCurrency,
        pub status: AuthorisationStatus,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Shipments (the table keeps its American spelling).
pub mod fulfillments {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "fulfillments")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub tenant_id: Uuid,
        pub order_id: Uuid,
        pub carrier: String,
        pub tracking_number: String,
        /// `[{line_id, quantity}]`.
        pub lines: Json,
        pub actor: String,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Who did what to an order, and when.
pub mod order_timeline {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "order_timeline")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub tenant_id: Uuid,
        pub order_id: Uuid,
        pub actor: String,
        pub action: String,
        pub detail: Json,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Group deals: a group price on one variant for buyers who buy together.
pub mod group_deals {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "group_deals")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub tenant_id: Uuid,
        pub variant_id: Uuid,
        pub product_id: Uuid,
        /// The group prices, as `[Money]`.
        pub prices: Json,
        pub group_size: i32,
        pub open_hours: i32,
        pub max_units: i32,
        pub starts_at: DateTimeUtc,
        pub ends_at: DateTimeUtc,
        pub ended_at: Option<DateTimeUtc>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Groups of a deal, each forming, formed or failed.
pub mod groups {
    use crate::domain::GroupStatus;
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "groups")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub tenant_id: Uuid,
        pub deal_id: Uuid,
        pub status: GroupStatus,
        pub group_size: i32,
        pub expires_at: DateTimeUtc,
        pub formed_at: Option<DateTimeUtc>,
        pub failed_at: Option<DateTimeUtc>,
        pub settled_at: Option<DateTimeUtc>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Harvest pre-order campaigns.
pub mod preorder_campaigns {
    use crate::domain::{CampaignStatus, DepositPolicy};
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "preorder_campaigns")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub tenant_id: Uuid,
        pub variant_id: Uuid,
        pub product_id: Uuid,
        pub allocation: i32,
        pub ships_from: Date,
        /// The deposit per unit, as `[Money]`; `None`: paid in full.
        pub deposits: Option<Json>,
        pub balance_days: i32,
        pub deposit_policy: DepositPolicy,
        pub status: CampaignStatus,
        pub ends_at: Option<DateTimeUtc>,
        pub harvested_at: Option<DateTimeUtc>,
        pub balance_due_at: Option<DateTimeUtc>,
        pub called_off_at: Option<DateTimeUtc>,
        pub call_off_reason: Option<String>,
        pub settled_at: Option<DateTimeUtc>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
