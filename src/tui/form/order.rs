//! The new-order form: type, table or address, menu, name, note; checked with the API's own
//! rules as it is typed.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tui_input::Input;

use super::{MenuItem, type_of_letter};
use crate::domain::{
    Field, FieldError, ItemDraft, MAX_QUANTITY, Money, OrderDraft, OrderType, validate,
};
use crate::tui::input::edit;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum OrderField {
    Type,
    Place,
    Menu,
    Customer,
    Note,
}

impl OrderField {
    const ALL: [OrderField; 5] = [
        OrderField::Type,
        OrderField::Place,
        OrderField::Menu,
        OrderField::Customer,
        OrderField::Note,
    ];

    /// The form field an API error names (`items[2].price` → the menu).
    fn of_error(field: &str) -> OrderField {
        match field {
            f if f.starts_with("items") => OrderField::Menu,
            "customer_name" => OrderField::Customer,
            "table_number" | "delivery_address" => OrderField::Place,
            "notes" => OrderField::Note,
            _ => OrderField::Type,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            OrderField::Type => "Type",
            OrderField::Place => "Place",
            OrderField::Menu => "Menu",
            OrderField::Customer => "Name",
            OrderField::Note => "Note",
        }
    }
}

#[derive(Debug, Clone)]
pub struct OrderForm {
    pub field: OrderField,
    pub menu: Vec<MenuItem>,
    pub quantities: Vec<u32>,
    pub cursor: usize,
    /// Letters typed in the menu: the cursor is on the first dish they find.
    pub search: String,
    pub kind: OrderType,
    pub table: Input,
    pub address: Input,
    pub customer: Input,
    pub note: Input,
    /// Fields the operator has left (their errors show), and whether Enter was pressed.
    pub left: Vec<OrderField>,
    pub submitted: bool,
    /// What the rules say of the draft now (empty: it can be placed).
    pub errors: Vec<FieldError>,
    /// A word about the last key (the quantity cap, a search that found nothing).
    pub hint: Option<String>,
    /// Placing: the draft went to the kitchen and the answer is awaited.
    pub sending: bool,
    /// Why the last submit failed (the form stays open with everything typed).
    pub failure: Option<String>,
}

impl OrderForm {
    /// A form for `kind`, its focus on the first field to fill (the type is chosen).
    pub fn new(menu: Vec<MenuItem>, kind: Option<OrderType>) -> OrderForm {
        let quantities = vec![0; menu.len()];
        let mut form = OrderForm {
            field: OrderField::Type,
            menu,
            quantities,
            cursor: 0,
            search: String::new(),
            kind: kind.unwrap_or(OrderType::DineIn),
            table: Input::default(),
            address: Input::default(),
            customer: Input::default(),
            note: Input::default(),
            left: Vec::new(),
            submitted: false,
            errors: Vec::new(),
            hint: None,
            sending: false,
            failure: None,
        };
        if kind.is_some() {
            form.field = form.next_field(OrderField::Type, 1);
        }
        form.check();
        form
    }

    /// Whether a field is asked for this order type (no table for takeout).
    pub fn applies(&self, field: OrderField) -> bool {
        field != OrderField::Place || self.kind != OrderType::Takeout
    }

    fn next_field(&self, from: OrderField, step: isize) -> OrderField {
        let all = OrderField::ALL;
        let mut i = all.iter().position(|f| *f == from).unwrap_or(0) as isize;
        loop {
            i = (i + step).rem_euclid(all.len() as isize);
            let f = all[i as usize];
            if self.applies(f) {
                return f;
            }
        }
    }

