//! Notifications that reach residents outside the inbox: a WeChat subscribe message or an Alipay
//! template message. Each platform's client is a [`MessageSender`]; which template carries which
//! kind of notification, and under which field keys, is configuration ([`MessageTemplates`]).

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;

use super::Platform;
use crate::domain::NotificationKind;

/// One message on its way out: the kind picks the template, the values fill its fields in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMessage<'a> {
    pub kind: NotificationKind,
    pub values: &'a [String],
    /// The mini-program page the message opens.
    pub page: &'a str,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SendError {
    /// The user has not subscribed to this template, or used up a one-time subscription: not an
    /// error to retry (WeChat 43101).
    #[error("the user has not subscribed to this message")]
    NotSubscribed,
    /// This deployment has no template for the notification's kind.
    #[error("no template is configured for this kind of notification")]
    NoTemplate,
    /// Refused for good: a field breaks the template's rules, the recipient is unknown.
    #[error("the platform refused the message: {0}")]
    Refused(String),
    /// Busy, unreachable, rate-limited or our token refused twice: try again later.
    #[error("the platform is unavailable: {0}")]
    Unavailable(String),
}

#[async_trait]
pub trait MessageSender: Send + Sync {
    /// Sends `message` to the platform user `recipient` (the account's subject).
    async fn send(&self, recipient: &str, message: &OutgoingMessage<'_>) -> Result<(), SendError>;
}

/// The senders this deployment has.
#[derive(Clone, Default)]
pub struct MessageSenders {
    pub wechat: Option<Arc<dyn MessageSender>>,
    pub alipay: Option<Arc<dyn MessageSender>>,
}

impl MessageSenders {
    pub fn for_platform(&self, platform: Platform) -> Option<&Arc<dyn MessageSender>> {
        match platform {
            Platform::Wechat => self.wechat.as_ref(),
            Platform::Alipay => self.alipay.as_ref(),
        }
    }
}

/// The kinds of notification a platform message carries; the others stay in the inbox.
pub const SENT_KINDS: [NotificationKind; 3] = [
    NotificationKind::RiskWindow,
    NotificationKind::ReviewResult,
    NotificationKind::HealthCode,
];

/// A template: its id on the platform and the keys of its fields, in the order of the values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pub id: String,
    pub keys: Vec<String>,
}

impl Template {
    /// `{"key": {"value": …}}` for each field, the values in the keys' order, each passed through
    /// `fit` (a platform's limits on a field).
    pub fn data(
        &self,
        values: &[String],
        fit: impl Fn(&str, &str) -> String,
    ) -> serde_json::Map<String, serde_json::Value> {
        self.keys
            .iter()
            .zip(values)
            .map(|(key, value)| (key.clone(), serde_json::json!({ "value": fit(key, value) })))
            .collect()
    }
}

/// One platform's templates by kind of notification.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageTemplates(HashMap<NotificationKind, Template>);

impl MessageTemplates {
    pub fn get(&self, kind: NotificationKind) -> Option<&Template> {
        self.0.get(&kind)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Reads `{PREFIX}_TEMPLATE_{KIND}` for every kind sent out: `TEMPLATE_ID` alone (the
    /// platform's default keys) or `TEMPLATE_ID:key1,key2,key3` with the template's own keys.
    pub fn read(
        lookup: impl Fn(&str) -> Option<String>,
        prefix: &str,
        default_keys: fn(NotificationKind) -> [&'static str; 3],
    ) -> Result<Self, Vec<String>> {
        let mut templates = HashMap::new();
        let mut problems = Vec::new();
        for kind in SENT_KINDS {
            let name = format!("{prefix}_TEMPLATE_{}", kind.as_str().to_ascii_uppercase());
            let Some(value) = lookup(&name) else { continue };
            let (id, keys) = match value.split_once(':') {
                Some((id, keys)) => (
                    id.trim(),
                    keys.split(',').map(|k| k.trim().to_owned()).collect(),
                ),
                None => (
                    value.trim(),
                    default_keys(kind).iter().map(|k| (*k).to_owned()).collect(),
                ),
            };
            let keys: Vec<String> = keys;
            if id.is_empty() || keys.len() != 3 || keys.iter().any(String::is_empty) {
                problems.push(format!(
                    "{name} must be TEMPLATE_ID or TEMPLATE_ID:key1,key2,key3 (three field keys)"
                ));
                continue;
            }
            templates.insert(
                kind,
                Template {
                    id: id.to_owned(),
                    keys,
                },
            );
        }
        if problems.is_empty() {
            Ok(Self(templates))
        } else {
            Err(problems)
        }
    }
}

/// `text` cut to at most `limit` characters, the last one an ellipsis when cut.
pub fn cut(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(limit.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(_: NotificationKind) -> [&'static str; 3] {
        ["keyword1", "keyword2", "keyword3"]
    }

    #[test]
    fn templates_are_read_with_default_or_own_keys() {
        let lookup = |name: &str| match name {
            "WECHAT_TEMPLATE_RISK_WINDOW" => Some("T1".to_owned()),
            "WECHAT_TEMPLATE_HEALTH_CODE" => Some("T3: phrase1, time2 ,thing3".to_owned()),
            _ => None,
        };
        let templates = MessageTemplates::read(lookup, "WECHAT", keys).unwrap();
        assert_eq!(
            templates.get(NotificationKind::RiskWindow).unwrap().keys[0],
            "keyword1"
        );
        let health = templates.get(NotificationKind::HealthCode).unwrap();
        assert_eq!(health.id, "T3");
        assert_eq!(health.keys, ["phrase1", "time2", "thing3"]);
        assert!(templates.get(NotificationKind::ReviewResult).is_none());

        let wrong = |name: &str| (name == "ALIPAY_TEMPLATE_REVIEW_RESULT").then(|| "T:a,b".into());
        let problems = MessageTemplates::read(wrong, "ALIPAY", keys).unwrap_err();
        assert!(problems[0].starts_with("ALIPAY_TEMPLATE_REVIEW_RESULT"));
    }

    #[test]
    fn cut_keeps_short_text_and_marks_a_cut() {
        assert_eq!(cut("朝阳区人民医院", 20), "朝阳区人民医院");
        assert_eq!(cut("一二三四五六", 5), "一二三四…");
        assert_eq!(cut("一二三四五", 5).chars().count(), 5);
    }
}
