//! Drives the real console in tmux: keys in, screen out.

use std::process::Command;
use std::time::{Duration, Instant};

pub struct Tmux {
    session: String,
    _home: Option<tempfile::TempDir>,
}

impl Tmux {
    pub fn start(width: u16, height: u16) -> Tmux {
        Tmux::start_with(width, height, "--port 0")
    }

    pub fn start_with(width: u16, height: u16, args: &str) -> Tmux {
        Tmux::start_env(width, height, args, &[])
    }

    pub fn start_env(width: u16, height: u16, args: &str, env: &[(&str, &str)]) -> Tmux {
        let home = tempfile::tempdir().unwrap();
        let path = home.path().to_path_buf();
        Tmux::start_in(&path, width, height, args, env, Some(home))
    }

    /// The console with a home (and so an embedded kitchen) that outlives this session, to
    /// start it again after a stop. After it exits the pane says `EXITED=<status>` and whether
    /// the terminal was left in raw mode (`TTY=raw`) or restored (`TTY=sane`).
    pub fn start_in(
        home: &std::path::Path,
        width: u16,
        height: u16,
        args: &str,
        env: &[(&str, &str)],
        owned: Option<tempfile::TempDir>,
    ) -> Tmux {
        assert!(
            Command::new("tmux")
                .arg("-V")
                .output()
                .is_ok_and(|o| o.status.success()),
            "this test drives the console in tmux: install it (apt-get install tmux)"
        );
        let session = format!("rt-{}", uuid::Uuid::new_v4().simple());
        let h = home.display();
        let extra: String = env.iter().map(|(k, v)| format!(" {k}='{v}'")).collect();
        let script = format!(
            "env -i PATH=\"$PATH\" TERM=xterm-256color HOME={h} XDG_DATA_HOME={h}/data XDG_CONFIG_HOME={h}/config \
             RESTAURANT_KITCHEN__COOK_TIME__TAKEOUT=0s{extra} {} {args}; echo EXITED=$?; \
             if stty -a | tr ' ;' '\\n\\n' | grep -qx -e -echo -e -icanon; then echo TTY=raw; else echo TTY=sane; fi; \
             sleep 60",
            env!("CARGO_BIN_EXE_restaurant-tui")
        );
        let ok = Command::new("tmux")
            .args([
                "new-session",
                "-d",
                "-s",
                &session,
                "-x",
                &width.to_string(),
                "-y",
                &height.to_string(),
                &script,
            ])
            .status()
            .unwrap();
        assert!(ok.success(), "tmux new-session");
        Tmux {
            session,
            _home: owned,
        }
    }

    /// A tmux format of the pane (`#{alternate_on}`, `#{cursor_flag}`, `#{pane_pid}`).
    pub fn pane(&self, format: &str) -> String {
        let out = Command::new("tmux")
            .args(["display-message", "-p", "-t", &self.session, format])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// The console's pid: the one child of the pane's shell.
    pub fn console_pid(&self) -> String {
        let shell = self.pane("#{pane_pid}");
        let out = Command::new("pgrep").args(["-P", &shell]).output().unwrap();
        let pid = String::from_utf8_lossy(&out.stdout).trim().to_string();
        assert!(
            !pid.is_empty() && !pid.contains('\n'),
            "one console under {shell}: {pid:?}"
        );
        pid
    }

    /// Sends `signal` to the console process alone (the pane's shell stays to report).
    pub fn signal(&self, signal: &str) {
        let pid = self.console_pid();
        assert!(
            Command::new("kill")
                .args([&format!("-{signal}"), &pid])
                .status()
                .unwrap()
                .success()
        );
    }

    pub fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["capture-pane", "-p", "-t", &self.session])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn keys(&self, keys: &[&str]) {
        for k in keys {
            Command::new("tmux")
                .args(["send-keys", "-t", &self.session, k])
                .status()
                .unwrap();
            // Escape followed at once by a key reads as Alt+key: give each key its own moment.
            std::thread::sleep(Duration::from_millis(80));
        }
    }

    pub fn type_text(&self, text: &str) {
        Command::new("tmux")
            .args(["send-keys", "-t", &self.session, "-l", text])
            .status()
            .unwrap();
    }

    /// Waits until the screen shows `text` (a state to reach, with a deadline).
    pub fn wait_for(&self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let screen = self.screen();
            if screen.contains(text) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "the screen never showed {text:?}:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.session])
            .status();
    }
}
