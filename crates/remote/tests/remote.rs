//! Integration tests of osd-remote against a real sshd (see `support`) and the local machine.
//! Each module is one topic; the tests read as a specification of the host layer.

#![allow(clippy::result_large_err)]

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use osd_remote::{
    Cmd, ConnectOptions, FileKind, Host, NewFileMode, NoAsk, Privilege, RemoteError, Target,
};
use support::{lab, Script};

/// A fresh directory on the host (the lab runs on this machine, so the test can look directly).
fn scratch(name: &str) -> String {
    let dir = lab()
        .dir
        .join("scratch")
        .join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::os::unix::fs::chown(dir.parent().unwrap(), Some(0), Some(0)).unwrap();
    dir.display().to_string()
}

fn leftovers(dir: &str) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".osd-tmp."))
        .collect()
}

fn uid_of(login: &str) -> u32 {
    let out = std::process::Command::new("id")
        .args(["-u", login])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

/// The same file-operation checks, run against any host: SSH as root, SSH through sudo, local.
mod file_ops {
    use super::*;
    use sha2::Digest;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    pub fn round_trip(host: &Host, dir: &str) {
        // A name with spaces, quotes and a dollar sign survives quoting both ways.
        let path = format!("{dir}/it's a \"conf\" $HOME.conf");
        std::fs::write(&path, "old\n").unwrap();
        assert_eq!(host.read_file(&path).unwrap(), b"old\n");

        let stat = host
            .write_atomic(&path, b"new content\n", &NewFileMode::default())
            .unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new content\n");
        assert_eq!(stat.size, 12);
        assert_eq!(stat.kind, FileKind::File);
        let expected: String = sha2::Sha256::digest(b"new content\n")
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(stat.sha256.as_deref(), Some(expected.as_str()));
        assert_eq!(stat.path, path);
        let again = host.stat(&path).unwrap().unwrap();
        assert_eq!(again, stat);
        assert_eq!(host.read_file(&path).unwrap(), b"new content\n");
        assert!(leftovers(dir).is_empty(), "{:?}", leftovers(dir));
    }

    pub fn keeps_owner_and_mode(host: &Host, dir: &str) {
        let path = format!("{dir}/odoo.conf");
        std::fs::write(&path, "[options]\n").unwrap();
        let uid = uid_of(lab().nosudo());
        std::os::unix::fs::chown(&path, Some(uid), Some(uid)).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();

        let stat = host
            .write_atomic(
                &path,
                b"[options]\nproxy_mode = True\n",
                &NewFileMode::default(),
            )
            .unwrap();
        let meta = std::fs::metadata(&path).unwrap();
        assert_eq!(
            (meta.uid(), meta.gid(), meta.mode() & 0o7777),
            (uid, uid, 0o640)
        );
        assert_eq!(
            (stat.uid, stat.owner.as_str(), stat.mode),
            (uid, lab().nosudo(), 0o640)
        );
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "[options]\nproxy_mode = True\n"
        );
    }

    pub fn new_file_gets_given_mode(host: &Host, dir: &str) {
        let path = format!("{dir}/new.conf");
        let stat = host
            .write_atomic(
                &path,
                b"x",
                &NewFileMode::new(Some(lab().nosudo()), None, 0o600),
            )
            .unwrap();
        let meta = std::fs::metadata(&path).unwrap();
        assert_eq!(
            (meta.uid(), meta.mode() & 0o7777),
            (uid_of(lab().nosudo()), 0o600)
        );
        assert_eq!(stat.mode, 0o600);
    }

    pub fn failure_after_temp_file_leaves_original(host: &Host, dir: &str) {
        // A new file for an owner that does not exist: chown fails after the temp file exists.
        let path = format!("{dir}/never.conf");
        let err = host
            .write_atomic(
                &path,
                b"x",
                &NewFileMode::new(Some("no-such-user-osd"), None, 0o644),
            )
            .unwrap_err();
        assert!(matches!(err, RemoteError::CommandFailed { .. }), "{err}");
        assert!(!Path::new(&path).exists());
        assert!(leftovers(dir).is_empty(), "{:?}", leftovers(dir));
    }

    pub fn symlink_is_followed(host: &Host, dir: &str) {
        let real = format!("{dir}/sites-available-x");
        let link = format!("{dir}/sites-enabled-x");
        std::fs::write(&real, "server {}\n").unwrap();
        std::os::unix::fs::symlink(&real, &link).unwrap();
        host.write_atomic(&link, b"server { listen 80; }\n", &NewFileMode::default())
            .unwrap();
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink(),
            "the link stays a link"
        );
        assert_eq!(
            std::fs::read_to_string(&real).unwrap(),
            "server { listen 80; }\n"
        );
        assert_eq!(host.stat(&link).unwrap().unwrap().real_path, real);
    }

    pub fn absent_things(host: &Host, dir: &str) {
        let missing = format!("{dir}/nope");
        assert!(host.stat(&missing).unwrap().is_none());
        assert!(matches!(
            host.read_file(&missing),
            Err(RemoteError::NotFound { .. })
        ));
        let err = host
            .write_atomic(
                &format!("{dir}/no/such/dir/f"),
                b"x",
                &NewFileMode::default(),
            )
            .unwrap_err();
        assert!(
            matches!(&err, RemoteError::NotFound { path, .. } if path.ends_with("no/such/dir")),
            "{err}"
        );
        assert!(matches!(
            host.read_file(dir),
            Err(RemoteError::NotRegularFile { .. })
        ));
        let d = host.stat(dir).unwrap().unwrap();
        assert_eq!((d.kind, d.sha256), (FileKind::Dir, None));
    }

    pub fn dirs_and_removal(host: &Host, dir: &str) {
        let deep = format!("{dir}/records/2024 run/");
        host.mkdir_p(&deep, 0o700).unwrap();
        assert!(Path::new(&deep).is_dir());
        assert_eq!(std::fs::metadata(&deep).unwrap().mode() & 0o777, 0o700);
        host.mkdir_p(&deep, 0o700).unwrap(); // again: fine
        let f = format!("{deep}/before.txt");
        host.write_atomic(&f, b"before", &NewFileMode::default())
            .unwrap();
        host.remove_file(&f).unwrap();
        assert!(!Path::new(&f).exists());
        host.remove_file(&f).unwrap(); // absent: fine
        assert!(matches!(
            host.remove_file(&deep),
            Err(RemoteError::NotRegularFile { .. })
        ));
    }

    pub fn all(host: &Host, dir: &str) {
        round_trip(host, dir);
        keeps_owner_and_mode(host, dir);
        new_file_gets_given_mode(host, dir);
        failure_after_temp_file_leaves_original(host, dir);
        symlink_is_followed(host, dir);
        absent_things(host, dir);
        dirs_and_removal(host, dir);
    }

    #[test]
    fn over_ssh_as_root() {
        let host = lab().root();
        all(&host, &scratch("files-root"));
    }

    #[test]
    fn over_ssh_through_sudo_without_password() {
        let host = lab().connect(lab().nopw());
        // The directory is root's: every write needs sudo and must still keep owners and modes.
        all(&host, &scratch("files-sudo"));
    }

    #[test]
    fn on_the_local_host() {
        let host = Host::local();
        assert_eq!(host.name(), "local");
        assert_eq!(host.privilege(), Privilege::Root, "the tests run as root");
        all(&host, &scratch("files-local"));
    }

    #[test]
    fn through_sudo_deep_inside_a_directory_only_root_can_enter() {
        // The login cannot even see that `a/b` exists (its grandparent is root's, mode 0700):
        // that is "needs sudo", not "does not exist" (a change set's folder under a private
        // state directory was refused this way).
        let host = lab().connect(lab().nopw());
        let dir = scratch("files-hidden");
        std::fs::create_dir_all(format!("{dir}/private/a/b")).unwrap();
        std::fs::set_permissions(
            format!("{dir}/private"),
            std::os::unix::fs::PermissionsExt::from_mode(0o700),
        )
        .unwrap();
        let path = format!("{dir}/private/a/b/run.sh");
        host.write_atomic(&path, b"echo hi\n", &NewFileMode::new(None, None, 0o700))
            .unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"echo hi\n");
        assert_eq!(host.read_file(&path).unwrap(), b"echo hi\n");
        assert!(host.stat(&path).unwrap().is_some());
        // Really absent stays absent, through sudo too.
        assert!(host
            .stat(&format!("{dir}/private/a/none"))
            .unwrap()
            .is_none());
        let err = host
            .write_atomic(
                &format!("{dir}/private/nowhere/x"),
                b"x",
                &NewFileMode::default(),
            )
            .unwrap_err();
        assert!(err.to_string().contains("does not exist"), "{err}");
    }

    #[test]
    fn large_content_round_trips() {
        let host = lab().root();
        let dir = scratch("files-large");
        let content: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        let path = format!("{dir}/big.bin");
        let stat = host
            .write_atomic(&path, &content, &NewFileMode::default())
            .unwrap();
        assert_eq!(stat.size, content.len() as u64);
        assert_eq!(host.read_file(&path).unwrap(), content);
    }

    #[test]
    fn large_content_through_sudo_after_the_unprivileged_attempt() {
        // The first attempt exits before reading its multi-megabyte stdin; the session must
        // come out of that clean for the sudo attempt and everything after it.
        let host = lab().connect(lab().nopw());
        let dir = scratch("files-large-sudo");
        let content: Vec<u8> = (0..6_000_000u32).map(|i| (i % 241) as u8).collect();
        let path = format!("{dir}/big.bin");
        for _ in 0..2 {
            let stat = host
                .write_atomic(&path, &content, &NewFileMode::default())
                .unwrap();
            assert_eq!(stat.size, content.len() as u64);
        }
        assert!(std::fs::read(&path).unwrap() == content);
        // A command that ignores a large stdin, then normal work.
        assert_eq!(
            host.run(&Cmd::new("true").stdin(content.clone()))
                .unwrap()
                .status,
            0
        );
        assert_eq!(
            host.run(&Cmd::new("echo").arg("fine"))
                .unwrap()
                .stdout_str(),
            "fine\n"
        );
    }

    #[test]
    fn write_without_rights_leaves_original_and_no_temp_file() {
        let host = Host::connect(
            &lab().target(lab().nosudo()),
            &lab().opts_with_key(lab().key_ed25519()),
            &NoAsk,
        )
        .unwrap();
        let dir = scratch("files-denied");
        let path = format!("{dir}/odoo.conf");
        std::fs::write(&path, "original\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = host
            .write_atomic(&path, b"changed\n", &NewFileMode::default())
            .unwrap_err();
        match &err {
            RemoteError::PrivilegeMissing { command, hint, .. } => {
                assert!(command.contains("odoo.conf"), "{command}");
                assert!(hint.contains(lab().nosudo()), "{hint}");
            }
            other => panic!("expected PrivilegeMissing, got {other}"),
        }
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "original\n");
        assert!(leftovers(&dir).is_empty());
        // Readable files are still read without privilege.
        assert_eq!(host.read_file(&path).unwrap(), b"original\n");
    }

    #[test]
    fn write_into_read_only_directory_leaves_original_and_no_temp_file() {
        // Even root cannot create files in a read-only mount.
        let host = lab().root();
        let dir = scratch("files-ro");
        let ro = format!("{dir}/ro");
        std::fs::create_dir(&ro).unwrap();
        std::fs::write(format!("{ro}/odoo.conf"), "original\n").unwrap();
        let mounted = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!(
                "mount --bind '{ro}' '{ro}' && mount -o remount,bind,ro '{ro}'"
            ))
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !mounted {
            let _ = std::process::Command::new("umount").arg(&ro).status();
            eprintln!("SKIPPED: cannot make a read-only bind mount here (no CAP_SYS_ADMIN)");
            return;
        }
        let result = host.write_atomic(
            &format!("{ro}/odoo.conf"),
            b"changed\n",
            &NewFileMode::default(),
        );
        let _ = std::process::Command::new("umount").arg(&ro).status();
        let err = result.unwrap_err();
        assert!(matches!(err, RemoteError::CommandFailed { .. }), "{err}");
        assert!(err.to_string().contains("Read-only file system"), "{err}");
        assert_eq!(
            std::fs::read_to_string(format!("{ro}/odoo.conf")).unwrap(),
            "original\n"
        );
        assert!(leftovers(&ro).is_empty());
    }
}

