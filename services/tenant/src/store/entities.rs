//! sea-orm entities of the tenant database, one module per table (see
//! `migrations/*.sql`). A delivery's status is a typed column (its sea-orm traits are
//! in `store/webhooks.rs`): a row holding a value the service does not know fails to
//! read. The webhook sender's queue (`webhook_jobs`) is picked by named SQL in
//! `store/webhooks.rs`.

/// Plans and their limits.
pub mod plans {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "plans")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub code: String,
        pub name: String,
        pub max_products: Option<i32>,
        pub max_staff: Option<i32>,
        pub max_orders_per_month: Option<i32>,
        pub monthly_price_amount: i64,
        pub monthly_price_currency: String,
        pub position: i32,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Applications for a shop.
pub mod applications {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "applications")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub shop_name: String,
        pub slug: String,
        pub region: String,
        pub contact_name: String,
        pub email: String,
        pub phone: String,
        pub description: String,
        pub status: String,
        pub reason: Option<String>,
        pub tenant_id: Option<Uuid>,
        pub decided_by: Option<String>,
        pub decided_at: Option<DateTimeWithTimeZone>,
        pub created_at: DateTimeWithTimeZone,
        /// The shop's name in other languages (`{}`: none given).
        pub names: Json,
        /// The plan the applicant wishes for, if any.
        pub plan: Option<String>,
        /// The applicant's language: their mail is written in it.
        pub locale: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Shops.
pub mod tenants {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "tenants")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub slug: String,
        pub name: String,
        pub status: String,
        pub plan: String,
        pub region: String,
        pub owner_email: String,
        pub description: Json,
        pub logo_url: Option<String>,
        pub contact_email: Option<String>,
        pub contact_phone: Option<String>,
        pub base_currency: String,
        pub currencies: Vec<String>,
        pub default_locale: String,
        pub locales: Vec<String>,
        pub timezone: String,
        pub ship_to: Vec<String>,
        /// The storefront's theme as the shop chose it (`{}`: every default).
        pub theme: Json,
        pub created_at: DateTimeWithTimeZone,
        pub updated_at: DateTimeWithTimeZone,
        /// The shop's name in other languages (`{}`: only `name`).
        pub names: Json,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The audit log.
pub mod audit_log {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "audit_log")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub tenant_id: Option<Uuid>,
        pub actor: String,
        pub action: String,
        pub reason: Option<String>,
        pub details: Json,
        pub created_at: DateTimeWithTimeZone,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Webhook endpoints a shop registered.
pub mod webhook_endpoints {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "webhook_endpoints")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub tenant_id: Uuid,
        /// Where events are posted.
        pub url: String,
        /// Event types it wants (`*` for all).
        pub events: Vec<String>,
        /// Signing secret.
        pub secret: String,
        /// Whether deliveries are made.
        pub enabled: bool,
        /// Why it was disabled.
        pub disabled_reason: Option<String>,
        /// Since when every try has failed.
        pub failing_since: Option<DateTimeUtc>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Deliveries of one event to one endpoint (at most one per endpoint and event).
pub mod webhook_deliveries {
    use crate::domain::webhooks::DeliveryStatus;
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "webhook_deliveries")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub tenant_id: Uuid,
        pub endpoint_id: Uuid,
        pub event_id: Uuid,
        pub event_type: String,
        /// The envelope sent.
        pub payload: Json,
        pub status: DeliveryStatus,
        /// Tries so far.
        pub attempts: i32,
        pub next_attempt_at: Option<DateTimeUtc>,
        pub delivered_at: Option<DateTimeUtc>,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Every try of a delivery, for the delivery log.
pub mod webhook_attempts {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "webhook_attempts")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub tenant_id: Uuid,
        pub delivery_id: Uuid,
        /// 1 for the first try.
        pub attempt: i32,
        /// The receiver's status code, if it answered.
        pub status_code: Option<i32>,
        pub latency_ms: i32,
        /// What went wrong, if anything.
        pub error: Option<String>,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The webhook sender's queue across shops: which delivery of which shop is due.
pub mod webhook_jobs {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "webhook_jobs")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub delivery_id: Uuid,
        pub tenant_id: Uuid,
        pub due_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
