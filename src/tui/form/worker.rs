//! The new-worker form: a name, the types it cooks, its prefetch; checked as the CLI checks them.

use ratatui::crossterm::event::{KeyCode, KeyEvent};
use tui_input::Input;

use super::type_letter;
use crate::domain::{OrderType, Specialty, check_worker_name};
use crate::tui::input::edit;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkerField {
    Name,
    Types,
    Prefetch,
}

/// Starting a worker: a name, the types it cooks, its prefetch.
#[derive(Debug, Clone)]
pub struct WorkerForm {
    pub field: WorkerField,
    pub name: Input,
    /// In `OrderType::ALL`'s order; none ticked means all.
    pub types: [bool; 3],
    pub prefetch: u16,
    /// The name was left or Enter pressed: its errors show.
    pub checked: bool,
    /// Digits typed since the prefetch field was entered (the first replaces the value).
    typed: bool,
}

/// The most orders one worker holds at once from the console's form.
pub const MAX_FORM_PREFETCH: u16 = 50;

impl WorkerForm {
    pub fn new(suggested: String) -> WorkerForm {
        WorkerForm {
            field: WorkerField::Name,
            name: Input::new(suggested),
            types: [false; 3],
            prefetch: 1,
            checked: false,
            typed: false,
        }
    }

    pub fn specialty(&self) -> Specialty {
        Specialty::only(
            OrderType::ALL
                .into_iter()
                .zip(self.types)
                .filter(|(_, on)| *on)
                .map(|(t, _)| t),
        )
    }

    /// Why the name cannot start a worker (the CLI's own rule), once it may be shown.
    pub fn error(&self) -> Option<String> {
        if !self.checked {
            return None;
        }
        check_worker_name(self.name.value().trim()).err()
    }

    /// `Some((name, specialty, prefetch))` on Enter with a usable name.
    pub fn key(&mut self, key: KeyEvent) -> Option<(String, Specialty, u16)> {
        match key.code {
            KeyCode::Enter => {
                self.checked = true;
                let name = self.name.value().trim().to_string();
                if check_worker_name(&name).is_ok() {
                    return Some((name, self.specialty(), self.prefetch));
                }
                self.field = WorkerField::Name;
            }
            KeyCode::Tab | KeyCode::BackTab => {
                self.checked = true;
                self.typed = false;
                let forward = key.code == KeyCode::Tab;
                self.field = match (self.field, forward) {
                    (WorkerField::Name, true) | (WorkerField::Prefetch, false) => {
                        WorkerField::Types
                    }
                    (WorkerField::Types, true) | (WorkerField::Name, false) => {
                        WorkerField::Prefetch
                    }
                    (WorkerField::Prefetch, true) | (WorkerField::Types, false) => {
                        WorkerField::Name
                    }
                };
            }
            KeyCode::F(n @ 1..=3) => self.types[usize::from(n - 1)] ^= true,
            _ => match self.field {
                WorkerField::Name => {
                    edit(&mut self.name, key);
                }
                WorkerField::Types => {
                    if let KeyCode::Char(c) = key.code
                        && let Some(i) = OrderType::ALL.iter().position(|t| type_letter(*t) == c)
                    {
                        self.types[i] ^= true;
                    }
                }
                WorkerField::Prefetch => self.prefetch_key(key),
            },
        }
        None
    }

    fn prefetch_key(&mut self, key: KeyEvent) {
        self.prefetch = match key.code {
            KeyCode::Up | KeyCode::Char('+') => self.prefetch.saturating_add(1),
            KeyCode::Down | KeyCode::Char('-') => self.prefetch.saturating_sub(1),
            KeyCode::Backspace => self.prefetch / 10,
            KeyCode::Char(d) if d.is_ascii_digit() => {
                let d = d.to_digit(10).unwrap_or(0) as u16;
                let typed = std::mem::replace(&mut self.typed, true);
                if typed {
                    self.prefetch.saturating_mul(10) + d
                } else {
                    d
                }
            }
            _ => self.prefetch,
        }
        .clamp(1, MAX_FORM_PREFETCH);
    }
}
