//! The mail an applicant gets, in the language they applied in (Chinese, Uyghur,
//! English or Russian): the confirmation that the application arrived, and a
//! rejection with the operator's reason. (An approval reaches them as the auth
//! service's invitation to set a password.)

use crate::domain::languages::{MailLanguage, ShopNames};
use crate::store::entities::applications;
use caravan_shared::mail::Email;

/// The shop's name as the applicant reads it: in their language when they gave one,
/// else the name they applied with.
fn shop_name(application: &applications::Model, language: MailLanguage) -> String {
    ShopNames::from_stored(&application.names)
        .get(language.as_str())
        .map_or_else(|| application.shop_name.clone(), str::to_owned)
}

/// To the applicant when the application is made: it arrived, an operator reviews
/// it, and the decision comes by email. `public_url` is the platform's base URL, for
/// the shop's address once open.
pub fn application_received(application: &applications::Model, public_url: &str) -> Email {
    let language = MailLanguage::from_stored(&application.locale);
    let name = shop_name(application, language);
    let contact = &application.contact_name;
    let slug = &application.slug;
    let url = format!("{}/s/{slug}/", public_url.trim_end_matches('/'));
    let (subject, body) = match language {
        MailLanguage::Chinese => (
            format!("已收到您在 Caravan 开店的申请：{name}"),
            format!(
                "{contact}，您好！\n\n我们已收到您在 Caravan 开设「{name}」的申请，店铺地址为 {slug}\
                 （通过后网址为 {url}）。\n\n平台运营人员将审核您的申请，审核结果会通过电子邮件发送到\
                 本邮箱。\n\nCaravan 团队\n"
            ),
        ),
        MailLanguage::Uyghur => (
            format!("Caravan دا دۇكان ئېچىش ئىلتىماسىڭىزنى تاپشۇرۇۋالدۇق: {name}"),
            format!(
                "ھۆرمەتلىك {contact}،\n\nCaravan دا «{name}» دۇكىنىنى {slug} ئادرېسىدا ئېچىش \
                 ئىلتىماسىڭىزنى تاپشۇرۇۋالدۇق (تەستىقلانغاندىن كېيىن: {url}).\n\nسۇپا \
                 باشقۇرغۇچىسى ئىلتىماسىڭىزنى تەكشۈرىدۇ، نەتىجىسىنى مۇشۇ ئېلخەت ئادرېسىغا \
                 ئېلخەت ئارقىلىق ئۇقتۇرىمىز.\n\nCaravan گۇرۇپپىسى\n"
            ),
        ),
        MailLanguage::English => (
            format!("We received your Caravan shop application: {name}"),
            format!(
                "Dear {contact},\n\nThank you for applying to open {name} on Caravan at the \
                 address {slug} (once approved: {url}).\n\nA platform operator will review your \
                 application, and we will email you the decision at this address.\n\nThe \
                 Caravan team\n"
            ),
        ),
        MailLanguage::Russian => (
            format!("Мы получили вашу заявку на магазин в Caravan: {name}"),
            format!(
                "Здравствуйте, {contact}!\n\nСпасибо за заявку на открытие магазина «{name}» в \
                 Caravan по адресу {slug} (после одобрения: {url}).\n\nЗаявку рассмотрит \
                 оператор платформы; о решении мы сообщим вам письмом на этот адрес.\n\n\
                 Команда Caravan\n"
            ),
        ),
    };
    Email {
        to: application.email.clone(),
        subject,
        body,
    }
}

