"""Calls for messaging: templates (v2), sending (v2, v1, bulk), history and media."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import quote

from herald_client._call import Call, FileSource, Upload, paging, timestamp, without_none
from herald_client._envelope import parse_object, parse_page
from herald_client.models import (
    BulkAccepted,
    BulkGroup,
    BulkRecipient,
    ButtonParam,
    Category,
    DeletedId,
    FreeFormContent,
    FreeFormType,
    Media,
    MediaDeleted,
    Message,
    MessageState,
    OtpType,
    Page,
    SendAccepted,
    Template,
    TemplateButtonSpec,
    TemplateHeaderSpec,
    TemplateState,
    TextContent,
)

DEFAULT_LIMIT = 20
TEMPLATES = "/api/v2/whatsapp/templates"
MEDIA = "/api/v2/whatsapp/media"

# --- templates ----------------------------------------------------------------------------------


def create_template(
    name: str,
    language: str,
    category: Category,
    body: str | None = None,
    *,
    header: TemplateHeaderSpec | None = None,
    footer: str | None = None,
    buttons: Sequence[TemplateButtonSpec] | None = None,
    otp_type: OtpType | None = None,
    add_security_recommendation: bool | None = None,
    code_expiration_minutes: int | None = None,
    package_name: str | None = None,
    signature_hash: str | None = None,
    channel_id: int | None = None,
) -> Call[Template]:
    """A DRAFT template; ``submit_template`` sends it for review. AUTHENTICATION templates
    take no body: Meta writes their text; give ``otp_type`` and its options instead.
    ``channel_id``: the channel (and so the WABA) to create it in; default: your default."""
    fields = without_none(
        name=name,
        language=language,
        category=category,
        body=body,
        header=header,
        footer=footer,
        buttons=list(buttons) if buttons is not None else None,
        otp_type=otp_type,
        add_security_recommendation=add_security_recommendation,
        code_expiration_minutes=code_expiration_minutes,
        package_name=package_name,
        signature_hash=signature_hash,
        channel_id=channel_id,
    )
    return Call("POST", TEMPLATES, parse_object, json=fields)


def list_templates(
    *,
    state: TemplateState | None = None,
    category: Category | None = None,
    name: str | None = None,
    page: int = 1,
    limit: int = DEFAULT_LIMIT,
) -> Call[Page[Template]]:
    params = paging(page, limit, state=state, category=category, name=name)
    return Call("GET", TEMPLATES, parse_page, params=params)


def get_template(template_id: int) -> Call[Template]:
    return Call("GET", f"{TEMPLATES}/{int(template_id)}", parse_object)


def submit_template(template_id: int) -> Call[Template]:
    """DRAFT or REJECTED to PENDING; any other state is ``Conflict`` ``invalid_state``."""
    return Call("POST", f"{TEMPLATES}/{int(template_id)}/submit", parse_object)


def delete_template(template_id: int) -> Call[DeletedId]:
    """Delete here and at the provider; sent messages keep their history."""
    return Call("DELETE", f"{TEMPLATES}/{int(template_id)}", parse_object)


# --- sending ------------------------------------------------------------------------------------


# A list for a POSITIONAL template, an object by name for a NAMED one.
Params = Sequence[str] | Mapping[str, str]


def _params(values: Params | None) -> list[str] | dict[str, str] | None:
    if values is None:
        return None
    return dict(values) if isinstance(values, Mapping) else list(values)


def _send_fields(
    body_params: Params | None,
    buttons: Sequence[ButtonParam] | None,
    header_media_id: int | None,
    otp_code: str | None,
    send_at: datetime | str | None,
    header_params: Params | None = None,
) -> dict[str, Any]:
    return without_none(
        body_params=_params(body_params),
        header_params=_params(header_params),
        buttons=list(buttons) if buttons is not None else None,
        header_media_id=header_media_id,
        otp_code=otp_code,
        send_at=timestamp(send_at) if send_at is not None else None,
    )


def _idempotent(key: str | None) -> dict[str, str]:
    # Chosen once per method call, before the first attempt: every retry of this call carries
    # the same key, so Herald queues the message at most once however many attempts it takes.
    return {"Idempotency-Key": key or str(uuid.uuid4())}


def send_template(
    template_id: int,
    to: str,
    country_code: str,
    body_params: Params | None = None,
    buttons: Sequence[ButtonParam] | None = None,
    header_media_id: int | None = None,
    otp_code: str | None = None,
    send_at: datetime | str | None = None,
    idempotency_key: str | None = None,
    header_params: Params | None = None,
    channel_id: int | None = None,
    from_: str | None = None,
) -> Call[SendAccepted]:
    """Queue one message from an APPROVED template (v2). Without ``idempotency_key`` one is
    generated for this call; pass your own (an order id) to make re-sends across calls safe.
    ``channel_id`` or ``from_`` (a display number) names the sender; without, your default
    channel when it is in the template's WABA, else the template's own channel."""
    body = {
        "to": to,
        "country_code": country_code,
        **_send_fields(body_params, buttons, header_media_id, otp_code, send_at, header_params),
        **_sender(channel_id, from_),
    }
    path = f"{TEMPLATES}/{int(template_id)}/send"
    return Call("POST", path, parse_object, json=body, headers=_idempotent(idempotency_key))


def send_v1(
    template_id: int,
    *,
    contact_id: int | None = None,
    phone_number: str | None = None,
    country_code: str | None = None,
    body_params: Params | None = None,
    buttons: Sequence[ButtonParam] | None = None,
    header_media_id: int | None = None,
    otp_code: str | None = None,
    send_at: datetime | str | None = None,
    idempotency_key: str | None = None,
    header_params: Params | None = None,
) -> Call[SendAccepted]:
    """Buzzbip's v1 send, ``POST /api/whatsapp/``: to ``contact_id``, or to ``phone_number``
    with ``country_code``."""
    by_contact = contact_id is not None
    by_number = phone_number is not None or country_code is not None
    if by_contact == by_number or (by_number and not (phone_number and country_code)):
        raise ValueError("give contact_id, or phone_number with country_code (not both)")
    body = {
        "template_id": int(template_id),
        **without_none(contact_id=contact_id, phone_number=phone_number, country_code=country_code),
        **_send_fields(body_params, buttons, header_media_id, otp_code, send_at, header_params),
    }
    return Call(
        "POST", "/api/whatsapp/", parse_object, json=body, headers=_idempotent(idempotency_key)
    )


def send_to_contact(
    template_id: int,
    contact_id: int,
    body_params: Params | None = None,
    buttons: Sequence[ButtonParam] | None = None,
    header_media_id: int | None = None,
    otp_code: str | None = None,
    send_at: datetime | str | None = None,
    idempotency_key: str | None = None,
    header_params: Params | None = None,
) -> Call[SendAccepted]:
    """The v1 template route, ``POST /api/whatsapp/templates/{id}/send/``, to a contact."""
    body = {
        "contact_id": int(contact_id),
        **_send_fields(body_params, buttons, header_media_id, otp_code, send_at, header_params),
    }
    path = f"/api/whatsapp/templates/{int(template_id)}/send/"
    return Call("POST", path, parse_object, json=body, headers=_idempotent(idempotency_key))


def send_bulk(
    template_id: int,
    recipients: Sequence[BulkRecipient],
    send_at: datetime | str | None = None,
    skip_invalid: bool = False,
    idempotency_key: str | None = None,
    channel_id: int | None = None,
    from_: str | None = None,
) -> Call[BulkAccepted]:
    """Queue 1 to 10,000 messages sharing one ``whatsapp_bulk_group_id``. Any invalid recipient
    refuses the whole call (``BadRequest`` ``recipients_invalid``, ``data["rejected"]``) unless
    ``skip_invalid``, which queues the valid ones and lists the others in ``rejected``."""
    body = {
        "recipients": list(recipients),
        "skip_invalid": skip_invalid,
        **without_none(send_at=timestamp(send_at) if send_at is not None else None),
        **_sender(channel_id, from_),
    }
    path = f"{TEMPLATES}/{int(template_id)}/send-bulk"
    return Call("POST", path, parse_object, json=body, headers=_idempotent(idempotency_key))


MESSAGES = "/api/v2/whatsapp/messages"


def send_free_form(
    to: str,
    country_code: str,
    type: FreeFormType,
    content: FreeFormContent,
    reply_to: int | None = None,
    idempotency_key: str | None = None,
    channel_id: int | None = None,
    from_: str | None = None,
) -> Call[SendAccepted]:
    """Queue a free-form message (no template) to a customer who wrote in the last 24 hours:
    ``content`` is the ``type``'s object (``TextContent``, ``MediaContent`` for image, video,
    audio and document, ``InteractiveContent``). ``reply_to``: the id of the customer's message
    it answers. Outside the window: ``Conflict`` ``window_closed`` (``data["window_expires_at"]``,
    the last window's end or None), and nothing is queued."""
    body = {
        "to": to,
        "country_code": country_code,
        "type": type,
        type: dict(content),
        **without_none(reply_to=reply_to),
        **_sender(channel_id, from_),
    }
    return Call("POST", MESSAGES, parse_object, json=body, headers=_idempotent(idempotency_key))


def send_text(
    to: str,
    country_code: str,
    body: str,
    preview_url: bool = False,
    reply_to: int | None = None,
    idempotency_key: str | None = None,
    channel_id: int | None = None,
    from_: str | None = None,
) -> Call[SendAccepted]:
    """Queue a text message to a customer who wrote in the last 24 hours (``send_free_form``
    with type text); ``preview_url`` shows a preview of the first link in ``body``."""
    text: TextContent = {"body": body, "preview_url": preview_url}
    return send_free_form(
        to, country_code, "text", text, reply_to, idempotency_key, channel_id, from_
    )


def _sender(channel_id: int | None, from_: str | None) -> dict[str, object]:
    """The sender a send names (``channel_id``, or ``from``: a display number), if any."""
    return without_none(channel_id=channel_id, **{"from": from_})


# --- history ------------------------------------------------------------------------------------


def list_messages(
    *,
    whatsapp_bulk_group_id: str | None = None,
    state: MessageState | None = None,
    template_id: int | None = None,
    contact_id: int | None = None,
    phone_number: str | None = None,
    created_from: datetime | str | None = None,
    created_to: datetime | str | None = None,
    page: int = 1,
    limit: int = DEFAULT_LIMIT,
    before_id: int | None = None,
) -> Call[Page[Message]]:
    """Messages, newest first; ``created_from`` / ``created_to`` are Herald's ``from`` / ``to``.
    ``before_id``: the ``limit`` newest older than that id (a page's
    ``pagination.next_before_id``), as fast however deep; not with a ``page`` other than 1."""
    params = paging(
        page,
        limit,
        whatsapp_bulk_group_id=whatsapp_bulk_group_id,
        state=state,
        template_id=template_id,
        contact_id=contact_id,
        phone_number=phone_number,
        before_id=before_id,
        **{"from": created_from, "to": created_to},
    )
    if before_id is not None and page == 1:
        del params["page"]  # the default: a page by id has no number
    return Call("GET", "/api/whatsapp/", parse_page, params=params)


def get_message(message_id: int) -> Call[Message]:
    return Call("GET", f"/api/whatsapp/{int(message_id)}/", parse_object)


def cancel_message(message_id: int) -> Call[Message]:
    """Cancel a queued (or scheduled) message; any other state is ``Conflict``
    ``invalid_state``."""
    return Call("DELETE", f"/api/whatsapp/{int(message_id)}/", parse_object)


def get_bulk_group(group_id: str) -> Call[BulkGroup]:
    """How many messages of a group are in each state."""
    return Call("GET", f"/api/v2/whatsapp/bulk-groups/{quote(group_id, safe='')}", parse_object)


# --- media --------------------------------------------------------------------------------------


def upload_media(file: FileSource, filename: str | None = None) -> Call[Media]:
    """Upload a file for template headers: a path (streamed, never read whole), bytes or a
    binary file object. Herald decides the type from the content, not the name."""
    return Call("POST", MEDIA, parse_object, upload=Upload(file, filename))


def list_media(*, page: int = 1, limit: int = DEFAULT_LIMIT) -> Call[Page[Media]]:
    return Call("GET", MEDIA, parse_page, params={"page": page, "limit": limit})


def get_media(media_id: int) -> Call[Media]:
    return Call("GET", f"{MEDIA}/{int(media_id)}", parse_object)


def delete_media(media_id: int) -> Call[MediaDeleted]:
    """Delete a file; one a queued message still needs is ``Conflict`` ``media_in_use``."""
    return Call("DELETE", f"{MEDIA}/{int(media_id)}", parse_object)