mod commands {
    use super::*;

    #[test]
    fn status_output_and_stdin() {
        let host = lab().root();
        let out = host
            .run(
                &Cmd::new("sh")
                    .arg("-c")
                    .arg("cat; echo err >&2; exit 3")
                    .stdin(b"hello".to_vec()),
            )
            .unwrap();
        assert_eq!(
            (
                out.status,
                out.stdout_str().as_ref(),
                out.stderr_str().as_ref()
            ),
            (3, "hello", "err\n")
        );
        assert!(!out.ok());
        let out = host
            .run(
                &Cmd::new("printf")
                    .arg("%s|")
                    .arg("a b")
                    .arg("it's")
                    .arg("$HOME")
                    .arg(""),
            )
            .unwrap();
        assert_eq!(out.stdout_str(), "a b|it's|$HOME||");
    }

    #[test]
    fn run_checked_reports_command_and_stderr() {
        let host = lab().root();
        let err = host
            .run_checked(&Cmd::new("ls").arg("/definitely/not here"))
            .unwrap_err();
        match &err {
            RemoteError::CommandFailed {
                command,
                status,
                stderr,
                host: h,
            } => {
                assert_eq!(command, "ls '/definitely/not here'");
                assert_eq!(*status, 2);
                assert!(stderr.contains("No such file"), "{stderr}");
                assert!(h.starts_with("root@127.0.0.1:"), "{h}");
            }
            other => panic!("{other}"),
        }
        assert!(
            err.to_string().contains("ls '/definitely/not here'"),
            "{err}"
        );
    }

