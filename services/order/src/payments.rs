//! Payment providers. Each one authorises, captures and refunds money for an order
//! and verifies its own webhook notifications. Two are built in:
//!
//! - `manual`: bank transfer or cash on delivery. The buyer gets the shop's payment
//!   instructions; staff mark the order paid when the money arrives, and refunds are
//!   paid back by the shop outside Caravan.
//! - `test`: a deterministic card gateway for automation, offered only when the
//!   deployment turns it on (`PAYMENT_TEST_GATEWAY=true` with its own
//!   `PAYMENT_TEST_WEBHOOK_SECRET`). Card `4242 4242 4242 4242` succeeds,
//!   `4000 0000 0000 0002` is declined, `4000 0000 0000 9995` is declined for
//!   insufficient funds, `4000 0000 0000 0119` times out and `4000 0000 0000 0077`
//!   succeeds after three seconds (a slow gateway); any other number is declined as
//!   unknown. Its webhooks are signed with HMAC-SHA256.
//!
//! A provider that reports outcomes later ([`PaymentProvider::notifies`]) is asked
//! with a reference Caravan makes first and records as a requested authorisation,
//! as a real card integration does (the merchant's reference travels with the
//! request and comes back in the gateway's notifications). Providers are asked with
//! no database transaction open and no order locked: the attempt is recorded before,
//! and its answer after, each in a short transaction of its own. When the gateway
//! times out, the authorisation stays pending, and only a signed notification
//! naming that reference, order, amount and currency can settle it: pay the order,
//! or record that it failed.

use aws_lc_rs::hmac;
use caravan_shared::domain::Money;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// How long a gateway may take to answer one request. An attempt still `requested`
/// after this was abandoned (the request that asked ended without recording the
/// answer); it no longer keeps the order's next payment waiting, and like a timeout
/// it stays pending for the gateway's notification.
pub const ANSWER_WITHIN: Duration = Duration::from_secs(60);

/// A request to take money for an order.
#[derive(Debug, Clone)]
pub struct Charge {
    /// The order.
    pub order_id: Uuid,
    /// How much.
    pub amount: Money,
    /// The card, for card gateways.
    pub card_number: Option<String>,
    /// This attempt's reference ([`PaymentProvider::new_reference`]), recorded before
    /// the provider is asked; its notifications about the attempt name it.
    pub reference: String,
}

/// What authorising came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Authorisation {
    /// The money is held; capture it with this reference.
    Approved {
        /// The provider's reference.
        reference: String,
    },
    /// The money will arrive later (bank transfer, cash on delivery).
    Pending {
        /// What the buyer should do.
        instructions: String,
    },
}

/// Why a provider did not take or return money.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PaymentError {
    /// The payer's bank said no.
    #[error("the payment was declined: {0}")]
    Declined(String),
    /// The provider did not answer in time; nothing is known to have been charged.
    #[error("the payment provider did not answer in time")]
    Timeout,
    /// The provider cannot do this.
    #[error("{0}")]
    Unsupported(&'static str),
    /// A webhook notification was not genuine or not understood.
    #[error("the notification is not valid: {0}")]
    InvalidNotification(String),
}

/// A provider's webhook notification, once verified.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct Notice {
    /// The shop.
    pub tenant_id: Uuid,
    /// The order.
    pub order_id: Uuid,
    /// `payment.succeeded` or `payment.failed`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The provider's reference.
    pub reference: String,
    /// How much.
    pub amount: Money,
}

/// A way to take money.
#[async_trait::async_trait]
pub trait PaymentProvider: Send + Sync {
    /// The name buyers and staff use (`manual`, `test`).
    fn name(&self) -> &'static str;

    /// Whether it reports how a payment ended later, in signed webhook
    /// notifications: then every authorisation it is asked for is recorded, and a
    /// notification settles only one of those.
    fn notifies(&self) -> bool {
        false
    }

    /// A new, unguessable reference for one payment attempt.
    fn new_reference(&self) -> String {
        use rand::RngCore;
        let mut bytes = [0u8; 16];
        rand::rng().fill_bytes(&mut bytes);
        let random = caravan_shared::secrets::hex(&bytes);
        format!("{}-auth-{random}", self.name())
    }

