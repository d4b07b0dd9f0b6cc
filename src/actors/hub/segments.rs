//! Segments: saved contact filters with a count computed by the database when asked,
//! within the contacts the viewer may see. Each change is written with its audit entry
//! and a `segment.updated` event.

use serde::Serialize;
use serde_json::{json, Value};
use utoipa::ToSchema;

use super::Hub;
use crate::actors::error::HubError;
use crate::domain::audit::AuditEntry;
use crate::domain::segment_filter::{Filter, Mode};
use crate::domain::{EventKind, EventScope, FieldError, Viewer};
use crate::store::campaigns::{self, SegmentUser};
use crate::store::segments::{self, Segment};
use crate::store::{audit, contact_schema, contacts, events};

/// A segment with the number of contacts (that the viewer may see) it holds now.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SegmentView {
    #[serde(flatten)]
    pub segment: Segment,
    pub count: i64,
}

fn denied(d: crate::domain::Denied) -> HubError {
    HubError::denied(d, || "segments".into())
}

fn not_found(id: i64) -> HubError {
    HubError::NotFound(format!("segment {id}"))
}

fn check_name(name: &str) -> Result<String, HubError> {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > 200 || n.contains('\0') {
        return Err(FieldError::new("name", "1 to 200 characters without U+0000").into());
    }
    Ok(n.to_string())
}

async fn log(tx: &mut crate::store::Tx, id: i64, change: &str) -> crate::store::Result<()> {
    events::append(
        tx,
        EventKind::SegmentUpdated,
        EventScope::default(),
        &json!({"id": id, "change": change}),
    )
    .await
}

impl Hub {
    /// `v` read as a filter (strictly: as a person wrote it), naming the bad clause.
    pub async fn parse_filter(&self, v: &Value, path: &str) -> Result<Filter, HubError> {
        let schema = contact_schema::schema(self.db()).await?;
        Ok(Filter::parse(v, path, &schema, Mode::Strict)?)
    }

    /// How many of the contacts the viewer may see match `filter`.
    pub async fn count_contacts(&self, v: &Viewer, filter: &Filter) -> Result<i64, HubError> {
        Ok(contacts::count(self.db(), &v.contacts(), filter, self.now_ms()).await?)
    }

    /// A stored segment's filter, read again against today's attribute definitions.
    pub async fn segment_filter(&self, s: &Segment) -> Result<Filter, HubError> {
        let schema = contact_schema::schema(self.db()).await?;
        Ok(Filter::parse(&s.filter, "filter", &schema, Mode::Stored)?)
    }

    async fn segment_view(&self, v: &Viewer, segment: Segment) -> Result<SegmentView, HubError> {
        let f = self.segment_filter(&segment).await?;
        let count = self.count_contacts(v, &f).await?;
        Ok(SegmentView { segment, count })
    }

    pub async fn segments(
        &self,
        v: &Viewer,
        after: Option<i64>,
        limit: i64,
    ) -> Result<Vec<Segment>, HubError> {
        v.may_read_segments().map_err(denied)?;
        Ok(segments::list(self.db(), after, limit).await?)
    }

    /// Segments with their counts (a list that shows them: one count query each, four at
    /// a time, in the list's order).
    pub async fn count_segments(
        &self,
        v: &Viewer,
        list: Vec<Segment>,
    ) -> Result<Vec<SegmentView>, HubError> {
        use futures_util::StreamExt;
        futures_util::stream::iter(list.into_iter().map(|s| self.segment_view(v, s)))
            .buffered(4)
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .collect()
    }

    pub async fn segment_raw(&self, v: &Viewer, id: i64) -> Result<Segment, HubError> {
        v.may_read_segments().map_err(denied)?;
        segments::get(self.db(), id)
            .await?
            .ok_or_else(|| not_found(id))
    }

    pub async fn segment(&self, v: &Viewer, id: i64) -> Result<SegmentView, HubError> {
        let s = self.segment_raw(v, id).await?;
        self.segment_view(v, s).await
    }

    /// The count a builder shows while the filter is being written.
    pub async fn preview_segment(&self, v: &Viewer, filter: &Value) -> Result<i64, HubError> {
        v.may_read_segments().map_err(denied)?;
        let f = self.parse_filter(filter, "filter").await?;
        self.count_contacts(v, &f).await
    }

