//! Applying for a shop, and an operator's decision on the application.

use super::opening::{self, NewShop, Opening};
use crate::domain::languages::{MailLanguage, ShopNames};
use crate::domain::{ApplicationDecision, ApplicationStatus, Slug};
use crate::emails;
use crate::store::entities::{applications, tenants};
use crate::store::{self, is_duplicate};
use caravan_shared::ApiError;
use caravan_shared::mail;
use caravan_shared::tenancy::{PlatformScope, PlatformTx};
use sea_orm::ActiveValue::Set;
use sea_orm::{ConnectionTrait, DatabaseConnection, TransactionTrait};
use serde_json::json;
use uuid::Uuid;

/// Why a public application works in platform scope: its slug is checked against
/// every shop and open application, and it belongs to no shop until approved.
const SLUG_CHECK: &str = "an application's slug is checked against every open application";

/// Who applies, as checked.
pub struct Applicant {
    pub shop_name: String,
    pub region: String,
    pub contact_name: String,
    pub contact_email: String,
    pub contact_phone: String,
    pub description: String,
    pub names: ShopNames,
    pub plan: Option<String>,
    pub locale: MailLanguage,
}

/// Stores the application under `slug` with its confirmation email, unless the slug
/// is taken (then the refusal lists free ones).
#[tracing::instrument(skip_all, fields(slug = %slug))]
pub async fn submit(
    db: &DatabaseConnection,
    public_url: &str,
    slug: Slug,
    applicant: Applicant,
) -> Result<applications::Model, ApiError> {
    let tx = PlatformTx::begin(db, SLUG_CHECK).await?;
    if store::slug_taken(tx.conn(), slug.as_str()).await? {
        return Err(suggest(tx.conn(), &slug).await?);
    }
    let created = store::insert_application(
        tx.conn(),
        applications::ActiveModel {
            id: Set(Uuid::now_v7()),
            shop_name: Set(applicant.shop_name),
            slug: Set(slug.as_str().to_owned()),
            region: Set(applicant.region),
            contact_name: Set(applicant.contact_name),
            email: Set(applicant.contact_email),
            phone: Set(applicant.contact_phone),
            description: Set(applicant.description),
            status: Set(ApplicationStatus::Pending.as_str().to_owned()),
            names: Set(applicant.names.to_stored()),
            plan: Set(applicant.plan),
            locale: Set(applicant.locale.as_str().to_owned()),
            ..Default::default()
        },
    )
    .await;
    match created {
        Ok(application) => {
            // The applicant hears that it arrived, in the same transaction: no
            // application without its confirmation, no confirmation of none.
            mail::enqueue(
                tx.conn(),
                &emails::application_received(&application, public_url),
            )
            .await?;
            tx.commit().await?;
            Ok(application)
        }
        Err(error) if is_duplicate(&error) => {
            // The failed insert spoilt the transaction: suggest from a fresh one.
            tx.rollback().await?;
            let tx = PlatformTx::begin(db, SLUG_CHECK).await?;
            Err(suggest(tx.conn(), &slug).await?)
        }
        Err(error) => Err(error.into()),
    }
}

/// Whether `slug` is free for a new application; when it is not, up to three free
/// ones like it.
pub async fn availability(
    db: &DatabaseConnection,
    slug: &Slug,
) -> Result<(bool, Vec<String>), ApiError> {
    let tx = PlatformTx::begin(db, SLUG_CHECK).await?;
    let available = !store::slug_taken(tx.conn(), slug.as_str()).await?;
    let choices = if available {
        Vec::new()
    } else {
        free_alternatives(tx.conn(), slug).await?
    };
    tx.commit().await?;
    Ok((available, choices))
}

/// Up to three free slugs like `slug`.
async fn free_alternatives(
    db: &impl ConnectionTrait,
    slug: &Slug,
) -> Result<Vec<String>, ApiError> {
    let mut free = Vec::new();
    for option in slug.alternatives() {
        if !store::slug_taken(db, &option).await? {
            free.push(option);
        }
        if free.len() == 3 {
            break;
        }
    }
    Ok(free)
}

/// The slug-taken refusal with free alternatives: in `choices`, and in words.
async fn suggest(db: &impl ConnectionTrait, slug: &Slug) -> Result<ApiError, ApiError> {
    let free = free_alternatives(db, slug).await?;
    Ok(opening::slug_taken(slug.as_str())
        .with_detail(format!(
            "the slug {slug} is taken; free ones: {}",
            free.join(", ")
        ))
        .with_choices(free))
}

/// Approves a pending application: opens its shop on `plan` (else the plan it asked
/// for, else `free`) with the applicant as owner, and records the decision.
#[tracing::instrument(skip_all, fields(application = %id))]
pub async fn approve(
    db: &DatabaseConnection,
    id: Uuid,
    plan: Option<String>,
    actor: &str,
) -> Result<tenants::Model, ApiError> {
    let tx = db.begin().await?;
    PlatformScope::enter(
        &tx,
        "an operator turns an application (no shop's) into a new shop",
    )
    .await?;
    let application = store::application_for_update(&tx, id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such application"))?;
    let plan_code = plan
        .or_else(|| application.plan.clone())
        .unwrap_or_else(|| "free".to_owned());
    let plan = store::plan(&tx, &plan_code)
        .await?
        .ok_or_else(|| ApiError::invalid_field("plan", "no such plan"))?;
    let decided =
        ApplicationStatus::from_stored(&application.status)?.after(ApplicationDecision::Approve)?;
    let shop = opening::open_shop(
        &tx,
        NewShop {
            slug: application.slug.clone(),
            name: application.shop_name.clone(),
            region: application.region.clone(),
            owner_email: application.email.clone(),
            owner_name: Some(application.contact_name.clone()),
            phone: Some(application.phone.clone()),
            names: application.names.clone(),
        },
        &plan,
        Opening {
            actor,
            action: "approve",
            details: json!({"application_id": application.id, "plan": plan.code}),
        },
    )
    .await?;
    store::decide_application(&tx, application.id, decided, None, Some(shop.id), actor).await?;
    tx.commit().await?;
    Ok(shop)
}

/// Rejects a pending application for `reason`, records it in the audit trail and
/// emails the applicant in the language they applied in.
#[tracing::instrument(skip_all, fields(application = %id))]
pub async fn reject(
    db: &DatabaseConnection,
    id: Uuid,
    reason: &str,
    actor: &str,
) -> Result<applications::Model, ApiError> {
    let tx = db.begin().await?;
    PlatformScope::enter(&tx, "an operator rejects an application (no shop's)").await?;
    let application = store::application_for_update(&tx, id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such application"))?;
    let decided =
        ApplicationStatus::from_stored(&application.status)?.after(ApplicationDecision::Reject)?;
    store::decide_application(&tx, application.id, decided, Some(reason), None, actor).await?;
    store::audit(
        &tx,
        None,
        actor,
        "reject",
        Some(reason),
        json!({"application_id": application.id, "slug": application.slug}),
    )
    .await?;
    mail::enqueue(&tx, &emails::application_rejected(&application, reason)).await?;
    let decided = store::application(&tx, application.id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such application"))?;
    tx.commit().await?;
    Ok(decided)
}
