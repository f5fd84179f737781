//! Remembered secrets against a real Secret Service: GNOME Keyring on a private D-Bus session
//! bus (`dbus-run-session`), its login keyring created and unlocked non-interactively in a
//! temporary data directory. The outer test starts that bus and runs the inner test (this same
//! binary) inside it, so the person's own keyring and session bus are never touched.

use osd_remote::Secret;
use osd_servers::secrets::{self, SecretKind};
use osd_servers::{AuthMethod, ServerInput, ServerStore};

const INNER: &str = "inside_a_private_keyring";

#[test]
fn a_remembered_password_lives_in_the_keyring_and_never_in_servers_toml() {
    let tmp = tempfile::tempdir().unwrap();
    osd_testlab::keyring::run_inside(INNER, tmp.path(), &[("HOME", tmp.path())]);
    // The keyring file on disk is encrypted: the secret is not in it as text either.
    let keyrings = tmp.path().join("data/keyrings");
    for f in std::fs::read_dir(&keyrings).unwrap() {
        let bytes = std::fs::read(f.unwrap().path()).unwrap();
        assert!(!String::from_utf8_lossy(&bytes).contains("s3cret-pw-"));
    }
}

/// Runs only inside the private bus the test above starts.
#[test]
#[ignore = "run by a_remembered_password_lives_in_the_keyring_and_never_in_servers_toml"]
fn inside_a_private_keyring() {
    let dir = std::path::PathBuf::from(std::env::var("OSD_TEST_DATA").unwrap());
    let store = ServerStore::new(dir.join("servers.toml"));
    let server = store
        .save(&ServerInput {
            id: None,
            name: "Production".into(),
            host: "odoo.example.com".into(),
            port: Some(2222),
            user: "deploy".into(),
            auth: AuthMethod::Password,
            key_file: None,
            instance: None,
            state_dir: None,
        })
        .unwrap();
    let password = "s3cret-pw-ünïcode";

    assert!(secrets::recall(&server, SecretKind::SshPassword)
        .unwrap()
        .is_none());
    secrets::remember(&server, SecretKind::SshPassword, &Secret::new(password)).unwrap();
    let back = secrets::recall(&server, SecretKind::SshPassword).unwrap();
    assert_eq!(back.as_ref().map(Secret::expose), Some(password));
    assert_eq!(
        secrets::remembered(&server).unwrap(),
        vec![SecretKind::SshPassword]
    );
    // Other kinds and other servers are separate entries.
    assert!(secrets::recall(&server, SecretKind::SudoPassword)
        .unwrap()
        .is_none());

    // The same id pointed at another host does not get this host's password.
    let mut moved = server.clone();
    moved.host = "elsewhere.example.com".into();
    assert!(secrets::recall(&moved, SecretKind::SshPassword)
        .unwrap()
        .is_none());

    // Saving the server again (as the app's form does) does not write the secret anywhere.
    store
        .save(&ServerInput {
            id: Some(server.id.clone()),
            name: "Production (edited)".into(),
            host: server.host.clone(),
            port: Some(server.port),
            user: server.user.clone(),
            auth: AuthMethod::Password,
            key_file: None,
            instance: None,
            state_dir: None,
        })
        .unwrap();
    let toml = std::fs::read_to_string(store.path()).unwrap();
    assert!(toml.contains("Production (edited)"));
    assert!(
        !toml.contains("s3cret"),
        "servers.toml holds the secret:\n{toml}"
    );

    assert!(secrets::forget(&server).unwrap());
    assert!(secrets::recall(&server, SecretKind::SshPassword)
        .unwrap()
        .is_none());
    assert!(!secrets::forget(&server).unwrap(), "nothing left to forget");
}
