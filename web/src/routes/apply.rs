//! Opening a shop: the application form (`/apply`), its address checked as it is
//! typed, and the page that confirms it was received. No account is needed; an
//! operator decides and the answer comes by email, in the applicant's language.

use crate::admin::{Posted, refusal};
use crate::i18n::Lang;
use crate::page::{Frame, PageError, Visit, render, see_other};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use caravan_client::{ApplicationForm, Failure, Plan};
use serde::Deserialize;
use std::collections::BTreeMap;

/// A shop address as the platform accepts it: 3 to 40 of a-z, 0-9 and `-`, not at
/// either end.
fn well_formed_slug(slug: &str) -> bool {
    (3..=40).contains(&slug.len())
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !slug.starts_with('-')
        && !slug.ends_with('-')
}

/// What the address check says.
#[derive(Default)]
pub struct SlugCheck {
    /// `free`, `taken` or `malformed`; empty before anything is typed.
    state: &'static str,
    slug: String,
    choices: Vec<String>,
}

impl SlugCheck {
    /// Asks the API about `slug` (a malformed one is not sent).
    async fn of(visit: &Visit, slug: &str) -> Self {
        let slug = slug.trim().to_lowercase();
        if slug.is_empty() {
            return Self::default();
        }
        if !well_formed_slug(&slug) {
            return Self {
                state: "malformed",
                slug,
                choices: Vec::new(),
            };
        }
        match visit.api().slug_availability(visit.caller(), &slug).await {
            Ok(answer) if answer.available => Self {
                state: "free",
                slug: answer.slug,
                choices: Vec::new(),
            },
            Ok(answer) => Self {
                state: "taken",
                slug: answer.slug,
                choices: answer.choices,
            },
            Err(Failure::Refused { status: 422, .. }) => Self {
                state: "malformed",
                slug,
                choices: Vec::new(),
            },
            // Unknown for now: the form itself still checks on sending.
            Err(_) => Self::default(),
        }
    }
}

/// A plan as the form offers it.
struct PlanChoice {
    code: String,
    name: String,
    price: String,
    limits: String,
}

/// One of the name fields (a language the cooperative may name itself in).
struct NameField {
    lang: Lang,
    value: String,
}

/// The form's values, kept when it is shown again.
#[derive(Default)]
struct Values {
    names: BTreeMap<String, String>,
    slug: String,
    region: String,
    contact_name: String,
    email: String,
    phone: String,
    description: String,
    plan: String,
}

#[derive(Template)]
#[template(path = "apply.html")]
struct ApplyPage {
    page: Frame,
    csrf: String,
    names: Vec<NameField>,
    values: Values,
    check: SlugCheck,
    plans: Vec<PlanChoice>,
    problems: Vec<String>,
    origin: String,
}