    #[test]
    fn big_stdin_and_stdout_both_ways_at_once() {
        let host = lab().root();
        let input: Vec<u8> = (0..4_000_000u32).map(|i| b'a' + (i % 26) as u8).collect();
        let out = host.run(&Cmd::new("cat").stdin(input.clone())).unwrap();
        assert_eq!(out.stdout.len(), input.len());
        assert!(out.stdout == input);
    }

    #[test]
    fn script_is_one_round_trip() {
        let host = lab().root();
        let before = host.exec_count();
        let out = host
            .run_script(
                "echo '==> a <=='\nid -u\necho '==> b <=='\nhostname >/dev/null && echo ok\n",
                false,
                Duration::from_secs(10),
            )
            .unwrap();
        assert_eq!(host.exec_count() - before, 1);
        assert_eq!(out.stdout_str(), "==> a <==\n0\n==> b <==\nok\n");
    }

    #[test]
    fn timeout_abandons_the_command_and_the_session_still_works() {
        let host = lab().root();
        let started = Instant::now();
        let err = host
            .run(
                &Cmd::new("sleep")
                    .arg("30")
                    .timeout(Duration::from_millis(700)),
            )
            .unwrap_err();
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{:?}",
            started.elapsed()
        );
        match &err {
            RemoteError::Timeout { command, after, .. } => {
                assert_eq!(command, "sleep 30");
                assert_eq!(*after, Duration::from_millis(700));
            }
            other => panic!("{other}"),
        }
        assert_eq!(
            host.run(&Cmd::new("echo").arg("still here"))
                .unwrap()
                .stdout_str(),
            "still here\n"
        );
    }

    #[test]
    fn local_timeout_kills_the_pipeline() {
        let host = Host::local();
        let err = host
            .run(&Cmd::shell("sleep 30 | cat").timeout(Duration::from_millis(300)))
            .unwrap_err();
        assert!(matches!(err, RemoteError::Timeout { .. }), "{err}");
    }

    #[test]
    fn a_dropped_connection_is_an_error_not_a_hang() {
        let host = lab().root();
        // Kill the sshd process serving this very connection.
        let started = Instant::now();
        let result =
            host.run(&Cmd::shell("kill -9 $PPID; sleep 5").timeout(Duration::from_secs(30)));
        assert!(started.elapsed() < Duration::from_secs(20));
        let err = match result {
            Err(e) => e,
            Ok(_) => host.run(&Cmd::new("true")).unwrap_err(),
        };
        assert!(matches!(err, RemoteError::Ssh { .. }), "{err}");
        assert!(err.to_string().contains(host.name()), "{err}");
        let err = host.run(&Cmd::new("true")).unwrap_err();
        assert!(matches!(err, RemoteError::Ssh { .. }), "{err}");
    }

    #[test]
    fn host_is_shareable_between_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Host>();
        assert_send_sync::<osd_remote::Tunnel>();
    }

    #[test]
    fn parallel_commands_share_one_session() {
        let host = lab().root();
        std::thread::scope(|s| {
            for i in 0..6 {
                let host = &host;
                s.spawn(move || {
                    for j in 0..5 {
                        let out = host.run(&Cmd::new("echo").arg(format!("{i}-{j}"))).unwrap();
                        assert_eq!(out.stdout_str(), format!("{i}-{j}\n"));
                    }
                });
            }
        });
    }
}