    /// Asks for the money.
    async fn authorise(
        &self,
        charge: &Charge,
        instructions: &str,
    ) -> Result<Authorisation, PaymentError>;

    /// Takes authorised money; answers the capture's reference.
    async fn capture(&self, reference: &str, amount: Money) -> Result<String, PaymentError>;

    /// Returns money taken under `reference`; answers the refund's reference.
    async fn refund(&self, reference: &str, amount: Money) -> Result<String, PaymentError>;

    /// The header its webhook notifications carry their signature in.
    fn signature_header(&self) -> &'static str {
        "Signature"
    }

    /// Checks a webhook notification's signature and reads it.
    fn verify_webhook(&self, signature: Option<&str>, body: &[u8]) -> Result<Notice, PaymentError>;
}

/// Bank transfer or cash on delivery: staff confirm the money.
pub struct Manual;

#[async_trait::async_trait]
impl PaymentProvider for Manual {
    fn name(&self) -> &'static str {
        "manual"
    }

    async fn authorise(
        &self,
        _charge: &Charge,
        instructions: &str,
    ) -> Result<Authorisation, PaymentError> {
        Ok(Authorisation::Pending {
            instructions: instructions.to_owned(),
        })
    }

    async fn capture(&self, reference: &str, _amount: Money) -> Result<String, PaymentError> {
        Ok(reference.to_owned())
    }

    async fn refund(&self, _reference: &str, _amount: Money) -> Result<String, PaymentError> {
        // The shop pays the buyer back itself; Caravan records it.
        Ok(format!("manual-refund-{}", Uuid::now_v7().simple()))
    }

    fn verify_webhook(
        &self,
        _signature: Option<&str>,
        _body: &[u8],
    ) -> Result<Notice, PaymentError> {
        Err(PaymentError::Unsupported(
            "manual payments have no webhook notifications",
        ))
    }
}

/// Test cards.
pub mod cards {
    /// Always approved.
    pub const SUCCEEDS: &str = "4242424242424242";
    /// Always declined.
    pub const DECLINED: &str = "4000000000000002";
    /// Declined for insufficient funds.
    pub const INSUFFICIENT_FUNDS: &str = "4000000000009995";
    /// The gateway never answers.
    pub const TIMES_OUT: &str = "4000000000000119";
    /// Approved, after [`super::SLOW_ANSWER`].
    pub const SLOW: &str = "4000000000000077";
}

/// How long the test gateway takes over [`cards::SLOW`].
pub const SLOW_ANSWER: Duration = Duration::from_secs(3);

/// The deterministic test gateway.
pub struct TestGateway {
    webhook_secret: String,
}

impl TestGateway {
    /// A gateway whose webhooks are signed with `webhook_secret`.
    pub fn new(webhook_secret: &str) -> Self {
        Self {
            webhook_secret: webhook_secret.to_owned(),
        }
    }

    /// The `Test-Gateway-Signature` value for `body`: hex HMAC-SHA256.
    pub fn sign(secret: &str, body: &[u8]) -> String {
        let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
        caravan_shared::secrets::hex(hmac::sign(&key, body).as_ref())
    }
}

#[async_trait::async_trait]
impl PaymentProvider for TestGateway {
    fn name(&self) -> &'static str {
        "test"
    }

    fn notifies(&self) -> bool {
        true
    }

    async fn authorise(
        &self,
        charge: &Charge,
        _instructions: &str,
    ) -> Result<Authorisation, PaymentError> {
        let card: String = charge
            .card_number
            .as_deref()
            .unwrap_or_default()
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect();
        match card.as_str() {
            cards::SUCCEEDS => Ok(Authorisation::Approved {
                reference: charge.reference.clone(),
            }),
            cards::DECLINED => Err(PaymentError::Declined("card declined".into())),
            cards::INSUFFICIENT_FUNDS => Err(PaymentError::Declined("insufficient funds".into())),
            cards::TIMES_OUT => Err(PaymentError::Timeout),
            cards::SLOW => {
                tokio::time::sleep(SLOW_ANSWER).await;
                Ok(Authorisation::Approved {
                    reference: charge.reference.clone(),
                })
            }
            _ => Err(PaymentError::Declined("unknown test card".into())),
        }
    }

    fn signature_header(&self) -> &'static str {
        "Test-Gateway-Signature"
    }

    async fn capture(&self, reference: &str, _amount: Money) -> Result<String, PaymentError> {
        Ok(reference.replacen("test-auth-", "test-capture-", 1))
    }

    async fn refund(&self, _reference: &str, _amount: Money) -> Result<String, PaymentError> {
        Ok(format!("test-refund-{}", Uuid::now_v7().simple()))
    }

    fn verify_webhook(&self, signature: Option<&str>, body: &[u8]) -> Result<Notice, PaymentError> {
        let signature =
            signature.ok_or_else(|| PaymentError::InvalidNotification("no signature".into()))?;
        let expected = Self::sign(&self.webhook_secret, body);
        if !caravan_shared::secrets::same(signature, &expected) {
            return Err(PaymentError::InvalidNotification(
                "the signature does not match".into(),
            ));
        }
        serde_json::from_slice(body)
            .map_err(|error| PaymentError::InvalidNotification(error.to_string()))
    }
}