    fn go(&mut self, step: isize) {
        if !self.left.contains(&self.field) {
            self.left.push(self.field);
        }
        self.search.clear();
        self.field = self.next_field(self.field, step);
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
                    quantity: Field::Given(i64::from(*q)),
                    price: Field::Given(m.price.to_string()),
                    notes: Field::Absent,
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
            notes: text(&self.note),
        }
    }

    fn check(&mut self) {
        self.errors = validate(&self.draft()).err().unwrap_or_default();
    }

    /// The errors to show now: of the fields left, or all after a submit; in field order.
    pub fn shown_errors(&self) -> Vec<String> {
        let mut shown: Vec<(OrderField, String)> = self
            .errors
            .iter()
            .map(|e| (OrderField::of_error(&e.field), e))
            .filter(|(f, _)| self.submitted || self.left.contains(f))
            .map(|(f, e)| (f, format!("{}: {}", f.label(), e.message)))
            .collect();
        shown.sort_by_key(|(f, _)| *f);
        shown.dedup();
        shown.into_iter().map(|(_, e)| e).collect()
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
            .map(|(m, q)| m.price * *q)
            .sum()
    }

    /// The text input the cursor is in, if the focused field is one.
    pub fn input(&self) -> Option<&Input> {
        match self.field {
            OrderField::Place if self.kind == OrderType::Delivery => Some(&self.address),
            OrderField::Place => Some(&self.table),
            OrderField::Customer => Some(&self.customer),
            OrderField::Note => Some(&self.note),
            OrderField::Type | OrderField::Menu => None,
        }
    }

    /// Handles a key; `Some(draft)` when the order is to be placed.
    pub fn key(&mut self, key: KeyEvent) -> Option<OrderDraft> {
        self.hint = None;
        match key.code {
            KeyCode::Tab => self.go(1),
            KeyCode::BackTab => self.go(-1),
            KeyCode::Enter => return self.submit(),
            _ => match self.field {
                OrderField::Type => self.type_key(key),
                OrderField::Place if self.kind == OrderType::DineIn => self.table_key(key),
                OrderField::Place => {
                    edit(&mut self.address, key);
                }
                OrderField::Menu => self.menu_key(key),
                OrderField::Customer => {
                    edit(&mut self.customer, key);
                }
                OrderField::Note => {
                    edit(&mut self.note, key);
                }
            },
        }
        self.check();
        None
    }

    fn submit(&mut self) -> Option<OrderDraft> {
        if self.sending {
            self.hint = Some("placing… the kitchen has not answered yet".into());
            return None;
        }
        self.submitted = true;
        self.check();
        if let Some(first) = self
            .errors
            .iter()
            .map(|e| OrderField::of_error(&e.field))
            .min()
        {
            self.field = first;
            return None;
        }
        self.sending = true;
        self.failure = None;
        Some(self.draft())
    }

    fn type_key(&mut self, key: KeyEvent) {
        let all = OrderType::ALL;
        let i = all.iter().position(|t| *t == self.kind).unwrap_or(0);
        match key.code {
            KeyCode::Right | KeyCode::Char(' ') | KeyCode::Char('l') => {
                self.kind = all[(i + 1) % all.len()]
            }
            KeyCode::Left | KeyCode::Char('h') => self.kind = all[(i + all.len() - 1) % all.len()],
            KeyCode::Char(c) => match type_of_letter(c) {
                // A type's letter chooses it and moves on: that is all this field asks.
                Some(t) => {
                    self.kind = t;
                    self.go(1);
                }
                None => self.hint = Some("d dine-in, t takeout, v delivery".into()),
            },
            _ => {}
        }
    }

    /// Digits only; once no larger table could follow (12: 120 is past 100), on to the menu.
    fn table_key(&mut self, key: KeyEvent) {
        if let KeyCode::Char(c) = key.code
            && !c.is_ascii_digit()
            && !key.modifiers.contains(KeyModifiers::CONTROL)
        {
            let max = crate::domain::MAX_TABLE;
            self.hint = Some(format!("a table is a number from 1 to {max}"));
            return;
        }
        edit(&mut self.table, key);
        if matches!(key.code, KeyCode::Char(_))
            && let Ok(n) = self.table.value().parse::<i64>()
            && (1..=crate::domain::MAX_TABLE).contains(&n)
            && n * 10 > crate::domain::MAX_TABLE
        {
            self.go(1);
        }
    }

    /// Arrows move; letters search the dishes; a digit sets the quantity of the dish under the
    /// cursor and moves down (quantities typed down the menu); + and - step.
    fn menu_key(&mut self, key: KeyEvent) {
        let last = self.menu.len().saturating_sub(1);
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Up | KeyCode::Char('p') if ctrl || key.code == KeyCode::Up => {
                self.search.clear();
                self.cursor = self.cursor.saturating_sub(1);
            }
            KeyCode::Down | KeyCode::Char('n') if ctrl || key.code == KeyCode::Down => {
                self.search.clear();
                self.cursor = (self.cursor + 1).min(last);
            }
            KeyCode::Char(d) if d.is_ascii_digit() => {
                self.set_quantity(d.to_digit(10).unwrap_or(0));
                self.search.clear();
                self.cursor = (self.cursor + 1).min(last);
            }
            KeyCode::Char('+') | KeyCode::Char(' ') | KeyCode::Right => {
                let q = self.quantities.get(self.cursor).copied().unwrap_or(0);
                self.set_quantity(q + 1);
            }
            KeyCode::Char('-') | KeyCode::Left => {
                let q = self.quantities.get(self.cursor).copied().unwrap_or(0);
                self.set_quantity(q.saturating_sub(1));
            }
            KeyCode::Backspace => {
                self.search.pop();
                self.find();
            }
            KeyCode::Char(c) if !ctrl => {
                self.search.push(c);
                self.find();
            }
            _ => {}
        }
    }

    fn set_quantity(&mut self, q: u32) {
        let cap = MAX_QUANTITY as u32;
        if q > cap {
            self.hint = Some(format!("{cap} is the most of one dish on an order"));
        }
        if let Some(slot) = self.quantities.get_mut(self.cursor) {
            *slot = q.min(cap);
        }
    }

    /// The cursor to the first dish starting with the search, else containing it.
    fn find(&mut self) {
        let s = self.search.to_lowercase();
        if s.is_empty() {
            return;
        }
        let names: Vec<String> = self.menu.iter().map(|m| m.name.to_lowercase()).collect();
        let found = names
            .iter()
            .position(|n| n.starts_with(&s))
            .or_else(|| names.iter().position(|n| n.contains(&s)));
        match found {
            Some(i) => self.cursor = i,
            None => self.hint = Some(format!("no dish matches \"{}\"", self.search)),
        }
    }

    /// The kitchen refused or could not be reached: stay open, say why.
    pub fn failed(&mut self, why: String) {
        self.sending = false;
        self.failure = Some(why);
    }
}