/// To the applicant when an operator rejects the application, with the operator's
/// reason as written.
pub fn application_rejected(application: &applications::Model, reason: &str) -> Email {
    let language = MailLanguage::from_stored(&application.locale);
    let name = shop_name(application, language);
    let contact = &application.contact_name;
    let (subject, body) = match language {
        MailLanguage::Chinese => (
            format!("您在 Caravan 开设「{name}」的申请结果"),
            format!(
                "{contact}，您好！\n\n感谢您申请在 Caravan 开设「{name}」。很抱歉，您的申请目前未能\
                 通过，原因如下：\n\n{reason}\n\n欢迎您修改后重新申请。\n\nCaravan 团队\n"
            ),
        ),
        MailLanguage::Uyghur => (
            format!("Caravan دا «{name}» دۇكىنىنى ئېچىش ئىلتىماسىڭىزنىڭ نەتىجىسى"),
            format!(
                "ھۆرمەتلىك {contact}،\n\nCaravan دا «{name}» دۇكىنىنى ئېچىش ئۈچۈن ئىلتىماس \
                 قىلغىنىڭىزغا رەھمەت. ئىلتىماسىڭىزنى ھازىرقى ھالىتىدە تەستىقلىيالمايمىز:\n\n\
                 {reason}\n\nقايتا ئىلتىماس قىلسىڭىز بولىدۇ.\n\nCaravan گۇرۇپپىسى\n"
            ),
        ),
        MailLanguage::English => (
            format!("Your Caravan shop application for {name}"),
            format!(
                "Dear {contact},\n\nThank you for applying to open {name} on Caravan. We cannot \
                 approve the application as it stands:\n\n{reason}\n\nYou are welcome to apply \
                 again.\n\nThe Caravan team\n"
            ),
        ),
        MailLanguage::Russian => (
            format!("Ваша заявка на магазин «{name}» в Caravan"),
            format!(
                "Здравствуйте, {contact}!\n\nСпасибо за заявку на открытие магазина «{name}» в \
                 Caravan. К сожалению, в нынешнем виде мы не можем её одобрить:\n\n{reason}\n\n\
                 Вы можете подать заявку снова.\n\nКоманда Caravan\n"
            ),
        ),
    };
    Email {
        to: application.email.clone(),
        subject,
        body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn application(locale: &str, names: serde_json::Value) -> applications::Model {
        applications::Model {
            id: uuid::Uuid::now_v7(),
            shop_name: "中宁枸杞合作社".to_owned(),
            slug: "zhongning-goji".to_owned(),
            region: "Ningxia".to_owned(),
            contact_name: "Ma Jun".to_owned(),
            email: "ma.jun@example.cn".to_owned(),
            phone: "+86 955 555 0100".to_owned(),
            description: "Goji".to_owned(),
            status: "pending".to_owned(),
            reason: None,
            tenant_id: None,
            decided_by: None,
            decided_at: None,
            created_at: chrono::Utc::now().into(),
            names,
            plan: None,
            locale: locale.to_owned(),
        }
    }

    #[test]
    fn the_confirmation_is_in_the_applicants_language_with_name_and_address() {
        let names = json!({"ug": "جۇڭنىڭ لەڭزە", "en": "Zhongning Goji", "ru": "Годжи Чжуннин"});
        for (locale, name, phrase) in [
            ("zh-CN", "中宁枸杞合作社", "审核"),
            ("ug", "جۇڭنىڭ لەڭزە", "تەكشۈرىدۇ"),
            ("en", "Zhongning Goji", "review"),
            ("ru", "Годжи Чжуннин", "рассмотрит"),
        ] {
            let mail = application_received(
                &application(locale, names.clone()),
                "https://caravan.example.cn/",
            );
            assert_eq!(mail.to, "ma.jun@example.cn");
            assert!(mail.subject.contains(name), "{locale}: {}", mail.subject);
            assert!(mail.body.contains(name), "{locale}: {}", mail.body);
            assert!(mail.body.contains(phrase), "{locale}: {}", mail.body);
            assert!(mail.body.contains("zhongning-goji"), "{locale}");
            assert!(
                mail.body
                    .contains("https://caravan.example.cn/s/zhongning-goji/"),
                "{locale}"
            );
        }
        // Without a name in the applicant's language, the one applied with.
        let mail = application_received(&application("en", json!({})), "http://x");
        assert!(mail.subject.contains("中宁枸杞合作社"), "{}", mail.subject);
    }

    #[test]
    fn the_rejection_carries_the_reason_verbatim_in_the_applicants_language() {
        let reason = "请补充合作社的登记证号。Please add the registration number.";
        for (locale, phrase) in [
            ("zh-CN", "未能通过"),
            ("ug", "تەستىقلىيالمايمىز"),
            ("en", "cannot approve"),
            ("ru", "не можем её одобрить"),
        ] {
            let mail = application_rejected(&application(locale, json!({})), reason);
            assert!(mail.body.contains(reason), "{locale}: {}", mail.body);
            assert!(mail.body.contains(phrase), "{locale}: {}", mail.body);
            assert!(mail.body.contains("Ma Jun"), "{locale}");
        }
    }
}
