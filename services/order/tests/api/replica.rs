//! The order service keeps one replica of the shops, the shared one: the migration
//! that retires its own `shops` table carries every shop's facts over.

use caravan_order::migrations::Migrations;
use caravan_shared::db;
use caravan_shared::testing::{AllBut, TestDatabase};
use sea_orm::ConnectionTrait;

#[tokio::test]
async fn retiring_the_shops_table_keeps_every_shops_name_contacts_currencies_and_languages() {
    let database = TestDatabase::create::<AllBut<Migrations, 4>>("order")
        .await
        .unwrap();
    let owner = db::connect(&database.owner_url, 1).await.unwrap();
    // One shop the replica knew already (suspended), one only the old table knew.
    owner
        .execute_unprepared(
            "INSERT INTO tenant_status (tenant_id, slug, status, plan) VALUES \
                 ('0190d8a4-0000-7000-8000-000000000001', 'ningxia-goji', 'suspended', 'pro');
             INSERT INTO shops (tenant_id, slug, name, owner_email, contact_email, base_currency, \
                                currencies, default_locale, locales) VALUES \
                 ('0190d8a4-0000-7000-8000-000000000001', 'ningxia-goji', '中宁枸杞合作社', \
                  'owner@goji.example', 'shop@goji.example', 'CNY', '{CNY,USD}', 'zh-CN', '{zh-CN,ug,en}'),
                 ('0190d8a4-0000-7000-8000-000000000002', 'turpan-raisins', 'Turpan Raisins', \
                  NULL, NULL, 'USD', '{USD}', 'ug', '{ug}');",
        )
        .await
        .unwrap();

    db::migrate::<Migrations>(&owner, "caravan_order", database.name())
        .await
        .unwrap();

    let rows = owner
        .query_all_raw(db::statement(
            "SELECT slug, status, plan, name, owner_email, contact_email, base_currency, \
                    array_to_string(currencies, ',') AS currencies, default_locale, \
                    array_to_string(locales, ',') AS locales \
             FROM tenant_status ORDER BY slug",
            vec![],
        ))
        .await
        .unwrap();
    let read = |row: &sea_orm::QueryResult| {
        let text = |column: &str| row.try_get::<Option<String>>("", column).unwrap();
        [
            "slug",
            "status",
            "plan",
            "name",
            "owner_email",
            "contact_email",
            "base_currency",
            "currencies",
            "default_locale",
            "locales",
        ]
        .map(text)
    };
    let some =
        |values: [&str; 10]| values.map(|value| (!value.is_empty()).then(|| value.to_owned()));
    assert_eq!(
        rows.iter().map(read).collect::<Vec<_>>(),
        [
            some([
                "ningxia-goji",
                "suspended",
                "pro",
                "中宁枸杞合作社",
                "owner@goji.example",
                "shop@goji.example",
                "CNY",
                "CNY,USD",
                "zh-CN",
                "zh-CN,ug,en",
            ]),
            some([
                "turpan-raisins",
                "active",
                "free",
                "Turpan Raisins",
                "",
                "",
                "USD",
                "USD",
                "ug",
                "ug",
            ]),
        ]
    );
    let old_table = owner
        .query_one_raw(db::statement(
            "SELECT to_regclass('shops')::text AS found",
            vec![],
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        old_table.try_get::<Option<String>>("", "found").unwrap(),
        None
    );
}
