//! Passwords: the policy for new ones, and argon2id hashing.

use argon2::password_hash::phc::PasswordHash;
use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};
use caravan_shared::FieldError;
use utoipa::openapi::schema::{ObjectBuilder, Type};

/// A password that meets the policy: 10 to 256 characters, not a common password.
pub struct NewPassword(String);

/// Passwords seen most often in breaches, refused whatever their length.
const COMMON: &[&str] = &[
    "1234567890",
    "12345678910",
    "123456789a",
    "1234567890a",
    "0123456789",
    "1q2w3e4r5t",
    "1qaz2wsx3edc",
    "qwertyuiop",
    "qwerty12345",
    "qwerty123456",
    "password12",
    "password123",
    "password1234",
    "passw0rd123",
    "iloveyou123",
    "abc1234567",
    "abcdefghij",
    "aaaaaaaaaa",
    "1111111111",
    "0000000000",
    "9876543210",
    "zaq12wsxcv",
    "asdfghjkl1",
    "letmein123",
    "welcome123",
    "admin12345",
    "administrator",
    "football123",
    "princess123",
    "sunshine123",
    "qazwsxedcrfv",
    "1q2w3e4r5t6y",
    "woaini1314",
    "woaini520",
    "5201314520",
    "a123456789",
    "aa123456789",
    "qq123456789",
    "abc123456789",
    "caravan123",
    "changeme123",
    "p@ssw0rd123",
];

impl NewPassword {
    /// Checks a new password; `field` names it in the error.
    pub fn parse(raw: &str, field: &str) -> Result<Self, FieldError> {
        let length = raw.chars().count();
        if length < 10 {
            return Err(FieldError::new(field, "must be at least 10 characters"));
        }
        if length > 256 {
            return Err(FieldError::new(field, "must be at most 256 characters"));
        }
        if COMMON.contains(&raw.to_lowercase().as_str()) {
            return Err(FieldError::new(field, "is too common; choose another"));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The password.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The policy as a JSON Schema string, for the API documentation: its lengths, and a
    /// pattern refusing each common password in any case.
    pub fn schema() -> ObjectBuilder {
        let common: Vec<String> = COMMON.iter().map(|password| any_case(password)).collect();
        ObjectBuilder::new()
            .schema_type(Type::String)
            .min_length(Some(10))
            .max_length(Some(256))
            .pattern(Some(format!("^(?!(?:{})$)", common.join("|"))))
    }
}

/// A pattern matching exactly the strings whose `to_lowercase` is `lowercase`.
fn any_case(lowercase: &str) -> String {
    lowercase
        .chars()
        .map(|c| match c {
            // The Kelvin sign is the one non-ASCII character that lowercases to ASCII.
            'k' => "[kK\\u212A]".to_owned(),
            'a'..='z' => format!("[{c}{}]", c.to_ascii_uppercase()),
            // Digits and `@`, which need no escaping (a test checks the list holds nothing
            // else).
            c => c.to_string(),
        })
        .collect()
}

/// Hashes and verifies passwords with argon2id.
#[derive(Clone)]
pub struct PasswordHashing {
    params: Params,
    /// A hash of nothing anyone knows, verified against when the account does not
    /// exist so that both answers take as long.
    decoy: String,
}

impl PasswordHashing {
    /// OWASP's minimum for argon2id: 19 MiB, 2 passes, 1 lane.
    pub fn owasp() -> anyhow::Result<Self> {
        Self::with_params(19 * 1024, 2, 1)
    }

    /// Custom parameters (memory in KiB, passes, lanes).
    pub fn with_params(m_cost: u32, t_cost: u32, p_cost: u32) -> anyhow::Result<Self> {
        let params = Params::new(m_cost, t_cost, p_cost, None)
            .map_err(|error| anyhow::anyhow!("argon2 parameters: {error}"))?;
        let mut hashing = Self {
            params,
            decoy: String::new(),
        };
        hashing.decoy = hashing.hash(&caravan_shared::secrets::generate())?;
        Ok(hashing)
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    /// The PHC string of a password, with a fresh salt. CPU-heavy: call from the
    /// blocking pool.
    pub fn hash(&self, password: &str) -> anyhow::Result<String> {
        self.argon2()
            .hash_password(password.as_bytes())
            .map(|hash| hash.to_string())
            .map_err(|error| anyhow::anyhow!("hashing failed: {error}"))
    }

    /// Whether `password` matches `stored` (constant time inside argon2). With no
    /// stored hash, verifies against the decoy so the time is the same, and fails.
    pub fn verify(&self, password: &str, stored: Option<&str>) -> bool {
        let target = stored.unwrap_or(&self.decoy);
        let matches = self
            .argon2()
            .verify_password(password.as_bytes(), target)
            .is_ok();
        matches && stored.is_some()
    }

    /// Whether a stored hash was made with weaker parameters than today's.
    pub fn needs_rehash(&self, stored: &str) -> bool {
        let Ok(hash) = PasswordHash::new(stored) else {
            return true;
        };
        match Params::try_from(&hash) {
            Ok(params) => {
                hash.algorithm.as_str() != "argon2id"
                    || params.m_cost() < self.params.m_cost()
                    || params.t_cost() < self.params.t_cost()
                    || params.p_cost() < self.params.p_cost()
            }
            Err(_) => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_refuses_short_long_and_common_passwords() {
        assert!(NewPassword::parse("short", "password").is_err());
        assert!(NewPassword::parse(&"x".repeat(257), "password").is_err());
        assert!(NewPassword::parse("Password123", "password").is_err());
        assert!(NewPassword::parse("goji-harvest-in-zhongning", "password").is_ok());
        assert!(NewPassword::parse(&"长".repeat(10), "password").is_ok());
    }

    #[test]
    fn the_documented_pattern_spells_common_passwords_in_any_case() {
        assert_eq!(any_case("p@ssw0rd123"), "[pP]@[sS][sS][wW]0[rR][dD]123");
        assert_eq!(
            any_case("asdfghjkl1"),
            "[aA][sS][dD][fF][gG][hH][jJ][kK\\u212A][lL]1"
        );
        assert!(COMMON.iter().all(|password| {
            password
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '@')
                && password.to_lowercase() == *password
        }));
        assert!(NewPassword::parse("ASDFGHJ\u{212A}L1", "password").is_err());
    }

    #[test]
    fn hashes_verify_and_weaker_ones_need_rehashing() {
        let weak = PasswordHashing::with_params(8 * 1024, 1, 1).unwrap();
        let strong = PasswordHashing::with_params(19 * 1024, 2, 1).unwrap();
        let stored = weak.hash("goji-harvest-in-zhongning").unwrap();
        assert!(stored.starts_with("$argon2id$"));
        assert!(weak.verify("goji-harvest-in-zhongning", Some(&stored)));
        assert!(!weak.verify("goji-harvest-in-zhongnin", Some(&stored)));
        assert!(!weak.verify("anything", None));
        assert!(strong.needs_rehash(&stored));
        assert!(!weak.needs_rehash(&stored));
    }
}
