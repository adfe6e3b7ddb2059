//! The shop's people (owner only): who works in it, the invitations not yet
//! accepted, inviting someone (the invitation is emailed), removing a member
//! (their sessions in this shop end) and withdrawing an invitation.

use super::{Desk, Done, Posted, Section};
use crate::page::{Frame, PageError};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

struct MemberRow {
    id: String,
    name: String,
    email: String,
    role: String,
    since: String,
    you: bool,
}

struct InvitationRow {
    id: String,
    email: String,
    role: String,
    expires: String,
}

#[derive(Template)]
#[template(path = "admin/team.html")]
struct TeamPage {
    page: Frame,
    csrf: String,
    members: Vec<MemberRow>,
    invitations: Vec<InvitationRow>,
    email: String,
    problems: Vec<String>,
    notice: Option<String>,
}

async fn team_page(
    desk: &mut Desk,
    email: String,
    problems: Vec<String>,
    notice: Option<String>,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    desk.require_owner()?;
    let caller = desk.caller();
    let (members, invitations) =
        futures_util::join!(desk.api().staff(caller), desk.api().invitations(caller),);
    let members = members.map_err(|failure| desk.failed(&failure))?;
    let invitations = invitations.map_err(|failure| desk.failed(&failure))?;
    let role = |role: &str| desk.t(&format!("admin-role-{role}"));
    let page = TeamPage {
        page: desk.frame(desk.t("admin-team-title"), Section::More),
        csrf: desk.visit.csrf(),
        members: members
            .iter()
            .map(|m| MemberRow {
                id: m.account_id.to_string(),
                name: m.display_name.clone(),
                email: m.email.clone(),
                role: role(&m.role),
                since: super::orders::china_time(m.joined_at),
                you: m.email == desk.staff.account.email,
            })
            .collect(),
        invitations: invitations
            .iter()
            .map(|i| InvitationRow {
                id: i.id.to_string(),
                email: i.email.clone(),
                role: role(&i.role),
                expires: super::orders::china_time(i.expires_at),
            })
            .collect(),
        email,
        problems,
        notice,
    };
    Ok(desk.send(status, &page).await)
}

/// `GET /admin/staff` (owner).
pub async fn show(mut desk: Desk, query: web::Query<Done>) -> Result<HttpResponse, PageError> {
    let notice = query.notice(
        desk.lang,
        &[
            ("invited", "admin-invited"),
            ("removed", "admin-member-removed"),
            ("withdrawn", "admin-invitation-withdrawn"),
        ],
    );
    team_page(&mut desk, String::new(), Vec::new(), notice, StatusCode::OK).await
}

/// `POST /admin/staff/invite`.
pub async fn invite(
    mut desk: Desk,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    desk.require_owner()?;
    let form = Posted(form.into_inner());
    desk.check_csrf(&form.get("csrf"))?;
    let email = form.get("email");
    let role = if form.get("role") == "owner" {
        "owner"
    } else {
        "staff"
    };
    match desk.api().invite(desk.caller(), &email, role).await {
        Ok(_) => Ok(desk.redirect("/admin/staff?done=invited").await),
        Err(failure) => {
            let problems = desk.refused(&failure)?;
            team_page(
                &mut desk,
                email,
                problems,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

/// `POST /admin/staff/{account}/remove`: the member leaves the shop.
pub async fn remove_member(
    desk: Desk,
    id: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    remove(desk, Removal::Member, &id, form.into_inner()).await
}

/// `POST /admin/invitations/{id}/remove`: the invitation no longer opens anything.
pub async fn withdraw(
    desk: Desk,
    id: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    remove(desk, Removal::Invitation, &id, form.into_inner()).await
}

enum Removal {
    Member,
    Invitation,
}

async fn remove(
    mut desk: Desk,
    what: Removal,
    id: &str,
    form: Vec<(String, String)>,
) -> Result<HttpResponse, PageError> {
    desk.require_owner()?;
    let form = Posted(form);
    desk.check_csrf(&form.get("csrf"))?;
    let id = desk.id(id)?;
    let (outcome, done) = match what {
        Removal::Member => (desk.api().remove_staff(desk.caller(), id).await, "removed"),
        Removal::Invitation => (
            desk.api().revoke_invitation(desk.caller(), id).await,
            "withdrawn",
        ),
    };
    match outcome {
        Ok(()) => Ok(desk.redirect(&format!("/admin/staff?done={done}")).await),
        Err(failure) => {
            let mut problems = desk.refused(&failure)?;
            if failure.status() == Some(409) {
                problems = vec![desk.t("admin-cannot-remove")];
            }
            team_page(
                &mut desk,
                String::new(),
                problems,
                None,
                StatusCode::CONFLICT,
            )
            .await
        }
    }
}
