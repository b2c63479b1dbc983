"""What each operation of the OpenAPI document is called and where its answer leads: the
operation ids (generated clients name their functions after them) and the links from a created
object to the operations that take its id (clients and stateful tests follow them)."""

from __future__ import annotations

from collections.abc import Iterable

# Operation ids are part of the public API: generated clients name their functions after them.
# `<resource>_<action>`, `_v1` for the Buzzbip v1 spelling of a v2 operation; never renamed.
# The object of `/api/v2/webhooks` is a *callback* (spec/api.md §7, "delivery-status callbacks",
# `callback_not_found`): its path keeps the contract's word, every name says callback.
OPERATION_IDS: dict[tuple[str, str], str] = {
    ("GET", "/healthz"): "healthz",
    ("GET", "/readyz"): "readyz",
    ("GET", "/metrics"): "metrics",
    ("POST", "/api/login_check"): "login",
    ("GET", "/api/user/"): "profile_get",
    ("PUT", "/api/user/"): "profile_update",
    ("POST", "/api/contacts/"): "contacts_create",
    ("GET", "/api/contacts/"): "contacts_list",
    ("GET", "/api/contacts/{contact_id}/"): "contacts_get",
    ("PUT", "/api/contacts/{contact_id}/"): "contacts_update",
    ("DELETE", "/api/contacts/{contact_id}/"): "contacts_delete",
    ("POST", "/api/v2/whatsapp/templates"): "templates_create",
    ("GET", "/api/v2/whatsapp/templates"): "templates_list",
    ("GET", "/api/v2/whatsapp/templates/{template_id}"): "templates_get",
    ("POST", "/api/v2/whatsapp/templates/{template_id}/submit"): "templates_submit",
    ("DELETE", "/api/v2/whatsapp/templates/{template_id}"): "templates_delete",
    ("POST", "/api/v2/whatsapp/templates/sync"): "templates_sync",
    ("POST", "/api/whatsapp/templates/"): "templates_create_v1",
    ("GET", "/api/whatsapp/templates/"): "templates_list_v1",
    ("GET", "/api/whatsapp/templates/{template_id}/"): "templates_get_v1",
    ("POST", "/api/whatsapp/templates/{template_id}/submit/"): "templates_submit_v1",
    ("POST", "/api/v2/whatsapp/templates/{template_id}/send"): "messages_send",
    ("POST", "/api/v2/whatsapp/templates/{template_id}/send-bulk"): "messages_send_bulk",
    ("POST", "/api/whatsapp/"): "messages_send_v1",
    ("POST", "/api/whatsapp/templates/{template_id}/send/"): "messages_send_template_v1",
    ("POST", "/api/v2/whatsapp/messages"): "messages_send_free_form",
    ("GET", "/api/whatsapp/"): "messages_list",
    ("GET", "/api/whatsapp/{message_id}/"): "messages_get",
    ("DELETE", "/api/whatsapp/{message_id}/"): "messages_cancel",
    ("GET", "/api/v2/whatsapp/bulk-groups/{group_id}"): "bulk_groups_get",
    ("POST", "/api/v2/whatsapp/media"): "media_upload",
    ("GET", "/api/v2/whatsapp/media"): "media_list",
    ("GET", "/api/v2/whatsapp/media/{media_id}"): "media_get",
    ("GET", "/api/v2/whatsapp/media/{media_id}/content"): "media_content",
    ("DELETE", "/api/v2/whatsapp/media/{media_id}"): "media_delete",
    ("GET", "/api/v2/opt-outs"): "opt_outs_list",
    ("POST", "/api/v2/opt-outs"): "opt_outs_create",
    ("DELETE", "/api/v2/opt-outs/{number}"): "opt_outs_delete",
    ("POST", "/api/v2/secret-keys"): "secret_keys_create",
    ("GET", "/api/v2/secret-keys"): "secret_keys_list",
    ("DELETE", "/api/v2/secret-keys/{key_id}"): "secret_keys_revoke",
    ("GET", "/api/v2/channels"): "channels_list",
    ("GET", "/api/v2/channels/{channel_id}"): "channels_get",
    ("PUT", "/api/v2/channels/{channel_id}/default"): "channels_set_default",
    ("POST", "/api/v2/webhooks"): "callbacks_create",
    ("GET", "/api/v2/webhooks"): "callbacks_list",
    ("GET", "/api/v2/webhooks/{callback_id}"): "callbacks_get",
    ("DELETE", "/api/v2/webhooks/{callback_id}"): "callbacks_delete",
    ("POST", "/api/v2/webhooks/{callback_id}/rotate-secret"): "callbacks_rotate_secret",
    ("GET", "/api/v2/webhooks/{callback_id}/deliveries"): "callbacks_deliveries_list",
    ("GET", "/api/v2/whatsapp/conversations"): "conversations_list",
    ("GET", "/api/v2/whatsapp/conversations/{phone_number}/messages"): "conversations_messages",
    ("POST", "/api/v2/whatsapp/conversations/{phone_number}/read"): "conversations_read",
    ("GET", "/api/v2/channels/{channel_id}/health"): "channels_health",
    ("GET", "/api/v2/analytics/messages"): "analytics_messages",
    ("GET", "/webhooks/whatsapp"): "meta_webhook_verify",
    ("POST", "/webhooks/whatsapp"): "meta_webhook_receive",
}


def _links(targets: Iterable[str], parameter: str, source: str) -> dict[str, dict[str, str]]:
    return {target: {parameter: f"$response.body#/data/{source}"} for target in targets}


_TEMPLATE_USES = (
    "templates_get",
    "templates_get_v1",
    "templates_submit",
    "templates_submit_v1",
    "messages_send",
    "messages_send_bulk",
    "messages_send_template_v1",
    "templates_delete",
)
_GROUP = ("group_id", "whatsapp_bulk_group_id")
_SEND_LEADS_TO = {
    **_links(("messages_get", "messages_cancel"), "message_id", "message/id"),
    **_links(("bulk_groups_get",), *_GROUP),
}
# Where the id in a created object's answer can be used next (OpenAPI links): what a client,
# or a stateful test, follows from one call to the next. Operation id -> target -> parameters.
LINKS: dict[str, dict[str, dict[str, str]]] = {
    "contacts_create": _links(
        ("contacts_get", "contacts_update", "contacts_delete"), "contact_id", "id"
    ),
    "templates_create": _links(_TEMPLATE_USES, "template_id", "id"),
    "templates_create_v1": _links(_TEMPLATE_USES, "template_id", "id"),
    "messages_send": _SEND_LEADS_TO,
    "messages_send_v1": _SEND_LEADS_TO,
    "messages_send_template_v1": _SEND_LEADS_TO,
    "messages_send_free_form": _SEND_LEADS_TO,
    "messages_send_bulk": _links(("bulk_groups_get",), *_GROUP),
    "media_upload": _links(("media_get", "media_delete"), "media_id", "media_id"),
    "opt_outs_create": _links(("opt_outs_delete",), "number", "number"),
    "secret_keys_create": _links(("secret_keys_revoke",), "key_id", "id"),
    "callbacks_create": _links(
        (
            "callbacks_get",
            "callbacks_delete",
            "callbacks_rotate_secret",
            "callbacks_deliveries_list",
        ),
        "callback_id",
        "id",
    ),
}