mod privilege {
    use super::*;

    #[test]
    fn root_runs_as_is() {
        let host = lab().root();
        assert_eq!(host.privilege(), Privilege::Root);
        assert_eq!(host.user(), "root");
        assert_eq!(
            host.run(&Cmd::new("id").arg("-u").privileged())
                .unwrap()
                .stdout_str(),
            "0\n"
        );
    }

    #[test]
    fn sudo_without_password() {
        let host = lab().connect(lab().nopw());
        assert_eq!(
            host.privilege(),
            Privilege::Sudo {
                password_needed: false
            }
        );
        assert_eq!(
            host.run(&Cmd::new("id").arg("-u")).unwrap().stdout_str(),
            format!("{}\n", uid_of(lab().nopw()))
        );
        assert_eq!(
            host.run(&Cmd::new("id").arg("-u").privileged())
                .unwrap()
                .stdout_str(),
            "0\n"
        );
        // stdin reaches the privileged command.
        assert_eq!(
            host.run(&Cmd::new("cat").privileged().stdin(b"through sudo".to_vec()))
                .unwrap()
                .stdout_str(),
            "through sudo"
        );
        // A root-only file is read through sudo on its own.
        assert!(String::from_utf8(host.read_file("/etc/shadow").unwrap())
            .unwrap()
            .contains("root:"));
    }

    #[test]
    fn sudo_with_password_asked_once() {
        let l = lab();
        let ask = Script {
            sudo_password: Some(l.password_of(l.pw())),
            ..Default::default()
        };
        let host =
            Host::connect(&l.target(l.pw()), &l.opts_with_key(l.key_ed25519()), &ask).unwrap();
        assert_eq!(
            host.privilege(),
            Privilege::Sudo {
                password_needed: true
            }
        );
        assert_eq!(ask.asked().len(), 1);
        assert!(
            matches!(&ask.asked()[0], osd_remote::Prompt::SudoPassword { user, .. } if user == l.pw())
        );
        assert_eq!(
            host.run(&Cmd::new("id").arg("-u").privileged())
                .unwrap()
                .stdout_str(),
            "0\n"
        );
        // The password line is sudo's; the command gets exactly its own stdin.
        assert_eq!(
            host.run(&Cmd::new("cat").privileged().stdin(b"line1\nline2".to_vec()))
                .unwrap()
                .stdout_str(),
            "line1\nline2"
        );
        assert_eq!(
            host.run_script("id -u\n", true, Duration::from_secs(10))
                .unwrap()
                .stdout_str(),
            "0\n"
        );
        let dir = scratch("sudo-pw");
        let path = format!("{dir}/root-owned.conf");
        std::fs::write(&path, "a\n").unwrap();
        host.write_atomic(&path, b"b\n", &NewFileMode::default())
            .unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "b\n");
        assert_eq!(ask.asked().len(), 1, "asked once, at connect");
    }

    #[test]
    fn sudo_password_from_options_and_never_in_commands_or_errors() {
        let l = lab();
        let mut opts = l.opts_with_key(l.key_ed25519());
        opts.sudo_password = Some(l.password_of(l.pw()).into());
        let host = Host::connect(&l.target(l.pw()), &opts, &NoAsk).unwrap();
        let err = host
            .run_checked(
                &Cmd::new("sh")
                    .arg("-c")
                    .arg("ps -o args= -u root | grep -c sudo; exit 4")
                    .privileged(),
            )
            .unwrap_err();
        let text = format!("{err} {err:?} {host:?} {opts:?}");
        assert!(!text.contains(&l.password_of(l.pw())), "{text}");
    }

    #[test]
    fn wrong_sudo_password_is_rejected() {
        let l = lab();
        let ask = Script {
            sudo_password: Some("not it".into()),
            ..Default::default()
        };
        let err =
            Host::connect(&l.target(l.pw()), &l.opts_with_key(l.key_ed25519()), &ask).unwrap_err();
        assert!(
            matches!(&err, RemoteError::SudoPasswordRejected { user, .. } if user == l.pw()),
            "{err}"
        );
        assert!(!err.to_string().contains("not it"));
    }

    #[test]
    fn sudo_password_not_given_means_no_privilege() {
        let l = lab();
        let host =
            Host::connect(&l.target(l.pw()), &l.opts_with_key(l.key_ed25519()), &NoAsk).unwrap();
        assert_eq!(host.privilege(), Privilege::None);
        let err = host
            .run(&Cmd::new("nginx").arg("-t").privileged())
            .unwrap_err();
        assert!(err.to_string().contains("password"), "{err}");
    }

    #[test]
    fn no_sudo_names_the_command() {
        let l = lab();
        let host = Host::connect(
            &l.target(l.nosudo()),
            &l.opts_with_key(l.key_ed25519()),
            &NoAsk,
        )
        .unwrap();
        assert_eq!(host.privilege(), Privilege::None);
        let err = host
            .run(
                &Cmd::new("systemctl")
                    .arg("restart")
                    .arg("odoo")
                    .privileged(),
            )
            .unwrap_err();
        match &err {
            RemoteError::PrivilegeMissing { command, .. } => {
                assert_eq!(command, "systemctl restart odoo")
            }
            other => panic!("{other}"),
        }
        let text = err.to_string();
        assert!(
            text.contains("`systemctl restart odoo`") && text.contains(l.nosudo()),
            "{text}"
        );
        // Reading a root-only file: the error names the read.
        let err = host.read_file("/etc/shadow").unwrap_err();
        assert!(
            matches!(&err, RemoteError::PrivilegeMissing { command, .. } if command == "cat -- /etc/shadow"),
            "{err}"
        );
    }

    #[test]
    fn no_sudo_user_who_gives_a_password_still_has_none() {
        let l = lab();
        let ask = Script {
            sudo_password: Some(l.password_of(l.nosudo())),
            ..Default::default()
        };
        let host = Host::connect(
            &l.target(l.nosudo()),
            &l.opts_with_key(l.key_ed25519()),
            &ask,
        )
        .unwrap();
        assert_eq!(host.privilege(), Privilege::None);
    }
}

