//! Update masks: which fields of an update request apply.

use scrm_kernel::ApiError;

/// The fields an update changes: those of its mask, or all when the mask is empty.
pub(super) struct Mask(Vec<String>);

impl Mask {
    /// The mask of a request; a path outside `allowed` is INVALID_ARGUMENT naming update_mask.
    pub(super) fn parse(mask: Option<prost_types::FieldMask>, allowed: &[&str]) -> Result<Mask, ApiError> {
        let paths = mask.map(|mask| mask.paths).unwrap_or_default();
        if let Some(path) = paths.iter().find(|path| !allowed.contains(&path.as_str())) {
            return Err(ApiError::invalid("update_mask", format!("{path} cannot be changed")));
        }
        Ok(Mask(paths))
    }

    /// True when the update changes `field`.
    pub(super) fn wants(&self, field: &str) -> bool {
        self.0.is_empty() || self.0.iter().any(|path| path == field)
    }
}