#[derive(Template)]
#[template(path = "apply_received.html")]
struct ReceivedPage {
    page: Frame,
    slug: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct ApplyQuery {
    #[serde(default)]
    lang: Option<String>,
    #[serde(default)]
    slug: Option<String>,
    #[serde(default)]
    pick: Option<String>,
}

fn language(visit: &Visit, wanted: Option<&str>) -> Lang {
    wanted
        .and_then(Lang::from_tag)
        .unwrap_or_else(|| visit.language_or(Lang::ZhCn))
}

/// The plans as choices, priced and limited in `lang`.
fn plan_choices(lang: Lang, plans: Vec<Plan>) -> Vec<PlanChoice> {
    let limit = |max: Option<i32>, key: &str| match max {
        Some(max) => lang.t_with(key, &[("count", max.to_string())]),
        None => lang.t(&format!("{key}-unlimited")),
    };
    plans
        .into_iter()
        .map(|plan| PlanChoice {
            price: if plan.monthly_price.amount == 0 {
                lang.t("apply-plan-free")
            } else {
                lang.t_with(
                    "apply-plan-price",
                    &[("price", crate::money::format(plan.monthly_price, lang))],
                )
            },
            limits: [
                limit(plan.max_products, "apply-plan-products"),
                limit(plan.max_staff, "apply-plan-staff"),
                limit(plan.max_orders_per_month, "apply-plan-orders"),
            ]
            .join(lang.list_separator()),
            name: lang
                .t_known(&format!("plan-{}", plan.code))
                .unwrap_or(plan.name),
            code: plan.code,
        })
        .collect()
}

/// The name fields: the page's language first (the one required), then the others.
fn name_fields(lang: Lang, names: &BTreeMap<String, String>) -> Vec<NameField> {
    std::iter::once(lang)
        .chain(Lang::ALL.into_iter().filter(|other| *other != lang))
        .map(|lang| NameField {
            lang,
            value: names.get(lang.tag()).cloned().unwrap_or_default(),
        })
        .collect()
}

async fn form_page(
    mut visit: Visit,
    lang: Lang,
    values: Values,
    check: SlugCheck,
    problems: Vec<String>,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    visit.session_mut();
    let plans = visit
        .api()
        .plans(visit.caller())
        .await
        .map_err(|failure| PageError::from_failure(lang, &failure))?;
    let mut page = Frame::new(lang, lang.t("apply-title"))
        .with_languages(&visit.web.public_url, |l| {
            format!("/apply?lang={}", l.tag())
        });
    page.description = lang.t("apply-lead");
    page.htmx = true;
    let body = render(
        lang,
        &ApplyPage {
            csrf: visit.csrf(),
            names: name_fields(lang, &values.names),
            plans: plan_choices(lang, plans),
            origin: visit.web.public_url.clone(),
            values: Values {
                plan: if values.plan.is_empty() {
                    "free".to_owned()
                } else {
                    values.plan
                },
                ..values
            },
            check,
            problems,
            page,
        },
    )?;
    let response = visit.html(status, body, false);
    Ok(visit.reply(response).await)
}

/// `GET /apply`.
pub async fn form(visit: Visit, query: web::Query<ApplyQuery>) -> Result<HttpResponse, PageError> {
    let lang = language(&visit, query.lang.as_deref());
    form_page(
        visit,
        lang,
        Values::default(),
        SlugCheck::default(),
        Vec::new(),
        StatusCode::OK,
    )
    .await
}

#[derive(Template)]
#[template(path = "apply_slug.html")]
struct SlugFragment {
    page: Frame,
    value: String,
    check: SlugCheck,
    origin: String,
}

/// `GET /apply/slug?slug=` (or `?pick=`, a free alternative chosen): the address
/// field with what the check says, for the form to swap in as it is typed.
pub async fn check_slug(
    visit: Visit,
    query: web::Query<ApplyQuery>,
) -> Result<HttpResponse, PageError> {
    let lang = language(&visit, query.lang.as_deref());
    let wanted = query
        .pick
        .as_deref()
        .or(query.slug.as_deref())
        .unwrap_or_default();
    let check = SlugCheck::of(&visit, wanted).await;
    let body = render(
        lang,
        &SlugFragment {
            page: Frame::new(lang, String::new()),
            value: if check.slug.is_empty() {
                wanted.trim().to_owned()
            } else {
                check.slug.clone()
            },
            check,
            origin: visit.web.public_url.clone(),
        },
    )?;
    Ok(visit.html(StatusCode::OK, body, false))
}

/// `POST /apply`: sends the application; a free alternative picked without
/// JavaScript shows the form again with it filled in.
pub async fn submit(
    visit: Visit,
    query: web::Query<ApplyQuery>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    let lang = language(&visit, query.lang.as_deref());
    let form = Posted(form.into_inner());
    let names: BTreeMap<String, String> = Lang::ALL
        .into_iter()
        .map(|l| (l.tag().to_owned(), form.get(&format!("name-{}", l.tag()))))
        .filter(|(_, name)| !name.is_empty())
        .collect();
    let mut values = Values {
        names,
        slug: form.get("slug").to_lowercase(),
        region: form.get("region"),
        contact_name: form.get("contact_name"),
        email: form.get("email"),
        phone: form.get("phone"),
        description: form.get("description"),
        plan: form.get("plan"),
    };
    if visit.session.is_none() {
        let check = SlugCheck::of(&visit, &values.slug).await;
        return form_page(visit, lang, values, check, Vec::new(), StatusCode::OK).await;
    }
    visit.check_csrf(lang, &form.get("csrf"))?;
    let pick = form.get("pick");
    if !pick.is_empty() {
        values.slug = pick;
        let check = SlugCheck::of(&visit, &values.slug).await;
        return form_page(visit, lang, values, check, Vec::new(), StatusCode::OK).await;
    }
    // The name in the page's language is the shop's name; failing that, the first
    // one given.
    let shop_name = values
        .names
        .get(lang.tag())
        .or_else(|| values.names.values().next())
        .cloned()
        .unwrap_or_default();
    let application = ApplicationForm {
        shop_name,
        names: values.names.clone(),
        slug: values.slug.clone(),
        region: values.region.clone(),
        contact_name: values.contact_name.clone(),
        email: values.email.clone(),
        phone: values.phone.clone(),
        description: values.description.clone(),
        plan: Some(values.plan.clone()).filter(|plan| !plan.is_empty()),
        locale: lang.tag().to_owned(),
    };
    match visit.api().apply(visit.caller(), &application).await {
        Ok(made) => {
            let query = serde_urlencoded::to_string([("lang", lang.tag()), ("slug", &made.slug)])
                .unwrap_or_default();
            Ok(see_other(&format!("/apply/received?{query}")))
        }
        Err(Failure::Unavailable(_)) => Err(PageError::unavailable(lang)),
        Err(failure) => {
            let status = crate::admin::Desk::status_of(&failure);
            let (problems, check) = match &failure {
                Failure::Refused {
                    status: 409,
                    problem,
                } => (
                    vec![lang.t("apply-slug-taken")],
                    SlugCheck {
                        state: "taken",
                        slug: values.slug.clone(),
                        choices: problem.choices.clone(),
                    },
                ),
                Failure::Refused { status: 429, .. } => (
                    vec![lang.t("apply-throttled")],
                    SlugCheck::of(&visit, &values.slug).await,
                ),
                _ => (
                    refusal(lang, &failure),
                    SlugCheck::of(&visit, &values.slug).await,
                ),
            };
            form_page(visit, lang, values, check, problems, status).await
        }
    }
}

/// `GET /apply/received`: what happens next.
pub async fn received(
    visit: Visit,
    query: web::Query<ApplyQuery>,
) -> Result<HttpResponse, PageError> {
    let lang = language(&visit, query.lang.as_deref());
    let slug = query
        .slug
        .as_deref()
        .filter(|slug| well_formed_slug(slug))
        .unwrap_or_default()
        .to_owned();
    let mut page = Frame::new(lang, lang.t("apply-received-title"));
    page.noindex = true;
    let body = render(lang, &ReceivedPage { page, slug })?;
    Ok(visit.html(StatusCode::OK, body, false))
}

#[cfg(test)]
mod tests {
    use super::well_formed_slug;

    #[test]
    fn only_platform_shaped_addresses_are_checked() {
        assert!(well_formed_slug("zhongning-goji"));
        assert!(well_formed_slug("abc"));
        for bad in [
            "ab",
            "-goji",
            "goji-",
            "Goji",
            "枸杞",
            "goji berries",
            "a/b",
        ] {
            assert!(!well_formed_slug(bad), "{bad}");
        }
    }
}