mod host_keys {
    use super::*;

    fn app_file(name: &str) -> std::path::PathBuf {
        let p = lab().dir.join(format!("app-known-hosts-{name}"));
        let _ = std::fs::remove_file(&p);
        p
    }

    /// Options trusting nothing, with a password that must never be asked or sent.
    fn untrusting(name: &str) -> (ConnectOptions, Script) {
        let mut o = ConnectOptions::bare();
        o.app_known_hosts_file = app_file(name);
        o.identity_files = vec![lab().key_ed25519().to_path_buf()];
        (
            o,
            Script {
                ssh_password: Some("x".into()),
                sudo_password: Some("y".into()),
                ..Default::default()
            },
        )
    }

    #[test]
    fn unknown_key_is_refused_with_the_ssh_keygen_fingerprint() {
        let (opts, ask) = untrusting("unknown");
        let err = Host::connect(&lab().target("root"), &opts, &ask).unwrap_err();
        match &err {
            RemoteError::UnknownHostKey {
                host,
                port,
                key_type,
                fingerprint,
                ..
            } => {
                assert_eq!((host.as_str(), *port), ("127.0.0.1", lab().port));
                assert_eq!(key_type, "ssh-ed25519");
                assert_eq!(fingerprint, &lab().host_key_fingerprint());
            }
            other => panic!("{other}"),
        }
        assert!(err.to_string().contains(&lab().host_key_fingerprint()));
        assert!(
            ask.asked().is_empty(),
            "nothing asked (or sent) before the key is accepted"
        );
        assert!(!opts.app_known_hosts_file.exists());
    }

    #[test]
    fn accepting_stores_the_key_and_the_next_connect_passes() {
        let (opts, _) = untrusting("accept");
        let err = Host::connect(&lab().target("root"), &opts, &NoAsk).unwrap_err();
        let RemoteError::UnknownHostKey {
            host,
            port,
            key_type,
            key,
            ..
        } = err
        else {
            panic!("{err}")
        };
        osd_remote::accept_host_key(&opts.app_known_hosts_file, &host, port, &key_type, &key)
            .unwrap();
        let stored = std::fs::read_to_string(&opts.app_known_hosts_file).unwrap();
        assert_eq!(stored, format!("{}\n", lab().known_hosts_line()));
        let h = Host::connect(&lab().target("root"), &opts, &NoAsk).unwrap();
        assert_eq!(
            h.host_key().unwrap().fingerprint,
            lab().host_key_fingerprint()
        );
    }

    #[test]
    fn accept_new_stores_it_in_the_app_file() {
        let (mut opts, _) = untrusting("accept-new");
        opts.accept_new_host_key = true;
        Host::connect(&lab().target("root"), &opts, &NoAsk).unwrap();
        assert!(std::fs::read_to_string(&opts.app_known_hosts_file)
            .unwrap()
            .contains(lab().known_hosts_line()));
        opts.accept_new_host_key = false;
        Host::connect(&lab().target("root"), &opts, &NoAsk).unwrap();
    }

