//! The console's forms: a new order (menu, type, table or address, customer) validated as you
//! type with the API's own rules, and a new worker.

use ratatui::crossterm::event::{KeyCode, KeyEvent};
use tui_input::{Input, InputRequest};

use crate::domain::{
    Field, FieldError, ItemDraft, Money, OrderDraft, OrderType, Specialty, validate,
};

/// One dish on the console's menu.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MenuItem {
    pub name: String,
    pub price: Money,
}

/// A sensible default menu.
pub fn default_menu() -> Vec<MenuItem> {
    [
        ("Margherita", 1250),
        ("Pepperoni", 1400),
        ("Quattro Formaggi", 1550),
        ("Caesar Salad", 950),
        ("Garlic Bread", 500),
        ("Tiramisu", 700),
        ("Cola", 250),
        ("Lemonade", 300),
    ]
    .into_iter()
    .map(|(name, cents)| MenuItem {
        name: name.into(),
        price: Money::from_cents(cents),
    })
    .collect()
}

/// Applies an editing key to a text input; true if it was one.
pub fn edit(input: &mut Input, key: KeyEvent) -> bool {
    let request = match key.code {
        KeyCode::Char(c) => InputRequest::InsertChar(c),
        KeyCode::Backspace => InputRequest::DeletePrevChar,
        KeyCode::Delete => InputRequest::DeleteNextChar,
        KeyCode::Left => InputRequest::GoToPrevChar,
        KeyCode::Right => InputRequest::GoToNextChar,
        KeyCode::Home => InputRequest::GoToStart,
        KeyCode::End => InputRequest::GoToEnd,
        _ => return false,
    };
    input.handle(request);
    true
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderField {
    Menu,
    Type,
    Place,
    Customer,
}

#[derive(Debug, Clone)]
pub struct OrderForm {
    pub field: OrderField,
    pub menu: Vec<MenuItem>,
    pub quantities: Vec<i64>,
    pub cursor: usize,
    pub kind: OrderType,
    pub table: Input,
    pub address: Input,
    pub customer: Input,
    /// What the rules say of the draft now (empty: it can be placed).
    pub errors: Vec<FieldError>,
}

impl OrderForm {
    pub fn new(menu: Vec<MenuItem>) -> OrderForm {
        let quantities = vec![0; menu.len()];
        let mut form = OrderForm {
            field: OrderField::Menu,
            menu,
            quantities,
            cursor: 0,
            kind: OrderType::DineIn,
            table: Input::default(),
            address: Input::default(),
            customer: Input::default(),
            errors: Vec::new(),
        };
        form.check();
        form
    }

    /// The draft the API would receive for what is on screen.
    pub fn draft(&self) -> OrderDraft {
        let text = |i: &Input| {
            if i.value().trim().is_empty() {
                Field::Absent
            } else {
                Field::Given(i.value().to_string())
            }
        };
        let table = match self.table.value().trim() {
            "" => Field::Absent,
            t => t
                .parse::<i64>()
                .map(Field::Given)
                .unwrap_or(Field::Wrong("must be a whole number")),
        };
        let items = self
            .menu
            .iter()
            .zip(&self.quantities)
            .filter(|(_, q)| **q > 0)
            .map(|(m, q)| {
                Field::Given(ItemDraft {
                    name: Field::Given(m.name.clone()),
                    quantity: Field::Given(*q),
                    price: Field::Given(m.price.to_string()),
                })
            })
            .collect();
        OrderDraft {
            customer_name: text(&self.customer),
            order_type: Field::Given(self.kind.as_str().to_string()),
            table_number: if self.kind == OrderType::DineIn {
                table
            } else {
                Field::Absent
            },
            delivery_address: if self.kind == OrderType::Delivery {
                text(&self.address)
            } else {
                Field::Absent
            },
            items: Field::Given(items),
        }
    }

    fn check(&mut self) {
        self.errors = validate(&self.draft()).err().unwrap_or_default();
    }

    /// The first rule broken by a field (`items` covers every item line).
    pub fn error_for(&self, prefix: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field.starts_with(prefix))
            .map(|e| e.message.as_str())
    }

    pub fn total(&self) -> Money {
        self.menu
            .iter()
            .zip(&self.quantities)
            .map(|(m, q)| m.price * u32::try_from(*q).unwrap_or(0))
            .sum()
    }

    /// Handles a key; `Some(draft)` when the order is to be placed.
    pub fn key(&mut self, key: KeyEvent) -> Option<OrderDraft> {
        use OrderField::*;
        match key.code {
            KeyCode::Tab => {
                self.field = match self.field {
                    Menu => Type,
                    Type => Place,
                    Place => Customer,
                    Customer => Menu,
                }
            }
            KeyCode::BackTab => {
                self.field = match self.field {
                    Menu => Customer,
                    Type => Menu,
                    Place => Type,
                    Customer => Place,
                }
            }
            KeyCode::Enter => {
                self.check();
                return self.errors.is_empty().then(|| self.draft());
            }
            _ => match self.field {
                Menu => match key.code {
                    KeyCode::Up | KeyCode::Char('k') => self.cursor = self.cursor.saturating_sub(1),
                    KeyCode::Down | KeyCode::Char('j') => {
                        self.cursor = (self.cursor + 1).min(self.menu.len().saturating_sub(1))
                    }
                    KeyCode::Char('+') | KeyCode::Right | KeyCode::Char(' ') => {
                        if let Some(q) = self.quantities.get_mut(self.cursor) {
                            *q = (*q + 1).min(10);
                        }
                    }
                    KeyCode::Char('-') | KeyCode::Left => {
                        if let Some(q) = self.quantities.get_mut(self.cursor) {
                            *q = (*q - 1).max(0);
                        }
                    }
                    _ => {}
                },
                Type => {
                    let all = OrderType::ALL;
                    let i = all.iter().position(|t| *t == self.kind).unwrap_or(0);
                    match key.code {
                        KeyCode::Right | KeyCode::Char(' ') | KeyCode::Char('l') => {
                            self.kind = all[(i + 1) % 3]
                        }
                        KeyCode::Left | KeyCode::Char('h') => self.kind = all[(i + 2) % 3],
                        KeyCode::Char('d') => self.kind = OrderType::DineIn,
                        KeyCode::Char('t') => self.kind = OrderType::Takeout,
                        KeyCode::Char('v') => self.kind = OrderType::Delivery,
                        _ => {}
                    }
                }
                Place => {
                    let input = if self.kind == OrderType::Delivery {
                        &mut self.address
                    } else {
                        &mut self.table
                    };
                    edit(input, key);
                }
                Customer => {
                    edit(&mut self.customer, key);
                }
            },
        }
        self.check();
        None
    }
}

