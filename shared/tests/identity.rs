#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design
//! Token verification against a JWKS served over real HTTP: only a valid token signed
//! by a published key, for our issuer and audience, and unexpired, is accepted.

use actix_web::{App, HttpResponse, HttpServer, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use caravan_shared::identity::{Claims, JwksVerifier, Role, SigningKey, TokenError, TokenSigner};
use jsonwebtoken::jwk::JwkSet;
use std::net::TcpListener;
use std::sync::{Arc, RwLock};
use std::time::Duration;

const ISSUER: &str = "caravan-auth";
const AUDIENCE: &str = "caravan";

/// A JWKS endpoint whose key set a test can change (to rotate keys).
struct JwksServer {
    url: String,
    keys: Arc<RwLock<JwkSet>>,
    fetches: Arc<std::sync::atomic::AtomicUsize>,
}

impl JwksServer {
    fn start(set: JwkSet) -> Self {
        let keys = Arc::new(RwLock::new(set));
        let served = keys.clone();
        let fetches = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = fetches.clone();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = HttpServer::new(move || {
            let served = served.clone();
            let counted = counted.clone();
            App::new().route(
                "/.well-known/jwks.json",
                web::get().to(move || {
                    counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let set = served.read().unwrap().clone();
                    async move { HttpResponse::Ok().json(set) }
                }),
            )
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        tokio::spawn(server);
        Self {
            url: format!("http://127.0.0.1:{port}"),
            keys,
            fetches,
        }
    }
}

fn verifier(url: &str) -> JwksVerifier {
    JwksVerifier::new(url, ISSUER, AUDIENCE)
        .unwrap()
        .with_min_refresh_interval(Duration::ZERO)
}

fn signer(key: &SigningKey) -> TokenSigner {
    TokenSigner::new(key.clone(), Vec::new(), ISSUER, AUDIENCE)
}

fn claims(signer: &TokenSigner) -> Claims {
    signer.claims(
        "0190f5a2-0000-7000-8000-000000000001",
        Some(uuid::Uuid::now_v7()),
        Role::Owner,
        &["catalog:read", "catalog:write"],
    )
}

fn b64(value: &serde_json::Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap())
}

#[tokio::test]
async fn only_a_valid_token_is_accepted() {
    let key = SigningKey::generate().unwrap();
    let signer = signer(&key);
    let jwks = JwksServer::start(signer.jwks());
    let verifier = verifier(&jwks.url);

    // valid
    let good = claims(&signer);
    let principal = verifier.verify(&signer.sign(&good).unwrap()).await.unwrap();
    assert_eq!(principal.role, Role::Owner);
    assert_eq!(principal.subject, good.sub);
    assert!(principal.has_scope("catalog:write"));
    assert_eq!(principal.tenant.map(|t| t.into_uuid()), good.tid);

    // expired
    let mut expired = claims(&signer);
    expired.iat -= 7200;
    expired.exp = expired.iat + 900;
    assert!(matches!(
        verifier.verify(&signer.sign(&expired).unwrap()).await,
        Err(TokenError::Invalid(_))
    ));

    // wrong audience
    let mut wrong_aud = claims(&signer);
    wrong_aud.aud = "somebody-else".to_owned();
    assert!(
        verifier
            .verify(&signer.sign(&wrong_aud).unwrap())
            .await
            .is_err()
    );

    // wrong issuer
    let mut wrong_iss = claims(&signer);
    wrong_iss.iss = "evil-auth".to_owned();
    assert!(
        verifier
            .verify(&signer.sign(&wrong_iss).unwrap())
            .await
            .is_err()
    );

    // alg none
    let payload = serde_json::to_value(claims(&signer)).unwrap();
    let none = format!(
        "{}.{}.",
        b64(&serde_json::json!({"alg": "none", "typ": "JWT", "kid": key.kid()})),
        b64(&payload)
    );
    assert!(verifier.verify(&none).await.is_err());

    // HS256 signed with the public key as the HMAC secret
    let jwk = &signer.jwks().keys[0];
    let public_x = match &jwk.algorithm {
        jsonwebtoken::jwk::AlgorithmParameters::OctetKeyPair(params) => params.x.clone(),
        other => panic!("unexpected key {other:?}"),
    };
    let public_bytes = URL_SAFE_NO_PAD.decode(public_x).unwrap();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.kid = Some(key.kid().to_owned());
    let hs256 = jsonwebtoken::encode(
        &header,
        &claims(&signer),
        &jsonwebtoken::EncodingKey::from_secret(&public_bytes).unwrap(),
    )
    .unwrap();
    assert!(matches!(
        verifier.verify(&hs256).await,
        Err(TokenError::Header(_))
    ));

    // unknown kid: signed by a key that is not published
    let stranger = SigningKey::generate().unwrap();
    let unknown = signer_for(&stranger).sign(&claims(&signer)).unwrap();
    assert!(matches!(
        verifier.verify(&unknown).await,
        Err(TokenError::UnknownKey(_))
    ));

    // tampered payload: role raised, signature kept
    let token = signer.sign(&claims(&signer)).unwrap();
    let parts: Vec<&str> = token.split('.').collect();
    let mut raised = claims(&signer);
    raised.role = Role::PlatformAdmin;
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        b64(&serde_json::to_value(&raised).unwrap()),
        parts[2]
    );
    assert!(matches!(
        verifier.verify(&forged).await,
        Err(TokenError::Invalid(_))
    ));
}

fn signer_for(key: &SigningKey) -> TokenSigner {
    signer(key)
}

#[tokio::test]
async fn a_rotated_key_is_picked_up_and_the_previous_still_verifies() {
    let old = SigningKey::generate().unwrap();
    let jwks = JwksServer::start(signer(&old).jwks());
    let verifier = verifier(&jwks.url);
    let old_token = signer(&old).sign(&claims(&signer(&old))).unwrap();
    assert!(verifier.verify(&old_token).await.is_ok());

    // Rotation: the new key signs, the old one is still published.
    let new = SigningKey::generate().unwrap();
    let rotated = TokenSigner::new(new.clone(), vec![old.clone()], ISSUER, AUDIENCE);
    *jwks.keys.write().unwrap() = rotated.jwks();
    let new_token = rotated.sign(&claims(&rotated)).unwrap();
    assert!(verifier.verify(&new_token).await.is_ok());
    assert!(verifier.verify(&old_token).await.is_ok());
}

#[tokio::test]
async fn unknown_kids_do_not_hammer_the_auth_service() {
    let key = SigningKey::generate().unwrap();
    let jwks = JwksServer::start(signer(&key).jwks());
    let verifier = JwksVerifier::new(&jwks.url, ISSUER, AUDIENCE)
        .unwrap()
        .with_min_refresh_interval(Duration::from_millis(500));
    assert!(
        verifier
            .verify(&signer(&key).sign(&claims(&signer(&key))).unwrap())
            .await
            .is_ok()
    );
    // A key published right after the last fetch still works at once...
    let later = SigningKey::generate().unwrap();
    *jwks.keys.write().unwrap() =
        TokenSigner::new(later.clone(), vec![key], ISSUER, AUDIENCE).jwks();
    let token = signer(&later).sign(&claims(&signer(&later))).unwrap();
    assert!(verifier.verify(&token).await.is_ok());
    // ...while forged kids cause at most one fetch per interval, however many come.
    let started = std::time::Instant::now();
    for _ in 0..6 {
        let stranger = SigningKey::generate().unwrap();
        let forged = signer(&stranger).sign(&claims(&signer(&stranger))).unwrap();
        assert!(matches!(
            verifier.verify(&forged).await,
            Err(TokenError::UnknownKey(_))
        ));
    }
    let fetches = jwks.fetches.load(std::sync::atomic::Ordering::SeqCst);
    let allowed = 2 + 1 + (started.elapsed().as_millis() / 500) as usize;
    assert!(
        fetches <= allowed,
        "{fetches} fetches in {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_token_not_valid_yet_is_refused_beyond_the_leeway() {
    let key = SigningKey::generate().unwrap();
    let signer = signer(&key);
    let jwks = JwksServer::start(signer.jwks());
    let verifier = verifier(&jwks.url);
    let now = chrono::Utc::now().timestamp();
    let leeway = i64::try_from(caravan_shared::identity::LEEWAY_SECS).unwrap();
    let with_nbf = |nbf: serde_json::Value| {
        let mut claims = serde_json::to_value(claims(&signer)).unwrap();
        claims["nbf"] = nbf;
        key.sign(&claims).unwrap()
    };

    // Valid only in ten minutes: refused.
    let later = with_nbf(serde_json::json!(now + 600));
    assert!(matches!(
        verifier.verify(&later).await,
        Err(TokenError::Invalid(_))
    ));
    // Just past the leeway: refused; within it (clocks drift): accepted.
    let beyond = with_nbf(serde_json::json!(now + leeway + 30));
    assert!(verifier.verify(&beyond).await.is_err());
    let within = with_nbf(serde_json::json!(now + leeway - 10));
    assert!(verifier.verify(&within).await.is_ok());
    // Already valid: accepted; an unreadable nbf: refused.
    let earlier = with_nbf(serde_json::json!(now - 60));
    assert!(verifier.verify(&earlier).await.is_ok());
    let unreadable = with_nbf(serde_json::json!("tomorrow"));
    assert!(verifier.verify(&unreadable).await.is_err());
}

#[tokio::test]
async fn a_token_names_its_session_and_one_without_a_session_still_verifies() {
    let key = SigningKey::generate().unwrap();
    let signer = signer(&key);
    let jwks = JwksServer::start(signer.jwks());
    let verifier = verifier(&jwks.url);

    let session = uuid::Uuid::now_v7();
    let claims = signer.session_claims(
        session,
        "0190f5a2-0000-7000-8000-000000000002",
        None,
        Role::Customer,
        &[],
    );
    let token = signer.sign(&claims).unwrap();
    let principal = verifier.verify(&token).await.unwrap();
    assert_eq!(principal.session, Some(session));

    // App or service tokens, and tokens from before sessions were named, have none.
    let service = signer.claims("service:order", None, Role::Service, &[]);
    let token = signer.sign(&service).unwrap();
    let payload = token.split('.').nth(1).unwrap();
    let payload: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    assert!(payload.get("sid").is_none(), "{payload}");
    assert_eq!(verifier.verify(&token).await.unwrap().session, None);
}

/// An app wired by hand, with the token verifier but without the service context
/// (where the shops' status and ended sessions are looked up): the extractors that
/// need it cannot check, so they refuse with 500 instead of letting the caller in.
#[tokio::test]
async fn without_the_service_context_callers_are_refused_not_let_through_unchecked() {
    use caravan_shared::identity::{Principal, RequireScope, Staff, scopes};

    let key = SigningKey::generate().unwrap();
    let signer = signer(&key);
    let jwks = JwksServer::start(signer.jwks());
    let verifier = web::Data::new(verifier(&jwks.url));
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(verifier.clone())
            .route(
                "/staff",
                web::get().to(|staff: Staff| async move {
                    HttpResponse::Ok().json(serde_json::json!({"tenant": staff.tenant}))
                }),
            )
            .route(
                "/catalog-write",
                web::get().to(|caller: RequireScope<scopes::CatalogWrite>| async move {
                    HttpResponse::Ok().json(serde_json::json!({"tenant": caller.tenant}))
                }),
            )
            .route(
                "/whoami",
                web::get().to(|principal: Principal| async move {
                    HttpResponse::Ok().json(serde_json::json!({"subject": principal.subject}))
                }),
            )
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    let client = reqwest::Client::new();
    let get = |path: &str, token: &str| {
        client
            .get(format!("http://127.0.0.1:{port}{path}"))
            .bearer_auth(token)
            .send()
    };

    let shop = uuid::Uuid::now_v7();
    let staff = signer
        .sign(&signer.claims(
            "0190f5a2-0000-7000-8000-000000000003",
            Some(shop),
            Role::Staff,
            &["catalog:write"],
        ))
        .unwrap();
    for path in ["/staff", "/catalog-write"] {
        let answer = get(path, &staff).await.unwrap();
        assert_eq!(
            answer.status(),
            500,
            "{path}: the shop's status went unchecked"
        );
        let body: serde_json::Value = answer.json().await.unwrap();
        assert_eq!(body["code"], "internal_error", "{path}: {body}");
        assert!(
            !body.to_string().contains("ServiceContext"),
            "the wiring stays inside: {body}"
        );
    }
    // A token of a session: whether it has ended cannot be checked either.
    let in_session = signer
        .sign(&signer.session_claims(
            uuid::Uuid::now_v7(),
            "0190f5a2-0000-7000-8000-000000000004",
            Some(shop),
            Role::Staff,
            &[],
        ))
        .unwrap();
    assert_eq!(get("/whoami", &in_session).await.unwrap().status(), 500);

    // What needs no lookup answers as before: a caller without a session is known,
    // and a customer is no shop's staff.
    assert_eq!(get("/whoami", &staff).await.unwrap().status(), 200);
    let customer = signer
        .sign(&signer.claims(
            "0190f5a2-0000-7000-8000-000000000005",
            None,
            Role::Customer,
            &[],
        ))
        .unwrap();
    assert_eq!(get("/staff", &customer).await.unwrap().status(), 403);
}