    #[test]
    fn changed_key_is_refused_with_both_fingerprints() {
        let (mut opts, ask) = untrusting("changed");
        let other = lab().dir.join("other_host_key");
        if !other.exists() {
            assert!(std::process::Command::new("ssh-keygen")
                .args(["-q", "-t", "ed25519", "-N", "", "-f"])
                .arg(&other)
                .status()
                .unwrap()
                .success());
        }
        let other_pub = std::fs::read_to_string(other.with_extension("pub")).unwrap();
        let mut f = other_pub.split_whitespace();
        let (t, k) = (f.next().unwrap(), f.next().unwrap());
        let kh = lab().dir.join("known_hosts_changed");
        std::fs::write(
            &kh,
            format!("# comment\n[127.0.0.1]:{} {t} {k}\n", lab().port),
        )
        .unwrap();
        opts.known_hosts_files = vec![kh.clone()];
        opts.accept_new_host_key = true; // never applies to a changed key
        let err = Host::connect(&lab().target("root"), &opts, &ask).unwrap_err();
        let expected = osd_remote::fingerprint(&base64_decode(k));
        match &err {
            RemoteError::HostKeyChanged {
                expected_fingerprint,
                actual_fingerprint,
                known_hosts_file,
                line,
                ..
            } => {
                assert_eq!(expected_fingerprint, &expected);
                assert_eq!(actual_fingerprint, &lab().host_key_fingerprint());
                assert_eq!((known_hosts_file, *line), (&kh, 2));
            }
            other => panic!("{other}"),
        }
        let text = err.to_string();
        assert!(
            text.contains(&expected) && text.contains(&lab().host_key_fingerprint()),
            "{text}"
        );
        assert!(ask.asked().is_empty());
        assert!(!opts.app_known_hosts_file.exists());
    }

    #[test]
    fn hashed_entries_match() {
        let kh = lab().dir.join("known_hosts_hashed");
        std::fs::write(&kh, format!("{}\n", lab().known_hosts_line())).unwrap();
        assert!(std::process::Command::new("ssh-keygen")
            .arg("-H")
            .arg("-f")
            .arg(&kh)
            .output()
            .unwrap()
            .status
            .success());
        assert!(std::fs::read_to_string(&kh).unwrap().starts_with("|1|"));
        let mut opts = lab().opts_with_key(lab().key_ed25519());
        opts.known_hosts_files = vec![kh];
        Host::connect(&lab().target("root"), &opts, &NoAsk).unwrap();
    }

    #[test]
    fn an_entry_for_port_22_does_not_count_for_another_port() {
        // OpenSSH keys non-22 ports as [host]:port; a plain "127.0.0.1" line is another server.
        let (mut opts, _) = untrusting("port22");
        let kh = lab().dir.join("known_hosts_port22");
        std::fs::write(&kh, "127.0.0.1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOskHW4s2Hld11NN3yBOUh+7qBawB+0O6qc/DLOQd1b1\n").unwrap();
        opts.known_hosts_files = vec![kh];
        let err = Host::connect(&lab().target("root"), &opts, &NoAsk).unwrap_err();
        assert!(matches!(err, RemoteError::UnknownHostKey { .. }), "{err}");
    }

    fn base64_decode(s: &str) -> Vec<u8> {
        let out = std::process::Command::new("base64")
            .arg("-d")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        let mut out = out;
        out.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
        out.wait_with_output().unwrap().stdout
    }
}

mod auth {
    use super::*;

    fn connect_with(
        opts: &ConnectOptions,
        ask: &dyn osd_remote::Ask,
        user: &str,
    ) -> Result<Host, RemoteError> {
        Host::connect(&lab().target(user), opts, ask)
    }

    #[test]
    fn ed25519_ecdsa_and_rsa_keys() {
        let l = lab();
        for key in [l.key_ed25519(), l.key_ecdsa(), l.key_rsa()] {
            let host = connect_with(&l.opts_with_key(key), &NoAsk, l.nosudo())
                .unwrap_or_else(|e| panic!("{}: {e}", key.display()));
            assert_eq!(
                host.run(&Cmd::new("whoami")).unwrap().stdout_str(),
                format!("{}\n", l.nosudo())
            );
        }
    }

    #[test]
    fn passphrase_key_asks_for_the_passphrase() {
        let l = lab();
        let (key, passphrase) = l.key_with_passphrase();
        let ask = Script {
            passphrase: Some(passphrase.into()),
            ..Default::default()
        };
        connect_with(&l.opts_with_key(key), &ask, "root").unwrap();
        assert_eq!(
            ask.asked(),
            vec![osd_remote::Prompt::KeyPassphrase {
                path: key.to_path_buf()
            }]
        );
    }

    #[test]
    fn passphrase_from_options() {
        let l = lab();
        let (key, passphrase) = l.key_with_passphrase();
        let mut opts = l.opts_with_key(key);
        opts.key_passphrase = Some(passphrase.into());
        connect_with(&opts, &NoAsk, "root").unwrap();
    }

    #[test]
    fn wrong_passphrase_says_so() {
        let l = lab();
        let ask = Script {
            passphrase: Some("wrong".into()),
            ..Default::default()
        };
        let (key, _) = l.key_with_passphrase();
        let err = connect_with(&l.opts_with_key(key), &ask, l.nosudo()).unwrap_err();
        assert!(
            matches!(&err, RemoteError::KeyPassphraseWrong { path } if path == key),
            "{err}"
        );
    }