    pub async fn create_segment(
        &self,
        v: &Viewer,
        name: &str,
        filter: &Value,
    ) -> Result<SegmentView, HubError> {
        v.may_write_segments().map_err(denied)?;
        let name = check_name(name)?;
        self.parse_filter(filter, "filter").await?;
        let s = self
            .services
            .writer
            .run(
                (v.clone(), name, filter.clone()),
                |tx, (v, name, filter)| {
                    Box::pin(async move {
                        let s = segments::insert(tx, name, filter, v.user_id).await?;
                        let entry = AuditEntry::new("segment.create", "segment", s.id)
                            .after(json!({"name": s.name, "filter": s.filter}));
                        audit::record(tx, v, &entry).await?;
                        log(tx, s.id, "created").await?;
                        Ok(s)
                    })
                },
            )
            .await?;
        self.segment_view(v, s).await
    }

    pub async fn update_segment(
        &self,
        v: &Viewer,
        id: i64,
        name: Option<&str>,
        filter: Option<&Value>,
    ) -> Result<SegmentView, HubError> {
        v.may_write_segments().map_err(denied)?;
        let name = name.map(check_name).transpose()?;
        if let Some(f) = filter {
            self.parse_filter(f, "filter").await?;
        }
        let input = (v.clone(), id, name, filter.cloned());
        let s = self
            .services
            .writer
            .run(input, |tx, (v, id, name, filter)| {
                Box::pin(async move {
                    let Some((before, after)) =
                        segments::update(tx, *id, name.as_deref(), filter.as_ref()).await?
                    else {
                        return Ok(None);
                    };
                    if before.name != after.name || before.filter != after.filter {
                        let entry = AuditEntry::new("segment.update", "segment", id)
                            .before(json!({"name": before.name, "filter": before.filter}))
                            .after(json!({"name": after.name, "filter": after.filter}));
                        audit::record(tx, v, &entry).await?;
                        log(tx, *id, "updated").await?;
                    }
                    Ok(Some(after))
                })
            })
            .await?
            .ok_or_else(|| not_found(id))?;
        self.segment_view(v, s).await
    }

    /// Deletes a segment no unfinished campaign uses: one that does is refused (409)
    /// naming those campaigns the viewer works with (a scheduled one would otherwise
    /// reach nobody when its time came).
    pub async fn delete_segment(&self, v: &Viewer, id: i64) -> Result<(), HubError> {
        v.may_write_segments().map_err(denied)?;
        let deleted = self
            .services
            .writer
            .run((v.clone(), id), |tx, (v, id)| {
                Box::pin(async move {
                    let Some(seg) = segments::get_in(tx, *id).await? else {
                        return Ok(None);
                    };
                    // Read in the deleting transaction: a campaign started or created
                    // meanwhile is seen.
                    let users = campaigns::using_segment(tx, *id).await?;
                    if !users.is_empty() {
                        return Ok(Some(Err((seg.name, users))));
                    }
                    let Some(before) = segments::delete(tx, *id).await? else {
                        return Ok(None);
                    };
                    let entry = AuditEntry::new("segment.delete", "segment", id)
                        .before(json!({"name": before.name, "filter": before.filter}));
                    audit::record(tx, v, &entry).await?;
                    log(tx, *id, "deleted").await?;
                    Ok(Some(Ok(())))
                })
            })
            .await?
            .ok_or_else(|| not_found(id))?;
        deleted.map_err(|(name, users)| in_use(v, id, &name, &users))
    }
}

/// The refusal to delete a segment campaigns use: those the viewer works with by name,
/// the others (another session's, or a viewer without campaigns) only counted.
fn in_use(v: &Viewer, id: i64, name: &str, users: &[SegmentUser]) -> HubError {
    let (seen, unseen): (Vec<&SegmentUser>, Vec<&SegmentUser>) = users
        .iter()
        .partition(|c| v.may_run_campaign_in(&c.sessions).is_ok());
    let mut named: Vec<String> = seen
        .iter()
        .map(|c| format!("\"{}\" (campaign {}, {})", c.name, c.id, c.status))
        .collect();
    if !unseen.is_empty() {
        let n = unseen.len();
        named.push(format!(
            "{n} campaign{} you do not work with",
            if n == 1 { "" } else { "s" }
        ));
    }
    HubError::Conflict(format!(
        "segment {id} \"{name}\" is the audience of {}: give those not yet started another \
         audience, and let the others finish or cancel them, before deleting it",
        named.join(", ")
    ))
}
