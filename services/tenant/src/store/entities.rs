//! sea-orm entities of the tenant database.

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