    #[test]
    fn password_from_options_and_asked() {
        let l = lab();
        let mut opts = l.opts_bare();
        opts.password = Some(l.password_of(l.nosudo()).into());
        connect_with(&opts, &NoAsk, l.nosudo()).unwrap();
        let ask = Script {
            ssh_password: Some(l.password_of(l.nosudo())),
            ..Default::default()
        };
        connect_with(&l.opts_bare(), &ask, l.nosudo()).unwrap();
        // Then, as sudo wants a password from this user too, that is asked (and found useless).
        let port = l.port;
        assert!(
            matches!(&ask.asked()[..], [osd_remote::Prompt::SshPassword { user, host }, osd_remote::Prompt::SudoPassword { .. }] if user == l.nosudo() && host == &format!("127.0.0.1:{port}")),
            "{:?}",
            ask.asked()
        );
    }

    #[test]
    fn wrong_password_is_auth_failed_listing_methods() {
        let l = lab();
        let mut opts = l.opts_bare();
        opts.password = Some("wrong password".into());
        opts.identity_files = vec![l.dir.join("no-such-key")];
        let err = connect_with(&opts, &NoAsk, l.nosudo()).unwrap_err();
        match &err {
            RemoteError::AuthFailed { user, tried, .. } => {
                assert_eq!(user, l.nosudo());
                assert!(tried.iter().any(|t| t == "password"), "{tried:?}");
                assert!(
                    tried
                        .iter()
                        .any(|t| t.contains("no-such-key") && t.contains("no such file")),
                    "{tried:?}"
                );
            }
            other => panic!("{other}"),
        }
        assert!(!format!("{err} {err:?}").contains("wrong password"));
    }

    #[test]
    fn nothing_to_offer_is_auth_failed() {
        let err = connect_with(&lab().opts_bare(), &NoAsk, "root").unwrap_err();
        assert!(
            matches!(&err, RemoteError::AuthFailed { tried, .. } if tried == &vec!["password (not given)".to_string()]),
            "{err}"
        );
    }

    #[test]
    fn agent_with_a_real_ssh_agent() {
        let l = lab();
        let sock = l.dir.join(format!("agent-{}.sock", std::process::id()));
        let _ = std::fs::remove_file(&sock);
        // -D: foreground; it dies with the watchdog below when the test process ends.
        let mut agent = std::process::Command::new("ssh-agent")
            .arg("-D")
            .arg("-a")
            .arg(&sock)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Its first line of output is printed once the socket is listening.
        let mut first = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(agent.stdout.as_mut().unwrap()),
            &mut first,
        )
        .unwrap();
        let added = std::process::Command::new("ssh-add")
            .arg(l.key_ecdsa())
            .env("SSH_AUTH_SOCK", &sock)
            .output()
            .unwrap();
        assert!(
            added.status.success(),
            "{}",
            String::from_utf8_lossy(&added.stderr)
        );
        let mut opts = l.opts_bare();
        opts.use_agent = true;
        opts.agent_socket = Some(sock.clone());
        let result = connect_with(&opts, &NoAsk, l.nopw());
        let _ = agent.kill();
        let _ = agent.wait();
        let host = result.unwrap();
        assert_eq!(
            host.run(&Cmd::new("whoami")).unwrap().stdout_str(),
            format!("{}\n", l.nopw())
        );
    }
}

mod reachability {
    use super::*;

    #[test]
    fn closed_port_is_unreachable() {
        let port = support::free_port();
        let err = Host::connect(
            &Target::parse(&format!("root@127.0.0.1:{port}")).unwrap(),
            &ConnectOptions::bare(),
            &NoAsk,
        )
        .unwrap_err();
        match &err {
            RemoteError::Unreachable {
                host,
                port: p,
                reason,
            } => {
                assert_eq!((host.as_str(), *p), ("127.0.0.1", port));
                assert_eq!(reason, "connection refused");
            }
            other => panic!("{other}"),
        }
        assert_eq!(err.to_string(), format!("cannot reach 127.0.0.1:{port}: connection refused — is sshd running and the port right?"));
    }

    #[test]
    fn a_server_that_never_speaks_times_out_in_the_handshake() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut opts = ConnectOptions::bare();
        opts.connect_timeout = Duration::from_millis(500);
        let started = Instant::now();
        let err = Host::connect(
            &Target::parse(&format!("root@127.0.0.1:{port}")).unwrap(),
            &opts,
            &NoAsk,
        )
        .unwrap_err();
        assert!(matches!(err, RemoteError::Handshake { .. }), "{err}");
        assert!(started.elapsed() < Duration::from_secs(5));
        drop(listener);
    }

    #[test]
    fn ssh_config_alias_is_resolved() {
        let l = lab();
        let cfg = l.dir.join("ssh_config_alias");
        std::fs::write(
            &cfg,
            format!("Host odoo-lab\n  HostName {}\n  Port {}\n  User {}\n  IdentityFile {}\nHost *\n  User nobody\n", l.host, l.port, l.nopw(), l.key_ecdsa().display()),
        )
        .unwrap();
        let mut opts = l.opts_bare();
        opts.ssh_config_file = Some(cfg);
        let target = Target::parse("odoo-lab").unwrap();
        let spec = osd_remote::resolve_target(&target, &opts).unwrap().unwrap();
        assert_eq!(
            (spec.host.as_str(), spec.port, spec.user.as_str()),
            ("127.0.0.1", l.port, l.nopw())
        );
        let host = Host::connect(&target, &opts, &NoAsk).unwrap();
        assert_eq!(host.user(), l.nopw());
        assert_eq!(host.name(), format!("{}@127.0.0.1:{}", l.nopw(), l.port));
    }
}

