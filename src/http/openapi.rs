//! The OpenAPI document, generated from the handlers' annotations.

use actix_web::HttpResponse;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{
    admin, analytics, audit, auth, board, bots, campaigns, contact_export, contact_merge,
    contact_schema, contacts, conversations, csat, error, gdpr, handling, health, import_preview,
    integrations, messages, notifications, quick_replies, routing, segments, sessions, team,
    templates, trigger_order, webhooks, ws,
};
use crate::domain::Role;
use crate::store;

#[derive(OpenApi)]
#[openapi(
    info(title = "tickhub", description = "WhatsApp team inbox on top of WAHA. Websocket protocol: see /ws and docs/websocket.md."),
    paths(
        auth::login, auth::logout, auth::me, auth::change_password,
        notifications::get, notifications::put, csat::report,
        sessions::list, sessions::register, sessions::get, sessions::settings, sessions::start, sessions::stop, sessions::logout, sessions::qr, sessions::members,
        conversations::list, conversations::get, conversations::messages, conversations::reply, conversations::read,
        conversations::message, messages::retry, messages::media,
        handling::assign, handling::resolve, handling::reopen, handling::add_note, handling::notes,
        team::list, team::create, team::get, team::update, team::deactivate, team::activate, team::reset_password,
        contacts::list, contacts::create, contacts::get, contacts::update, contacts::delete,
        contacts::import, contacts::import_status, gdpr::export, gdpr::erase, contact_merge::duplicates, contact_merge::merge, contact_export::segment, contact_export::filtered, import_preview::preview,
        contact_schema::types, contact_schema::create_type, contact_schema::delete_type,
        contact_schema::attributes, contact_schema::create_attribute, contact_schema::update_attribute,
        contact_schema::delete_attribute,
        segments::list, segments::create, segments::preview, segments::get, segments::update, segments::delete,
        campaigns::list, campaigns::create, campaigns::get, campaigns::update, campaigns::delete,
        campaigns::start, campaigns::pause, campaigns::resume, campaigns::cancel, campaigns::audience,
        campaigns::render, campaigns::test, campaigns::report, campaigns::recipients, super::campaign_upload::upload,
        admin::failed_webhooks, admin::cluster,
        board::dashboard, board::counts, board::presence_history,
        analytics::agents, analytics::sessions, analytics::bots, analytics::campaigns,
        audit::list,
        bots::list, bots::create, bots::get, bots::update, bots::delete, bots::test, bots::replay, bots::metrics,
        bots::list_triggers, bots::create_trigger, bots::get_trigger, bots::update_trigger, bots::delete_trigger,
        trigger_order::put,
        routing::queue, routing::assignments,
        quick_replies::list, quick_replies::create, quick_replies::get, quick_replies::update, quick_replies::delete,
        templates::list, templates::create, templates::get, templates::update, templates::delete,
        integrations::create, integrations::list, integrations::get, integrations::update, integrations::delete,
        integrations::deliveries, integrations::replay,
        integrations::create_key, integrations::list_keys, integrations::get_key, integrations::revoke_key,
        integrations::waha_settings, integrations::put_waha_settings,
        integrations::smtp_settings, integrations::put_smtp_settings,
        webhooks::receive, ws::connect, health::healthz, health::readyz, health::metrics,
    ),
    components(schemas(
        error::ErrorBody, error::ErrorDetail, auth::LoginRequest, auth::LoginResponse, auth::ChangePassword, store::users::User, Role,
        store::sessions::WaSession, crate::actors::hub::SessionView, sessions::RegisterSession, sessions::Qr,
        store::conversations::Conversation, store::messages::Message, store::messages::Media, store::messages::Reaction,
        conversations::SendMessage, store::contacts::Contact, store::contacts::ContactDetail, crate::actors::hub::ContactInput,
        crate::actors::hub::ConsentInput, crate::actors::hub::ContactExport, crate::actors::hub::ExportedConversation, crate::actors::hub::ErasedContact, store::gdpr::ImportMention, store::contact_merge::DuplicateGroup, contact_merge::Duplicates, contact_merge::MergeInput, import_preview::ImportPreview, contacts::NewContact, contacts::ImportStarted,
        store::imports::Import, store::imports::RowError,
        store::contact_schema::ContactType, store::contact_schema::AttributeDef, crate::domain::contact::AttrType,
        contact_schema::NewContactType, contact_schema::NewAttribute, contact_schema::PatchAttribute,
        store::segments::Segment, crate::actors::hub::SegmentView, segments::NewSegment, segments::PatchSegment,
        segments::PreviewSegment, segments::SegmentCount, segments::SegmentItem,
        crate::actors::hub::CampaignView, crate::actors::hub::AudienceView, crate::actors::hub::QuietHoursBody,
        crate::actors::hub::CampaignReport, crate::actors::hub::Rates, crate::actors::hub::ReasonCount, crate::actors::hub::SessionCounts,
        store::campaigns::Counts, store::campaign_recipients::AudienceCount, store::campaign_recipients::SkipCounts,
        store::campaign_recipients::Recipient, store::campaign_recipients::Funnel, store::campaign_recipients::HourPoint,
        crate::domain::campaign::CampaignStatus, crate::domain::campaign::RecipientState, crate::domain::campaign::CampaignMedia, crate::domain::campaign::Recurrence,
        campaigns::NewCampaign, campaigns::PatchCampaign, campaigns::AudienceQuery, campaigns::RenderRequest,
        campaigns::Rendered, campaigns::TestSend, campaigns::TestSent, crate::actors::hub::UploadedAudience,
        webhooks::WebhookAck, webhooks::WebhookEnvelope, webhooks::WebhookMe, store::inbox::FailedWebhook,
        crate::domain::ConversationStatus, crate::domain::AckStatus, crate::domain::Direction,
        sessions::SessionSettings, crate::domain::ReplyPolicy, crate::domain::PresenceStatus,
        handling::AssignBody, handling::NoteBody, store::notes::Note,
        team::CreateMember, team::PatchMember, team::NewPassword, store::members::Member, store::members::SessionMember,
        crate::domain::hours::WeeklyHours,
        crate::domain::board::Board, crate::domain::board::MemberRow, crate::domain::board::SessionRow,
        crate::domain::board::Counts, crate::domain::board::ByStatus, crate::domain::board::BoardUpdate,
        store::presence::PresenceEntry, crate::domain::presence::PresenceCause,
        store::audit::AuditItem,
        store::bots::Bot, store::bots::Trigger, bots::CreateBot, bots::PatchBot, bots::CreateTrigger,
        bots::PatchTrigger, trigger_order::TriggerOrder, bots::TestRequest, bots::TestContact, bots::ReplayRequest,
        crate::actors::TestResult, crate::actors::TestReply, crate::actors::TestHandoff, crate::actors::ReplayStep,
        crate::domain::bot::BusinessHours, crate::domain::bot::MatchKind, crate::domain::bot::TriggerAction,
        store::bot_metrics::BotMetrics, store::bot_metrics::TriggerMetrics,
        store::routing::QueueItem, store::routing::AssignmentItem, crate::domain::routing::Why,
        crate::domain::routing::Considered, crate::domain::routing::Rule, crate::domain::routing::Exclusion,
        conversations::ConversationDetail, store::contacts::ContactCard,
        integrations::NewSubscription, integrations::Created, integrations::PatchSubscription,
        integrations::NewApiKey, integrations::PutWahaSettings, integrations::PutSmtpSettings, crate::actors::hub::SmtpSettings, store::hooks::Subscription, store::hook_queue::Delivery,
        store::api_keys::ApiKey, crate::actors::hub::CreatedApiKey, crate::actors::hub::WahaSettings,
        crate::domain::hook::HookEvent, crate::domain::access::api_keys::Scope,
        store::quick_replies::QuickReply, quick_replies::NewQuickReply, quick_replies::PatchQuickReply,
        store::templates::MessageTemplate, templates::NewTemplate, templates::PatchTemplate,
        crate::actors::hub::AgentReport, crate::actors::hub::SessionReport, crate::actors::hub::BotReport,
        crate::actors::hub::BotRow, crate::actors::hub::CampaignsReport, crate::actors::hub::CampaignsReportRow,
        crate::actors::hub::PeriodView, crate::domain::analytics::report::AgentFigures,
        crate::domain::analytics::report::SessionFigures, crate::domain::analytics::report::InOut,
        crate::domain::notify::NotificationPrefs, crate::domain::notify::HandoffEmail, notifications::NotificationsPatch,
        csat::CsatReport, store::csat::AgentScore,
    )),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

pub async fn document() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}
