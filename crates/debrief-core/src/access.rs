//! Permissions and roles (SPEC section 1): a role is a named set of permissions; `admin`,
//! `supporter` and `viewer` are built in, and a company's own roles start as a copy of one.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// One thing a caller may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Permission {
    /// Send sessions and conversations in, and consent answers.
    SessionsIngest,
    InsightsView,
    InsightsGenerate,
    InsightsEdit,
    InsightsDelete,
    InsightsExport,
    /// AI settings, support modules, the taxonomy and applications files.
    AiSettingsManage,
    /// Devices and policies.
    PoliciesManage,
    /// Roles, users and API tokens.
    RolesManage,
    UsageView,
    BillingManage,
}

impl Permission {
    /// Every permission, in the order they are listed.
    pub const ALL: [Permission; 11] = [
        Permission::SessionsIngest,
        Permission::InsightsView,
        Permission::InsightsGenerate,
        Permission::InsightsEdit,
        Permission::InsightsDelete,
        Permission::InsightsExport,
        Permission::AiSettingsManage,
        Permission::PoliciesManage,
        Permission::RolesManage,
        Permission::UsageView,
        Permission::BillingManage,
    ];

    /// The permission's wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::SessionsIngest => "sessions.ingest",
            Permission::InsightsView => "insights.view",
            Permission::InsightsGenerate => "insights.generate",
            Permission::InsightsEdit => "insights.edit",
            Permission::InsightsDelete => "insights.delete",
            Permission::InsightsExport => "insights.export",
            Permission::AiSettingsManage => "ai.settings.manage",
            Permission::PoliciesManage => "policies.manage",
            Permission::RolesManage => "roles.manage",
            Permission::UsageView => "usage.view",
            Permission::BillingManage => "billing.manage",
        }
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

impl FromStr for Permission {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        Permission::ALL
            .into_iter()
            .find(|permission| permission.as_str() == text)
            .ok_or_else(|| Error::Invalid {
                field: "permissions",
                reason: format!("unknown permission {text:?}"),
            })
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

impl Serialize for Permission {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Permission {
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// A set of permissions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PermissionSet(u16);

impl PermissionSet {
    /// Every permission.
    pub fn all() -> PermissionSet {
        PermissionSet::from_iter(Permission::ALL)
    }

    /// Whether the set holds `permission`.
    pub fn contains(self, permission: Permission) -> bool {
        self.0 & permission.bit() != 0
    }

    /// The permissions of the set, in list order.
    pub fn iter(self) -> impl Iterator<Item = Permission> {
        Permission::ALL
            .into_iter()
            .filter(move |permission| self.contains(*permission))
    }

    /// The permissions held by both sets.
    pub fn intersection(self, other: PermissionSet) -> PermissionSet {
        PermissionSet(self.0 & other.0)
    }

    /// The permissions of `self` that `other` lacks: what granting `self` would add to a holder
    /// of `other`.
    pub fn beyond(self, other: PermissionSet) -> PermissionSet {
        PermissionSet(self.0 & !other.0)
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The permissions as their wire names joined by spaces (how they are stored).
    pub fn to_text(self) -> String {
        self.iter()
            .map(Permission::as_str)
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Reads [`PermissionSet::to_text`]'s form.
    pub fn parse_text(text: &str) -> Result<PermissionSet> {
        text.split_whitespace().map(str::parse).collect()
    }
}

impl FromIterator<Permission> for PermissionSet {
    fn from_iter<I: IntoIterator<Item = Permission>>(permissions: I) -> Self {
        PermissionSet(
            permissions
                .into_iter()
                .fold(0, |bits, permission| bits | permission.bit()),
        )
    }
}

impl Serialize for PermissionSet {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for PermissionSet {
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<Self, D::Error> {
        Ok(Vec::<Permission>::deserialize(deserializer)?
            .into_iter()
            .collect())
    }
}

/// The built-in roles.
pub const BUILTIN_ROLES: [&str; 3] = ["admin", "supporter", "viewer"];

/// The permissions of a built-in role; `None` for any other name.
///
/// - `admin`: everything;
/// - `supporter`: ingest, view, generate, edit and export insights;
/// - `viewer`: view insights and usage.
pub fn builtin_role(name: &str) -> Option<PermissionSet> {
    use Permission::*;
    match name {
        "admin" => Some(PermissionSet::all()),
        "supporter" => Some(PermissionSet::from_iter([
            SessionsIngest,
            InsightsView,
            InsightsGenerate,
            InsightsEdit,
            InsightsExport,
        ])),
        "viewer" => Some(PermissionSet::from_iter([InsightsView, UsageView])),
        _ => None,
    }
}

/// Checks a custom role's name: 1 to 50 lower-case letters, digits, `-` and `_`, not a
/// built-in role's.
pub fn check_role_name(name: &str) -> Result<()> {
    let valid = !name.is_empty()
        && name.len() <= 50
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_'));
    if !valid {
        return Err(Error::Invalid {
            field: "name",
            reason: format!("{name:?} is not a role name (1-50 of a-z, 0-9, '-', '_')"),
        });
    }
    if BUILTIN_ROLES.contains(&name) {
        return Err(Error::Invalid {
            field: "name",
            reason: format!("{name} is a built-in role"),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permission_sets_round_trip_through_text_and_json() {
        let set = builtin_role("supporter").expect("built in");
        assert_eq!(
            PermissionSet::parse_text(&set.to_text()).expect("parses"),
            set
        );
        let json = serde_json::to_string(&set).expect("serializes");
        assert_eq!(
            json,
            r#"["sessions.ingest","insights.view","insights.generate","insights.edit","insights.export"]"#
        );
        assert_eq!(
            serde_json::from_str::<PermissionSet>(&json).expect("parses"),
            set
        );
        assert!(PermissionSet::parse_text("insights.view nonsense").is_err());
    }

    #[test]
    fn built_in_roles_hold_what_they_promise() {
        let admin = builtin_role("admin").expect("built in");
        assert!(Permission::ALL.iter().all(|p| admin.contains(*p)));
        let viewer = builtin_role("viewer").expect("built in");
        assert!(viewer.contains(Permission::InsightsView));
        assert!(!viewer.contains(Permission::InsightsEdit));
        assert!(builtin_role("auditor").is_none());
        assert!(check_role_name("auditor").is_ok());
        assert!(check_role_name("admin").is_err());
        assert!(check_role_name("Bad Name").is_err());
    }
}
