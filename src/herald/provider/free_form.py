"""Meta's send body for a free-form message (text, media, interactive), inside the customer's
24-hour window: ``send_json.send_payload`` hands a message with ``free_form`` to ``payload``.

The shapes are Meta's OpenAPI (v23.0): ``TextMessage``, ``ImageMessage`` / ``VideoMessage`` /
``AudioMessage`` / ``DocumentMessage`` (``MediaObject``), ``InteractiveMessage``
(``InteractiveObject``: ``HeaderObject``, ``BodyObject``, ``FooterObject``, ``ActionObject``),
and ``context.message_id`` for a reply."""

from __future__ import annotations

from herald.provider.base import FreeForm, FreeFormMedia, Interactive, JsonObject


def payload(to: str, callback_data: str, message: FreeForm) -> JsonObject:
    body: JsonObject = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": message.type,
    }
    if message.reply_to is not None:
        body["context"] = {"message_id": message.reply_to}
    body[message.type] = _part(message)
    body["biz_opaque_callback_data"] = callback_data
    return body


def _part(message: FreeForm) -> JsonObject:
    if message.type == "text":
        return {"body": message.text, "preview_url": message.preview_url}
    if message.type == "interactive":
        if message.interactive is None:
            raise ValueError("an interactive message without its parts")
        return _interactive(message.interactive)
    if message.media is None:
        raise ValueError(f"a {message.type} message without its file")
    return _media(message.type, message.media)


def _media(kind: str, media: FreeFormMedia) -> JsonObject:
    uploaded = media.provider_media_id is not None
    part: JsonObject = {"id": media.provider_media_id} if uploaded else {"link": media.link}
    if media.caption and kind != "audio":
        part["caption"] = media.caption
    if media.filename and kind == "document":
        part["filename"] = media.filename
    return part


def _interactive(interactive: Interactive) -> JsonObject:
    part: JsonObject = {"type": interactive.type}
    if interactive.header is not None:
        part["header"] = {"type": "text", "text": interactive.header}
    part["body"] = {"text": interactive.body}
    if interactive.footer is not None:
        part["footer"] = {"text": interactive.footer}
    if interactive.type == "button":
        part["action"] = {
            "buttons": [
                {"type": "reply", "reply": {"id": button.id, "title": button.title}}
                for button in interactive.buttons
            ]
        }
    else:
        sections = []
        for section in interactive.sections:
            rows = []
            for row in section.rows:
                item: JsonObject = {"id": row.id, "title": row.title}
                if row.description is not None:
                    item["description"] = row.description
                rows.append(item)
            shown: JsonObject = {"rows": rows}
            if section.title is not None:
                shown["title"] = section.title
            sections.append(shown)
        part["action"] = {"button": interactive.list_button, "sections": sections}
    return part
