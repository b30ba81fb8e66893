//! What the platforms' face checks know, shared by the WeChat and Alipay fakes: each check opened
//! by our server for a claimed name and ID number, and — once a test plays the user's part in the
//! mini-program — the identity of the face that stood in front of the camera.

use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Debug, Clone)]
pub struct FaceCheck {
    pub name: String,
    pub id_number: String,
    /// WeChat: the openid the check was opened for; Alipay: none (a check names no user).
    pub subject: Option<String>,
    /// Our own id of the check (`out_seq_no`, `outer_order_no`).
    pub out_id: String,
    /// The identity of the face shown, once the user did the check.
    pub face: Option<(String, String)>,
}

/// What a query of a check answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The user has not (yet) done the check.
    NotDone,
    Verified,
    /// A face of someone else.
    FaceMismatch,
}

#[derive(Default)]
pub struct Faces {
    checks: Mutex<HashMap<String, FaceCheck>>,
}

impl Faces {
    pub fn open(&self, id: &str, check: FaceCheck) {
        self.checks.lock().unwrap().insert(id.to_owned(), check);
    }

    pub fn get(&self, id: &str) -> Option<FaceCheck> {
        self.checks.lock().unwrap().get(id).cloned()
    }

    /// The user does the check `id` with the face of the person `name` + `id_number`.
    pub fn perform(&self, id: &str, name: &str, id_number: &str) {
        let mut checks = self.checks.lock().unwrap();
        let check = checks.get_mut(id).expect("the check was opened");
        check.face = Some((name.to_owned(), id_number.to_owned()));
    }

    pub fn outcome(check: &FaceCheck) -> Outcome {
        match &check.face {
            None => Outcome::NotDone,
            Some((name, number)) if *name == check.name && *number == check.id_number => {
                Outcome::Verified
            }
            Some(_) => Outcome::FaceMismatch,
        }
    }
}
