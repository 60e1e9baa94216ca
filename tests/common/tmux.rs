//! Drives the real console in tmux: keys in, screen out.

use std::process::Command;
use std::time::{Duration, Instant};

pub struct Tmux {
    session: String,
    _home: tempfile::TempDir,
}

impl Tmux {
    pub fn start(width: u16, height: u16) -> Tmux {
        Tmux::start_with(width, height, "--port 0")
    }

    pub fn start_with(width: u16, height: u16, args: &str) -> Tmux {
        Tmux::start_env(width, height, args, &[])
    }

    pub fn start_env(width: u16, height: u16, args: &str, env: &[(&str, &str)]) -> Tmux {
        assert!(
            Command::new("tmux")
                .arg("-V")
                .output()
                .is_ok_and(|o| o.status.success()),
            "this test drives the console in tmux: install it (apt-get install tmux)"
        );
        let home = tempfile::tempdir().unwrap();
        let session = format!("rt-{}", uuid::Uuid::new_v4().simple());
        let h = home.path().display();
        let extra: String = env.iter().map(|(k, v)| format!(" {k}='{v}'")).collect();
        let script = format!(
            "env -i PATH=\"$PATH\" TERM=xterm-256color HOME={h} XDG_DATA_HOME={h}/data XDG_CONFIG_HOME={h}/config \
             RESTAURANT_KITCHEN__COOK_TIME__TAKEOUT=0s{extra} {} {args}; echo EXITED=$?; sleep 60",
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
            _home: home,
        }
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