mod tunnels {
    use super::*;
    use std::io::{Read, Write};

    /// An echo server on the "remote" loopback (same machine in the lab).
    fn echo_server() -> u16 {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let mut conn = conn.unwrap();
                std::thread::spawn(move || {
                    let mut buf = [0u8; 65536];
                    loop {
                        match conn.read(&mut buf) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => conn.write_all(&buf[..n]).unwrap(),
                        }
                    }
                });
            }
        });
        port
    }

    #[test]
    fn bytes_go_both_ways_on_several_connections() {
        let host = lab().root();
        let port = echo_server();
        let tunnel = host.tunnel("127.0.0.1", port).unwrap();
        assert!(tunnel.local_addr().ip().is_loopback());
        assert_ne!(tunnel.local_addr().port(), port);
        std::thread::scope(|s| {
            for i in 0..3 {
                let addr = tunnel.local_addr();
                s.spawn(move || {
                    let mut c = std::net::TcpStream::connect(addr).unwrap();
                    let data: Vec<u8> = (0..500_000u32).map(|x| (x % 256) as u8 ^ i).collect();
                    let mut w = c.try_clone().unwrap();
                    let d2 = data.clone();
                    let writer = std::thread::spawn(move || {
                        w.write_all(&d2).unwrap();
                        w.shutdown(std::net::Shutdown::Write).unwrap();
                    });
                    let mut back = Vec::new();
                    c.read_to_end(&mut back).unwrap();
                    writer.join().unwrap();
                    assert!(back == data, "connection {i} got {} bytes", back.len());
                });
            }
        });
        // Commands still work while the tunnel exists.
        assert_eq!(
            host.run(&Cmd::new("echo").arg("ok")).unwrap().stdout_str(),
            "ok\n"
        );
        let addr = tunnel.local_addr();
        drop(tunnel);
        assert!(
            std::net::TcpStream::connect(addr).is_err(),
            "the listener is gone after drop"
        );
    }

    #[test]
    fn unreachable_port_on_the_host_is_reported_at_once() {
        let host = lab().root();
        let port = support::free_port();
        let err = host.tunnel("127.0.0.1", port).unwrap_err();
        assert!(
            matches!(&err, RemoteError::Unreachable { port: p, .. } if *p == port),
            "{err}"
        );
    }

    #[test]
    fn local_tunnel_is_the_address_itself() {
        let host = Host::local();
        let t = host.tunnel("127.0.0.1", 5432).unwrap();
        assert_eq!(t.local_addr(), "127.0.0.1:5432".parse().unwrap());
    }

    #[test]
    fn postgres_reads_ir_config_parameter_through_the_tunnel() {
        let l = lab();
        let pg = l.info.postgres.clone();
        let host = l.root();
        let tunnel = host.tunnel(&pg.host, pg.port).unwrap();
        let addr = tunnel.local_addr();
        let query = "SELECT key, value FROM ir_config_parameter ORDER BY key";
        let read = move |host: String, port: u16| {
            // The sync postgres client must not run inside a tokio runtime; a plain thread is fine.
            let pg = pg.clone();
            std::thread::spawn(move || {
                let mut client = postgres::Config::new()
                    .host(&host)
                    .port(port)
                    .user(&pg.user)
                    .password(&pg.password)
                    .dbname(&pg.db)
                    .connect(postgres::NoTls)
                    .unwrap();
                let rows = client.query(query, &[]).unwrap();
                rows.iter()
                    .map(|r| (r.get::<_, String>(0), r.get::<_, String>(1)))
                    .collect::<Vec<_>>()
            })
            .join()
            .unwrap()
        };
        let through_tunnel = read(addr.ip().to_string(), addr.port());
        let direct = read(l.info.postgres.host.clone(), l.info.postgres.port);
        assert_eq!(through_tunnel, direct);
        assert!(
            through_tunnel.iter().any(|(k, _)| k == "web.base.url"),
            "{through_tunnel:?}"
        );
        // Parameters, not string-built SQL, also work through the tunnel.
        let pg = l.info.postgres.clone();
        let one = std::thread::spawn(move || {
            let mut client = postgres::Config::new()
                .host(&addr.ip().to_string())
                .port(addr.port())
                .user(&pg.user)
                .password(&pg.password)
                .dbname(&pg.db)
                .connect(postgres::NoTls)
                .unwrap();
            client
                .query_opt(
                    "SELECT value FROM ir_config_parameter WHERE key = $1",
                    &[&"web.base.url"],
                )
                .unwrap()
                .map(|r| r.get::<_, String>(0))
        })
        .join()
        .unwrap();
        assert_eq!(
            one.as_deref(),
            direct
                .iter()
                .find(|(k, _)| k == "web.base.url")
                .map(|(_, v)| v.as_str())
        );
        // And the session still runs commands afterwards.
        assert_eq!(
            host.run(&Cmd::new("echo").arg("ok")).unwrap().stdout_str(),
            "ok\n"
        );
    }
}
