//! Loading credentials from files as the settings give them, and the doctor's checks: every
//! failure names the setting and the fix; nothing secret is printed.

use std::path::{Path, PathBuf};

use ibkr_oauth::credentials::{check_access_token_secret, check_dh_prime, check_key_file};
use ibkr_oauth::{CredentialSource, Credentials};
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::Value;

use crate::vectors::testdata_dir;

fn vectors() -> Value {
    serde_json::from_str(&std::fs::read_to_string(testdata_dir().join("vectors.json")).unwrap())
        .unwrap()
}

fn source() -> CredentialSource {
    let v = vectors();
    let s = |k: &str| v[k].as_str().unwrap().to_owned();
    CredentialSource {
        consumer_key: s("consumer_key"),
        access_token: s("access_token"),
        access_token_secret: SecretString::from(s("access_token_secret_base64")),
        signature_key_path: testdata_dir().join("private_signature.pem"),
        encryption_key_path: testdata_dir().join("private_encryption.pkcs8.pem"),
        dh_prime: testdata_dir().join("dhparam.pem").display().to_string(),
        realm: s("realm"),
    }
}

fn load_err(source: &CredentialSource) -> String {
    Credentials::load(source).unwrap_err().to_string()
}

fn write(dir: &Path, name: &str, text: &str, mode: u32) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    path
}

fn tempdir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "ibkr-oauth-creds-{}-{}",
        std::process::id(),
        ibkr_oauth::session::nonce()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn loads_from_files_with_prime_as_path_or_hex() {
    let v = vectors();
    let creds = Credentials::load(&source()).unwrap();
    assert_eq!(
        creds.prepend().expose_secret(),
        v["prepend_hex"].as_str().unwrap()
    );
    let hex = CredentialSource {
        dh_prime: v["dh_prime_hex"].as_str().unwrap().to_owned(),
        ..source()
    };
    assert_eq!(
        Credentials::load(&hex).unwrap().dh_prime(),
        creds.dh_prime()
    );
    let dbg = format!("{creds:?} {:?}", source());
    assert!(!dbg.contains(v["prepend_hex"].as_str().unwrap()), "{dbg}");
    assert!(
        !dbg.contains(v["access_token_secret_base64"].as_str().unwrap()),
        "{dbg}"
    );
    assert!(!dbg.contains("PRIVATE KEY"), "{dbg}");
}

#[test]
fn every_failure_names_the_setting_and_the_fix() {
    let dir = tempdir();
    let missing = CredentialSource {
        signature_key_path: dir.join("nope.pem"),
        ..source()
    };
    let e = load_err(&missing);
    assert!(
        e.contains("OAUTH_SIGNATURE_PATH") && e.contains("does not exist"),
        "{e}"
    );

    let garbage = CredentialSource {
        encryption_key_path: write(&dir, "garbage.pem", "hello", 0o600),
        ..source()
    };
    let e = load_err(&garbage);
    assert!(
        e.contains("OAUTH_ENCRYPTION_PATH") && e.contains("not a PEM private key"),
        "{e}"
    );

    let encrypted = CredentialSource {
        signature_key_path: write(
            &dir,
            "enc.pem",
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n",
            0o600,
        ),
        ..source()
    };
    let e = load_err(&encrypted);
    assert!(e.contains("passphrase"), "{e}");

    let not_b64 = CredentialSource {
        access_token_secret: SecretString::from("not base64 !!"),
        ..source()
    };
    let e = load_err(&not_b64);
    assert!(
        e.contains("OAUTH_ACCESS_TOKEN_SECRET") && e.contains("not base64"),
        "{e}"
    );
    assert!(!e.contains("!!"), "the secret is not echoed: {e}");

    let wrong_key = CredentialSource {
        encryption_key_path: testdata_dir().join("private_signature.pem"),
        ..source()
    };
    let e = load_err(&wrong_key);
    assert!(
        e.contains("does not decrypt") && e.contains("OAUTH_ENCRYPTION_PATH"),
        "{e}"
    );

    let small_prime = CredentialSource {
        dh_prime: "00e3".into(),
        ..source()
    };
    let e = load_err(&small_prime);
    assert!(e.contains("OAUTH_DH_PRIME") && e.contains("2048"), "{e}");

    let bad_prime_path = CredentialSource {
        dh_prime: dir.join("dhparam.pem").display().to_string(),
        ..source()
    };
    let e = load_err(&bad_prime_path);
    assert!(
        e.contains("OAUTH_DH_PRIME") && e.contains("neither hex"),
        "{e}"
    );

    let empty = CredentialSource {
        consumer_key: " ".into(),
        ..source()
    };
    assert!(load_err(&empty).contains("OAUTH_CONSUMER_KEY"));
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn doctor_checks_one_by_one() {
    let dir = tempdir();
    let pem = std::fs::read_to_string(testdata_dir().join("private_signature.pem")).unwrap();
    let open = write(&dir, "open.pem", &pem, 0o644);
    let closed = write(&dir, "closed.pem", &pem, 0o600);
    let report = check_key_file("signature key", &open).unwrap();
    assert!(report.permissions_too_open, "{report:?}");
    assert_eq!(report.bits, 2048);
    assert!(
        !check_key_file("signature key", &closed)
            .unwrap()
            .permissions_too_open
    );

    let prime = check_dh_prime(&testdata_dir().join("dhparam.pem").display().to_string()).unwrap();
    assert!(prime.from_file && prime.bits >= 2048, "{prime:?}");
    let v = vectors();
    let prime = check_dh_prime(v["dh_prime_hex"].as_str().unwrap()).unwrap();
    assert!(!prime.from_file);

    let secret = SecretString::from(v["access_token_secret_base64"].as_str().unwrap().to_owned());
    check_access_token_secret(&testdata_dir().join("private_encryption.pem"), &secret).unwrap();
    let e = check_access_token_secret(&testdata_dir().join("private_signature.pem"), &secret)
        .unwrap_err()
        .to_string();
    assert!(e.contains("does not decrypt"), "{e}");
    std::fs::remove_dir_all(dir).ok();
}
