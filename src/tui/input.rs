//! Text fields as a terminal user expects them: readline's keys (Ctrl-A/E/U/W/K/Y, Alt-B/F,
//! Ctrl-B/F/H/D) on every field, through `tui-input`.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tui_input::{Input, InputRequest};

/// Applies an editing key to a text input; false if the key is not an editing key.
pub fn edit(input: &mut Input, key: KeyEvent) -> bool {
    match request(key) {
        Some(r) => {
            input.handle(r);
            true
        }
        None => false,
    }
}

fn request(key: KeyEvent) -> Option<InputRequest> {
    use InputRequest::*;
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let alt = key.modifiers.contains(KeyModifiers::ALT);
    Some(match key.code {
        KeyCode::Char(c) if ctrl => match c {
            'a' => GoToStart,
            'e' => GoToEnd,
            'b' => GoToPrevChar,
            'f' => GoToNextChar,
            'h' => DeletePrevChar,
            'd' => DeleteNextChar,
            'u' => DeleteFromStart,
            'w' => DeletePrevWord,
            'k' => DeleteTillEnd,
            'y' => Yank,
            _ => return None,
        },
        KeyCode::Char(c) if alt => match c {
            'b' => GoToPrevWord,
            'f' => GoToNextWord,
            'd' => DeleteNextWord,
            _ => return None,
        },
        KeyCode::Char(c) => InsertChar(c),
        KeyCode::Backspace if alt || ctrl => DeletePrevWord,
        KeyCode::Backspace => DeletePrevChar,
        KeyCode::Delete => DeleteNextChar,
        KeyCode::Left if alt || ctrl => GoToPrevWord,
        KeyCode::Right if alt || ctrl => GoToNextWord,
        KeyCode::Left => GoToPrevChar,
        KeyCode::Right => GoToNextChar,
        KeyCode::Home => GoToStart,
        KeyCode::End => GoToEnd,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(input: &mut Input, text: &str) {
        for c in text.chars() {
            edit(input, KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
        }
    }

    fn ctrl(input: &mut Input, c: char) {
        edit(
            input,
            KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL),
        );
    }

    #[test]
    fn readline_keys_edit_instead_of_typing_letters() {
        let mut i = Input::default();
        typed(&mut i, "Ann Lee");
        ctrl(&mut i, 'w');
        assert_eq!(i.value(), "Ann ");
        ctrl(&mut i, 'a');
        typed(&mut i, "Dr ");
        assert_eq!(i.value(), "Dr Ann ");
        ctrl(&mut i, 'k');
        assert_eq!(i.value(), "Dr ", "Ctrl-K kills to the end");
        ctrl(&mut i, 'e');
        typed(&mut i, "x");
        assert_eq!(i.value(), "Dr x");
        ctrl(&mut i, 'a');
        ctrl(&mut i, 'k');
        assert_eq!(i.value(), "");
        typed(&mut i, "Zoë");
        ctrl(&mut i, 'u');
        assert_eq!(i.value(), "");
        edit(&mut i, KeyEvent::new(KeyCode::Char('b'), KeyModifiers::ALT));
        assert_eq!(i.value(), "", "Alt-B moves, it does not type");
    }
}