/// Starting a worker: a name, the types it cooks, its prefetch.
#[derive(Debug, Clone, Default)]
pub struct WorkerForm {
    pub name: Input,
    /// dine_in, takeout, delivery; none ticked means all.
    pub types: [bool; 3],
    pub prefetch: u16,
    /// Why the name cannot start a worker, once Enter was pressed with it.
    pub error: Option<String>,
}

impl WorkerForm {
    pub fn new(suggested: String) -> WorkerForm {
        WorkerForm {
            name: Input::new(suggested),
            types: [false; 3],
            prefetch: 1,
            error: None,
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

    /// `Some((name, specialty, prefetch))` on Enter with a usable name.
    pub fn key(&mut self, key: KeyEvent) -> Option<(String, Specialty, u16)> {
        match key.code {
            KeyCode::Enter => {
                let name = self.name.value().trim().to_string();
                match crate::domain::check_worker_name(&name) {
                    Ok(()) => return Some((name, self.specialty(), self.prefetch)),
                    Err(why) => self.error = Some(why),
                }
            }
            KeyCode::F(n @ 1..=3) => self.types[usize::from(n - 1)] ^= true,
            KeyCode::Up => self.prefetch = (self.prefetch + 1).min(50),
            KeyCode::Down => self.prefetch = self.prefetch.saturating_sub(1).max(1),
            _ => {
                edit(&mut self.name, key);
                self.error = None;
            }
        }
        None
    }
}