/// The providers this deployment offers, by name.
#[derive(Clone)]
pub struct Providers(BTreeMap<&'static str, Arc<dyn PaymentProvider>>);

impl Providers {
    /// `manual`, and the test gateway when `test_webhook_secret` is given (the
    /// deployment turned it on and set its secret).
    pub fn new(test_webhook_secret: Option<&str>) -> Self {
        let mut providers: BTreeMap<&'static str, Arc<dyn PaymentProvider>> = BTreeMap::new();
        providers.insert("manual", Arc::new(Manual));
        if let Some(secret) = test_webhook_secret {
            providers.insert("test", Arc::new(TestGateway::new(secret)));
        }
        Self(providers)
    }

    /// The provider called `name`.
    pub fn get(&self, name: &str) -> Option<Arc<dyn PaymentProvider>> {
        self.0.get(name).cloned()
    }

    /// The names offered.
    pub fn names(&self) -> Vec<&'static str> {
        self.0.keys().copied().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use caravan_shared::domain::Currency;

    fn charge(card: &str) -> Charge {
        Charge {
            order_id: Uuid::now_v7(),
            amount: Money::new(6800, Currency::parse("CNY").unwrap()),
            card_number: Some(card.to_owned()),
            reference: TestGateway::new("secret").new_reference(),
        }
    }

    #[tokio::test]
    async fn test_cards_behave_as_documented() {
        let gateway = TestGateway::new("secret");
        let approved = charge("4242 4242 4242 4242");
        assert_eq!(
            gateway.authorise(&approved, "").await,
            Ok(Authorisation::Approved {
                reference: approved.reference.clone()
            })
        );
        assert!(matches!(
            gateway.authorise(&charge(cards::DECLINED), "").await,
            Err(PaymentError::Declined(_))
        ));
        assert_eq!(
            gateway.authorise(&charge(cards::TIMES_OUT), "").await,
            Err(PaymentError::Timeout)
        );
        assert!(gateway.authorise(&charge("1234"), "").await.is_err());
    }

    #[test]
    fn references_are_unguessable_and_name_the_provider() {
        let gateway = TestGateway::new("secret");
        let (a, b) = (gateway.new_reference(), gateway.new_reference());
        assert_ne!(a, b);
        assert!(
            a.starts_with("test-auth-") && a.len() == "test-auth-".len() + 32,
            "{a}"
        );
        assert!(gateway.notifies());
        assert!(!Manual.notifies());
    }

    #[test]
    fn webhooks_must_carry_the_right_signature() {
        let gateway = TestGateway::new("secret");
        let body = serde_json::to_vec(&serde_json::json!({
            "tenant_id": Uuid::now_v7(), "order_id": Uuid::now_v7(), "type": "payment.succeeded",
            "reference": "r1", "amount": {"amount": 100, "currency": "CNY"}
        }))
        .unwrap();
        let good = TestGateway::sign("secret", &body);
        assert!(gateway.verify_webhook(Some(&good), &body).is_ok());
        let forged = TestGateway::sign("other", &body);
        assert!(gateway.verify_webhook(Some(&forged), &body).is_err());
        assert!(gateway.verify_webhook(None, &body).is_err());
    }
}
